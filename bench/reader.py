"""The reader: opening a long story in the TUI, to its last paragraph on screen, against a short one.

Each run is a fresh process running the real app headless (the factory `recurrent play` uses).
Once the title screen is drawn the child opens the slot, as choosing it on the title does, and
times how long until the last step's paragraph is on screen; then how long until the game is
ready to play (long-term memory open). Slots of 20 and 2,000 steps with storygen paragraphs
(about 135 words), a chapter closed every 25 steps, taking turns so that load on the machine
falls on both alike. Also times exporting the long story in each format.
Bar: the 2,000-step story at most 1.5 times the 20-step one. Run: python bench/reader.py [runs]
(`--quick`: 5 and 50 steps, one run each, nothing written)
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
sys.path.insert(0, str(Path(__file__).parents[1]))
from results import machine, quick_check, write_section  # noqa: E402
from storygen import make_story  # noqa: E402

SIZES = (20, 2000)
# A backend that is only made, never called (nothing listens there): no local model starts in the
# background, and nothing is probed over the network.
SERVER = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-bench", "RECURRENT_MODEL": "bench",
          "OLLAMA_HOST": "127.0.0.1:9"}

CHILD = r"""
import sys, time
from game.ui.app import make_app
from game.ui.screens.play import PlayScreen
from game.ui.widgets.story_log import Prose, StoryLog

slot, last, out = sys.argv[2], int(sys.argv[3]), sys.argv[4]
app = make_app(saves=sys.argv[1])
times = []  # (to the last paragraph on screen, to ready), for the first open and a second one
marks = {}

def title_drawn():
    busy = [w for w in app.workers if w.group in ("backend", "closing", "slots") and w.is_running]
    if type(app.screen).__name__ != "TitleScreen" or busy or app.game is not None:
        app.set_timer(0.01, title_drawn)  # the first game still closing, the backend still being made
        return
    marks.clear()
    marks["open"] = time.perf_counter()
    app.open_game(slot)
    marks["timer"] = app.set_interval(0.002, watch)  # looks between frames, whether or not one is drawn

def on_screen() -> bool:
    screen = app.screen
    if not isinstance(screen, PlayScreen) or not screen.query(StoryLog):
        return False
    log = screen.query_one(StoryLog)
    shown = [p for p in log.query(Prose) if p.number == last]
    return bool(shown) and shown[0].region.intersection(log.region).area > 0

def watch():
    now = time.perf_counter()
    if "shown" not in marks and on_screen():
        marks["shown"] = now
    if "shown" in marks and getattr(app.screen, "game", None) is not None:
        marks["timer"].stop()
        times.append((marks["shown"] - marks["open"], now - marks["open"]))
        if len(times) == 2:
            open(out, "w").write(" ".join(f"{a:.4f} {b:.4f}" for a, b in times))
            app.exit()
            return
        app.pop_screen()  # back to the title, and open it again: imports and caches now warm
        app.set_timer(0.01, title_drawn)

