"""Options first, notes behind: the player can choose as soon as the options have streamed in;
a choice made while the notes are still being written waits for them and is never lost."""
from __future__ import annotations

from textual.widgets import Input

from game.stories.loader import load_seed
from game.ui.widgets.options import OptionBar
from tests.ui.pilot import idle, type_text, until


def shown(app) -> list[str]:
    return [str(b.label) for b in app.screen.query(".option") if b.display]


async def test_options_show_while_the_notes_are_written_and_a_choice_waits(ui_env, saves, seed_path, app_for):
    server = ui_env
    app = app_for(saves, story=load_seed(seed_path), slot="early")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        server.fail("hold")  # the paragraph is on its way
        await type_text(pilot, "Look around", "enter")
        await until(pilot, lambda: server.holding.is_set())
        bar = screen.query_one(OptionBar)
        assert screen.busy and bar.has_class("spent") and bar.disabled  # the old options are spent meanwhile
        server.release.set()
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 1)
        server.release.clear()
        server.holding.clear()
        before = shown(app)
        server.fail("ok", "hold-notes")  # the paragraph goes through; the notes stop after their options
        await type_text(pilot, "Read the logbook", "enter")
        await until(pilot, lambda: server.holding.is_set() and shown(app) != before)
        assert screen.busy and screen.slot.story.taken == 1  # the notes are not done, yet the options are here
        assert not screen.query_one(OptionBar).disabled
        await type_text(pilot, "Ring the bell", "enter")
        assert "queued" in str(screen.query_one("#status-state").render())
        assert screen.query_one("#action", Input).value == ""
        server.release.set()
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 3)
        assert screen.slot.story.steps[3].action == "Ring the bell"
        assert server.narrations()[-1]["messages"][-1]["content"].endswith("Ring the bell")


async def test_esc_gives_a_queued_choice_back(ui_env, saves, seed_path, app_for):
    server = ui_env
    app = app_for(saves, story=load_seed(seed_path), slot="back")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        server.fail("ok", "hold-notes")
        await type_text(pilot, "Read the logbook", "enter")
        await until(pilot, lambda: server.holding.is_set() and screen.turn.options is not None)
        await pilot.press("2")  # option 2 of the new options, by its key
        await pilot.press("enter")
        assert screen.turn.queued is not None
        await pilot.press("escape")
        assert screen.turn.queued is None and screen.busy  # the step goes on; the choice is in the box
        assert screen.query_one("#action", Input).value == "2"
        server.release.set()
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 1)
        assert screen.query_one("#action", Input).value == "2"
