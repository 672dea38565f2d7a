"""Time per step and tokens per second with the bundled demo model (llama.cpp in its child process).

    python bench/local_model.py [--steps 5] [--threads N] [--gguf PATH] [--no-write]

Plays a short story with the engine's real settings (180-word paragraphs, 200-word
memory), measuring each step's two calls: the streamed paragraph (first-token
latency, tokens/s) and the schema-constrained bookkeeping (tokens/s). Medians
are appended to bench/RESULTS.md under "## Local model".
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game.core.calls import Reply  # noqa: E402

SEED = '''title = "The Last Lamplighter"
genre = "fantasy"
premise = "In a city whose gas lamps keep the fog-things away, the last lamplighter finds a street that was never on any map."
protagonist = { name = "Tamsin", description = "the last lamplighter of Veyle, stubborn and afraid of nothing but silence" }
opening = "The fog comes in off the river at dusk, as it always does, and you go out with your pole and your flame. Lamp after lamp wakes along Cinder Row. Then, between the chandler's and the bakery, you find a street you have never seen, its lamps already dark."
options = ["Walk into the unmapped street.", "Light the first dark lamp.", "Go back and ask the baker about the street."]
'''


class Timed:
    """The backend, with the time and tokens of every call written down."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.model = backend.model
        self.calls: list[dict] = []

    def __getattr__(self, name):  # usage, keeps_cache, open_story...: the backend's own
        return getattr(self.backend, name)

    @property
    def token_scale(self) -> float:
        return self.backend.token_scale

    async def context_window(self):
        return await self.backend.context_window()

    def stream(self, messages, **kwargs) -> Reply:
        return Reply(lambda reply: self._timed(reply, messages, kwargs))

    async def _timed(self, reply: Reply, messages, kwargs):
        started = time.perf_counter()
        first = None
        told = self.backend.stream(messages, **kwargs)
        async for piece in told:
            if first is None:
                first = time.perf_counter() - started
            yield piece
        reply.end(told.finish, told.usage)
        self.calls.append({"kind": "paragraph", "seconds": time.perf_counter() - started, "first": first or 0.0,
                           "prompt": told.usage.prompt_tokens, "tokens": told.usage.completion_tokens})

    async def structured(self, messages, schema, **kwargs):
        # A structured call returns its answer alone: what it cost is the tally's growth.
        started = time.perf_counter()
        prompt, completion = self.backend.usage.prompt_tokens, self.backend.usage.completion_tokens
        try:
            return await self.backend.structured(messages, schema, **kwargs)
        finally:
            self.calls.append({"kind": "bookkeeping", "seconds": time.perf_counter() - started,
                               "prompt": self.backend.usage.prompt_tokens - prompt,
                               "tokens": self.backend.usage.completion_tokens - completion})

    async def close(self) -> None:
        await self.backend.close()


async def run(steps: int, threads: int, gguf: str | None) -> dict:
    from game.engine.narrator import EngineSettings, Narrator
    from game.llm.local import LocalBackend
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    folder = Path(tempfile.mkdtemp(prefix="bench-local-"))
    (folder / "seed.toml").write_text(SEED, encoding="utf-8")
    seed = load_seed(folder / "seed.toml").filled()
    started = time.perf_counter()
    backend = LocalBackend(gguf=gguf, threads=threads)
    timed = Timed(backend)
    rows = []
    with Slot.create(folder / "saves", "bench", seed) as slot:
        narrator = Narrator(slot, timed, EngineSettings())
        await narrator.begin()
        load = time.perf_counter() - started
        for _ in range(steps):
            timed.calls.clear()
            began = time.perf_counter()
            step = await narrator.step(slot.story.options[0])
            seconds = time.perf_counter() - began
            para = next(c for c in timed.calls if c["kind"] == "paragraph")
            book = [c for c in timed.calls if c["kind"] == "bookkeeping"]
            rows.append({"seconds": seconds, "first": para["first"], "para_tokens": para["tokens"],
                         "para_rate": max(0, para["tokens"] - 1) / max(para["seconds"] - para["first"], 1e-9), "prompt": para["prompt"],
                         "book_tokens": sum(c["tokens"] for c in book),
                         "book_rate": sum(c["tokens"] for c in book) / max(sum(c["seconds"] for c in book), 1e-9),
                         "fallback": step.version.fallback})
            print(f"step {step.number}: {seconds:.1f} s, paragraph {para['tokens']} tokens at {rows[-1]['para_rate']:.0f}/s "
                  f"(first token {para['first']:.2f} s), bookkeeping {rows[-1]['book_tokens']} tokens at "
                  f"{rows[-1]['book_rate']:.0f}/s, fallback={step.version.fallback}", flush=True)
    system = backend.child.system if backend.child else ""
    engine = f"{backend.engine} {backend.child.version}" if backend.child else backend.engine
    await timed.close()
    return {"rows": rows, "load": load, "model": backend.model, "threads": backend.threads, "system": system,
            "engine": engine}


