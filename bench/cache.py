"""How much of each request a model server can take from its cache, and what the player waits for.

    python bench/cache.py [--steps 75] [--llama-steps 40] [--parts standin,llama,tui] [--no-write]

1. The stand-in: a 75-step synthetic story (bench/storygen.py: long paragraphs, planted facts
   asked about much later), played by the engine. Every request is laid out as a chat template
   lays it out (ChatML) and compared with the request before it, which is what a single-slot
   KV cache keeps. The same story is laid out the old way (bench/old_layout.py) for comparison.
2. Real llama.cpp (one slot, the bundled model, 1 thread), three kinds: the game's own local
   model (its child process, with the game's settings), `llama-server --cache-ram 0` (one
   cache per slot, as Ollama and KoboldCpp keep) and `llama-server` as it comes (which also
   keeps earlier prompts' caches in RAM). For each, the new layout is played live on one server
   while the old layout's requests for the same story go to a second, step by step, so both
   share the machine's load. llama-server reports what it read (`prompt_n`) and took from its
   cache (`cache_n`); llama-cpp-python's log says the same ("prefix-match hit") where the child
   runs it. llama-server is the one xllamacpp ships (tests/llama_server.py).
3. The TUI: with a slowly streaming stand-in, the time from the start of the notes call to the
   options on screen, as a share of the whole notes call.
Writes "## Prompt cache" in bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import old_layout  # noqa: E402
from bench.results import machine, write_section  # noqa: E402
from bench.storygen import make_story  # noqa: E402
from game.core.seed import Seed  # noqa: E402
from game.core.text import sentences, tokens  # noqa: E402
from tests.standin import Brain, StandIn  # noqa: E402


def chatml(messages: list[dict]) -> str:
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def shared(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    low, high = 0, limit  # the longest common prefix, by halving (the strings are long)
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def cache_figures(requests: list[list[dict]], steps: int) -> dict:
    """Reuse of the request before, fresh characters per step, sizes; requests are (narration, notes) pairs."""
    texts = [chatml(r) for r in requests]
    reuse, fresh = [1.0], [len(texts[0])]
    for before, now in zip(texts, texts[1:]):
        common = shared(before, now)
        reuse.append(common / len(now))
        fresh.append(len(now) - common)
    per_step = [fresh[2 * i] + fresh[2 * i + 1] for i in range(steps)]
    notes_repeat = [shared(texts[2 * i], texts[2 * i + 1]) / len(texts[2 * i]) for i in range(steps)]
    narration = [len(texts[2 * i]) for i in range(steps)]
    window = per_step[39:59]
    return {"reuse": statistics.median(reuse[1:]), "fresh": statistics.median(window), "fresh_mean": statistics.mean(window),
            "fresh_tokens": statistics.median(window) / 4, "notes_repeat": min(notes_repeat[1:]),
            "largest_ratio": max(narration[39:]) / max(narration[:39]), "largest": max(narration)}


class StoryBrain(Brain):
    """The stand-in narrating a prepared story, and writing a recap of ~180 words when asked."""

    def __init__(self, paragraphs: list[str]) -> None:
        super().__init__()
        self.paragraphs = paragraphs
        self.told = 0

    def narrate(self, messages: list[dict]) -> str:
        # A paragraph told again (the guards found too little left of it) is asked with the very
        # same request: it gets the same paragraph, so the story does not slip a step.
        asked = json.dumps(messages)
        if asked != getattr(self, "asked", None):
            self.told, self.asked = self.told + 1, asked
        return self.paragraphs[min(self.told, len(self.paragraphs) - 1)]

    def fill(self, schema, defs, name="value", depth=0):
        if name == "memory":
            told = [sentences(p)[0] for p in self.paragraphs[: self.told + 1]]
            return " ".join(" ".join(told).split()[-180:])
        return super().fill(schema, defs, name, depth)


async def play_standin(steps: int) -> dict:
    from game.core.models import Preferences
    from game.engine.narrator import EngineSettings, Narrator
    from game.llm.openai_backend import OpenAIBackend
    from game.saves.slot import Slot

    actions, paragraphs, facts = make_story(steps=steps + 1, facts=15, gap=20, seed=9)
    seed = Seed(title="The Salt Town", genre="mystery", premise="A stranger asks questions in a river town.",
                protagonist={"name": "Wren"}, opening=paragraphs[0], options=["Look around.", "Ask about.", "Wait."])
    with StandIn(brain=StoryBrain(paragraphs)) as server, tempfile.TemporaryDirectory() as folder:
        backend = OpenAIBackend(base_url=server.url, api_key="", model="standin")
        generated = []
        real = backend.structured

        async def structured(*args, **kwargs):
            before = backend.usage.completion_tokens  # a structured call returns its answer alone: its cost is the tally's growth
            try:
                return await real(*args, **kwargs)
            finally:
                generated.append(backend.usage.completion_tokens - before)

        backend.structured = structured
        slot = Slot.create(Path(folder), "cache", seed, Preferences(paragraph_words=140))
        narrator = Narrator(slot, backend, EngineSettings())
        await narrator.begin()
        bounds = []
        for action in actions[1:steps + 1]:
            start = len(server.chat_requests())
            await narrator.step(action)
            bounds.append((start, len(server.chat_requests())))
        story = slot.story
        every = [r["messages"] for r in server.chat_requests()]
        # Each step's kept narration (its last) and its notes request, as a server's cache sees them
        # one after the other; a paragraph told again or options asked again are counted in `calls`.
        requests, narrations = [], []
        for start, end in bounds:
            asks = every[start:end]
            notes = [m for m in asks if "Now the notes" in m[-1]["content"]]
            told = [m for m in asks if "Now the notes" not in m[-1]["content"]]
            requests += [told[-1], notes[0]]
            narrations.append({"messages": told[0]})
        slot.close()
        await backend.close()
    probes = [f for f in facts if f.ask_step <= steps]
    found = sum(f.sentence in json.dumps(narrations[f.ask_step - 1]["messages"]) for f in probes)
    new = cache_figures(requests, steps)
    new.update(recall=found / len(probes), probes=len(probes), calls=(len(every) - 1) / steps,
               generated=statistics.mean(generated), chapters=sum(s.version.chapter for s in story.steps))
    old = cache_figures(_old_requests(story, steps), steps)
    old.update(calls=2.0, generated=statistics.mean(tokens(json.dumps({"memory": m, "options": s.version.options}))
                                                    for m, s in zip(_old_memories(story), story.steps[1:])))
    return {"new": new, "old": old}


def _old_memories(story) -> list[str]:
    """A 200-word rolling summary per step, as the old bookkeeping rewrote it every step."""
    memory, out = "", []
    for step in story.steps[1:]:
        memory = " ".join(f"{memory} {' '.join(sentences(step.version.paragraph)[:2])}".split()[-200:])
        out.append(memory)
    return out


def _old_requests(story, steps: int) -> list[list[dict]]:
    from game.core.world import triggered

    memories = [""] + _old_memories(story)
    out = []
    for n in range(1, steps + 1):
        step = story.steps[n]
        lore = triggered(story.seed.world, f"{step.action}\n{story.steps[n - 1].version.paragraph}")
        out.append(old_layout.narration(story, n, step.action, memories[n - 1], step.version.recalled, lore))
        out.append(old_layout.bookkeeping(memories[n - 1], step.action, step.version.paragraph, story.seed.premise))
    return out


# -- real llama.cpp ----------------------------------------------------------------------------
# llama-server keeps a store of earlier prompts' caches in RAM (`--cache-ram`, on by default since
# late 2025): it can bring back the old layout's narration after its notes request threw it out.
# Ollama, KoboldCpp, LM Studio, llama-cpp-python's server and so the game's own local model keep
# one cache per slot and nothing more, as `--cache-ram 0` does. All three are measured.
CHILD = ("child",)
SERVERS = {"the game's own local model (its child process)": CHILD,
           "llama-server with one cache (--cache-ram 0: as Ollama or KoboldCpp)": ("--cache-ram", "0"),
           "llama-server's default (a store of prompt caches in RAM)": ()}
PROMPT_READ = re.compile(r"prompt eval time =.*?/\s*(\d+) tokens")
PREFIX_HIT = re.compile(r"Llama\.generate: (\d+) prefix-match hit")
GENERATED = re.compile(r"\beval time =.*?/\s*(\d+) runs")


def play_llama_in_process(steps: int, kind: tuple[str, ...]) -> dict:
    """One kind's rows; a kind that stops (its server, or the tiny model three times over) keeps
    the steps it played and says why, and the other kinds' runs are not lost with it."""
    rows: dict = {"new": [], "old": [], "shares": []}
    try:
        asyncio.run(play_llama(steps, kind, rows))
    except BaseException as error:  # noqa: BLE001 - reported in the table, as a figure
        rows["stopped"] = f"{type(error).__name__}: {error}"
    return rows


