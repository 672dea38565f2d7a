"""Inputs and text areas that honour the app's cursor-blink setting (off in snapshots)."""
from __future__ import annotations

from textual.widgets import Input, TextArea


class Field(Input):
    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "blink", True)


class Box(TextArea):
    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "blink", True)
