"""Pilot tests for what play-testing found: the Delete cursor, the typed action kept, no leaving
mid-step, a slot in use, plain setting errors, messages in full, memory edits kept on retry."""
from __future__ import annotations

import tomllib

from textual.widgets import DataTable, Input

from game.saves.slot import Slot
from game.saves.folder import list_slots
from game.ui.screens.play import PlayScreen
from game.ui.screens.settings import SettingsScreen
from game.ui.screens.title import TitleScreen

from tests.ui.pilot import idle, listed, notices, type_text, until


def box(app) -> Input:
    return app.screen.query_one("#action", Input)


def cursor_slot(app) -> str:
    return app.screen.selected()


async def test_delete_keeps_the_chosen_slot_across_dialogs(ui_env, saves, seed_path, app_for, prepared_slot):
    for name in ("alpha", "bravo", "charlie"):
        prepared_slot(saves, seed_path, name, steps=1)
    app = app_for(saves)
    async with app.run_test() as pilot:
        await until(pilot, lambda: listed(app))
        table = app.screen.query_one("#slots", DataTable)
        table.focus()
        table.move_cursor(row=[r.value for r in table.rows].index("bravo"))
        await pilot.press("d")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        assert "'bravo'" in str(app.screen.query_one(".question").render())
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
        assert cursor_slot(app) == "bravo"  # the list was read again, the cursor stayed on bravo
        await pilot.press("d")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        assert "'bravo'" in str(app.screen.query_one(".question").render())  # the same slot, not row 1
        await pilot.press("y")
        await until(pilot, lambda: "bravo" not in list_slots(saves))
        assert sorted(list_slots(saves)) == ["alpha", "charlie"]
        assert cursor_slot(app) in ("alpha", "charlie")
        # back from a game, the cursor is still on the slot that was played
        table.move_cursor(row=[r.value for r in table.rows].index("charlie"))
        await pilot.press("enter")
        await until(pilot, lambda: idle(app))
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
        assert cursor_slot(app) == "charlie"


async def test_continue_with_no_saves_says_so(ui_env, saves, app_for):
    app = app_for(saves)
    async with app.run_test() as pilot:
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, TitleScreen)
        assert any("no saved stories yet" in n.lower() for n in notices(app))


async def test_a_slot_in_use_stays_on_the_title_with_a_notice(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "held", steps=1)
    with Slot.open(saves, "held", memory=False):  # another game has it open
        app = app_for(saves)
        async with app.run_test() as pilot:
            await pilot.press("c")
            await until(pilot, lambda: any("in use by another game" in n for n in notices(app)))
            await until(pilot, lambda: isinstance(app.screen, TitleScreen))
            assert not any(isinstance(s, PlayScreen) for s in app.screen_stack)
            await pilot.press("s")  # the title's keys still work
            await until(pilot, lambda: isinstance(app.screen, SettingsScreen))


async def test_retry_keeps_what_is_typed(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "typed", steps=2)
    app = app_for(saves, slot="typed")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        await type_text(pilot, "half a thought")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: idle(app) and len(screen.slot.story.steps[-1].alternatives) == 1)
        assert box(app).value == "half a thought"
        box(app).value = ""
        await pilot.press("ctrl+z")  # the undone action comes back into the box...
        assert box(app).value == "Check the lamp."
        await pilot.press("ctrl+r")  # ...and a retry does not take it away
        await until(pilot, lambda: idle(app) and len(screen.slot.story.steps[-1].alternatives) == 1)
        assert box(app).value == "Check the lamp."


async def test_title_is_blocked_while_narrating(ui_env, saves, seed_path, app_for, prepared_slot):
    server = ui_env
    prepared_slot(saves, seed_path, "busy", steps=1)
    app = app_for(saves, slot="busy")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        server.fail("hold")
        await type_text(pilot, "ring the bell", "enter")
        await until(pilot, lambda: screen.busy)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.screen is screen and screen.busy  # still here, still telling
        assert any("Esc stops it first" in n for n in notices(app))
        await pilot.press("escape")
        assert box(app).value == "ring the bell"
        server.release.set()
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))


