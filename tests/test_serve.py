"""`recurrent serve`: the game in a real browser (Debian's chromium driven by Playwright), off
loopback with a token, on the same saves as the terminal; and what a request without the token gets."""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.processes import descendants
from tests.standin import StandIn, free_port

pytestmark = pytest.mark.slow  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)

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
        return descendants(self.process.pid)


@contextmanager
def serving(tmp_path: Path, *options: str, env: dict | None = None):
    """`recurrent serve --port P ...options`, its games told by the stand-in; its output in serve.out."""
    saves, state = tmp_path / "served-saves", tmp_path / "state"
    port = free_port()
    output = (tmp_path / "serve.out").open("w")
    with StandIn() as standin, output:
        env = {**os.environ, "OPENAI_BASE_URL": standin.url, "OPENAI_API_KEY": "standin-key", "RECURRENT_MODEL": "standin",
               "RECURRENT_CONFIG": str(tmp_path / "settings.toml"), "XDG_STATE_HOME": str(state),
               "RECURRENT_SAVES_DIR": str(tmp_path / "not-these-saves"), "PYTHONPATH": str(ROOT), **(env or {})}
        process = subprocess.Popen([sys.executable, "-m", "game", "serve", "--port", str(port), "--saves-dir", str(saves),
                                    *options], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
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


@pytest.fixture
def served(tmp_path: Path):
    """`recurrent serve --host 0.0.0.0 --port P --token T --max-players 2`."""
    with serving(tmp_path, "--host", "0.0.0.0", "--token", TOKEN, "--max-players", "2") as server:
        yield server


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
        from game.saves.folder import list_slots, read_header

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
            status, full = served.get("", {"Cookie": f"recurrent_token={TOKEN}"})  # another browser
            assert status == 503 and "places" in full
        finally:
            browser.close()

    told = [message["content"] for request in served.standin.narrations() for message in request["messages"]
            if message["role"] == "user"]
    assert any("I read the logbook aloud" in text for text in told)
    assert any("I climb down to the boathouse" in text for text in told)
    assert hosts == {"127.0.0.1"}  # the page fetched nothing from anywhere else
    # Nor does the token land in a log line or a save (a token given is not printed either).
    assert TOKEN not in (served.state.parent / "serve.out").read_text()
    for folder in (served.saves, served.state):
        for path in folder.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_off_loopback_without_a_token_one_is_made_and_printed_in_the_address(tmp_path):
    with serving(tmp_path, "--host", "0.0.0.0") as server:
        address = until(lambda: re.search(r"open (http://\S+)", (tmp_path / "serve.out").read_text()), "the address")[1]
        token = parse_qs(urlsplit(address).query)["token"][0]
        assert len(token) >= 24
        assert server.get()[0] == 403
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())  # keeps cookies, follows redirects
        with browser.open(f"{server.url}?token={token}", timeout=10) as answer:
            assert answer.status == 200 and answer.url == server.url  # the token in a cookie, not in the address
        with browser.open(server.url, timeout=10) as answer:
            assert answer.status == 200  # a reload: the cookie is enough
        assert server.get("", {"Authorization": f"Bearer {token}"})[0] == 200


def test_the_reader_switch_and_the_cookies_a_browser_keeps(served):
    request = urllib.request.Request(f"{served.url}?token={TOKEN}&reader=1")
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as found:
        opener.open(request, timeout=10)
    assert found.value.code == 302 and found.value.headers["Location"] == "./"  # the token leaves the address
    cookies = found.value.headers.get_all("Set-Cookie")
    kept = next(c for c in cookies if c.startswith("recurrent_token="))
    assert "HttpOnly" in kept and "SameSite=Strict" in kept
    assert any(c.startswith("recurrent_reader=on") for c in cookies)
    page = served.get("", {"Cookie": f"recurrent_token={TOKEN}; recurrent_reader=on"})[1]
    assert 'data-reader="on"' in page
    assert 'data-reader="off"' in served.get("", {"Cookie": f"recurrent_token={TOKEN}"})[1]
    # Our textual.js: screen-reader mode from the page, downloads under the page's own address.
    script = served.get("static/js/textual.js", {"Cookie": f"recurrent_token={TOKEN}"})[1]
    assert "screenReaderMode:document.body.dataset.reader" in script and "window.location.origin}/download" not in script


def test_a_socket_from_another_site_is_refused(served):
    status, _ = served.get("ws", {"Cookie": f"recurrent_token={TOKEN}", "Origin": "http://evil.example",
                                  "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                                  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert status == 403


def test_behind_a_proxy_the_page_names_the_public_address_and_asks_for_the_token(tmp_path):
    with serving(tmp_path, "--public-url", "https://example.org/story/", env={"RECURRENT_SERVE_TOKEN": TOKEN}) as server:
        assert server.get()[0] == 403  # on loopback, but the world reaches it through the proxy
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as found:
            opener.open(f"{server.url}?token={TOKEN}", timeout=10)
        kept = next(c for c in found.value.headers.get_all("Set-Cookie") if c.startswith("recurrent_token="))
        assert "Secure" in kept and "Path=/story/" in kept
        page = server.get("", {"Cookie": f"recurrent_token={TOKEN}"})[1]
        assert '<base href="https://example.org/story/">' in page
        assert TOKEN not in (tmp_path / "serve.out").read_text()  # from the environment: never printed


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "game", "serve", "--port", str(port), "--saves-dir", str(tmp_path)],
                                cwd=ROOT, capture_output=True, text=True, timeout=60,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert result.stderr.strip().startswith("recurrent: cannot listen on 127.0.0.1:") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


async def test_a_reload_at_max_players_gets_its_game_and_one_more_browser_does_not(tmp_path):
    import aiohttp

    with serving(tmp_path, "--max-players", "1") as server:
        mine, other = {"Cookie": "recurrent_player=mine"}, {"Cookie": "recurrent_player=other"}

        async def title(session, headers) -> bytes:
            socket = await session.ws_connect(f"{server.url}ws?width=100&height=30", headers=headers)
            seen = b""

            async def read() -> None:
                nonlocal seen
                async for message in socket:
                    if message.type == aiohttp.WSMsgType.BINARY:
                        seen += message.data
                        if b"places" in seen or b"New" in seen:
                            return

            await asyncio.wait_for(read(), 60)  # a game that never draws its title fails, never hangs
            return socket, seen

        async with aiohttp.ClientSession() as session:
            first, seen = await title(session, mine)
            assert b"places" not in seen
            async with session.get(server.url, headers=other) as page:
                assert page.status == 503 and "places" in await page.text()
            async with session.get(server.url, headers=mine) as page:
                assert page.status == 200  # the same browser reloading: its old page is about to go
            refused, seen = await title(session, other)
            assert b"places" in seen
            await first.close()  # the reload: the old page goes, the new one connects
            second, seen = await title(session, mine)
            assert b"places" not in seen
            await second.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="no /proc here")
def test_the_slot_a_game_holds_is_read_from_its_open_lock(tmp_path):
    from filelock import FileLock

    from game.web.server import held_slot

    saves = tmp_path / "saves"
    (saves / "ferry").mkdir(parents=True)
    assert held_slot(os.getpid(), saves) == (True, None)
    lock = FileLock(str(saves / "ferry" / "lock"), timeout=0)  # as a game holds its slot
    with lock:
        assert held_slot(os.getpid(), saves) == (True, "ferry")
    assert held_slot(os.getpid(), saves) == (True, None)
