"""Reopening a story with the local model: its saved KV cache against reading it all again.

    python bench/kvcache.py [--steps 12] [--story the-last-lamplighter] [--threads 1] [--no-write]

With the bundled model (llama.cpp's own server from xllamacpp, in the game's child process), in
one run:

1. Chapters: the same story played for `--steps` steps twice through the game's own session,
   once with the prompt budget as it was (`prompt_tokens = 3000`), once fitted to the window as
   it is now (no ceiling set): chapter closes, and prompt tokens read a step (llama.cpp's
   `timings.prompt_n`) against reused (`cache_n`).
2. The second story is closed (its cache saved; the time to save is measured), its saves folder
   copied, and both copies reopened with a fresh child each: the original restores its saved
   cache, the copy (another folder: no cache) starts cold. Both take the same action from the
   same journal, so both send the same prompt; the time to the first word of that step is
   measured for each, one after the other, on one machine.
3. The cache file's size per thousand tokens it holds.
Writes "## Saved KV cache" in bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import machine, write_section  # noqa: E402

ACTIONS = ["Look around carefully.", "Go towards the light.", "Ask who is there.", "Follow the sound of water.",
           "Open the gate with the spare key.", "Call out for the master.", "Light a lamp.", "Search the stair.",
           "Listen at the door.", "Run across the bridge.", "Climb to the roof.", "Count the lamps again.",
           "Wait in the dark.", "Read the note.", "Go back to the guildhall."]


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def backend(threads: int):
    from game.llm.local import LocalBackend

    made = LocalBackend(threads=threads)
    made.counts = []  # (read, reused) of every narration, from llama.cpp's timings
    said = made._said

    def heard(messages, usage, on_notice):
        if usage.read is not None:
            made.counts.append((usage.read, usage.reused))
        said(messages, usage, on_notice)

    made._said = heard
    return made


async def play(settings, saves: Path, actions: list[str], threads: int, measure_save: bool = False,
               mid_chapter: bool = False) -> dict:
    """Open slot `story` in `saves` and take `actions`: what it cost. `mid_chapter`: then a few
    more steps until the last one did not close a chapter (a close rewrites all but the system
    message, so a story reopened right after one has little to reuse)."""
    from game.core.events import Text
    from game.session import Game, Model

    local = backend(threads)
    game = await Game.open(settings, saves, "story", model=Model(settings, local))
    first_word: list[float] = []
    out = {}
    try:
        for number, action in enumerate(actions):
            began = time.perf_counter()

            def heard(event, began=began, number=number):
                if isinstance(event, Text) and number == 0 and not first_word:
                    first_word.append(time.perf_counter() - began)

            await game.tell(action, heard)
        chapters = sum(1 for step in game.story.steps[1:] if step.version.chapter)
        extra = 0
        while mid_chapter and game.story.steps[-1].version.chapter and extra < 6:
            extra += 1
            await game.tell(ACTIONS[-extra])
        if measure_save:
            began = time.perf_counter()
            await local.keep_story()
            out["save_s"] = time.perf_counter() - began
    finally:
        await game.close()
        await local.close()
    steps = game.story.steps
    out.update(first_word=first_word[0] if first_word else None, counts=local.counts, opened=local.opened,
               chapters=chapters, steps=len(steps) - 1)
    return out


def new_slot(saves: Path, story: str, settings) -> None:
    from game.saves.slot import Slot
    from game.session import prefs_from
    from game.stories.loader import load_seed

    seed = load_seed(ROOT / "stories" / f"{story}.toml").filled()
    Slot.create(saves, "story", seed, prefs_from(settings, seed)).close()


def mean_read(counts: list[tuple[int, int]]) -> str:
    if not counts:
        return "?"
    return f"{statistics.mean(r for r, _ in counts):,.0f} read, {statistics.mean(c for _, c in counts):,.0f} reused"


async def run(args) -> str:
    import logging

    from game.core.paths import kv_cache_dir, kv_slot_key
    from game.core.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix="kvbench-"))
    logging.basicConfig(filename=str(Path(tempfile.gettempdir()) / "kvbench.log"), level=logging.INFO, force=True)
    os.environ["RECURRENT_CACHE_DIR"] = str(work / "cache")
    os.environ["RECURRENT_CONFIG"] = str(work / "settings.toml")
    try:
        actions = (ACTIONS * 5)[: args.steps]
        before_settings = load_settings(prompt_tokens=3000)
        after_settings = load_settings()
        before = None
        if "chapters" in args.parts:
            print("before: prompt_tokens 3000", flush=True)
            new_slot(work / "before", args.story, before_settings)
            before = await play(before_settings, work / "before", actions, args.threads)
            print(before["chapters"], mean_read(before["counts"]), flush=True)
        print("after: fitted to the window", flush=True)
        new_slot(work / "after", args.story, after_settings)
        after = await play(after_settings, work / "after", actions, args.threads, measure_save=True, mid_chapter=True)
        print(after["chapters"], mean_read(after["counts"]), flush=True)

        side = kv_cache_dir() / f"{kv_slot_key(work / 'after', 'story')}.json"
        meta = json.loads(side.read_text())
        per_k = meta["size"] / max(1, meta["tokens"]) * 1000
        shutil.copytree(work / "after", work / "copy")  # another folder: no saved cache of its own
        action = ["Step into the dark tide."]
        restored = await play(after_settings, work / "after", action, args.threads)
        cold = await play(after_settings, work / "copy", action, args.threads)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = restored["first_word"] / cold["first_word"]
    head = f"""Written by `bench/kvcache.py --parts {args.parts}` at commit {commit()}, {machine()}: the bundled
SmolLM2-135M in the game's child process (xllamacpp), {args.threads} thread, story `{args.story}`, {args.steps} steps
through the game's session{', then more until the last step closed no chapter' if after['steps'] > args.steps else ''}.
"""
    if before is not None:
        head += f"""
| | before (prompt_tokens 3,000) | after (fitted to the 8,192 window) |
| --- | --- | --- |
| chapter closes over {args.steps} steps | {before['chapters']} | {after['chapters']} |
| prompt tokens a narration (mean) | {mean_read(before['counts'])} | {mean_read(after['counts'])} |
"""
    return head + f"""
Reopening that {after['steps']}-step story (a fresh child each time, the same journal, the same action, so the
same prompt), one after the other in this run:

| | restored from the saved cache | cold (a copy of the slot, no cache) |
| --- | --- | --- |
| time to the first word of the first step | {restored['first_word']:.2f} s | {cold['first_word']:.2f} s |
| prompt tokens read fresh / reused | {restored['opened'][0]:,} / {restored['opened'][1]:,} | {cold['opened'][0]:,} / {cold['opened'][1]:,} |

Restored is {ratio:.2f} of cold (bar: at most 0.25). The cache file holds {meta['tokens']:,} tokens in
{meta['size'] / 2**20:,.1f} MiB: {per_k / 2**20:.1f} MiB per thousand tokens (f16 KV of 30 layers; a 7-8B model's
is larger in proportion to its layers and KV heads). Saving it on close took {after['save_s']:.2f} s (the
server's write, then the game's SHA-256 of the file and an atomic rename).
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--story", default="the-last-lamplighter")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parts", default="chapters,reopen", help="chapters,reopen or reopen (no 'before' run)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    body = asyncio.run(run(args))
    if args.no_write:
        print(body)
    else:
        write_section("Saved KV cache" if "chapters" in args.parts else "Saved KV cache: reopening mid-chapter", body)


if __name__ == "__main__":
    main()
