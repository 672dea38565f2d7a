"""Startup: from a fresh `python` process to the title screen drawn, with and without saves.

Each run is a new process (imports included), running the real app headless through the
same factory as `recurrent play`; it exits as soon as the title screen has been drawn.
Target: under 1 s. Run: python bench/startup.py [runs]   (`--quick`: one run each, nothing written)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from results import machine, quick_check, write_section  # noqa: E402

CHILD = r"""
import sys, time
start = float(sys.argv[1])
from game.ui.app import make_app

app = make_app(saves=sys.argv[2])

def drawn():
    if type(app.screen).__name__ != "TitleScreen" or not app.screen.query("#slots"):
        app.call_later(lambda: app.screen.call_after_refresh(drawn))
        return
    sys.stderr.write(f"{time.time() - start:.4f}\n")
    sys.stderr.write(f"heavy {'openai' in sys.modules} {'chromadb' in sys.modules}\n")
    app.exit()

app.call_later(lambda: app.screen.call_after_refresh(drawn))
app.run(headless=True)
"""


def one_run(saves: str) -> tuple[float, float, str]:
    began = time.time()
    done = subprocess.run([sys.executable, "-c", CHILD, str(began), saves], capture_output=True, text=True,
                          env={**os.environ, "RECURRENT_CONFIG": os.path.join(saves, "none.toml")}, check=True)
    wall = time.time() - began
    lines = done.stderr.strip().splitlines()
    return float(lines[0]), wall, lines[1]


def make_saves(folder: str, count: int) -> None:
    """`count` slots with a few steps each, written straight to the journal format via the engine."""
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from game.saves.slot import Slot
    from game.core.paths import library_dir
    from game.stories.loader import load_seed

    seed = load_seed(sorted(library_dir().glob("*.toml"))[0]).filled()
    for i in range(count):
        Slot.create(folder, f"slot-{i}", seed).close()


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    numbers = [arg for arg in sys.argv[1:] if arg != "--quick"]
    runs = 1 if quick else int(numbers[0]) if numbers else 7
    rows, figures = [], {}
    for label, count in (("no saves", 0), ("20 saved stories", 20)):
        with tempfile.TemporaryDirectory() as folder:
            make_saves(folder, count)
            if not quick:
                one_run(folder)  # warm the file cache
            results = [one_run(folder) for _ in range(runs)]
        figures[f"{label}: title drawn ms"] = statistics.median(r[0] for r in results) * 1000
        drawn = statistics.median(r[0] for r in results) * 1000
        wall = statistics.median(r[1] for r in results) * 1000
        heavy = results[0][2].split()[1:]
        rows.append(f"| {label} | **{drawn:.0f} ms** | {wall:.0f} ms | {heavy[0]} / {heavy[1]} |")
    if quick:
        quick_check(figures)
        return
    baseline = statistics.median(
        (lambda t: (subprocess.run([sys.executable, "-c", "pass"], check=True), time.time() - t)[1])(time.time())
        for _ in range(runs)) * 1000
    body = "\n".join([
        f"Machine: {machine()}. `python bench/startup.py`: a fresh process per run (imports included) runs the app "
        f"headless through `make_app`, the factory `recurrent play` uses, and exits once the title screen is drawn. "
        f"Median of {runs} runs after one warm-up; a bare `python -c pass` takes {baseline:.0f} ms here.",
        "",
        "| saves folder | process start to title drawn | whole process (incl. exit) | openai / chromadb imported |",
        "| --- | --- | --- | --- |",
        *rows,
        "",
        "Target: under 1 s. openai and chromadb are imported only when a game is opened or a backend made.",
    ])
    write_section("Startup", body)


if __name__ == "__main__":
    main()
