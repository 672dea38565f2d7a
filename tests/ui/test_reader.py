"""The reader on the play screen: all of the story back to step 0, mounted a window at a time;
chapter breaks with their recaps; search; "Branch here"; the story map; the export's formats."""
from __future__ import annotations

import io
import threading
import zipfile

import pytest
from textual.widgets import Input, Tree

from game.saves.folder import read_header
from game.ui.screens.play import PlayScreen
from game.ui.screens.story_map import StoryMapScreen
from game.ui.widgets.story_log import KEEP, PAGE, ActionLine, Part, Prose, StoryLog
from tests.test_book import long_story
from tests.ui.pilot import export_dialog, idle, notices, type_text, until

STEPS = 150


def mounted(log: StoryLog) -> list[int]:
    return sorted({part.number for part in log.query(Part) if part.number >= 0})


async def test_the_whole_story_can_be_read_back_to_its_first_paragraph(ui_env, saves, seed_path, app_for):
    long_story(saves, seed_path, "long", steps=STEPS, chapter_every=40)
    app = app_for(saves, slot="long")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        log = app.screen.query_one(StoryLog)
        assert mounted(log) == list(range(STEPS + 1 - PAGE, STEPS + 1))  # only the end is mounted at first
        assert f"{STEPS + 1 - PAGE:,} earlier steps" in str(log.query(".earlier").first().render())
        await until(pilot, lambda: log.is_vertical_scroll_end and log.max_scroll_y > 0)  # at the newest paragraph
        # Scrolling up mounts the steps before, a page at a time, never more than KEEP at once.
        most = 0
        for _ in range(40):
            if log.lo == 0:
                break
            log.scroll_home(animate=False)
            before = log.lo
            await until(pilot, lambda: log.lo < before and not log._growing)
            most = max(most, len(mounted(log)))
            assert log.scroll_y > 0  # what the reader was looking at stayed on screen: not thrown to the top
        assert log.lo == 0 and most <= KEEP and len(mounted(log)) <= KEEP
        first = [p for p in log.query(Prose) if p.number == 0][0]
        assert str(first.render()).startswith("Paragraph 0:")
        assert not log.query(".earlier") or "earlier" not in str(log.query(".earlier").first().render())
        # Each step with the action that led to it; chapter breaks with the chapter's recap.
        actions = {line.number: str(line.render()) for line in log.query(ActionLine)}
        assert actions[7] == '> Do thing 7 & look "closely"'
        assert [str(p.render()) for p in log.query(".chapter") if p.number == 40] == ["── chapter 2 ──"]
        assert [str(p.render()) for p in log.query(".recap") if p.number == 40] == \
            ["The story so far: Recap after step 40: Ada knows 40 things."]
        # Reading on down again comes back to the newest step.
        for _ in range(40):
            if log.hi == STEPS + 1:
                break
            log.scroll_to(y=log.max_scroll_y, animate=False)  # as a reader's wheel or PageDown would
            before = log.hi
            await until(pilot, lambda: log.hi > before and not log._growing)
        assert log.hi == STEPS + 1 and STEPS in mounted(log)
        # Home and End in the story go straight to either end.
        log.focus()
        await pilot.press("home")
        await until(pilot, lambda: log.lo == 0 and log.selected == 0)
        await pilot.press("end")
        await until(pilot, lambda: log.hi == STEPS + 1 and log.selected is None)


async def test_search_goes_to_each_match_and_lights_it(ui_env, saves, seed_path, app_for):
    long_story(saves, seed_path, "long", steps=60)
    app = app_for(saves, slot="long")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        screen, log = app.screen, app.screen.query_one(StoryLog)
        await pilot.press("ctrl+f")
        await until(pilot, lambda: screen.focused is screen.query_one("#search-box"))
        await type_text(pilot, "thing 1", "enter")  # steps 1, 10-19: back from the end, the newest first
        await until(pilot, lambda: log.selected == 19)
        count = screen.query_one("#search-count")
        assert str(count.render()) == "11 of 11 · step 19"
        await pilot.press("up")
        await until(pilot, lambda: log.selected == 18)
        await pilot.press("down", "down")
        await until(pilot, lambda: log.selected == 1)  # past the newest match, round to the oldest
        assert str(count.render()) == "1 of 11 · step 1"
        assert 1 in mounted(log) and "-selected" in [p for p in log.query(ActionLine) if p.number == 1][0].classes
        action = [p for p in log.query(ActionLine) if p.number == 1][0]
        # The match is in the action ("Do thing 1 & look"), and the action line lights it.
        assert log.highlight == "thing 1" and any(span.style.reverse for span in action.render().spans)
        screen.query_one("#search-box", Input).value = "no such words"
        await pilot.press("enter")
        await until(pilot, lambda: str(count.render()) == "no match")
        await pilot.press("escape")
        await until(pilot, lambda: not screen.query_one("#search-bar").display)
        assert screen.focused is screen.query_one("#action") and log.highlight == ""