@contextlib.contextmanager
def _two_servers(kind: tuple[str, ...], folder: Path):
    """Two model servers of one kind, each (url, log, key, talk): the log is llama-cpp-python's
    own where the child runs it (llama-server reports its timings in the stream); the key and
    the talk settings are the game's own for its child, none for llama-server."""
    from game.llm.engines import COMPILED
    from game.llm.local import CHILD_TALK, bundled_gguf
    from game.llm.local_process import LocalModel
    from tests.llama_server import LlamaServer

    if kind == CHILD:
        children = [LocalModel(bundled_gguf(), n_ctx=8192, threads=1, verbose=True, log=folder / f"child-{n}.log")
                    for n in (1, 2)]
        for child in children:
            child.start()
        try:
            yield [(child.url, child.log if child.engine == COMPILED else None, child.key, CHILD_TALK[child.engine])
                   for child in children]
        finally:
            for child in children:
                child.stop()
        return
    with LlamaServer(bundled_gguf(), n_ctx=8192, extra=kind) as a, LlamaServer(bundled_gguf(), n_ctx=8192, extra=kind) as b:
        yield [(a.url, None, "", {}), (b.url, None, "", {})]


async def play_llama(steps: int, kind: tuple[str, ...], rows: dict) -> None:
    from game.core.models import Bookkeeping, Preferences
    from game.engine.narrator import EngineSettings, Narrator
    from game.saves.slot import Slot
    from game.stories.loader import load_seed
    from tests.llama_server import Timed as ServerTimed

    class Timed(ServerTimed):
        log: Path | None = None  # llama-cpp-python's log: what it read and took from its cache
        seen = 0

        async def _stream_once(self, messages, max_tokens, temperature, asking):
            started, first, text, options_at = time.perf_counter(), None, "", None
            async for piece in super()._stream_once(messages, max_tokens, temperature, asking):
                if first is None:
                    first = time.perf_counter() - started
                text += piece
                if options_at is None and '"note"' in text:  # the options' list has closed
                    options_at = time.perf_counter() - started
                yield piece
            if self.log is not None:
                self._read_log()
            if "response_format" in asking or "grammar" in (asking.get("extra_body") or {}):
                if options_at is not None:
                    self.shares.append(options_at / (time.perf_counter() - started))
            else:
                self.firsts.append(first or 0.0)

        def _read_log(self) -> None:
            text = self.log.read_text(encoding="utf-8", errors="replace")
            new, self.seen = text[self.seen:], len(text)
            read, hit, made = PROMPT_READ.findall(new), PREFIX_HIT.findall(new), GENERATED.findall(new)
            self.timings.append({"prompt_n": sum(map(int, read)), "cache_n": sum(map(int, hit)),
                                 "predicted_n": sum(map(int, made))})

    seed = load_seed(ROOT / "stories" / "night-ferry-to-kestrel.toml").filled()
    from game.core.text import clip_words, sentences
    from game.engine.narrator import StepError

    with tempfile.TemporaryDirectory() as folder, _two_servers(kind, Path(folder)) as ((a, a_log, a_key, talk), (b, b_log, b_key, _)):
        new = Timed(base_url=a, api_key=a_key, model="smol", **talk)
        old = Timed(base_url=b, api_key=b_key, model="smol", **talk)
        for backend, log in ((new, a_log), (old, b_log)):
            backend.firsts, backend.timings, backend.shares, backend.log = [], [], [], log
        new.shares = rows["shares"]  # filled as it goes: a run that stops keeps what it measured
        slot = Slot.create(Path(folder), "llama", seed, Preferences(paragraph_words=180))
        narrator = Narrator(slot, new, EngineSettings(prompt_tokens=6000))
        await narrator.begin()
        memory = previous = ""
        for n in range(1, steps + 1):
            marks = (len(new.firsts), len(new.timings))
            for _try in range(3):  # as a player would: "try again" when the tiny model wrote nothing usable
                try:
                    await narrator.step(slot.story.options[(n - 1) % 3])
                    break
                except StepError:
                    rows["again"] = rows.get("again", 0) + 1
            else:
                raise RuntimeError(f"step {n}: the model wrote nothing usable three times")
            rows["new"].append(_row(new, marks, generated=new.timings[-1]["predicted_n"]))
            step = slot.story.steps[n]
            marks = (len(old.firsts), len(old.timings))
            asked = old_layout.narration(slot.story, n, step.action, memory, step.version.recalled, [])
            told = old.stream(asked, max_tokens=540, temperature=0.8)
            async for _ in told:
                pass
            try:
                notes = await old.structured(old_layout.bookkeeping(memory, step.action, step.version.paragraph,
                                                                    seed.premise), Bookkeeping, max_tokens=600, temperature=0.5,
                                             on_text=lambda piece: None)  # streamed, so its timings come back
                memory = notes.memory
                told = True
            except Exception:  # noqa: BLE001 - the old layout's notes failing is a figure too, not a stop
                told = False
            if not told or notes.memory.strip() == previous.strip():
                # The old layout rewrote its memory every step, and that rewrite, at the front of the
                # next prompt, is what kept the server from its cache. When the tiny model's notes
                # fail (or copy the memory), the memory still grows by the step's first sentence, as
                # the old layout's would have, so the comparison stays the old layout's.
                rows["old_notes_failed"] = rows.get("old_notes_failed", 0) + (not told)
                first = sentences(step.version.paragraph)[:1]
                memory = clip_words(" ".join([memory, *first]).strip(), 200)
            previous = memory
            rows["old"].append(_row(old, marks, generated=told.usage.completion_tokens))
            print(f"{kind or 'default'} step {n}: first word new {rows['new'][-1]['first']:.2f} s (read {rows['new'][-1]['read']}), "
                  f"old {rows['old'][-1]['first']:.2f} s (read {rows['old'][-1]['read']})", flush=True)
        slot.close()
        await new.close()
        await old.close()


