"""Reopening a long story with the local model: its saved KV cache against reading it all again.

    python bench/kvcache.py [--steps 60] [--gguf PATH] [--threads 1] [--no-write]
    python bench/kvcache.py --quick    # the test suite's smoke size: 6 steps, nothing written

In one run, on one machine, through the game's own session (`Game`):

1. A story of `--steps - 1` steps is written by an instant scripted model (bench/instant.py,
   paragraphs of about 130 words from bench/storygen.py) that says it keeps its cache and has the
   local model's window, so its chapters close where the local model's would. Then the local model
   (the bundled SmolLM2-135M, or `--gguf`) tells step `--steps` for real and the game closes: the
   cache is saved (the time to save is measured, and the file's size per thousand tokens).
2. The slot's folder is copied (another folder: no saved cache of its own), and both are reopened
   with a fresh child each, one after the other: the original restores its saved cache, the copy
   starts cold. Both take the same action from the same journal, so both send the same prompt; the
   time to the first word of that step is measured (the step is then stopped, as Esc does).
3. A chapter's first step saves the cache in the background: the time of such a save is measured
   too (the step after a chapter close, when the story has one in reach; else not measured).
Writes "## Saved KV cache: a long story reopened (MODEL)" in bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.instant import InstantBackend  # noqa: E402
from bench.results import machine, quick_check, write_section  # noqa: E402
from bench.storygen import paragraph  # noqa: E402

STORY = "the-last-lamplighter"
ACTION = "Step into the dark tide and call the ferryman."


class Scripted(InstantBackend):
    """The instant model, with the local model's window and cache, so its chapters are the local model's."""

    keeps_cache = True

    def __init__(self, window: int) -> None:
        rng = random.Random(7)
        told: dict[int, str] = {}
        super().__init__(lambda n: told.setdefault(n, paragraph(rng)))
        self.window = window

    async def context_window(self) -> int:
        return self.window


def load(gguf: str | None, threads: int, n_ctx: int):
    from game.llm.local import LocalBackend

    return LocalBackend(gguf=gguf, threads=threads, n_ctx=n_ctx)


async def write_story(settings, saves: Path, steps: int, n_ctx: int) -> None:
    """Steps 0..steps-1 by the instant model."""
    from game.saves.slot import Slot
    from game.session import Game, Model, prefs_from
    from game.stories.loader import load_seed

    seed = load_seed(ROOT / "stories" / f"{STORY}.toml").filled()
    Slot.create(saves, "story", seed, prefs_from(settings, seed)).close()
    game = await Game.open(settings, saves, "story", model=Model(settings, Scripted(n_ctx)))
    try:
        await game.begin()
        for number in range(1, steps):
            await game.tell(f"Look around the {['harbour', 'mill', 'bridge', 'chapel'][number % 4]} again.")
    finally:
        await game.close()


async def tell_last(settings, saves: Path, args) -> dict:
    """The real model tells the story's last step; the game closes, saving the cache."""
    from game.session import Game, Model

    backend = load(args.gguf, args.threads, args.n_ctx)
    game = await Game.open(settings, saves, "story", model=Model(settings, backend))
    try:
        await game.tell("Go down to the water and listen.")
        chapters = sum(1 for step in game.story.steps if step.version.chapter)
        steps = len(game.story.steps) - 1
        began = time.perf_counter()
        await game.close()  # the slot closes, then the cache is saved: what a player waits for at quit
        close_s = time.perf_counter() - began
    finally:
        await game.close()
        await backend.close()
    tokens, size, save_s = backend.kv.saved if backend.kv and backend.kv.saved else (0, 0, float("nan"))
    return {"chapters": chapters, "steps": steps, "tokens": tokens, "size": size, "save_s": save_s, "close_s": close_s}


async def first_word(settings, saves: Path, args) -> dict:
    """Reopen slot `story` in `saves` and take ACTION: the time to its first word, and what its
    prompt read fresh and reused. The step is stopped once its paragraph is told (as Esc does)."""
    from game.core.events import Notice, Text
    from game.session import Game, Model

    backend = load(args.gguf, args.threads, args.n_ctx)
    await asyncio.to_thread(backend.start)  # the child's start is not part of the first word
    game = await Game.open(settings, saves, "story", model=Model(settings, backend))
    heard = asyncio.Event()
    began = time.perf_counter()
    took: list[float] = []

    def hear(event) -> None:
        if isinstance(event, Text) and event.text.strip() and not took:
            took.append(time.perf_counter() - began)
        if isinstance(event, Notice) and "reused from the cache" in event.text:
            heard.set()  # the paragraph is told, and what its prompt read and reused is known

    telling = asyncio.ensure_future(game.tell(ACTION, hear))
    try:
        await asyncio.wait([telling, asyncio.ensure_future(heard.wait())], return_when=asyncio.FIRST_COMPLETED)
    finally:
        telling.cancel()
        try:
            await telling
        except BaseException:  # noqa: BLE001 - stopped on purpose
            pass
        if backend.kv is not None:
            backend.kv.held = None  # a stopped step: nothing new to save as the game closes
        await game.close()
        await backend.close()
    if not took:
        raise RuntimeError("no word came")
    read, reused = backend.opened or ("?", "?")
    return {"first_word": took[0], "read": read, "reused": reused, "prompt": game._narrator.last_prompt_tokens}


