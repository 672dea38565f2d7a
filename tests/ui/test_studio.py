"""The story studio, driven with Pilot: fields checked as they change, Ctrl+S keeps the author's
file, undo, leaving with unsaved changes, the preview, the model's suggestions, playtests."""
from __future__ import annotations

import tomllib
from pathlib import Path

from textual.widgets import DataTable, Input, RadioSet, Static

from game.cli import main
from game.engine.preview import first_request
from game.session import prefs_from
from game.stories.document import SeedFile
from game.stories.loader import load_seed
from game.ui.screens.dialogs import ConfirmScreen
from game.ui.screens.new_game import SetupScreen
from game.ui.screens.play import PlayScreen
from game.ui.screens.studio import StudioScreen
from game.ui.screens.suggestion import StudioPickScreen, SuggestionScreen
from game.ui.screens.title import TitleScreen

from tests.conftest import SEED
from tests.ui.pilot import idle, listed, notices, type_text, until

COMMENTED = "# An author's comment, kept across saves.\n" + SEED.lstrip()


def studio(app) -> StudioScreen:
    screen = next(s for s in app.screen_stack if isinstance(s, StudioScreen))
    return screen


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def checked(app) -> bool:
    """The studio has checked the seed as it stands (the check runs a moment after a change)."""
    return studio(app).settled


async def type_into(pilot, selector: str, text: str) -> None:
    field = pilot.app.screen.query_one(selector)
    field.focus()
    await until(pilot, lambda: pilot.app.focused is field)
    await type_text(pilot, text)


def seed_file_at(tmp_path: Path, text: str = COMMENTED) -> Path:
    path = tmp_path / "lighthouse.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_title_first_then_ctrl_s_changes_only_what_changed(ui_env, saves, tmp_path, app_for):
    path = seed_file_at(tmp_path)
    app = app_for(saves, edit=SeedFile.open(path))
    async with app.run_test() as pilot:
        await until(pilot, lambda: isinstance(app.focused, Input) and app.focused.id == "title")
        await type_text(pilot, " (revised)")
        await until(pilot, lambda: studio(app).unsaved and checked(app))
        assert "unsaved changes" in text_of(app, "#studio-title")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not studio(app).unsaved)
        assert any(f"saved {path}" in n for n in notices(app))
    assert path.read_text() == COMMENTED.replace('"The Lighthouse at Skerry Point"', '"The Lighthouse at Skerry Point (revised)"')
    assert main(["stories", "validate", str(path)]) == 0
    assert [e.name for e in load_seed(path).world] == ["The logbook", "Skerry Point"]


async def test_validation_is_live_and_worded_as_validate_words_it(ui_env, saves, tmp_path, app_for, capsys):
    path = seed_file_at(tmp_path)
    app = app_for(saves, edit=SeedFile.open(path))
    async with app.run_test() as pilot:
        await until(pilot, lambda: checked(app))
        assert text_of(app, "#studio-status").startswith("valid")
        app.screen.query_one("#genre", Input).value = ""
        await until(pilot, lambda: "genre: is empty" in text_of(app, "#problem-genre"))
        status = text_of(app, "#studio-status")
        assert app.screen.query_one("#problem-genre").display and not app.screen.query_one("#problem-title").display
        app.screen.query_one("#world-table", DataTable).focus()
        await pilot.press("f4", "down")  # the second entry: Skerry Point
        await until(pilot, lambda: app.screen.query_one("#entry-name", Input).value == "Skerry Point")
        app.screen.query_one("#entry-text").load_text("")
        await until(pilot, lambda: "is empty" in text_of(app, "#problem-entry-text"))
        assert str(app.screen.query_one("#world-table", DataTable).get_cell("1", "problem")) == "!"
        await pilot.press("ctrl+s")  # work in progress may be saved; it says it does not validate
        await until(pilot, lambda: any("does not validate yet" in n for n in notices(app)))
    capsys.readouterr()
    assert main(["stories", "validate", str(path)]) == 1
    printed = capsys.readouterr().out.splitlines()[0]
    assert printed == "lighthouse.toml:3: genre: is empty (and 1 more problem)"  # validate names the file as given
    assert status == f"{path}:3: genre: is empty"  # the very line, for the file the studio opened