def median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def report(result: dict, asked: int | None) -> str:
    rows = result["rows"]
    threads = result["threads"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    from game.cli.doctor import cpu_build

    build = cpu_build(result["system"])
    return "\n".join([
        f"### {date.today().isoformat()}, {threads} thread{'s' if threads != 1 else ''}",
        "",
        f"{date.today().isoformat()}, `python bench/local_model.py --steps {len(rows)}{f' --threads {asked}' if asked else ''}`: "
        f"{result['model']}, {result['engine']} in a child process (CPU build: {build}), "
        f"{threads} thread{'s' if threads != 1 else ''}, n_ctx 4096, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load:.1f} at the end. "
        "Engine defaults: 180-word paragraphs (max 540 tokens), 200-word memory (bookkeeping max 600 tokens).",
        "",
        "| median over steps | value |",
        "| --- | --- |",
        f"| time per step (paragraph + bookkeeping) | {median(rows, 'seconds'):.1f} s |",
        f"| first token of the paragraph | {median(rows, 'first'):.2f} s |",
        f"| paragraph tokens/s after the first (free text) | {median(rows, 'para_rate'):.0f} |",
        f"| paragraph tokens | {median(rows, 'para_tokens'):.0f} |",
        f"| bookkeeping tokens/s, prompt included (JSON schema or grammar) | {median(rows, 'book_rate'):.0f} |",
        f"| bookkeeping tokens | {median(rows, 'book_tokens'):.0f} |",
        f"| narration prompt tokens | {median(rows, 'prompt'):.0f} |",
        f"| steps whose bookkeeping fell back | {sum(r['fallback'] for r in rows)} of {len(rows)} |",
        f"| child start (model load) + opening bookkeeping | {result['load']:.1f} s |",
        "",
    ])


NOTE = """## Local model

`bench/local_model.py`: the bundled demo model playing with the engine's defaults. The JSON
grammar costs speed: llama-cpp-python checks every vocabulary token against it at each step, so
constrained bookkeeping runs well below free text. The demo model seldom stops on its own, so
most calls run near their token ceiling. On a 2-core machine that is busy with anything else,
2 llama.cpp threads collapse (their barrier spins): the game uses one core less than the machine
has (RECURRENT_LLAMA_THREADS overrides).

"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: the game's, one core less than the machine)")
    parser.add_argument("--gguf")
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    result = asyncio.run(run(args.steps, args.threads, args.gguf))
    text = report(result, args.threads)
    print(text)
    if args.write:
        path = ROOT / "bench" / "RESULTS.md"
        if not path.exists():
            path.write_text("# Benchmark results\n", encoding="utf-8")
        old = path.read_text(encoding="utf-8")
        if "\n## Local model\n" not in old:
            old = old.rstrip() + "\n\n" + NOTE
        # Each run goes at the end of the "## Local model" section, after the earlier ones.
        head, rest = old.split("\n## Local model\n", 1)
        section, sep, after = rest.partition("\n## ")
        path.write_text(f"{head}\n## Local model\n{section.rstrip()}\n\n{text}\n{sep}{after}".rstrip() + "\n", encoding="utf-8")
        print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
