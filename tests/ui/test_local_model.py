"""The TUI on the local model in its child process: a crash of the model mid-step leaves the
player's typed action in the box and the save whole; quitting leaves no process behind. The
child serves the tiny model of tests/tiny_model.py: the crash is the point, not what is said."""
from __future__ import annotations

import os
import signal
import time

import pytest
from textual.widgets import Input, Static

from game.cli import main
from game.core.models import Preferences
from game.saves.slot import Slot
from game.stories.loader import load_seed

from tests.local_model import needs_llama, seed_file
from tests.processes import running, wait_for

from tests.ui.pilot import idle, type_text, until

pytestmark = needs_llama


@pytest.fixture
def local_env(monkeypatch, tmp_path, tiny_gguf):
    monkeypatch.setenv("RECURRENT_BACKEND", "local")
    monkeypatch.setenv("RECURRENT_GGUF", str(tiny_gguf))
    monkeypatch.setenv("RECURRENT_MEMORY_WORDS", "50")
    monkeypatch.setenv("RECURRENT_TIMEOUT", "120")  # a CPU on a busy machine can take a while to read a prompt
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


async def test_a_model_crash_mid_step_keeps_the_typed_action_and_the_save(local_env, tmp_path, saves, app_for):
    seed = load_seed(seed_file(tmp_path)).filled()
    # A long paragraph: the tiny model streams it for a second or more, time enough to be killed mid-step.
    Slot.create(saves, "crash", seed, Preferences(paragraph_words=600)).close()
    app = app_for(saves, slot="crash")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        typed = "Kneel by the well and listen"
        await type_text(pilot, typed, "enter")
        log = screen.query_one("#log")
        await until(pilot, lambda: bool(log.streamed.strip()), timeout=60)  # the paragraph is on its way
        child = app.backend().child.pid
        os.kill(child, signal.SIGILL)
        await until(pilot, lambda: not screen.busy, timeout=60)
        problem = str(screen.query_one("#problem-text", Static).render())
        assert screen.query_one("#problem").display and "illegal CPU instruction" in problem
        assert screen.query_one("#action", Input).value == typed
        assert screen.slot.story.taken == 0  # the step was not saved, and nothing before it was lost
        # The next try starts a fresh child and tells the step.
        await pilot.press("enter")
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 1, timeout=120)
        assert screen.slot.story.steps[1].action == typed and app.backend().child.pid != child
        last = app.backend().child.pid
        await pilot.press("ctrl+q")
    assert wait_for(lambda: not running(last), timeout=15), "the model's process outlived the game"
    assert main(["saves", "--saves-dir", str(saves), "check", "crash"]) == 0