async def test_undo_and_redo_cover_fields_and_entries(ui_env, saves, tmp_path, app_for):
    path = seed_file_at(tmp_path)
    app = app_for(saves, edit=SeedFile.open(path))
    async with app.run_test() as pilot:
        screen = studio(app)
        await until(pilot, lambda: checked(app))
        await type_into(pilot, "#genre", " noir")
        await until(pilot, lambda: screen.data["genre"] == "mystery noir")
        await pilot.press("f4")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: len(screen.data["world"]) == 3)
        assert app.focused.id == "entry-name" and app.focused.value == "New entry"
        await pilot.press("ctrl+z")
        await until(pilot, lambda: len(screen.data["world"]) == 2)
        assert app.screen.query_one("#world-table", DataTable).row_count == 2
        screen.query_one("#world-table", DataTable).focus()
        await pilot.press("down")
        await until(pilot, lambda: screen.entry == 1)
        screen.query_one("#entry-delete").press()
        await until(pilot, lambda: [e["name"] for e in screen.data["world"]] == ["The logbook"])
        await pilot.press("ctrl+z")
        await until(pilot, lambda: [e["name"] for e in screen.data["world"]] == ["The logbook", "Skerry Point"])
        await pilot.press("ctrl+z")  # the genre, typed as one step
        await until(pilot, lambda: screen.data["genre"] == "mystery")
        assert screen.query_one("#genre", Input).value == "mystery" and not screen.unsaved
        await pilot.press("ctrl+y")
        await until(pilot, lambda: screen.query_one("#genre", Input).value == "mystery noir")


async def test_ctrl_q_asks_first_when_there_are_unsaved_changes(ui_env, saves, tmp_path, app_for):
    path = seed_file_at(tmp_path)
    app = app_for(saves, edit=SeedFile.open(path))
    async with app.run_test() as pilot:
        await until(pilot, lambda: checked(app))
        await type_text(pilot, "!")
        await until(pilot, lambda: studio(app).unsaved)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "lighthouse.toml" in str(app.screen.query_one(".question").render())
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, StudioScreen))
        assert app.is_running
        await pilot.press("ctrl+q", "y")
        await until(pilot, lambda: not app.is_running)
    assert path.read_text() == COMMENTED  # left without saving, as asked


async def test_ctrl_q_with_nothing_changed_leaves_at_once(ui_env, saves, tmp_path, app_for):
    app = app_for(saves, edit=SeedFile.open(seed_file_at(tmp_path)))
    async with app.run_test() as pilot:
        await until(pilot, lambda: checked(app))
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)


async def test_the_preview_panel_is_the_engines_own(ui_env, saves, tmp_path, app_for):
    path = seed_file_at(tmp_path)
    app = app_for(saves, edit=SeedFile.open(path))
    async with app.run_test() as pilot:
        await until(pilot, lambda: checked(app))
        await pilot.press("f6")
        shown = text_of(app, "#preview-text")
        seed = load_seed(path)
        preview = first_request(seed, prefs_from(app.settings, seed), budget=None)
        for line in preview.report()[:4] + [preview.messages[0]["content"].splitlines()[0]]:
            assert line in shown
        assert "World entries the opening triggers: 'The logbook'." in shown
        # the preview follows the seed as it changes
        await type_into(pilot, "#authors-note", "Keep the storm rising.")
        await until(pilot, lambda: "Author's note: Keep the storm rising." in text_of(app, "#preview-text"))


