"""Is the prose readable? Twelve headless steps, judged as a reader would judge them.

    python bench/quality.py --backend local|standin|weak [--steps 12] [--label after]
                            [--variant NAME] [--story PATH] [--offline] [--no-write] [--quick]

Plays `recurrent write` in this process (the player's own path: picks, typed actions and
"continue", the story exported as Markdown and `saves show --json`), then counts, in the
exported transcript and the slot: paragraphs that echo the prompt's scaffolding, paragraphs
that repeat a sentence of six or more words (or loop on an 8-word run), degenerate option sets
(an option under three words, two alike, a field name), paragraphs far outside the asked length
(under 40% or over 200% of it) or under 30 words, and steps that fell back.

`local` is the bundled demo model (offline; `--offline` runs it inside `unshare -rn`, with no
network at all); `standin` is the tests' well-behaved stand-in server; `weak` is the stand-in
with a small model's habits (tests/standin.py WeakBrain). `--variant` switches the prompt or the
sampling for an experiment (VARIANTS below); `--raw` turns the guards off, to see the model's
own output. Every run's raw material is kept in bench/quality/ as JSON, and the section
"## Prose quality" of bench/RESULTS.md is rebuilt from all of them, so that "before" and
"after" are judged by the same rules.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import machine, quick_check, write_section  # noqa: E402

RUNS = ROOT / "bench" / "quality"
STORY = ROOT / "stories" / "night-ferry-to-kestrel.toml"
# Picks, typed actions and "continue", mixed (the first 8 are the bar: 4 picks, 2 typed, 2 continues).
ACTIONS = [
    "1",
    "Ask the captain who was on the stern deck at ten to one.",
    "Continue the story.",
    "2",
    "3",
    "Continue the story.",
    "Show the steward the hat and ask where exactly he found it.",
    "1",
    "Continue the story.",
    "2",
    "Knock on the door of cabin 14.",
    "3",
]

# -- the judge ------------------------------------------------------------------------------
# What the prompt itself says (its labels, the seed's field names, the notes request) and the
# markup a chat model brings along: none of it belongs in a story.
SCAFFOLDING = re.compile(
    r"^\s*#{1,6}\s|the story so far|remembered from earlier|lore in play|the reader'?s action|the reader chose"
    r"|now the notes|the next paragraph|^\s*(title|genre|premise|protagonist|style|never forget|world|options?|note|memory)\s*:"
    r"|\"options\"|as json",
    re.I | re.M,
)
FIELDS = {"options", "option", "note", "memory", "paragraph", "action"}
_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def repeats_sentence(paragraph: str) -> bool:
    seen = set()
    for sentence in _SENTENCE.split(paragraph):
        key = _norm(sentence)
        if len(key.split()) >= 6:
            if key in seen:
                return True
            seen.add(key)
    return False


def loops(paragraph: str, n: int = 8) -> bool:
    words = _norm(paragraph).split()
    grams = [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
    return len(grams) != len(set(grams))


EXAMPLE = "follow the footprints into the marsh"  # the notes request's own example action
DANGLING = re.compile(r"([,;:-]|\b(the|a|an|of|to|and|or|with|from|into|by|his|her|my|your))\W*$", re.I)


def degenerate(options: list[str]) -> bool:
    """Not three distinct actions of three words or more: a fragment, a field name, a numbered
    or copied line of the prompt, or two alike."""
    keys = [_norm(option) for option in options]
    if len(keys) != 3 or any(len(key.split()) < 3 or key in FIELDS or key == EXAMPLE for key in keys):
        return True
    if any(SCAFFOLDING.search(o) or re.match(r"\s*(\d+[.):]|[-*])\s", o) or DANGLING.search(o) for o in options):
        return True
    return any(a == b or (a in b) or (b in a) for i, a in enumerate(keys) for b in keys[i + 1:])


def copies_earlier(paragraph: str, earlier: list[str]) -> bool:
    """A sentence of six words or more that an earlier paragraph already said."""
    said = {_norm(s) for p in earlier for s in _SENTENCE.split(p) if len(_norm(s).split()) >= 6}
    return any(_norm(s) in said for s in _SENTENCE.split(paragraph) if len(_norm(s).split()) >= 6)


def answers(action: str, paragraph: str) -> bool:
    """A crude sign that the paragraph took up a typed action: one of its longer words is there."""
    stems = {w[:5] for w in _norm(action).split() if len(w) > 4}
    return any(w[:5] in stems for w in _norm(paragraph).split())


def paragraphs_of(transcript: str) -> list[str]:
    """The answered steps' paragraphs in the exported Markdown (each follows its '> **Step N:**'
    line, and ends where a chapter's heading or its recap, a quoted line, begins)."""
    blocks = re.split(r"^> \*\*Step \d+:\*\*.*$", transcript, flags=re.M)
    return [re.split(r"^(?:## |>)", block, maxsplit=1, flags=re.M)[0].strip() for block in blocks[1:]]


