"""`recurrent serve`: what one browser player costs (memory, start time), and so what a machine holds.

Each page is its own game process. This starts `recurrent serve` on loopback with the stand-in
model, then connects N players one after the other as the page does (the websocket, no
browser: the browser's own cost is on the player's machine), and for each measures:
- start: from the socket opened to the title screen drawn;
- memory at the title screen, then in a story (a new game from the library, one step played):
  resident (RSS) and proportional (PSS: shared pages split between the processes that share
  them, so N players' PSS add up to what they really take).
Run: python bench/serve.py [players]   (default 4)
"""
from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from results import machine, quick_check, write_section  # noqa: E402
from tests.processes import descendants  # noqa: E402
from tests.standin import StandIn, free_port  # noqa: E402

ESCAPES = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
SECONDS = 120


def tree(pid: int) -> list[int]:
    """`pid` and every process under it."""
    return [pid, *descendants(pid)]


def memory(pids: list[int]) -> tuple[float, float]:
    """RSS and PSS in MiB, summed over the processes."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss / 1024, pss / 1024


def cpu(pids: list[int]) -> float:
    """CPU seconds (user and system) the processes have used."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


IDLE_SECONDS = 10


class Page:
    """One player's socket, as the page speaks it: keys in, the screen's bytes out."""

    def __init__(self, socket) -> None:
        self.socket = socket
        self.seen = b""
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for message in self.socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.seen = (self.seen + ESCAPES.sub(b"", message.data))[-200_000:]

    async def wait(self, text: str) -> None:
        deadline = time.monotonic() + SECONDS
        while text.encode() not in self.seen:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} never appeared")
            await asyncio.sleep(0.02)

    async def keys(self, data: str) -> None:
        self.seen = b""  # what comes after these keys
        await self.socket.send_json(["stdin", data])


def steps_in(saves: Path) -> list[int]:
    from game.saves.folder import list_slots, read_header

    return [read_header(saves, name)["steps"] for name in list_slots(saves)]


async def measure(url: str, saves: Path, server_pid: int, players: int) -> list[dict]:
    rows, pages = [], []
    async with aiohttp.ClientSession() as session:
        for n in range(players):
            before = set(tree(server_pid))
            started = time.monotonic()
            socket = await session.ws_connect(f"{url}ws?width=120&height=40")
            page = Page(socket)
            pages.append(page)
            await page.wait("New game")
            start = time.monotonic() - started
            game = [pid for pid in tree(server_pid) if pid not in before]
            title = memory(game)
            title_cpu = cpu(game)
            await page.keys("n")
            await page.wait("Write it")
            await page.keys("\r")
            await page.wait("Begin")
            await page.keys("\x02")  # Ctrl+B
            deadline = time.monotonic() + SECONDS
            # Option 1 and Enter, again until the new story has its first step: keys typed while the
            # story is still opening wait in the box, and the next Enter sends them.
            while not (len(steps_in(saves)) == n + 1 and min(steps_in(saves)) >= 1):
                await page.keys("1\r")
                await asyncio.sleep(1)
                if time.monotonic() > deadline:
                    raise TimeoutError("no first step")
            await asyncio.sleep(2)  # the step's notes and memory writes settle
            game = [pid for pid in tree(server_pid) if pid not in before]
            story = memory(game)
            played_cpu = cpu(game)
            await asyncio.sleep(IDLE_SECONDS)  # the player reads: what an idle game costs
            idle = (cpu(game) - played_cpu) / IDLE_SECONDS
            rows.append({"start": start, "title_rss": title[0], "title_pss": title[1],
                         "story_rss": story[0], "story_pss": story[1], "title_cpu": title_cpu,
                         "story_cpu": played_cpu - title_cpu, "idle": idle})
        total = memory([pid for pid in tree(server_pid) if pid != server_pid])
        server = memory([server_pid])
        for page in pages:
            await page.socket.close()
    rows.append({"total_rss": total[0], "total_pss": total[1], "server_rss": server[0], "server_pss": server[1]})
    return rows


