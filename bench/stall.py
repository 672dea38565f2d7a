"""The event loop's longest stall during a step: what a player feels as a frozen screen.

    python bench/stall.py [--steps 60] [--no-write] [--quick]

A `Game` (the one both faces open) plays a seed against the stand-in server in an asyncio
loop, as the TUI drives it, while a watcher coroutine asks to wake every 2 ms and notes how
late it wakes. Anything the engine does on the loop's own thread (a journal sync, a Chroma
query, a memory flush) shows up as a late wake. Bar: under 50 ms. Writes "## Event loop".

A late wake has two causes, and on a shared machine they differ by an order of magnitude: code
on the loop's thread (ours to fix), and the machine giving the process no core (other work on
the machine, or a worker thread of ours holding the GIL). So every callback the loop runs is
also timed in the loop thread's own CPU time, which does not count while the thread waits for a
core or for the GIL: the longest one is how long our own code held the loop, whatever else the
machine was doing. The load average is written beside both.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import machine, quick_check, write_section  # noqa: E402
from tests.standin import StandIn  # noqa: E402

TICK = 0.002


class Watcher:
    """How late the loop wakes a sleeper: the longest stall since `reset`."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.running = True

    async def watch(self) -> None:
        while self.running:
            asked = time.perf_counter()
            await asyncio.sleep(TICK)
            self.worst = max(self.worst, time.perf_counter() - asked - TICK)

    def reset(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst


class Callbacks:
    """The longest callback the loop ran since `reset`, in the loop thread's CPU time: every
    callback (a task's step included) runs through `asyncio.Handle._run`, timed here."""

    def __init__(self) -> None:
        self.worst = 0.0
        run = asyncio.Handle._run

        def timed(handle) -> None:
            began = time.thread_time()
            try:
                run(handle)
            finally:
                self.worst = max(self.worst, time.thread_time() - began)

        asyncio.Handle._run = timed

    def reset(self) -> float:
        worst, self.worst = self.worst, 0.0
        return worst


async def play(steps: int, folder: Path, url: str) -> dict:
    from game.core.settings import Settings
    from game.session import Game
    from game.stories.loader import load_seed

    settings = Settings(backend="openai", base_url=url, model="standin", retry_base=0.01)
    seed = load_seed(ROOT / "stories" / "night-ferry-to-kestrel.toml").filled()
    callbacks = Callbacks()
    watcher = Watcher()
    watching = asyncio.create_task(watcher.watch())

    def reset() -> tuple[float, float]:
        return watcher.reset(), callbacks.reset()

    game = await Game.open(settings, folder, "stall", seed)
    opened = reset()
    await game.begin()  # the backend is made here, in a thread, as the TUI's first step makes it
    begun = reset()
    stalls, held, seconds = [], [], []
    for index in range(steps):
        started = time.perf_counter()
        await game.tell(game.story.options[index % 3])
        seconds.append(time.perf_counter() - started)
        late, longest = reset()
        stalls.append(late)
        held.append(longest)
    await game.undo()
    undo = reset()
    await game.close()
    closed = reset()
    watcher.running = False
    await watching
    return {"stalls": stalls, "held": held, "seconds": seconds, "open": opened, "begin": begun, "undo": undo,
            "close": closed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--quick", action="store_true", help="smoke size: 3 steps, nothing written")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.write = 3, False
    load = os.getloadavg()[0]
    with StandIn() as server, tempfile.TemporaryDirectory() as folder:
        server.chunk_words = 2  # a paragraph streams in many pieces, as from a real server
        result = asyncio.run(play(args.steps, Path(folder), server.url))
    stalls = [s * 1000 for s in result["stalls"]]
    held = [s * 1000 for s in result["held"]]

    def row(what: str, pair: tuple[float, float]) -> str:
        return f"| {what} | {pair[0] * 1000:.1f} | {pair[1] * 1000:.1f} |"

    def p90(values: list[float]) -> float:
        return sorted(values)[int(len(values) * 0.9) - 1]

    text = "\n".join([
        f"{machine()}, load average {load:.1f} before and {os.getloadavg()[0]:.1f} after; `python bench/stall.py "
        f"--steps {args.steps}`: a `Game` playing `night-ferry-to-kestrel` against the stand-in (paragraphs streamed "
        "two words a chunk), with a watcher that asks to wake every 2 ms, and every callback timed in the loop thread's CPU time.",
        "",
        "| ms | the loop woke late by | longest callback on the loop (CPU) |",
        "| --- | --- | --- |",
        f"| per step, median | {statistics.median(stalls):.1f} | {statistics.median(held):.1f} |",
        f"| per step, 90th percentile | {p90(stalls):.1f} | {p90(held):.1f} |",
        f"| per step, worst of {len(stalls)} | **{max(stalls):.1f}** | **{max(held):.1f}** |",
        row("opening the slot (in a thread)", result["open"]),
        row("the opening, with the backend made (in a thread)", result["begin"]),
        row("an undo", result["undo"]),
        row("closing the game", result["close"]),
        "",
        f"Bar: under 50 ms. A step took {statistics.median(result['seconds']) * 1000:.0f} ms (median) with the stand-in. "
        "The first column is what a player feels, the machine's business included; the second is our code alone.",
    ])
    print(text)
    if args.quick:
        assert len(stalls) == args.steps, stalls
        quick_check({"worst stall ms": max(stalls), "worst callback ms": max(held), "open ms": result["open"][0] * 1000,
                     "begin ms": result["begin"][0] * 1000, "undo ms": result["undo"][0] * 1000,
                     "close ms": result["close"][0] * 1000, "step ms": statistics.median(result["seconds"]) * 1000})
    if args.write:
        write_section("Event loop", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