def _row(backend, marks, generated: int) -> dict:
    firsts, timings = backend.firsts[marks[0]:], backend.timings[marks[1]:]
    return {"first": firsts[0] if firsts else 0.0, "read": sum(t["prompt_n"] for t in timings),
            "cached": sum(t["cache_n"] for t in timings), "generated": generated}


# -- the TUI -----------------------------------------------------------------------------------
async def options_share(steps: int = 6) -> list[float]:
    from game.stories.loader import load_seed
    from game.ui.app import make_app

    shares = []
    with StandIn() as server, tempfile.TemporaryDirectory() as folder:
        server.chunk_words, server.chunk_seconds = 1, 0.03  # a slow server: a word every 30 ms
        import os

        os.environ.update(OPENAI_BASE_URL=server.url, RECURRENT_MODEL="standin", OPENAI_API_KEY="sk-bench")
        app = make_app(saves=Path(folder), story=load_seed(ROOT / "stories" / "night-ferry-to-kestrel.toml").filled(),
                       slot="tui", blink=False)
        async with app.run_test() as pilot:
            while not (getattr(app.screen, "slot", None) and app.screen.slot.story.steps and not app.screen.busy):
                await pilot.pause(0.01)
            screen = app.screen
            for n in range(steps):
                taken, before = screen.slot.story.taken, list(screen.slot.story.options)
                notes_at = len(server.requests) + 1  # the narration comes first, then the notes
                await pilot.press("1", "enter")
                shown = None
                while screen.slot.story.taken == taken or screen.busy:
                    await pilot.pause(0.005)
                    if shown is None and screen.turn.options is not None and screen.turn.options != before:
                        shown = time.perf_counter()
                done = time.perf_counter()
                start = server.arrived[notes_at]
                shares.append((shown - start) / (done - start))
    return shares