def main() -> None:
    quick = "--quick" in sys.argv[1:]  # the test suite's smoke size: one player, nothing written
    given = [a for a in sys.argv[1:] if a != "--quick"]
    players = 1 if quick else int(given[0]) if given else 4
    if quick:
        global IDLE_SECONDS
        IDLE_SECONDS = 1  # the idle cost is measured, briefly: a smoke run proves it is a number
    with tempfile.TemporaryDirectory() as folder, StandIn() as standin:
        folder = Path(folder)
        saves = folder / "saves"
        port = free_port()
        env = {**os.environ, "OPENAI_BASE_URL": standin.url, "OPENAI_API_KEY": "bench", "RECURRENT_MODEL": "standin",
               "RECURRENT_CONFIG": str(folder / "settings.toml"), "XDG_STATE_HOME": str(folder / "state"),
               "OLLAMA_HOST": f"127.0.0.1:{free_port()}", "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen([sys.executable, "-m", "game", "serve", "--port", str(port), "--saves-dir", str(saves),
                                   "--max-players", str(players)], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    import urllib.request

                    urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            rows = asyncio.run(measure(f"http://127.0.0.1:{port}/", saves, server.pid, players))
        finally:
            server.terminate()
            server.wait(timeout=60)
    each, totals = rows[:-1], rows[-1]
    if quick:
        quick_check({"start": each[0]["start"], "story_pss": each[0]["story_pss"], "server_rss": totals["server_rss"]})
        return
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    lines = "\n".join(f"| {n + 1} | {row['start']:.2f} s | {row['title_cpu']:.2f} s | {row['title_rss']:.0f} / "
                      f"{row['title_pss']:.0f} MiB | {row['story_cpu']:.1f} s | {row['story_rss']:.0f} / "
                      f"{row['story_pss']:.0f} MiB | {100 * row['idle']:.1f}% |" for n, row in enumerate(each))
    story_pss = statistics.median(row["story_pss"] for row in each)
    holds = int(24 * 1024 * 0.8 // story_pss)
    idle_cpu = 100 * statistics.median(row["idle"] for row in each)
    title_cpu = statistics.median(row["title_cpu"] for row in each)
    story_cpu = statistics.median(row["story_cpu"] for row in each)
    body = f"""
{machine()}, commit {commit}; `python bench/serve.py {players}`: `recurrent serve` on loopback with the
stand-in model, {players} players connected one after another over the page's websocket (no browser:
its cost is on the player's machine). Start: socket opened to title screen drawn. Memory: the player's
game process, resident / proportional (PSS splits shared pages between the processes sharing them),
at the title screen, then in a story (a new game from the library, one step played: Chroma and
the embedder loaded).

| player | start | CPU to the title | title RSS / PSS | CPU: new game, 1 step | in a story RSS / PSS | idle CPU |
| --- | --- | --- | --- | --- | --- | --- |
{lines}

All {players} game processes together: {totals['total_rss']:.0f} MiB resident, {totals['total_pss']:.0f} MiB PSS;
the server itself {totals['server_rss']:.0f} MiB resident.

A player in a story takes about **{story_pss:.0f} MiB** (median PSS): memory lets a 2-core, 24 GiB
machine hold about {holds} players (80% of the RAM, with the model served elsewhere). The cores bind
first: a player costs about {idle_cpu:.1f}% of a core while reading (idle CPU, {IDLE_SECONDS} s), but
starting costs {title_cpu:.1f} CPU-s and a new game with its first step {story_cpu:.1f} CPU-s (imports, Chroma,
the embedder). So on 2 cores ten players who start at once wait some seconds each; a `--max-players`
of about 10 suits such a machine, the model on another one or a hosted API (this bench does not
measure many players stepping at once).
"""
    write_section("Serve", body)


if __name__ == "__main__":
    main()