async def test_branch_here_plays_on_from_any_step_and_the_map_shows_both(ui_env, saves, seed_path, app_for):
    long_story(saves, seed_path, "trunk", steps=30)
    app = app_for(saves, slot="trunk")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: idle(app))
        log = app.screen.query_one(StoryLog)
        log.focus()
        await pilot.press("home", "down", "down", "down")
        await until(pilot, lambda: log.selected == 3)
        assert "step 3 · Ctrl+B branches here" in str(app.screen.query_one("#status-state").render())
        await pilot.press("ctrl+b")
        await until(pilot, lambda: app.screen.__class__.__name__ == "AskScreen")
        assert app.screen.query_one("#answer", Input).value == "trunk-at-3"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen) and app.screen.slot_name == "trunk-at-3"
                    and idle(app))
        story = app.screen.slot.story
        assert story.taken == 3 and story.steps[3].action == 'Do thing 3 & look "closely"'
        assert any("a branch of trunk from step 3; trunk is kept as it was" in n for n in notices(app))
        header = read_header(saves, "trunk-at-3")
        assert (header["parent"], header["fork_step"]) == ("trunk", 3)
        assert read_header(saves, "trunk")["steps"] == 30
        # The map draws both, the branch under its parent at its fork; Enter opens the parent.
        await pilot.press("f3")
        await until(pilot, lambda: isinstance(app.screen, StoryMapScreen) and app.screen.trees is not None)
        tree = app.screen.query_one(Tree)
        await until(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == "trunk-at-3")
        labels = [str(node.label) for node in (tree.root.children[0].children[0], tree.cursor_node)]
        assert labels[0].startswith("trunk · 30 steps") and labels[1].startswith("trunk-at-3 · from step 3")
        assert labels[1].endswith("(playing)")
        await pilot.press("up", "enter")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen) and app.screen.slot_name == "trunk" and idle(app))
        await pilot.press("ctrl+t")
        await until(pilot, lambda: app.screen.__class__.__name__ == "TitleScreen")
        await pilot.press("t")  # from the title: every story, as trees
        await until(pilot, lambda: isinstance(app.screen, StoryMapScreen) and app.screen.trees is not None)
        assert [t.slot for t in app.screen.trees] == ["trunk"] and app.screen.trees[0].children[0].slot == "trunk-at-3"


async def test_the_export_offers_every_format(ui_env, saves, seed_path, tmp_path, monkeypatch, app_for):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    long_story(saves, seed_path, "trunk", steps=8)
    app = app_for(saves, slot="trunk")
    async with app.run_test(size=(100, 34)) as pilot:
        await until(pilot, lambda: idle(app))
        dialog = await export_dialog(pilot)
        labels = [str(b.label) for b in dialog.query("RadioButton")]
        assert labels == ["Markdown (.md)", "HTML web page (.html)", "EPUB 3 e-book (.epub)", "Plain text (.txt)"]
        await pilot.click("#format-epub")
        await until(pilot, lambda: dialog.query_one("#answer", Input).value == str(home / "trunk.epub"))
        dialog.query_one("#answer", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: f"transcript written to {home / 'trunk.epub'}" in notices(app))
        with zipfile.ZipFile(io.BytesIO((home / "trunk.epub").read_bytes())) as book:
            assert book.read("mimetype") == b"application/epub+zip" and "EPUB/chapter-1.xhtml" in book.namelist()
        await export_dialog(pilot)
        await pilot.click("#format-html")
        app.screen.query_one("#answer", Input).value = str(home / "mine.htm")  # a format's ending follows the format
        await pilot.click("#format-txt")
        await until(pilot, lambda: app.screen.query_one("#answer", Input).value == str(home / "mine.txt"))
        app.screen.query_one("#answer", Input).value = str(home / "mine.story")  # a name of the player's own is kept
        await pilot.click("#format-html")
        await pilot.click("#format-txt")
        assert app.screen.query_one("#answer", Input).value == str(home / "mine.story")
        await pilot.click("#ok")
        await until(pilot, lambda: (home / "mine.story").exists())
        assert (home / "mine.story").read_text().startswith("The Lighthouse at Skerry Point\n=====")


@pytest.fixture
def held_memory(monkeypatch):
    """`held_memory()` -> (entered, gate): from then on, opening long-term memory waits, once begun,
    until the test sets the gate. Called after the slot is made, since making one opens its memory
    too (held then, the test's own setup waited out the gate's 15 s)."""
    from game.saves.slot import Slot

    entered, gate = threading.Event(), threading.Event()
    real = Slot.open_memory

    def held(self, *args, **kwargs):
        entered.set()
        gate.wait(15)
        return real(self, *args, **kwargs)

    def hold():
        monkeypatch.setattr(Slot, "open_memory", held)
        return entered, gate

    yield hold
    gate.set()


async def test_the_story_is_on_screen_before_long_term_memory_opens(ui_env, saves, seed_path, app_for, held_memory):
    long_story(saves, seed_path, "long", steps=30)
    entered, gate = held_memory()
    app = app_for(saves, slot="long")
    async with app.run_test() as pilot:
        await until(pilot, lambda: entered.is_set())
        screen = app.screen
        log = screen.query_one(StoryLog)
        assert any(p.number == 30 for p in log.query(Prose))  # drawn before memory began to open
        assert screen.game is None and "opening long-term memory" in str(screen.query_one("#status-state").render())
        assert not screen.check_action("undo", ())  # the story's own keys wait for the game
        gate.set()
        await until(pilot, lambda: idle(app))
        assert screen.slot.memory is not None and log.story is screen.slot.story


async def test_leaving_while_memory_opens_lets_go_of_the_slot(ui_env, saves, seed_path, app_for, held_memory):
    from game.saves.names import SlotError
    from game.saves.slot import Slot

    long_story(saves, seed_path, "long", steps=10)
    entered, gate = held_memory()
    app = app_for(saves, slot="long")
    async with app.run_test() as pilot:
        await until(pilot, lambda: entered.is_set())
        await pilot.press("ctrl+t")  # back to the title while memory is still opening
        await until(pilot, lambda: app.screen.__class__.__name__ == "TitleScreen")
        gate.set()

        def free() -> bool:
            try:
                Slot.open(saves, "long", memory=False).close()
            except SlotError:
                return False
            return True

        await until(pilot, free)  # once memory has opened, the game it belonged to was closed
