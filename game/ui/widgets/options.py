"""The three proposed actions, as buttons numbered like the keys that pick them."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button


class OptionButton(Button):
    def __init__(self, index: int) -> None:
        super().__init__("", id=f"option-{index}", compact=True, classes="option")
        self.index = index


class OptionBar(Vertical):
    def compose(self) -> ComposeResult:
        for index in (1, 2, 3):
            yield OptionButton(index)

    def show(self, options: list[str]) -> None:
        for button in self.query(OptionButton):
            text = options[button.index - 1] if button.index <= len(options) else ""
            button.label = Content(f"{button.index}  {text}" if text else "")
            button.display = bool(text)
        self.refresh(layout=True)
