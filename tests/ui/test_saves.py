"""Pilot tests of saves: continue, load, save as, delete with confirmation, export."""
from __future__ import annotations

import json

from textual.widgets import DataTable, Input

from game.saves.folder import list_slots
from game.ui.screens.title import TitleScreen

from tests.ui.pilot import export_dialog, idle, listed, notices, until


async def test_title_lists_slots_and_continue_resumes_the_latest(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "older", steps=1)
    prepared_slot(saves, seed_path, "newer", steps=2)
    header = (saves / "newer" / "header.json")
    header.write_text(header.read_text().replace("2025-03-14T21:30:00+00:00", "2025-03-15T08:00:00+00:00"))
    app = app_for(saves)
    async with app.run_test() as pilot:
        await until(pilot, lambda: listed(app))
        table = app.screen.query_one("#slots", DataTable)
        assert table.row_count == 2
        row = [str(cell) for cell in table.get_row_at(0)]
        assert row == ["The Lighthouse at Skerry Point", "newer", "2", "{:,}".format(int(row[3].replace(",", ""))), "2025-03-15 08:00"]
        await pilot.press("c")
        await until(pilot, lambda: idle(app))
        assert app.screen.slot.name == "newer" and app.screen.slot.story.taken == 2
        await pilot.press("ctrl+t")  # back to the title: the slot is closed
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
        await pilot.press("l", "down", "enter")  # load the second row
        await until(pilot, lambda: idle(app))
        assert app.screen.slot.name == "older"


async def test_resume_from_the_command_line(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "mine", steps=2)
    app = app_for(saves, slot="mine")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        assert app.screen.slot.story.taken == 2
        await pilot.press("1", "enter")
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 3)
    # quitting closed the slot, with the step saved
    from game.saves.slot import Slot

    with Slot.open(saves, "mine", memory=False) as slot:
        assert slot.story.taken == 3


async def test_continue_goes_back_to_the_story_last_opened(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "older", steps=1)
    prepared_slot(saves, seed_path, "newer", steps=1)
    header = json.loads((saves / "newer" / "header.json").read_text())
    (saves / "newer" / "header.json").write_text(json.dumps({**header, "updated": "2030-01-01T00:00:00+00:00"}))
    app = app_for(saves, slot="older")  # opened, read, and left without a step played
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen) and app.screen.listed)
        assert app.screen.stories[0]["slot"] == "newer"  # its step is later than the opening, in 2030
    (saves / "newer" / "header.json").write_text(json.dumps(header))  # now the opening of older is the latest
    app = app_for(saves, slot="older")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen) and app.screen.listed)
        assert [s["slot"] for s in app.screen.stories] == ["older", "newer"]
        await pilot.press("c")
        await until(pilot, lambda: app.screen.__class__.__name__ == "PlayScreen" and app.screen.slot is not None
                    and app.screen.slot.name == "older")


async def test_save_as_a_taken_or_bad_name_says_why_and_keeps_what_was_typed(ui_env, saves, seed_path, app_for,
                                                                             prepared_slot):
    prepared_slot(saves, seed_path, "trunk", steps=1)
    prepared_slot(saves, seed_path, "taken", steps=1)
    app = app_for(saves, slot="trunk")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        for name, why in (("taken", "slot taken already exists"), ("bad/name", "bad slot name 'bad/name'")):
            await pilot.press("ctrl+s")
            await until(pilot, lambda: app.screen.__class__.__name__ == "AskScreen")
            app.screen.query_one("#answer", Input).value = name
            await pilot.press("enter")
            await until(pilot, lambda: why in str(app.screen.query_one("#answer-problem").render()))
            assert app.screen.__class__.__name__ == "AskScreen" and app.screen.query_one("#answer", Input).value == name
            await pilot.press("escape")
            await until(pilot, lambda: idle(app))
        assert sorted(list_slots(saves)) == ["taken", "trunk"]


async def test_save_as_export_and_delete(ui_env, saves, seed_path, tmp_path, monkeypatch, app_for, prepared_slot):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # the export goes to ~/<slot>.md, not the working directory
    prepared_slot(saves, seed_path, "trunk", steps=2)
    app = app_for(saves, slot="trunk")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen.__class__.__name__ == "AskScreen")
        assert app.screen.query_one("#answer", Input).value == "trunk-2"
        app.screen.query_one("#answer", Input).value = "branch"
        await pilot.press("enter")
        await until(pilot, lambda: "branch" in list_slots(saves)
                    and "saved a copy as branch; you are still playing trunk" in notices(app))
        await export_dialog(pilot)
        assert app.screen.query_one("#answer", Input).value == str(home / "trunk.md")
        await pilot.press("enter")
        await until(pilot, lambda: f"transcript written to {home / 'trunk.md'}" in notices(app))  # the full path, in full
        text = (home / "trunk.md").read_text()
        assert text.startswith("# The Lighthouse at Skerry Point") and "**Step 2:** Check the lamp." in text
        assert "sk-test" not in text
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
        table = app.screen.query_one("#slots", DataTable)
        assert table.row_count == 2
        table.focus()
        row = [r.value for r in table.rows].index("branch")
        table.move_cursor(row=row)
        await pilot.press("d")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        await pilot.press("n")  # no: nothing happens
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
        assert "branch" in list_slots(saves)
        await pilot.press("d", "y")
        await until(pilot, lambda: "branch" not in list_slots(saves))
        assert app.screen.query_one("#slots", DataTable).row_count == 1


async def test_cli_story_with_taken_slot_name_is_one_line(ui_env, saves, seed_path, prepared_slot):
    import argparse

    import pytest

    from game.saves.names import SlotError
    from game.ui.launch import play

    prepared_slot(saves, seed_path, "taken", steps=0)
    args = argparse.Namespace(story=str(seed_path), slot="taken", model=None, backend=None, base_url=None, gguf=None,
                              saves_dir=str(saves))
    with pytest.raises(SlotError, match="already exists"):
        play(args)
    args.story, args.slot = None, "missing"
    with pytest.raises(SlotError, match="no slot named missing"):
        play(args)