def _llama_table(kind: str, rows: dict) -> list[str]:
    played = len(rows["new"])
    if not played:
        return [f"#### {kind}", "", f"Stopped before its first step: {rows.get('stopped', 'no rows')}.", ""]
    late = slice(29, 40) if played >= 40 else slice(None)  # a short trial run, or one that stopped: all of it
    which = "steps 30-40" if played >= 40 else f"steps 1-{played}"
    stopped = f"Stopped after step {played}: {rows['stopped']}. " if rows.get("stopped") else ""
    shares = (f"The options were whole after {statistics.median(rows['shares']):.2f} of the notes call (median of "
              f"{len(rows['shares'])} notes calls streamed)." if rows["shares"] else "")

    def med(layout, key, part=late):
        return statistics.median(r[key] for r in rows[layout][part])

    return [f"#### {kind}", "", "| per step (median) | old layout | new layout |", "| --- | --- | --- |",
            f"| time to the first word, {which} | {med('old', 'first'):.2f} s | **{med('new', 'first'):.2f} s** "
            f"({med('new', 'first') / med('old', 'first'):.2f} of old; bar: at most 0.5) |",
            f"| prompt tokens read, {which} | {med('old', 'read'):.0f} | **{med('new', 'read'):.0f}** |",
            f"| prompt tokens taken from the cache, {which} | {med('old', 'cached'):.0f} | {med('new', 'cached'):.0f} |",
            f"| prompt tokens read, all steps | {med('old', 'read', slice(None)):.0f} | {med('new', 'read', slice(None)):.0f} |",
            f"| tokens generated for the notes | {med('old', 'generated', slice(None)):.0f} | {med('new', 'generated', slice(None)):.0f} |",
            "",
            f"{stopped}Steps told again because the model wrote nothing usable (a player's retry): {rows.get('again', 0)}. "
            f"The old layout's notes failed at {rows.get('old_notes_failed', 0)} steps; its memory still changed every "
            "step (the step's first sentence added), as the old layout's did.", "", shares, ""]


