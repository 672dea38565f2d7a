"""The event loop's longest stall during a step: what a player feels as a frozen screen.

    python bench/stall.py [--steps 60] [--no-write] [--quick]

A `Game` (the one both faces open) plays a seed against the stand-in server in an asyncio
loop, as the TUI drives it, while a watcher coroutine asks to wake every 2 ms and notes how
late it wakes. Anything the engine does on the loop's own thread (a journal sync, a Chroma
query, a memory flush) shows up as a late wake. Bar: under 50 ms. Writes "## Event loop".
"""
from __future__ import annotations

import argparse
import asyncio
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


async def play(steps: int, folder: Path, url: str) -> dict:
    from game.core.settings import Settings
    from game.session import Game
    from game.stories.loader import load_seed

    settings = Settings(backend="openai", base_url=url, model="standin", retry_base=0.01)
    seed = load_seed(ROOT / "stories" / "night-ferry-to-kestrel.toml").filled()
    watcher = Watcher()
    watching = asyncio.create_task(watcher.watch())
    game = await Game.open(settings, folder, "stall", seed)
    opened = watcher.reset()
    await game.begin()  # the backend is made here, in a thread, as the TUI's first step makes it
    begun = watcher.reset()
    stalls, seconds = [], []
    for index in range(steps):
        started = time.perf_counter()
        await game.tell(game.story.options[index % 3])
        seconds.append(time.perf_counter() - started)
        stalls.append(watcher.reset())
    await game.undo()
    undo = watcher.reset()
    await game.close()
    closed = watcher.reset()
    watcher.running = False
    await watching
    return {"stalls": stalls, "seconds": seconds, "open": opened, "begin": begun, "undo": undo, "close": closed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--quick", action="store_true", help="smoke size: 3 steps, nothing written")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.write = 3, False
    with StandIn() as server, tempfile.TemporaryDirectory() as folder:
        server.chunk_words = 2  # a paragraph streams in many pieces, as from a real server
        result = asyncio.run(play(args.steps, Path(folder), server.url))
    stalls = [s * 1000 for s in result["stalls"]]
    ordered = sorted(stalls)
    text = "\n".join([
        f"{machine()}; `python bench/stall.py --steps {args.steps}`: a `Game` playing `night-ferry-to-kestrel` against "
        "the stand-in (paragraphs streamed two words a chunk), with a watcher that asks to wake every 2 ms.",
        "",
        "| longest stall of the event loop | ms |",
        "| --- | --- |",
        f"| per step, median | {statistics.median(stalls):.1f} |",
        f"| per step, 90th percentile | {ordered[int(len(ordered) * 0.9) - 1]:.1f} |",
        f"| per step, worst of {len(stalls)} | **{max(stalls):.1f}** |",
        f"| opening the slot (in a thread) | {result['open'] * 1000:.1f} |",
        f"| the opening, with the backend made (in a thread) | {result['begin'] * 1000:.1f} |",
        f"| an undo | {result['undo'] * 1000:.1f} |",
        f"| closing the game | {result['close'] * 1000:.1f} |",
        "",
        f"Bar: under 50 ms. A step took {statistics.median(result['seconds']) * 1000:.0f} ms (median) with the stand-in.",
    ])
    print(text)
    if args.quick:
        assert len(stalls) == args.steps, stalls
        quick_check({"worst stall ms": max(stalls), "open ms": result["open"] * 1000, "begin ms": result["begin"] * 1000,
                     "undo ms": result["undo"] * 1000,
                     "close ms": result["close"] * 1000, "step ms": statistics.median(result["seconds"]) * 1000})
    if args.write:
        write_section("Event loop", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