async def test_suggestions_are_shown_to_accept_or_reject(ui_env, saves, tmp_path, app_for):
    path = seed_file_at(tmp_path)
    app = app_for(saves, edit=SeedFile.open(path))
    async with app.run_test() as pilot:
        screen = studio(app)
        await until(pilot, lambda: checked(app))
        await pilot.press("f4", "ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, SuggestionScreen), timeout=30)
        suggested = app.screen.value
        assert len(suggested) == 3 and all(e["text"] for e in suggested)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, StudioScreen))
        assert len(screen.data["world"]) == 2 and not screen.unsaved  # rejected: nothing changed
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, SuggestionScreen), timeout=30)
        await pilot.press("a")
        await until(pilot, lambda: len(screen.data["world"]) == 5)
        assert app.screen.query_one("#world-table", DataTable).row_count == 5
        await pilot.press("ctrl+z")
        await until(pilot, lambda: len(screen.data["world"]) == 2)
        # three options from the opening: accepting replaces the seed's own, and says so first
        await pilot.press("f3", "ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, SuggestionScreen), timeout=30)
        assert "Accepting replaces your options:" in str(app.screen.query(".hint").last().render())
        new = list(app.screen.value)
        await pilot.press("a")
        await until(pilot, lambda: screen.data["options"] == new)
        assert screen.query_one("#options").text == "\n".join(new)
    narrations = [r for r in ui_env.chat_requests() if r.get("response_format")]
    assert "The keeper of a remote lighthouse has vanished" in narrations[0]["messages"][-1]["content"]
    assert "You climb the last stair." in narrations[-1]["messages"][-1]["content"]


async def test_playtest_plays_in_a_throwaway_slot_and_comes_back(ui_env, saves, tmp_path, app_for):
    path = seed_file_at(tmp_path)
    app = app_for(saves, edit=SeedFile.open(path))
    async with app.run_test() as pilot:
        screen = studio(app)
        await until(pilot, lambda: checked(app))
        await type_text(pilot, " II")  # an unsaved change: the playtest plays the seed as it stands
        await until(pilot, lambda: screen.data["title"].endswith(" II"))
        before = dict(screen.data)
        await pilot.press("f5")
        await until(pilot, lambda: idle(app))
        play = app.screen
        assert isinstance(play, PlayScreen) and play.throwaway
        assert play.slot.story.seed.title == "The Lighthouse at Skerry Point II"
        folder = play.game.throwaway
        assert folder.is_dir() and not folder.is_relative_to(saves)
        await type_text(pilot, "Read the logbook.", "enter")
        await until(pilot, lambda: idle(app) and len(play.slot.story.steps) == 2)
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, StudioScreen))
        assert screen.data == before and screen.unsaved  # the seed as it was, changes and all
        await until(pilot, lambda: not folder.exists())
        assert list(saves.iterdir()) == []
    assert path.read_text() == COMMENTED


async def test_playtest_of_a_seed_with_openings_and_blanks_asks_first(ui_env, saves, tmp_path, app_for):
    text = COMMENTED.replace('pinned = [', 'openings = ["You wake in the lamp room to the sound of ${bird}."]\npinned = [')
    text += '\n[placeholders.bird]\nprompt = "Which bird?"\ndefault = "gulls"\n'
    app = app_for(saves, edit=SeedFile.open(seed_file_at(tmp_path, text)))
    async with app.run_test() as pilot:
        await until(pilot, lambda: checked(app))
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        assert not app.screen.query("#slot-name")  # a playtest has no slot to name
        app.screen.query_one("#blank-bird", Input).value = "terns"
        radios = app.screen.query_one("#openings", RadioSet)
        radios.focus()
        await pilot.press("down", "enter")
        await until(pilot, lambda: radios.pressed_index == 1)
        await pilot.press("ctrl+b")
        await until(pilot, lambda: idle(app))
        story = app.screen.slot.story
        assert story.steps[0].version.paragraph == "You wake in the lamp room to the sound of terns."
        assert len(story.options) == 3  # the model's, for an opening that has none of its own
        await pilot.press("ctrl+t")
        await until(pilot, lambda: isinstance(app.screen, StudioScreen))


