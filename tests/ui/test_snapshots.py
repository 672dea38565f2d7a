"""Snapshots of the title, play and memory screens at 80x24 and 120x40 (fixed text and times)."""
from __future__ import annotations

import pytest

from game.ui.screens.memory import MemoryScreen

from tests.ui.pilot import idle, listed, until

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def shelf(ui_env, saves, seed_path, prepared_slot):
    prepared_slot(saves, seed_path, "lighthouse", steps=2)
    prepared_slot(saves, seed_path, "first-try", steps=1)
    return saves


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_title(snap_compare, shelf, size, app_for):
    async def ready(pilot):
        await until(pilot, lambda: listed(pilot.app))
        await pilot.pause()
        await pilot.pause()  # the table sizes its columns on the refresh after its rows arrive

    assert snap_compare(app_for(shelf), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_play(snap_compare, shelf, size, app_for):
    async def ready(pilot):
        await until(pilot, lambda: idle(pilot.app))
        await pilot.pause()

    assert snap_compare(app_for(shelf, slot="lighthouse"), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_memory(snap_compare, shelf, size, app_for):
    async def ready(pilot):
        await until(pilot, lambda: idle(pilot.app))
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(pilot.app.screen, MemoryScreen))
        await pilot.pause()

    assert snap_compare(app_for(shelf, slot="lighthouse"), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_studio(snap_compare, ui_env, saves, seed_path, size, app_for):
    from game.stories.document import SeedFile

    async def ready(pilot):
        await until(pilot, lambda: pilot.app.screen.settled and pilot.app.screen.seed is not None)
        await pilot.press("f4")
        await pilot.pause()

    assert snap_compare(app_for(saves, edit=SeedFile.open(seed_path)), terminal_size=size, run_before=ready)
