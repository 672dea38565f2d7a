"""The reader's search: a line for the words, and where the current match is."""
from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from game.ui.widgets.fields import Field


class SearchBox(Field):
    BINDINGS = [
        Binding("up", "move(-1)", "Older match", show=False),
        Binding("down", "move(1)", "Newer match", show=False),
        Binding("escape", "close", "Close the search", show=False),
    ]

    def action_move(self, direction: int) -> None:
        self.post_message(SearchBar.Move(direction))

    def action_close(self) -> None:
        self.post_message(SearchBar.Close())


class SearchBar(Horizontal):
    @dataclass
    class Move(Message):
        """Go to the next match back in the story (-1) or forward (+1)."""

        direction: int

    class Close(Message):
        """The reader is done searching."""

    def compose(self) -> ComposeResult:
        yield SearchBox(placeholder="Search the story: Enter or ↑ goes back to the next match, ↓ forward, Esc closes",
                        id="search-box")
        yield Static("", id="search-count", markup=False)

    @property
    def words(self) -> str:
        return self.query_one(SearchBox).value

    def said(self, text: str) -> None:
        self.query_one("#search-count", Static).update(text)

    def open(self) -> None:
        self.display = True
        self.query_one(SearchBox).focus()