async def test_a_new_game_picks_an_alternative_opening(ui_env, saves, tmp_path, app_for):
    folder = tmp_path / "stories"
    folder.mkdir()
    seed_file_at(folder, SEED.replace('pinned = [', 'openings = ["You row out at dusk."]\npinned = ['))
    app = app_for(saves, stories=folder)
    async with app.run_test() as pilot:
        await until(pilot, lambda: listed(app))
        await pilot.press("n", "enter")
        await until(pilot, lambda: isinstance(app.screen, SetupScreen))
        radios = app.screen.query_one("#openings", RadioSet)
        radios.focus()
        await pilot.press("down", "enter", "ctrl+b")
        await until(pilot, lambda: idle(app))
        assert app.screen.slot.story.steps[0].version.paragraph == "You row out at dusk."


async def test_the_studio_from_the_title_screen_saves_a_new_seed_to_the_stories_folder(ui_env, saves, tmp_path,
                                                                                        app_for):
    folder = tmp_path / "stories"
    folder.mkdir()
    seed_file_at(folder)
    app = app_for(saves, stories=folder)
    async with app.run_test() as pilot:
        await until(pilot, lambda: listed(app))
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, StudioPickScreen))
        await pilot.press("enter")  # + A new story
        await until(pilot, lambda: isinstance(app.screen, StudioScreen))
        screen = app.screen
        await until(pilot, lambda: checked(app) and "title: is empty" in text_of(app, "#problem-title"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("give the story a title first" in n for n in notices(app)))
        for selector, value in (("#title", "The Salt Road"), ("#genre", "adventure"),
                                ("#protagonist-name", "Idris")):
            await type_into(pilot, selector, value)
        screen.query_one("#premise").load_text("A caravan crosses the salt flats.")
        await until(pilot, lambda: checked(app) and text_of(app, "#studio-status").startswith("valid"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: (folder / "the-salt-road.toml").exists())
        assert load_seed(folder / "the-salt-road.toml").protagonist.name == "Idris"
        await pilot.press("escape")  # saved: back to the title without a question
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
    data = tomllib.loads((folder / "the-salt-road.toml").read_text())
    assert data["premise"] == "A caravan crosses the salt flats." and "world" not in data


def test_stories_edit_of_a_file_that_is_not_toml_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("title = [\n")
    assert main(["stories", "edit", str(bad)]) == 1
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"{bad}:") and "invalid TOML" in out and "\n" not in out


async def test_a_suggestion_that_fails_says_so_and_changes_nothing(ui_env, saves, tmp_path, app_for):
    app = app_for(saves, edit=SeedFile.open(seed_file_at(tmp_path)))
    async with app.run_test() as pilot:
        screen = studio(app)
        await until(pilot, lambda: checked(app))
        ui_env.fail(*["500"] * 6)  # more than the backend's retries
        await pilot.press("f4", "ctrl+g")
        await until(pilot, lambda: any(n.severity == "error" for n in app._notifications), timeout=30)
        said = next(n.message for n in app._notifications if n.severity == "error")
        assert "answered 500" in said and "Check that the server is running" in said  # the error and its hint
        assert isinstance(app.screen, StudioScreen) and not screen.unsaved and len(screen.data["world"]) == 2
        assert text_of(app, "#studio-status").startswith("valid")  # no longer "asking the model…"


async def test_quitting_from_a_playtest_asks_about_the_studios_changes(ui_env, saves, tmp_path, app_for):
    app = app_for(saves, edit=SeedFile.open(seed_file_at(tmp_path)))
    async with app.run_test() as pilot:
        await until(pilot, lambda: checked(app))
        await type_text(pilot, "!")
        await until(pilot, lambda: studio(app).unsaved)
        await pilot.press("f5")
        await until(pilot, lambda: idle(app))
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen))
        assert app.is_running
