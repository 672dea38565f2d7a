"""The IF verbs typed into the play screen's action box: the same words as in the plain face."""
from __future__ import annotations

import asyncio

from textual.widgets import Input

from game.ui.screens.play import PlayScreen
from tests.ui.pilot import idle, notices, type_text, until


async def test_typed_verbs_are_verbs_and_sentences_are_actions(ui_env, saves, seed_path, tmp_path, app_for):
    from game.stories.loader import load_seed

    app = app_for(saves, story=load_seed(seed_path), slot="verbs")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        box = screen.query_one("#action", Input)
        await type_text(pilot, "I undo the knot", "enter")  # a sentence: a story action
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 1)
        assert screen.slot.story.steps[1].action == "I undo the knot"
        await type_text(pilot, "g", "enter")  # again
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 2)
        assert screen.slot.story.steps[2].action == "I undo the knot"
        await type_text(pilot, "undo", "enter")
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 1)
        assert box.value == "I undo the knot"  # the undone action back in the box, as Ctrl+Z does
        box.value = ""
        await type_text(pilot, "status", "enter")
        await until(pilot, lambda: any("slot verbs, step 1" in text for text in notices(app)))
        await type_text(pilot, "/dance", "enter")
        await until(pilot, lambda: any("/dance is no verb" in text for text in notices(app)))
        assert box.value == "/dance" and screen.slot.story.taken == 1  # a mistake keeps the line
        box.value = ""
        await type_text(pilot, "7", "enter")  # a digit that picks no option: a slip, not a step
        await until(pilot, lambda: any("there is no option 7: 1-3 pick an option" in text for text in notices(app)))
        assert box.value == "7" and screen.slot.story.taken == 1 and not screen.busy
        box.value = ""
        await pilot.press("f1")
        await until(pilot, lambda: app.screen.__class__.__name__ == "HelpScreen")
        help_text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        assert "transcript on|off" in help_text and "I undo the knot" in help_text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen))
        await type_text(pilot, "/help", "enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "HelpScreen")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen))
        await type_text(pilot, "transcript on", "enter")
        await pilot.press("1", "enter")
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 2)
        transcript = tmp_path / "verbs-transcript.md"  # written where the game was started (ui_env's cwd)
        await until(pilot, lambda: transcript.exists() and "> **Step 2:**" in transcript.read_text())


async def test_memory_verbs_pin_unpin_and_open_the_memory_panel(ui_env, saves, seed_path, app_for):
    """The plain face's memory verbs typed in the TUI: /pin and /unpin edit the pinned notes,
    `memory` opens the panel, /search WORDS opens it on its Search tab, searched."""
    from textual.widgets import TabbedContent

    from game.stories.loader import load_seed

    app = app_for(saves, story=load_seed(seed_path), slot="mem")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        screen = app.screen
        await type_text(pilot, "/pin The keeper kept a cat.", "enter")
        await until(pilot, lambda: screen.slot.story.pinned == ["The storm lasts three days.", "The keeper kept a cat."])
        await type_text(pilot, "/unpin 1", "enter")
        await until(pilot, lambda: screen.slot.story.pinned == ["The keeper kept a cat."])
        await type_text(pilot, "/unpin 4", "enter")
        await until(pilot, lambda: any("there is no pinned note 4: they are 1-1" in text for text in notices(app)))
        await type_text(pilot, "memory", "enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "MemoryScreen")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen))
        await type_text(pilot, "/search logbook", "enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "MemoryScreen")
        panel = app.screen
        assert panel.query_one(TabbedContent).active == "search" and panel.query_one("#query", Input).value == "logbook"
        assert panel.query_one("#query", Input).has_focus


async def test_the_tui_and_write_ask_the_model_the_same(ui_env, saves, seed_path, tmp_path, monkeypatch, capsys, app_for):
    """Same story, same actions: the model is asked the same by the full-screen game as by `write`
    (and so as by plain play, which tests/test_plain.py holds to `write`). Each has a fresh stand-in."""
    from game.cli import main
    from game.stories.loader import load_seed
    from tests.standin import StandIn

    actions = ["2", "Climb the lamp housing.", "1", "3"]
    app = app_for(saves, story=load_seed(seed_path), slot="shown")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        for taken, action in enumerate(actions, 1):
            await type_text(pilot, action, "enter")
            await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == taken)
    shown = [r["messages"] for r in ui_env.chat_requests()]
    (tmp_path / "actions.txt").write_text("\n".join(actions) + "\n")
    with StandIn() as fresh:
        monkeypatch.setenv("OPENAI_BASE_URL", fresh.url)
        args = ["write", "--story", str(seed_path), "--slot", "written", "--steps", "4", "--actions", str(tmp_path / "actions.txt")]
        assert await asyncio.to_thread(main, args) == 0  # write runs its own event loop
        written = [r["messages"] for r in fresh.chat_requests()]
    capsys.readouterr()
    assert len(shown) == len(written) == 8
    assert shown == written


def test_the_terminal_cursor_is_shown_in_the_action_box(game_env, saves, seed_path, tmp_path):
    """Textual hides the terminal's cursor as it starts and moves it to the focused box's cursor;
    the play screen shows it there, so a screen reader or a braille display follows the typing."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios
    import time
    from pathlib import Path

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TERM": "xterm-256color"}
    process = subprocess.Popen([sys.executable, "-m", "game", "play", "--story", str(seed_path), "--slot", "cursor"],
                               stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path)
    os.close(slave)
    seen = bytearray()
    try:
        deadline = time.monotonic() + 60
        while b"\x1b[?25h" not in seen[seen.find(b"\x1b[?25l") + 1:] or b"\x1b[?25l" not in seen:
            assert time.monotonic() < deadline, bytes(seen[-2000:])
            seen.extend(os.read(master, 65536))
        os.write(master, b"\x11")  # Ctrl+Q
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
