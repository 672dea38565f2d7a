"""`recurrent serve`: the game in a real browser (Debian's chromium driven by Playwright), off
loopback with a token, on the same saves as the terminal; and what a request without the token gets."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.standin import StandIn, free_port

ROOT = Path(__file__).parents[1]
TOKEN = "a-test-token-7f3e9c21b5"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
# As root chromium needs --no-sandbox; the rest keep it from calling Google's services, which would
# spoil the check that the page reaches nothing but this machine.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-default-apps", "--disable-features=Translate,MediaRouter"]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (apt-get install -y chromium)")
SECONDS = 60  # the most any one condition may take on a busy 2-core machine


def until(condition, what: str, seconds: float = SECONDS, show=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f"; the screen:\n{show()}" if show else ""))


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Served:
    def __init__(self, process: subprocess.Popen, port: int, saves: Path, state: Path, standin: StandIn) -> None:
        self.process, self.port, self.saves, self.state, self.standin = process, port, saves, state, standin
        self.url = f"http://127.0.0.1:{port}/"

    def get(self, path: str = "", headers: dict | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def children(self) -> list[int]:
        """The game processes the server started (its children, and theirs)."""
        found, parents = [], {self.process.pid}
        for _ in range(3):
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    except (OSError, IndexError, ValueError):
                        continue
                    if ppid in parents and int(entry.name) not in found:
                        found.append(int(entry.name))
            parents |= set(found)
        return found


@pytest.fixture
def served(tmp_path: Path):
    """`recurrent serve --host 0.0.0.0 --port P --token T`, its games told by the stand-in."""
    saves, state = tmp_path / "served-saves", tmp_path / "state"
    port = free_port()
    output = (tmp_path / "serve.out").open("w")
    with StandIn() as standin, output:
        env = {**os.environ, "OPENAI_BASE_URL": standin.url, "OPENAI_API_KEY": "standin-key", "RECURRENT_MODEL": "standin",
               "RECURRENT_CONFIG": str(tmp_path / "settings.toml"), "XDG_STATE_HOME": str(state),
               "RECURRENT_SAVES_DIR": str(tmp_path / "not-these-saves"), "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen([sys.executable, "-m", "game", "serve", "--host", "0.0.0.0", "--port", str(port),
                                    "--token", TOKEN, "--saves-dir", str(saves), "--max-players", "2"],
                                   cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            until(lambda: listening(port) or process.poll() is not None, "the server to listen")
            assert process.poll() is None, (tmp_path / "serve.out").read_text()
            yield Served(process, port, saves, state, standin)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_without_the_token_every_address_is_refused_and_says_nothing(served):
    for path in ("", "ws", "static/js/textual.js", "static/css/xterm.css", "favicon.svg", "download/x", "no-such"):
        status, body = served.get(path)
        assert status == 403, path
        assert "recurrent" not in body.lower() and "textual" not in body.lower()
    assert served.get("?token=wrong-token-0000")[0] == 403
    assert served.get("", {"Cookie": "recurrent_token=wrong-token-0000"})[0] == 403
    status, page = served.get("", {"Cookie": f"recurrent_token={TOKEN}"})
    assert status == 200 and "<title>Recurrent</title>" in page
    assert "googleapis" not in page and "http://" not in page and "https://" not in page  # every address is our own


@needs_chromium
def test_a_story_in_the_browser_goes_on_after_a_reload(served):
    from playwright.sync_api import sync_playwright

    hosts: set[str] = set()

    def screen(page) -> str:
        return page.evaluate("() => document.querySelector('.xterm-accessibility-tree')?.innerText ?? ''")

    def wait_for(page, text: str) -> None:
        from playwright.sync_api import TimeoutError

        try:
            page.wait_for_function("text => (document.querySelector('.xterm-accessibility-tree')?.innerText ?? '')"
                                   ".includes(text)", arg=text, timeout=SECONDS * 1000)
        except TimeoutError:
            log = (served.state.parent / "serve.out").read_text()
            raise AssertionError(f"timed out waiting for {text!r} on the screen:\n{screen(page)}\nthe server:\n{log}") from None

    def steps() -> int | None:
        from game.saves.slot import list_slots, read_header

        slots = list_slots(served.saves)
        return read_header(served.saves, slots[0])["steps"] if len(slots) == 1 else None

    def ready(page, step: int) -> None:
        """The story open at `step` and idle: the status line shows its figures and nothing it is
        busy with (opening the story or its memory, narrating, writing notes all end in '…')."""
        page.wait_for_function("step => { const top = (document.querySelector('.xterm-accessibility-tree')?.innerText ?? '')"
                               ".split('\\n')[0]; return top.includes(` · step ${step} · `) && !top.includes('…'); }",
                               arg=step, timeout=SECONDS * 1000)

    def typed(page, action: str, step: int) -> None:
        ready(page, step)
        page.keyboard.type(action)
        page.keyboard.press("Enter")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            context.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
            context.on("page", lambda page: page.on("websocket", lambda ws: hosts.add(urlsplit(ws.url).hostname)))
            page = context.new_page()
            # The reader switch puts xterm's screen-reader text in the page: what the test reads.
            page.goto(f"{served.url}?token={TOKEN}&reader=1")
            assert "token" not in page.url  # kept in a cookie, not in the address bar
            assert page.title() == "Recurrent"
            wait_for(page, "New game")
            page.focus(".xterm-helper-textarea")
            page.keyboard.press("n")  # the title screen's New game: the library's first story
            wait_for(page, "Write it")
            page.keyboard.press("Enter")
            wait_for(page, "Begin (Ctrl+B)")
            page.keyboard.press("Control+b")
            typed(page, "I read the logbook aloud", 0)
            until(lambda: steps() == 1, "the first step on disk", show=lambda: screen(page))

            # The game processes were given neither the token nor anything that holds it.
            games = served.children()
            assert games
            for pid in games:
                for part in ("environ", "cmdline"):
                    assert TOKEN.encode() not in Path(f"/proc/{pid}/{part}").read_bytes()

            page.reload()  # a new game process: the same story, opened again
            ready(page, 1)
            page.focus(".xterm-helper-textarea")
            page.keyboard.press("Control+t")  # to the title screen, and back with Continue
            wait_for(page, "New game")
            page.keyboard.press("c")
            typed(page, "I climb down to the boathouse", 1)
            until(lambda: steps() == 2, "the second step on disk", show=lambda: screen(page))

            # An export downloads to the browser (Chromium reports it on the page that opened it).
            ready(page, 2)
            page.keyboard.press("Control+o")
            wait_for(page, "to the file")
            with page.expect_download(timeout=SECONDS * 1000) as download:
                page.keyboard.press("Enter")
            downloads = [download.value]
            assert downloads[0].suggested_filename.endswith(".md")
            exported = Path(downloads[0].path()).read_text(encoding="utf-8")
            assert "I climb down to the boathouse" in exported

            # A second tab on the same story gets the terminal's refusal.
            other = context.new_page()
            other.goto(served.url)
            wait_for(other, "New game")
            other.focus(".xterm-helper-textarea")
            other.keyboard.press("c")
            wait_for(other, "is in use by another game")
            # Two players at --max-players 2: one more gets a plain page that says so.
            full = context.request.get(served.url)
            assert full.status == 503 and "places" in full.text()
        finally:
            browser.close()

    told = [message["content"] for request in served.standin.narrations() for message in request["messages"]
            if message["role"] == "user"]
    assert any("I read the logbook aloud" in text for text in told)
    assert any("I climb down to the boathouse" in text for text in told)
    assert hosts == {"127.0.0.1"}  # the page fetched nothing from anywhere else
    # Nor does the token land in a log line or a save.
    for folder in (served.saves, served.state):
        for path in folder.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path
