"""The guards in the TUI: what a weak model echoes never shows in the story; the guards say what
they did in the status line, without pop-ups."""
from __future__ import annotations

from game.stories.loader import load_seed
from game.ui.widgets.story_log import Prose
from tests.standin import WeakBrain
from tests.ui.pilot import idle, notices, type_text, until


async def test_an_echoing_model_shows_a_clean_story_and_a_quiet_status(ui_env, saves, seed_path, app_for):
    server = ui_env
    server.brain = WeakBrain()  # its first paragraph echoes the prompt's scaffolding
    app = app_for(saves, story=load_seed(seed_path), slot="weak")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await type_text(pilot, "Read the logbook", "enter")
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 1)
        prose = "\n".join(str(widget.render()) for widget in app.screen.query(Prose))
        assert app.screen.slot.story.steps[1].version.paragraph.startswith("You read the logbook.")
        assert "You read the logbook." in prose
        assert "##" not in prose and "reader chose" not in prose and "The story has just begun" not in prose
        status = str(app.screen.query_one("#status-state").render())
        # The last guard that fired: the echo dropped, or the telling stopped mid-sentence told again.
        assert "the paragraph: dropped" in status or "the paragraph stopped mid-sentence" in status
        assert not any("paragraph" in text for text in notices(app))  # said in the status line, not popped up