app.call_later(lambda: app.screen.call_after_refresh(title_drawn))
app.run(headless=True, size=(100, 30))
"""


def make_slot(folder: Path, steps: int) -> None:
    from game.core.models import Step, Version
    from game.core.records import Told
    from game.core.seed import Seed
    from game.saves.slot import Slot

    actions, paragraphs, _ = make_story(steps=steps, facts=min(20, steps // 4), seed=5)
    seed = Seed(title="The Long Road", genre="fantasy", premise="A courier crosses a continent.",
                protagonist={"name": "Wren"}, opening=paragraphs[0])
    with Slot.create(folder, f"story-{steps}", seed) as slot:
        slot.memory.close()
        slot.memory = None  # indexed in one go by the first open below
        for n in range(steps + 1):
            version = Version(seq=slot.story.seq + 1, paragraph=paragraphs[n], memory=f"Recap at step {n}.",
                              options=["Go on.", "Look around.", "Wait."], chapter=n > 0 and n % 25 == 0)
            slot.commit(Told(step=Step(number=n, action=actions[n], version=version)))
    Slot.open(folder, f"story-{steps}").close()  # builds long-term memory, as a played slot has it


def one_run(folder: Path, steps: int) -> list[float]:
    out = folder / "times.txt"
    subprocess.run([sys.executable, "-c", CHILD, str(folder), f"story-{steps}", str(steps), str(out)],
                   capture_output=True, cwd=Path(__file__).parents[1], check=True,
                   env={**os.environ, "RECURRENT_CONFIG": str(folder / "none.toml"), **SERVER})
    return [float(t) for t in out.read_text().split()]  # first open: shown, ready; second open: shown, ready


def export_times(folder: Path, steps: int = SIZES[-1]) -> dict[str, float]:
    from game.saves.export import render
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, replay

    name = f"story-{steps}"
    story = replay(Journal(folder / name / JOURNAL).read(), name)
    times = {}
    for fmt in ("md", "html", "epub", "txt"):
        started = time.perf_counter()
        render(story, fmt, name, {})
        times[fmt] = time.perf_counter() - started
    return times


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    numbers = [arg for arg in sys.argv[1:] if arg != "--quick"]
    runs = 1 if quick else int(numbers[0]) if numbers else 7
    sizes = (5, 50) if quick else SIZES
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for steps in sizes:
            make_slot(folder, steps)
        if not quick:
            for steps in sizes:
                one_run(folder, steps)  # warm the file cache
        results: dict[int, list[list[float]]] = {steps: [] for steps in sizes}
        for _ in range(runs):
            for steps in sizes:
                results[steps].append(one_run(folder, steps))
        exports = export_times(folder, sizes[-1])
        load = os.getloadavg()[0]
    if quick:
        figures = {f"{steps} steps: {what} ms": value * 1000 for steps in sizes
                   for what, value in zip(("shown", "ready", "shown again", "ready again"), results[steps][0])}
        quick_check({**figures, **{f"export {fmt} ms": seconds * 1000 for fmt, seconds in exports.items()}})
        return

    def median(steps: int, column: int) -> float:
        return statistics.median(r[column] for r in results[steps]) * 1000

    small, large = SIZES
    first, again = median(large, 0) / median(small, 0), median(large, 2) / median(small, 2)
    rows = [f"| {steps:,} steps | **{median(steps, 0):.0f} ms** | {median(steps, 1):.0f} ms | **{median(steps, 2):.0f} ms** "
            f"| {median(steps, 3):.0f} ms |" for steps in SIZES]
    body = "\n".join([
        f"Machine: {machine()}. `python bench/reader.py`: a fresh process per run runs the app headless "
        f"(100x30) through `make_app`; once the title screen is drawn it opens the slot, as choosing it there "
        f"does, and times how long until the last step's paragraph is on screen, and until the game is ready "
        f"to play (long-term memory open and level); then it goes back to the title and, once the first game is "
        f"closed and the model backend made, opens it again (imports and the file cache warm). Median of {runs} runs after one warm-up, the two sizes taking turns; "
        f"storygen paragraphs of about 135 words, a chapter closed every 25 steps. Load average when the run "
        f"ended: {load:.1f} on {os.cpu_count()} cores (other work shared the machine).",
        "",
        "| story | first open: last paragraph on screen | first open: ready to play | again: last paragraph on screen | again: ready to play |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Ratio {large:,} / {small} steps, to the last paragraph on screen: **{first:.2f}** at the first open, "
        f"**{again:.2f}** when opened again (bar: at most 1.5). The play screen mounts only the last 20 steps "
        "(more as the reader scrolls), and shows the story as soon as its journal is replayed; long-term memory, "
        "which grows with the story, opens after that while the player reads.",
        "",
        f"Exporting the {large:,}-step story (about {large * 135 // 1000}k words), in this process: "
        + ", ".join(f"{fmt} {seconds * 1000:.0f} ms" for fmt, seconds in exports.items()) + ".",
    ])
    write_section("Reader", body)


if __name__ == "__main__":
    main()
