"""llama.cpp builds compared on this machine: the portable build against others (a native one).

    python bench/local_build.py [--rounds 5] [--threads 1] [--other NAME=PYTHON ...] [--in-process] [--no-write]

Each build is a Python whose llama-cpp-python was built with its own CMAKE_ARGS; this one's
is the game's own. Every build runs the bundled demo model in the game's child process
(`game/llm/llama_child.py`), and the rounds alternate between builds so that the machine's
load falls on all of them alike. A round reads a fresh ~600-token prompt (its first line
differs, so the KV cache cannot help) and writes 120 tokens of free text. Medians go to
bench/RESULTS.md under "## llama.cpp builds".
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import machine, write_section  # noqa: E402

PROSE = ("The fog comes in off the river at dusk, as it always does, and the lamplighter goes out with her pole "
         "and her flame. Lamp after lamp wakes along Cinder Row, and the fog-things draw back from the light. ")


def messages_for(index: int) -> list[dict]:
    return [{"role": "system", "content": f"Round {index}. You continue stories."},
            {"role": "user", "content": PROSE * 12 + "\nContinue the story."}]


def in_process_round(llm, index: int) -> dict:
    """The same round with llama.cpp loaded in this (benchmark) process: never done by the game."""
    import random

    started = time.perf_counter()
    first = None
    tokens = 0
    for chunk in llm.create_chat_completion(messages=messages_for(index), max_tokens=120, temperature=0.8, stream=True,
                                            seed=random.randrange(2**31), repeat_penalty=1.1):
        if chunk["choices"][0]["delta"].get("content"):
            tokens += 1
            if first is None:
                first = time.perf_counter() - started
    total = time.perf_counter() - started
    return {"first": first or total, "rate": max(0, tokens - 1) / max(total - (first or total), 1e-9), "tokens": tokens}


async def one_round(child, index: int) -> dict:
    from game.llm.openai_backend import OpenAIBackend

    backend = OpenAIBackend(base_url=child.url, api_key="", model="local", fresh_seed=True,
                            prose_body={"repeat_penalty": 1.1})
    messages = messages_for(index)
    started = time.perf_counter()
    first = None
    pieces = 0
    reply = backend.stream(messages, max_tokens=120, temperature=0.8)
    try:
        async for _ in reply:
            pieces += 1
            if first is None:
                first = time.perf_counter() - started
    finally:
        await backend.close()
    total = time.perf_counter() - started
    tokens = reply.usage.completion_tokens
    return {"first": first or total, "rate": max(0, tokens - 1) / max(total - (first or total), 1e-9),
            "prompt": reply.usage.prompt_tokens, "tokens": tokens}


def main() -> int:
    from game.llm.local import bundled_gguf
    from game.llm.local_process import LocalModel

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--other", action="append", default=[], metavar="NAME=PYTHON",
                        help="another build: a label and the Python whose llama-cpp-python it is")
    parser.add_argument("--in-process", action="store_true", help="also run the game's build in this process")
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    builds = [("portable (the game's)", sys.executable)] + [tuple(o.rsplit("=", 1)) for o in args.other]
    children = {}
    for name, python in builds:
        child = LocalModel(bundled_gguf(), n_ctx=4096, threads=args.threads, python=python,
                           log=Path(f"/tmp/bench-build-{len(children)}.log"))
        child.start()
        children[name] = child
    rows: dict[str, list[dict]] = {name: [] for name, _ in builds}
    llm = None
    inside = "portable, in this process (no HTTP)"
    if args.in_process:
        from llama_cpp import Llama

        llm = Llama(model_path=str(bundled_gguf()), n_ctx=4096, n_threads=args.threads, n_threads_batch=args.threads,
                    verbose=False)
        rows[inside] = []
    try:
        for index in range(args.rounds):
            for name, _ in builds:
                row = asyncio.run(one_round(children[name], index))
                rows[name].append(row)
                print(f"round {index}, {name}: first token {row['first']:.2f} s, {row['rate']:.0f} tokens/s", flush=True)
            if llm is not None:
                row = in_process_round(llm, index)
                rows[inside].append(row)
                print(f"round {index}, {inside}: first token {row['first']:.2f} s, {row['rate']:.0f} tokens/s", flush=True)
    finally:
        for child in children.values():
            child.stop()
    base = statistics.median(r["rate"] for r in rows[builds[0][0]])
    lines = [f"{machine()}; `python bench/local_build.py --rounds {args.rounds} --threads {args.threads}`, "
             f"load average {os.getloadavg()[0]:.1f} at the end. SmolLM2-135M-Instruct Q4_1 (bundled demo) in the "
             f"game's child process, {args.threads} thread(s); rounds alternate between builds.", "",
             "| build | CPU features llama.cpp uses | first token, ~600-token prompt (median) | tokens/s after it (median) | vs portable |",
             "| --- | --- | --- | --- | --- |"]
    from game.cli.doctor import cpu_build

    for name in rows:
        got = rows[name]
        rate = statistics.median(r["rate"] for r in got)
        features = cpu_build(children[name].system) if name in children else cpu_build(children[builds[0][0]].system)
        lines.append(f"| {name} | {features} | {statistics.median(r['first'] for r in got):.2f} s "
                     f"| {rate:.0f} | {rate / base:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.write:
        write_section("llama.cpp builds", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