def judge(run: dict) -> dict:
    asked = run["paragraph_words"]
    paragraphs = run["paragraphs"]
    words = [len(p.split()) for p in paragraphs]
    typed = [(a, p) for a, p, kind in zip(run["actions"], paragraphs, run["kinds"]) if kind == "typed"]
    return {
        "steps": len(paragraphs),
        "echo": sum(bool(SCAFFOLDING.search(p)) for p in paragraphs),
        "repeat": sum(repeats_sentence(p) for p in paragraphs),
        "loop": sum(loops(p) for p in paragraphs),
        "copy": sum(copies_earlier(p, [run["opening"], *paragraphs[:i]][-3:]) for i, p in enumerate(paragraphs)),
        "options": sum(degenerate(o) for o in run["options"]),
        "option_sets": len(run["options"]),
        "outside": sum(not 0.4 * asked <= n <= 2 * asked for n in words),
        "short": sum(n < 30 for n in words),
        "median_words": sorted(words)[len(words) // 2] if words else 0,
        "fell_back": sum(run["fallbacks"]) + run.get("story_options", 0),
        "typed": f"{sum(answers(a, p) for a, p in typed)} of {len(typed)}",
        "seconds": run["seconds"] / max(1, len(paragraphs)),
    }


# -- experiments ------------------------------------------------------------------------------
def _variant(name: str) -> None:
    """Switch the prompt or the sampling for one run (in this process only)."""
    if name == "current":
        return
    import bench.quality_variants as variants

    variants.apply(name)


def _raw() -> None:
    """The guards off (in this process): the model's own output, as the engine saved it before them."""
    from game.engine import guards

    guards.paragraph = lambda text, earlier: guards.Cleaned(text)
    guards.options = lambda candidates, paragraph="", action="": list(candidates)
    guards.distinct = lambda text: guards.Cleaned(text)
    guards.MIN_WORDS = 0


# -- one run ----------------------------------------------------------------------------------
class Heard(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _cli(*argv: str) -> tuple[int, str, str]:
    from game.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def play(backend: str, steps: int, story: Path, work: Path) -> dict:
    from game.saves.slot import Slot

    saves = work / "saves"
    actions = (ACTIONS * (steps // len(ACTIONS) + 1))[:steps]
    (work / "actions.txt").write_text("\n".join(actions) + "\n", encoding="utf-8")
    heard = Heard()
    logging.getLogger("recurrent.guards").addHandler(heard)
    logging.getLogger("recurrent.guards").setLevel(logging.INFO)
    started = time.perf_counter()
    code, _out, err = _cli("write", "--story", str(story), "--slot", "quality", "--steps", str(steps),
                           "--actions", str(work / "actions.txt"), "--out", str(work / "story.md"),
                           "--saves-dir", str(saves), *(["--backend", "local"] if backend == "local" else []))
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"write failed: {err.strip().splitlines()[-1] if err.strip() else code}")
    _code, shown, _err = _cli("saves", "--saves-dir", str(saves), "show", "quality", "--json")
    transcript = (work / "story.md").read_text(encoding="utf-8")
    with Slot.open(saves, "quality") as slot:
        story_steps = slot.story.steps
        asked = slot.story.prefs.paragraph_words
    kinds = ["pick" if a in {"1", "2", "3"} else "continue" if a == "Continue the story." else "typed" for a in actions]
    return {
        "paragraphs": paragraphs_of(transcript),
        "opening": story_steps[0].version.paragraph,
        "actions": [s.action for s in story_steps[1:]],
        "kinds": kinds,
        # every set offered: the opening's, each step's, and the last one as `saves show` gives it
        "options": [s.version.options for s in story_steps[:-1]] + [json.loads(shown)["options"]],
        "fallbacks": [s.version.fallback for s in story_steps[1:]],
        "story_options": sum(line.startswith("the options:") and "made from the story" in line for line in heard.lines),
        "guards": heard.lines,
        "notices": [line for line in err.splitlines() if line.strip() and not line.startswith("step ")],
        "paragraph_words": asked,
        "seconds": seconds,
    }


def _environment(backend: str, work: Path):
    os.environ["RECURRENT_CONFIG"] = str(work / "no-settings.toml")
    os.environ["XDG_STATE_HOME"] = str(work / "state")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RECURRENT_MODEL", "RECURRENT_BACKEND", "RECURRENT_GGUF"):
        os.environ.pop(name, None)
    if backend == "local":
        os.environ.setdefault("RECURRENT_TIMEOUT", "120")
        return contextlib.nullcontext()
    from tests.standin import StandIn, WeakBrain

    server = StandIn(brain=WeakBrain() if backend == "weak" else None)
    server.start()
    os.environ.update(OPENAI_BASE_URL=server.url, OPENAI_API_KEY="sk-bench", RECURRENT_MODEL="standin",
                      RECURRENT_RETRY_BASE="0.01")
    return contextlib.closing(type("Stop", (), {"close": lambda self: server.stop()})())


# -- the report -------------------------------------------------------------------------------
COLUMNS = [
    ("echo", "echoed scaffolding"),
    ("repeat", "repeated a sentence"),
    ("loop", "looping 8-word run"),
    ("copy", "copied a sentence of the 3 before"),
    ("options", "degenerate option sets"),
    ("outside", "far outside the length"),
    ("short", "under 30 words"),
    ("fell_back", "fell back"),
]


ORDER = ["before", "experiment", "guarded", "after", "bars"]
NOTE = """Each row is one run; each cell counts paragraphs (option sets: every set offered, the
opening's included) out of the run's steps. "Fell back" counts steps whose options were made
from the story (or, before the guards, whose notes were not valid JSON)."""


def _order(run: dict) -> tuple:
    backend, label = run["name"].split(", ")[:2]
    return (backend != "local", backend, ORDER.index(label) if label in ORDER else len(ORDER), run["name"])


def bars(run: dict) -> list[str]:
    """Issue 16's bars for a run: no echo, no repeated sentence, no degenerate option, 30 words or more."""
    figures = judge(run)
    taken = [a for a in run["actions"] if a]
    checks = [
        ("no paragraph echoes the prompt's scaffolding", figures["echo"] == 0),
        ("no paragraph repeats a sentence of six or more words", figures["repeat"] == 0),
        ("no option offered or taken is under three words or duplicated",
         figures["options"] == 0 and all(len(_norm(a).split()) >= 3 for a in taken)),
        ("every paragraph has at least 30 words", figures["short"] == 0),
    ]
    return [f"| {what} | {'yes' if ok else '**no**'} |" for what, ok in checks]


def report() -> str:
    runs = sorted((json.loads(p.read_text(encoding="utf-8")) for p in RUNS.glob("*.json")), key=_order)
    lines = [
        f"`python bench/quality.py`: headless steps of `{STORY.name}` through `recurrent write` "
        "(the 12 actions mix 6 picks, 3 typed actions and 3 \"continue\"), counted in the exported transcript, "
        "the slot and `saves show`. `local` is the bundled demo model (SmolLM2-135M, offline), `standin` the tests' "
        "stand-in server, `weak` the stand-in answering with a small model's habits in turn.",
        "",
        NOTE,
        "",
        "| run | steps | " + " | ".join(title for _key, title in COLUMNS) + " | median words | typed action taken up | s/step |",
        "| --- " * (len(COLUMNS) + 5) + "|",
    ]
    for run in runs:
        figures = judge(run)
        cells = [f"{figures[key]}" for key, _title in COLUMNS]
        cells[4] = f"{figures['options']} of {figures['option_sets']}"
        lines.append(f"| {run['name']} ({run['date']}, load {run.get('load', 0):.1f}) | {figures['steps']} | "
                     + " | ".join(cells) + f" | {figures['median_words']} | {figures['typed']} | {figures['seconds']:.1f} |")
    for run in runs:
        if run["name"].endswith("bars"):
            lines += ["", f"Bars, {run['name']} ({run['date']}, {judge(run)['steps']} steps):", "",
                      "| bar | held |", "| --- | --- |", *bars(run)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["local", "standin", "weak"], default="standin")
    parser.add_argument("--steps", type=int, default=len(ACTIONS))
    parser.add_argument("--label", default="after", help="what this run is (before, after, an experiment)")
    parser.add_argument("--variant", default="current", help="a prompt or sampling experiment (bench/quality_variants.py)")
    parser.add_argument("--raw", action="store_true", help="the guards off")
    parser.add_argument("--story", default=str(STORY))
    parser.add_argument("--offline", action="store_true", help="inside `unshare -rn` (no network)")
    parser.add_argument("--report", action="store_true", help="only rebuild the section from the kept runs")
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--quick", action="store_true", help="smoke size: 3 steps, nothing written")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.write = 3, False
    if args.report:
        write_section("Prose quality", report())
        return 0
    if args.offline:
        inner = [a for a in sys.argv[1:] if a != "--offline"]
        play_cmd = f"ip link set lo up && {sys.executable} {Path(__file__).resolve()} " + " ".join(f"'{a}'" for a in inner)
        return subprocess.run(["unshare", "-rn", "sh", "-c", play_cmd]).returncode
    work = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    with _environment(args.backend, work):
        _variant(args.variant)
        if args.raw:
            _raw()
        run = play(args.backend, args.steps, Path(args.story), work)
    name = f"{args.backend}, {args.label}" + (f", {args.variant}" if args.variant != "current" else "") + (", raw" if args.raw else "")
    run.update(name=name, date=time.strftime("%Y-%m-%d"), machine=machine(), load=os.getloadavg()[0])
    figures = judge(run)
    print(json.dumps(figures, indent=1))
    if args.quick:
        assert figures["steps"] == args.steps, figures
        quick_check({key: value for key, value in figures.items() if key != "typed"})
        shutil.rmtree(work)
        return 0
    print(f"kept in {work}")
    if args.write:
        RUNS.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        (RUNS / f"{slug}.json").write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        write_section("Prose quality", report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
