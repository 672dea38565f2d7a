"""Offline play, proved: headless steps on the bundled model inside a network namespace with no
network at all (only loopback, which the model's child process listens on), through the engine
the game picks (the prebuilt llama.cpp, xllamacpp, where it is installed and can run).

    python bench/offline.py [--steps 3] [--story stories/night-ferry-to-kestrel.toml] [--no-write]

Needs `unshare` (util-linux) and `ip` (iproute2); a fresh network namespace starts with its
loopback down, so the script brings it up first. Writes "## Offline" in bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import machine, write_section  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--story", default=str(ROOT / "stories" / "night-ferry-to-kestrel.toml"))
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    if not shutil.which("unshare") or not shutil.which("ip"):
        print("needs unshare and ip", file=sys.stderr)
        return 2
    saves = Path(tempfile.mkdtemp(prefix="bench-offline-"))
    recurrent = Path(sys.executable).with_name("recurrent")
    play = (f"ip link set lo up && {recurrent} write --backend local --story {args.story} --slot offline "
            f"--steps {args.steps} --saves-dir {saves} --out {saves / 'story.md'}")
    started = time.perf_counter()
    run = subprocess.run(["unshare", "-rn", "sh", "-c", play], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    print(run.stderr)
    if run.returncode != 0:
        return run.returncode
    show = subprocess.run([str(recurrent), "saves", "--saves-dir", str(saves), "show", "offline", "--json"],
                          capture_output=True, text=True, check=True)
    info = json.loads(show.stdout)
    interfaces = subprocess.run(["unshare", "-rn", "ip", "-o", "link"], capture_output=True, text=True).stdout
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    from game.llm import engines

    engine, problem = engines.chosen()
    text = "\n".join([
        f"{machine()}, commit {commit}; `python bench/offline.py --steps {args.steps}`: `recurrent write --backend local` in "
        f"`unshare -rn` (network interfaces there: {', '.join(l.split(':')[1].strip() for l in interfaces.splitlines())}), "
        f"the model in a child process run by {engines.described(engine) if engine else problem}.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| steps written with no network | {info['steps']} of {args.steps} |",
        f"| whole run, model start included | {seconds:.0f} s |",
        f"| words in the story | {info['words']} |",
        f"| long-term memories | {info['memories']} |",
        f"| last line on stderr | {run.stderr.strip().splitlines()[-1]} |",
    ])
    print(text)
    if args.write:
        write_section("Offline", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
