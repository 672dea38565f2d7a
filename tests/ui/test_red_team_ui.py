"""Held-out variants of the red team's findings (issue 26) that are met on the TUI's screens."""
from __future__ import annotations

import pytest
from textual.widgets import Input

from game.saves.folder import list_slots, read_header
from game.stories.loader import load_seed
from game.ui.screens.play import PlayScreen
from tests.ui.pilot import export_dialog, idle, notices, type_text, until

pytestmark = pytest.mark.slow


async def test_branch_at_step_zero_of_a_new_game_never_names_a_slot_that_is_not_kept(ui_env, saves, seed_path, app_for):
    """A new game at its opening is not kept until a step is played. Branching it there (Ctrl+B at
    step 0) must not leave a branch whose parent was never saved: the story map would show it as
    a branch of a deleted slot."""
    app = app_for(saves, story=load_seed(seed_path), slot="fresh")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PlayScreen) and idle(app) and app.screen.slot is not None)
        assert app.screen.slot.story.taken == 0
        await pilot.press("ctrl+b")
        await until(pilot, lambda: app.screen.__class__.__name__ == "AskScreen")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen) and app.screen.slot_name == "fresh-at-0" and idle(app))
        await pilot.press("ctrl+q")
    assert list_slots(saves) == ["fresh", "fresh-at-0"]  # the parent it names is kept ("fresh stays as it is")
    for name in list_slots(saves):
        parent = read_header(saves, name).get("parent")
        assert parent is None or parent in list_slots(saves), (name, parent, list_slots(saves))


async def test_a_name_typed_with_an_epub_ending_exports_an_epub(ui_env, saves, seed_path, tmp_path, monkeypatch, app_for):
    """Markdown chosen, then `x.epub` typed as the file: the name decides (an e-reader opens the
    file by its name), and the choice of format follows it on the screen."""
    import io
    import zipfile

    from textual.widgets import RadioButton

    from tests.test_book import long_story

    monkeypatch.setenv("HOME", str(tmp_path))
    long_story(saves, seed_path, "trunk", steps=3)
    app = app_for(saves, slot="trunk")
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: idle(app))
        dialog = await export_dialog(pilot)
        assert dialog.query_one("#format-md", RadioButton).value
        box = dialog.query_one("#answer", Input)
        box.value = ""
        box.focus()
        await type_text(pilot, str(tmp_path / "x.epub"))
        await until(pilot, lambda: dialog.query_one("#format-epub", RadioButton).value)
        assert not dialog.query_one("#format-md", RadioButton).value
        await pilot.press("enter")
        await until(pilot, lambda: f"transcript written to {tmp_path / 'x.epub'}" in notices(app))
    with zipfile.ZipFile(io.BytesIO((tmp_path / "x.epub").read_bytes())) as book:
        assert book.read("mimetype") == b"application/epub+zip"
