"""Pilot tests of playing: new game, choose, type, continue, undo, retry and flip, edit, stop."""
from __future__ import annotations

from tests.ui.pilot import idle, type_text, until
from textual.widgets import Input

from game.ui.screens.play import PlayScreen
from game.ui.widgets.story_log import ActionLine, Prose


def box(app) -> Input:
    return app.screen.query_one("#action", Input)


async def test_new_game_from_title(ui_env, saves, stories, app_for):
    app = app_for(saves, stories)
    async with app.run_test() as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.screen.__class__.__name__ == "NewGameScreen")
        await pilot.press("enter")  # the first seed (the broken file is listed, not chosen)
        await until(pilot, lambda: app.screen.__class__.__name__ == "SetupScreen")
        protagonist = app.screen.query_one("#protagonist", Input)
        protagonist.value = "Mara Quill"
        assert app.screen.query_one("#slot-name", Input).value == "the-lighthouse-at-skerry-point"
        await pilot.press("ctrl+b")
        await until(pilot, lambda: idle(app))
        assert isinstance(app.screen, PlayScreen)
        story = app.screen.slot.story
        assert story.seed.protagonist.name == "Mara Quill"
        assert story.steps[0].version.paragraph.startswith("You climb the last stair")
        assert [b.label.plain for b in app.screen.query(".option")][0] == "1  Read the logbook."
        assert (saves / "the-lighthouse-at-skerry-point" / "journal.jsonl").exists()


async def test_choose_type_and_continue(ui_env, saves, seed_path, app_for):
    from game.stories.loader import load_seed

    app = app_for(saves, story=load_seed(seed_path), slot="play")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("2", "enter")  # option 2 by number
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 1)
        assert app.screen.slot.story.steps[1].action == "Check the lamp."
        await pilot.click("#option-1")  # an option by button
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 2)
        await type_text(pilot, "I shout [bold]hello[/bold]", "enter")  # own words
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 3)
        assert app.screen.slot.story.steps[3].action == "I shout [bold]hello[/bold]"
        shown = [str(w.render()) for w in app.screen.query(ActionLine)]
        assert "> I shout [bold]hello[/bold]" in shown  # markup is printed, not interpreted
        await pilot.press("enter")  # empty Enter continues
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 4)
        assert app.screen.slot.story.steps[4].action == "Continue the story."
        status = str(app.screen.query_one("#status-facts").render())
        assert "step 4" in status and "standin" in status and "tokens" in status


async def test_undo_retry_flip_and_edit(ui_env, saves, seed_path, app_for):
    from game.stories.loader import load_seed

    app = app_for(saves, story=load_seed(seed_path), slot="versions")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        for _ in range(2):
            await pilot.press("1", "enter")
            await until(pilot, lambda: idle(app) and screen.busy is False and screen.slot.story.taken >= 1)
        await until(pilot, lambda: screen.slot.story.taken == 2 and idle(app))
        await pilot.press("ctrl+z")
        assert screen.slot.story.taken == 1
        assert box(app).value == screen.slot.story.options[0] or box(app).value  # the undone action is back
        box(app).value = ""
        first = screen.slot.story.steps[-1].version.paragraph
        await pilot.press("ctrl+r")
        await until(pilot, lambda: idle(app) and len(screen.slot.story.steps[-1].alternatives) == 1)
        second = screen.slot.story.steps[-1].version.paragraph
        assert second != first
        assert "version 2 of 2" in str(screen.query(".versions").first().render())
        await pilot.press("alt+left")
        assert screen.slot.story.steps[-1].version.paragraph == first
        await pilot.press("alt+right")
        assert screen.slot.story.steps[-1].version.paragraph == second
        await pilot.press("f4")
        await until(pilot, lambda: app.screen.__class__.__name__ == "EditScreen")
        app.screen.query_one("#text").text = "You rewrite the night by hand."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen))
        assert screen.slot.story.steps[-1].version.paragraph == "You rewrite the night by hand."
        assert str(list(screen.query(Prose))[-1].render()) == "You rewrite the night by hand."


async def test_stop_mid_stream_keeps_the_action(ui_env, saves, seed_path, app_for):
    from game.stories.loader import load_seed

    server = ui_env
    app = app_for(saves, story=load_seed(seed_path), slot="stop")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        before = screen.slot.story.seq
        server.fail("hold")
        await type_text(pilot, "open the door", "enter")
        await until(pilot, lambda: screen.busy)
        assert "narrating" in str(screen.query_one("#status-state").render())
        assert box(app).value == ""
        await pilot.press("escape")
        assert not screen.busy
        assert box(app).value == "open the door"
        assert screen.slot.story.seq == before and screen.slot.story.taken == 0
        server.release.set()
        await pilot.press("enter")  # the same action again, now it goes through
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 1)
        assert screen.slot.story.steps[1].action == "open the door"


async def test_own_premise_is_written_by_the_model(ui_env, saves, stories, app_for):
    app = app_for(saves, stories)
    async with app.run_test() as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.screen.__class__.__name__ == "NewGameScreen")
        await pilot.press("ctrl+w")
        await type_text(pilot, "a clockmaker hears time stop", "enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "SetupScreen")
        await pilot.press("ctrl+b")
        await until(pilot, lambda: idle(app))
        assert app.screen.slot.story.steps[0].version.paragraph
        assert ui_env.chat_requests()[0]["response_format"]["json_schema"]["name"]


async def test_keys_can_be_remapped_in_settings(ui_env, saves, seed_path, tmp_path, monkeypatch, app_for):
    from game.stories.loader import load_seed

    config = tmp_path / "keys.toml"
    config.write_text('[keys]\nundo = "f9"\n', encoding="utf-8")
    monkeypatch.setenv("RECURRENT_CONFIG", str(config))
    app = app_for(saves, story=load_seed(seed_path), slot="keys")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("1", "enter")
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 1)
        await pilot.press("ctrl+z")  # no longer undo
        assert app.screen.slot.story.taken == 1
        await pilot.press("f9")
        await until(pilot, lambda: app.screen.slot.story.taken == 0)


async def test_new_game_lists_the_library_and_the_players_own(ui_env, saves, seed_path, tmp_path, monkeypatch, app_for):
    from textual.widgets import OptionList

    from game.core.paths import library_dir

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "lighthouse.toml").write_text(seed_path.read_text(), encoding="utf-8")
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(mine))
    app = app_for(saves)  # no folder given: what `recurrent play` shows
    async with app.run_test() as pilot:
        await pilot.press("n")
        await until(pilot, lambda: app.screen.__class__.__name__ == "NewGameScreen")
        options = [str(option.prompt) for option in app.screen.query_one("#seeds", OptionList).options]
    assert len(options) == len(list(library_dir().glob("*.toml"))) + 1
    assert options[-1].startswith("The Lighthouse at Skerry Point · mystery · yours")
    assert any(option.startswith("Night Ferry to Kestrel") for option in options)
