"""The status line: story title, step, words, model, tokens this session, time of the last step."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


def when(at) -> str:
    """A step's time as the player's clock shows it."""
    return at.astimezone().strftime("%H:%M") if at else "—"


class StatusLine(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static("", id="status-story", markup=False)
        yield Static("", id="status-facts", markup=False)
        yield Static("", id="status-state", markup=False)

    def show(self, story, model: str, tokens: int) -> None:
        if story is None:
            return
        last = story.steps[-1].at if story.steps else None
        facts = [f"step {story.taken}", f"{story.words():,} words", model, f"{tokens:,} tokens", when(last)]
        self.query_one("#status-story", Static).update(story.seed.title)
        self.query_one("#status-facts", Static).update(" · " + " · ".join(facts))

    def state(self, text: str, busy: bool = False) -> None:
        widget = self.query_one("#status-state", Static)
        widget.update(text)
        widget.set_class(busy, "busy")