async def test_flip_stops_at_the_ends(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "ends", steps=2)
    app = app_for(saves, slot="ends")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        await pilot.press("ctrl+r")
        await until(pilot, lambda: idle(app) and len(screen.slot.story.steps[-1].alternatives) == 1)
        newest = screen.slot.story.steps[-1].version.paragraph
        await pilot.press("alt+right")
        assert screen.slot.story.steps[-1].version.paragraph == newest  # no wrapping round to the oldest
        assert "this is the newest version" in notices(app)
        await pilot.press("alt+left")
        oldest = screen.slot.story.steps[-1].version.paragraph
        assert oldest != newest
        await pilot.press("alt+left")
        assert screen.slot.story.steps[-1].version.paragraph == oldest
        assert "this is the oldest version" in notices(app)


async def test_memory_edit_is_kept_when_the_step_is_retried(ui_env, saves, seed_path, app_for, prepared_slot):
    from game.ui.screens.memory import MemoryScreen
    from game.ui.widgets.fields import Box

    prepared_slot(saves, seed_path, "edited", steps=2)
    app = app_for(saves, slot="edited")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        play = app.screen
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        app.screen.query_one("#short", Box).text = "Ada knows the keeper is alive."
        await pilot.press("ctrl+s", "escape")
        await until(pilot, lambda: app.screen is play)
        assert play.slot.story.memory == "Ada knows the keeper is alive."
        await pilot.press("ctrl+r")
        await until(pilot, lambda: idle(app) and len(play.slot.story.steps[-1].alternatives) == 1
                    and play.slot.story.memory == "Ada knows the keeper is alive.")
        assert "your edit of the memory was kept for the new telling" in notices(app)
        await pilot.press("ctrl+r")  # and again on the telling after that
        await until(pilot, lambda: idle(app) and len(play.slot.story.steps[-1].alternatives) == 2)
        assert play.slot.story.memory == "Ada knows the keeper is alive."
    with Slot.open(saves, "edited", memory=False) as slot:  # it is in the journal, not just on screen
        assert slot.story.memory == "Ada knows the keeper is alive."


async def test_bad_setting_is_a_short_notice(ui_env, saves, tmp_path, app_for):
    app = app_for(saves)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#temperature", Input).value = "7"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        assert "temperature: must be between 0 and 2" in notices(app)  # a toast is seen at any size
        problem = str(app.screen.query_one("#settings-problem").render())
        assert problem == "temperature: must be between 0 and 2"
        assert app.screen.focused is app.screen.query_one("#temperature")
    assert not (tmp_path / "settings.toml").exists()


async def test_settings_do_not_copy_the_environment_into_the_file(ui_env, saves, tmp_path, monkeypatch, app_for):
    monkeypatch.setenv("RECURRENT_BACKEND", "vllm")  # RECURRENT_MODEL=standin is set too
    app = app_for(saves)
    async with app.run_test() as pilot:
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert app.screen.query_one("#model", Input).value == "standin"
        app.screen.query_one("#temperature", Input).value = "0.6"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
    assert tomllib.loads((tmp_path / "settings.toml").read_text()) == {"temperature": 0.6}
    assert app.settings.model == "standin" and app.settings.temperature == 0.6


async def test_edit_starts_at_the_end_with_its_own_keys(ui_env, saves, seed_path, app_for, prepared_slot):
    from textual.widgets import Footer

    prepared_slot(saves, seed_path, "edit", steps=1)
    app = app_for(saves, slot="edit")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("f4")
        await until(pilot, lambda: app.screen.__class__.__name__ == "EditScreen")
        text = app.screen.query_one("#text")
        assert text.cursor_location == text.document.end
        assert app.screen.query(Footer)  # the dialog's keys (Save, Cancel), not the play screen's


async def test_title_fits_80_columns_with_many_long_slots(ui_env, saves, seed_path, app_for, prepared_slot):
    import json

    for n in range(15):
        name = f"a-rather-long-slot-name-number-{n}"
        prepared_slot(saves, seed_path, name, steps=0)
        header = saves / name / "header.json"
        header.write_text(json.dumps({**json.loads(header.read_text()), "title": "A Very Long Story Title " * 3}))
    app = app_for(saves)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#slots", DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width  # no column cut off
        assert app.screen.query_one("#quit").region.right <= 80
