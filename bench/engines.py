"""A step on the bundled demo model: the prebuilt llama.cpp (xllamacpp) against the compiled one
(llama-cpp-python's server), each in its own child process, in one run, taking turns.

    python bench/engines.py --compiled-python /work/venvs/lcp/bin/python [--steps 8] [--threads 1] [--no-write]

Each engine plays its own slot of the same story with the game's own settings for it
(`CHILD_TALK`: a JSON schema for llama.cpp's server, a GBNF grammar for llama-cpp-python's),
the same actions, one step each in turn, each going first in turn, so all share whatever else
the machine is doing; a third player runs the prebuilt with the compiled one's grammar, which
tells what the engine changes from what the format changes. `--compiled-python` is an interpreter with llama-cpp-python[server]
installed (the [local-source] extra). Writes "## Prebuilt against compiled llama.cpp" in
bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.local_model import SEED, Timed  # noqa: E402
from bench.results import machine, write_section  # noqa: E402

# (engine, how structured output is asked): the game's own way for each engine, and the prebuilt
# asked the compiled one's way (a GBNF grammar made by the game), to tell the engine from the format.
PLAYERS = (("xllamacpp", "json_schema"), ("llama-cpp-python", "grammar"), ("xllamacpp", "grammar"))
GRAMMAR_FIRST = ("grammar", "json_object", None)


def resident_mib(pid: int | None) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, TypeError):
        pass
    return float("nan")


async def run(steps: int, threads: int, compiled_python: str) -> dict:
    from game.engine.narrator import EngineSettings, Narrator
    from game.llm.base import RetryPolicy
    from game.llm.local import LocalBackend
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    folder = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    (folder / "seed.toml").write_text(SEED, encoding="utf-8")
    seed = load_seed(folder / "seed.toml").filled()
    class GrammarFirst(LocalBackend):
        def talk(self, engine: str) -> dict:
            return {**super().talk(engine), "formats": GRAMMAR_FIRST}

    players = {}
    for engine, asked in PLAYERS:
        python = compiled_python if engine == "llama-cpp-python" else None
        kind = GrammarFirst if asked == "grammar" else LocalBackend
        backend = kind(threads=threads, engine=engine, python=python, policy=RetryPolicy(timeout=180.0))
        started = time.perf_counter()
        await asyncio.to_thread(backend.start)
        load = time.perf_counter() - started
        slot = Slot.create(folder / "saves", f"{engine}-{asked}", seed)
        narrator = Narrator(slot, Timed(backend), EngineSettings())
        await narrator.begin()
        players[(engine, asked)] = {"backend": backend, "slot": slot, "narrator": narrator, "load": load, "rows": []}
    try:
        for n in range(steps):
            order = PLAYERS[n % len(PLAYERS):] + PLAYERS[:n % len(PLAYERS)]  # each goes first in turn
            for engine, asked in order:
                player = players[(engine, asked)]
                timed = player["narrator"].backend
                timed.calls.clear()
                began = time.perf_counter()
                step = await player["narrator"].step(seed.options[n % 3])
                seconds = time.perf_counter() - began
                para = next(c for c in timed.calls if c["kind"] == "paragraph")
                notes = [c for c in timed.calls if c["kind"] == "bookkeeping"]
                row = {"seconds": seconds, "first": para["first"], "para_tokens": para["tokens"],
                       "para_rate": max(0, para["tokens"] - 1) / max(para["seconds"] - para["first"], 1e-9),
                       "notes_seconds": sum(c["seconds"] for c in notes), "notes_tokens": sum(c["tokens"] for c in notes),
                       "fallback": step.version.fallback}
                player["rows"].append(row)
                print(f"step {n + 1} {engine} ({asked}): {seconds:.1f} s, first word {para['first']:.2f} s, paragraph "
                      f"{para['tokens']} tokens at {row['para_rate']:.0f}/s, notes {row['notes_tokens']} tokens in "
                      f"{row['notes_seconds']:.1f} s, fallback={step.version.fallback}", flush=True)
        for player in players.values():
            child = player["backend"].child
            player.update(version=child.version, system=child.system, resident=resident_mib(child.pid))
    finally:
        for player in players.values():
            player["slot"].close()
            await player["backend"].close()
    return players


def median(rows: list[dict], key: str) -> float:
    return statistics.median(row[key] for row in rows)


def report(players: dict, steps: int, threads: int) -> str:
    from game.cli.doctor import cpu_build

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    a, b, c = (players[player] for player in PLAYERS)
    lines = [
        f"{time.strftime('%Y-%m-%d')}, commit {commit}; {machine()}; `python bench/engines.py --steps {steps} "
        f"--threads {threads}`: SmolLM2-135M (bundled), {threads} llama.cpp thread{'s' if threads != 1 else ''} each, "
        f"n_ctx 8192, the engine's defaults (180-word paragraphs, 200-word memory), {steps} steps each, taking turns "
        f"(each first in turn). xllamacpp {a['version']} (CPU build: {cpu_build(a['system'])}) against llama-cpp-python "
        f"{b['version']} (compiled here with the README's portable flags; CPU build: {cpu_build(b['system'])}). "
        "Each asked for its notes the game's way (a JSON schema to the prebuilt, a GBNF grammar to the compiled one), "
        "and the prebuilt also the compiled one's way, to tell the engine from the format.",
        "",
        "| median over steps | xllamacpp, JSON schema (the game's way) | llama-cpp-python, grammar (the game's way) | "
        "prebuilt / compiled | xllamacpp, grammar |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, key, unit in (("whole step (paragraph + notes)", "seconds", "s"), ("first word of the paragraph", "first", "s"),
                             ("paragraph tokens/s after the first word", "para_rate", "/s"),
                             ("paragraph tokens", "para_tokens", ""), ("notes call(s)", "notes_seconds", "s"),
                             ("notes tokens", "notes_tokens", "")):
        x, y, z = (median(player["rows"], key) for player in (a, b, c))
        digits = 2 if key == "first" else 1 if unit == "s" else 0
        shown = [f"{value:.{digits}f}{' s' if unit == 's' else ''}" for value in (x, y, z)]
        lines.append(f"| {label} | {shown[0]} | {shown[1]} | {x / y:.2f} | {shown[2]} |" if y else
                     f"| {label} | {shown[0]} | {shown[1]} | | {shown[2]} |")
    lines += [
        "| steps whose notes fell back | " + " | ".join(f"{sum(r['fallback'] for r in p['rows'])} of {steps}"
                                                      for p in (a, b)) + f" | | {sum(r['fallback'] for r in c['rows'])} of {steps} |",
        f"| child start (model load) | {a['load']:.1f} s | {b['load']:.1f} s | | {c['load']:.1f} s |",
        f"| child's resident memory at the end | {a['resident']:.0f} MiB | {b['resident']:.0f} MiB | | {c['resident']:.0f} MiB |",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compiled-python", required=True, help="an interpreter with llama-cpp-python[server]")
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    players = asyncio.run(run(args.steps, args.threads, args.compiled_python))
    text = report(players, args.steps, args.threads)
    print(text)
    if args.write:
        write_section("Prebuilt against compiled llama.cpp", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