async def run(args) -> dict:
    import logging

    from game.core.paths import kv_cache_dir
    from game.core.settings import load_settings

    work = Path(tempfile.mkdtemp(prefix="kvbench-"))
    logging.basicConfig(filename=str(work / "kvbench.log"), level=logging.INFO, force=True)
    os.environ["RECURRENT_CACHE_DIR"] = str(work / "cache")
    os.environ["RECURRENT_CONFIG"] = str(work / "settings.toml")
    try:
        settings = load_settings()
        print(f"writing {args.steps - 1} steps with the instant model", flush=True)
        await write_story(settings, work / "saves", args.steps, args.n_ctx)
        print("the real model tells the last step; the game closes", flush=True)
        last = await tell_last(settings, work / "saves", args)
        shutil.copytree(work / "saves", work / "copy")  # another folder: no saved cache of its own
        print("reopened with the saved cache", flush=True)
        restored = await first_word(settings, work / "saves", args)
        print(restored, flush=True)
        print("reopened cold", flush=True)
        cold = await first_word(settings, work / "copy", args)
        print(cold, flush=True)
        saved = sorted((kv_cache_dir()).glob("*.kv"))
        in_saves = [p for p in (work / "saves").rglob("*") if p.suffix in (".kv", ".part")]
        assert not in_saves, in_saves
        log_lines = [line for line in (work / "kvbench.log").read_text().splitlines() if "saved:" in line]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"last": last, "restored": restored, "cold": cold, "files": len(saved), "saves_logged": log_lines}


def report(args, figures: dict) -> str:
    last, restored, cold = figures["last"], figures["restored"], figures["cold"]
    ratio = restored["first_word"] / cold["first_word"]
    per_k = last["size"] / max(1, last["tokens"]) * 1000
    name = Path(args.gguf).name if args.gguf else "the bundled SmolLM2-135M-Instruct (Q4_1)"
    load = os.getloadavg()
    return f"""Written by `bench/kvcache.py --steps {args.steps}{' --gguf ' + Path(args.gguf).name if args.gguf else ''}`, {machine()}:
{name} in the game's child process (xllamacpp), {args.threads} thread, an {args.n_ctx:,}-token window, story
`{STORY}`. Steps 0-{args.steps - 1} written by the instant scripted model with this window's chapters
({last['chapters']} chapter closes in {last['steps']} steps), step {args.steps} told by the model, the game closed; then the
slot reopened with its saved cache and a copy of it reopened cold, one after the other, each with a fresh
child, taking the same action (the same prompt, {restored['prompt']:,} estimated tokens). Load average at the
end: {load[0]:.2f} / {load[1]:.2f} (1 / 5 min) on a 2-core machine that others were using.

| | restored from the saved cache | cold (a copy of the slot, no cache) |
| --- | --- | --- |
| time to the first word of the first step | {restored['first_word']:.2f} s | {cold['first_word']:.2f} s |
| prompt tokens read fresh / reused | {restored['read']} / {restored['reused']} | {cold['read']} / {cold['reused']} |

Restored is **{ratio:.2f} of cold** (bar: at most 0.25). The cache saved on close held {last['tokens']:,} tokens
in {last['size'] / 2**20:,.1f} MiB: **{per_k / 2**20:.2f} MiB per thousand tokens**. Saving it took
**{last['save_s']:.2f} s** (the server's write, the game's SHA-256 of the file, an atomic rename); closing the
game took {last['close_s']:.2f} s in all. Saves logged in the run: {'; '.join(line.split('kv cache ', 1)[-1][33:] for line in figures['saves_logged'])}.
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--gguf", default=None, help="a GGUF file instead of the bundled model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--quick", action="store_true", help="6 steps and a 2,048-token window; writes nothing")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.n_ctx = 6, 2048
    figures = asyncio.run(run(args))
    if args.quick:
        quick_check({"restored_first_word_s": figures["restored"]["first_word"],
                     "cold_first_word_s": figures["cold"]["first_word"], "save_s": figures["last"]["save_s"],
                     "bytes": figures["last"]["size"]})
        return
    body = report(args, figures)
    if args.no_write:
        print(body)
    else:
        model = Path(args.gguf).stem if args.gguf else "bundled SmolLM2-135M"
        write_section(f"Saved KV cache: a {args.steps}-step story reopened ({model})", body)


if __name__ == "__main__":
    main()
