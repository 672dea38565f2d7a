"""UI test fixtures: the app against the stand-in server, with fixed times for snapshots."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from game.core.models import Recalled, Step, Version
from game.core.records import Told
from game.saves.slot import Slot
from game.stories.loader import load_seed

AT = datetime(2025, 3, 14, 21, 30, tzinfo=timezone.utc)


@pytest.fixture
def ui_env(monkeypatch, game_env, tmp_path):
    """The stand-in server, a clean saves folder, a stories folder, UTC clock, cwd in tmp."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(tmp_path)
    yield game_env
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def stories(tmp_path, seed_path) -> Path:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "lighthouse.toml").write_text(seed_path.read_text(), encoding="utf-8")
    (folder / "broken.toml").write_text("title = \n", encoding="utf-8")
    return folder


@pytest.fixture
def app_for():
    """`app_for(saves, stories=None, **kwargs)`: the game, made as `recurrent play` makes it."""
    from game.ui.app import make_app

    def make(saves, stories=None, **kwargs):
        return make_app(saves=saves, stories=stories, blink=False, **kwargs)

    return make


@pytest.fixture
def prepared_slot():
    """`prepared_slot(saves, seed_path, name="lighthouse", steps=2)`: a slot with fixed text and
    times (no model), for snapshots and load tests."""
    return make_prepared_slot


def make_prepared_slot(saves: Path, seed_path: Path, name: str = "lighthouse", steps: int = 2) -> None:
    """A slot with fixed text and times (no model), for snapshots and load tests."""
    seed = load_seed(seed_path)
    with Slot.create(saves, name, seed) as slot:
        paragraphs = [seed.opening, "You read the logbook. The last entry is a list of ships, and one name is "
                      "underlined twice: the Mary Rose, [bold]due at dawn[/bold].",
                      "You check the lamp. The wick is trimmed and the oil full, as if the keeper meant to come back."]
        actions = ["", "Read the logbook.", "Check the lamp."]
        for number in range(steps + 1):
            version = Version(
                seq=slot.story.seq + 1, paragraph=paragraphs[number], memory=f"Ada has taken {number} steps at Skerry Point.",
                options=["Climb to the gallery.", "Search the keeper's cot.", "Signal the mainland."],
                recalled=[Recalled(step=0, text="The lamp room is empty.", score=0.41, why="meaning 0.62; words: lamp")] if number else [],
                world=["Skerry Point", "The logbook"] if number else [],
            )
            step = Step(number=number, action=actions[number], at=AT, version=version)
            slot.commit(Told(step=step))
    header = json.loads((saves / name / "header.json").read_text())
    header["updated"] = AT.isoformat()
    (saves / name / "header.json").write_text(json.dumps(header))


UI = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """Every test here drives the whole Textual app (1-5 s each on 2 cores): `slow`, left out of
    the edit-test loop (`pytest -m "not slow"`), run by the full command."""
    for item in items:
        if UI in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