STEP_LINE = re.compile(r"(.+?) step (\d+): first word new ([\d.]+) s \(read (\d+)\), old ([\d.]+) s \(read (\d+)\)")


def from_log(path: Path) -> list[str]:
    """The medians of the per-step lines a run printed (`python bench/cache.py --from-log FILE`):
    what is left of a run whose tables were lost."""
    rows: dict[str, list[tuple]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := STEP_LINE.match(line):
            rows.setdefault(match[1], []).append((int(match[2]), *map(float, match.groups()[2:])))
    lines = ["| server | steps played | first word, steps 30-40: old | new | new / old | prompt tokens read, steps 30-40: old | new |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    shown = {str(CHILD): "the game's own local model (its child process)", str(("--cache-ram", "0")): "llama-server --cache-ram 0",
             "default": "llama-server as it comes"}
    for kind, played in rows.items():
        late = [row for row in played if 30 <= row[0] <= 40] or played
        old, new = (statistics.median(row[i] for row in late) for i in (3, 1))
        lines.append(f"| {shown.get(kind, kind)} | {len(played)} | {old:.2f} s | **{new:.2f} s** | {new / old:.2f} | "
                     f"{statistics.median(row[4] for row in late):.0f} | {statistics.median(row[2] for row in late):.0f} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=75)
    parser.add_argument("--llama-steps", type=int, default=40)
    parser.add_argument("--parts", default="standin,llama,tui")
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--from-log", type=Path, help="only print the medians of a run's per-step lines")
    args = parser.parse_args()
    if args.from_log:
        print("\n".join(from_log(args.from_log)))
        return 0
    parts = args.parts.split(",")
    lines = [f"{machine()}; `python bench/cache.py`. Each request laid out as ChatML and compared with the request before it "
             "(what a single-slot KV cache keeps); \"fresh\" is what the server must read anew.", ""]
    if "standin" in parts:
        result = asyncio.run(play_standin(args.steps))
        new, old = result["new"], result["old"]
        lines += [f"### The stand-in, {args.steps} steps (synthetic story, paragraphs of about 140 words, "
                  f"{new['probes']} planted-fact probes)", "",
                  "| figure | old layout (until 2026-12-01) | new layout | bar |", "| --- | --- | --- | --- |",
                  f"| median reuse of the request before | {old['reuse']:.2f} | **{new['reuse']:.2f}** | at least 0.6 |",
                  f"| fresh characters per step, steps 40-59 (median; mean) | {old['fresh']:,.0f}; {old['fresh_mean']:,.0f} "
                  f"| **{new['fresh']:,.0f}**; {new['fresh_mean']:,.0f} (about {new['fresh_tokens']:,.0f} tokens) | at most 2,500 |",
                  f"| a notes request repeats the narration before it (smallest share) | {old['notes_repeat']:.2f} "
                  f"| **{new['notes_repeat']:.2f}** | at least 0.9 |",
                  f"| largest prompt at steps 40-75 / at steps 1-39 | {old['largest_ratio']:.2f} | **{new['largest_ratio']:.2f}** | at most 1.25 |",
                  f"| planted-fact recall (the fact is in the request that asks) | | **{new['recall']:.2f}** | at least 0.9 |",
                  f"| calls per step | {old['calls']:.1f} | **{new['calls']:.2f}** | at most 2.1 |",
                  f"| generated notes tokens per step (mean) | {old['generated']:.0f} | **{new['generated']:.0f}** | |",
                  f"| chapters closed | | {new['chapters']} | |", ""]
    if "llama" in parts:
        # Each kind of server in its own process, at the same time: both share the machine's load.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Spawned, not forked: a fork after the stand-in part's threads (chromadb's) can hang.
        with ProcessPoolExecutor(len(SERVERS), mp_context=multiprocessing.get_context("spawn")) as pool:
            runs = list(pool.map(play_llama_in_process, [args.llama_steps] * len(SERVERS), SERVERS.values()))
        lines += [f"### Real llama.cpp, {args.llama_steps} steps of `night-ferry-to-kestrel`", "",
                  "Bundled SmolLM2-135M (Q4_1), one slot each, 1 thread, n_ctx 8192, 180-word paragraphs; the new layout "
                  "played live on one server, the old layout's requests for the same story sent to a second, step by step. "
                  f"{len(SERVERS)} kinds of server, each pair played at the same time as the others (so on a loaded machine: "
                  "compare old with new within a table). llama-server reports what it read and took from its cache; "
                  "llama-cpp-python's log says so for the child.", ""]
        for (kind, _extra), rows in zip(SERVERS.items(), runs):
            lines += _llama_table(kind, rows)
    if "tui" in parts:
        shares = asyncio.run(options_share())
        lines += ["### The TUI", "",
                  f"With the stand-in streaming a word every 30 ms, the options were on screen after "
                  f"**{statistics.median(shares):.2f}** of the notes call (median of {len(shares)} steps; largest "
                  f"{max(shares):.2f}; bar: before half).", ""]
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("Prompt cache", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
