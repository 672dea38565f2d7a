"""One `Game` for every face: the TUI and `recurrent write` open a playthrough the same way, and
no journal sync or Chroma call ever runs on the event loop's own thread."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from game.cli import main
from game.stories.loader import load_seed
from tests.ui.pilot import idle, until

TOWER = Path(__file__).parents[2] / "stories" / "temp-work-at-the-tower.toml"
EVERYONE = "Keep everything suitable for all ages"


def narration_requests(server) -> list[list[dict]]:
    """The messages of every narration request (streamed prose, not the bookkeeping)."""
    return [r["messages"] for r in server.narrations()]


async def test_the_tui_write_and_the_plain_face_send_the_same_narration_request(ui_env, saves, app_for, monkeypatch,
                                                                               tmp_path):
    """The same story and the same choice make the same request, byte for byte, from every face.
    (Changed for issue 22: the plain face of issue 21 is held to it as well as `write`.)"""
    server = ui_env
    monkeypatch.setenv("RECURRENT_TONE", "wry and warm")  # the player's own settings reach both faces
    monkeypatch.setenv("RECURRENT_PERSON", "third")
    seed = load_seed(TOWER).filled()
    app = app_for(saves, story=seed, slot="tui")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("1", "enter")
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 1)
    tui = narration_requests(server)
    server.requests.clear()
    server.brain.counter = 0  # the stand-in answers the second face as it answered the first
    actions = tmp_path / "actions.txt"
    actions.write_text("1\n", encoding="utf-8")
    assert await asyncio.to_thread(main, ["write", "--story", str(TOWER), "--slot", "cli", "--steps", "1",
                                          "--actions", str(actions)]) == 0
    cli = narration_requests(server)
    server.requests.clear()
    server.brain.counter = 0
    plain = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "game", "play", "--plain", "--story", str(TOWER), "--slot", "plain"],
        input="1\nquit\n", capture_output=True, text=True, env={**os.environ, "TERM": "dumb"}, cwd=tmp_path, timeout=120)
    assert plain.returncode == 0, plain.stderr
    typed = narration_requests(server)
    assert len(tui) == len(cli) == len(typed) == 1
    assert json.dumps(tui[0]) == json.dumps(cli[0]) == json.dumps(typed[0])  # byte for byte
    rules = tui[0][0]["content"]
    assert EVERYONE in rules  # the seed's content rating, not the default
    assert "wry and warm" in rules and "third person" in rules


async def test_a_new_game_left_before_its_first_step_leaves_no_slot(ui_env, saves, app_for, seed_path):
    server = ui_env
    server.fail("hold")  # the opening's bookkeeping never answers
    app = app_for(saves, story=load_seed(seed_path), slot="left")
    async with app.run_test() as pilot:
        await until(pilot, lambda: getattr(app.screen, "busy", False))
        await pilot.press("escape", "ctrl+t")
        await until(pilot, lambda: app.screen.__class__.__name__ == "TitleScreen")
        await until(pilot, lambda: not (saves / "left").exists())
    server.release.set()
    # As `write` does when its opening fails: no empty slot is left behind.
    server.fail(*["500"] * 10)
    assert await asyncio.to_thread(main, ["write", "--story", str(seed_path), "--slot", "left-cli", "--steps", "1"]) == 1
    assert not (saves / "left-cli").exists()


@pytest.fixture
def on_loop(monkeypatch):
    """Every journal append or read, and every Chroma call, made on a thread that runs an event loop."""
    from game.memory.longterm import LongTermMemory
    from game.saves.journal import Journal

    found: list[str] = []

    def watch(owner, name):
        real = getattr(owner, name)

        def watched(*args, **kwargs):
            try:
                asyncio.get_running_loop()
                found.append(f"{owner.__name__}.{name} on {threading.current_thread().name}")
            except RuntimeError:
                pass  # a worker thread: fine
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, watched)

    for name in ("append", "read", "cut_to"):
        watch(Journal, name)
    for name in ("search", "change", "flush", "count", "sync", "compare", "delete", "stored_ids", "_store", "_by_meaning"):
        watch(LongTermMemory, name)
    return found


async def test_no_journal_or_chroma_call_runs_on_the_event_loop(ui_env, saves, app_for, seed_path, on_loop):
    from game.ui.screens.memory import MemoryScreen
    from game.ui.widgets.fields import Box

    app = app_for(saves, story=load_seed(seed_path), slot="loop")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        for keys in (("1", "enter"), (*"ring the bell", "enter"), ("enter",)):
            taken = screen.slot.story.taken
            await pilot.press(*keys)
            await until(pilot, lambda: idle(app) and screen.slot.story.taken == taken + 1)
        await pilot.press("ctrl+z")
        await until(pilot, lambda: screen.slot.story.taken == 2)
        await pilot.press("ctrl+r")
        await until(pilot, lambda: idle(app) and screen.slot.story.steps[-1].alternatives)
        await pilot.press("alt+left")
        await until(pilot, lambda: screen.slot.story.steps[-1].version.seq < screen.slot.story.steps[-1].alternatives[0].seq)
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        app.screen.query_one("#short", Box).text = "Ada rang the bell."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: screen.slot.story.memory == "Ada rang the bell.")
        app.screen.query_one("#query").value = "bell"
        await pilot.press("ctrl+f", "enter")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
    assert on_loop == []
