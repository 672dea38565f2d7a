"""Benchmarks write their figures into bench/RESULTS.md, one section each."""
from __future__ import annotations

import math
import platform
import re
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "RESULTS.md"


def machine() -> str:
    import os

    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"


def measured_at() -> str:
    """The commit and date a figure was measured at, so that a section says what it is true of."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=RESULTS.parent.parent, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "game", "bench", "tests", ":!bench/RESULTS.md")  # not the results themselves
    return f"commit {commit}{' with uncommitted changes' if changed else ''}, {time.strftime('%Y-%m-%d')}"


def write_section(title: str, body: str) -> None:
    """Replace (or add) the section `## title` in RESULTS.md, headed by the commit it was measured at."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\nWritten by the scripts in bench/; rerun them to refresh.\n"
    section = f"## {title}\n\n_Measured at {measured_at()}._\n\n{body.strip()}\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n", encoding="utf-8")
    print(section)


def quick_check(figures: dict[str, float]) -> None:
    """A --quick run (the test suite's smoke size, tests/test_benches.py) writes nothing to
    RESULTS.md: it proves the bench still runs whole and that what it measured are numbers."""
    bad = {name: value for name, value in figures.items()
           if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)}
    assert figures and not bad, f"figures that are not numbers: {bad or 'none measured'}"
    print("quick run:", ", ".join(f"{name}={value:.4g}" for name, value in figures.items()))
