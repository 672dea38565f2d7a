"""Inputs and text areas that honour the app's cursor-blink setting (off in snapshots)."""
from __future__ import annotations

from textual.widgets import Input, TextArea


class Field(Input):
    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "blink", True)


class Box(TextArea):
    def on_mount(self) -> None:
        self.cursor_blink = getattr(self.app, "blink", True)


class ActionBox(Field):
    """The play screen's action box. Textual moves the terminal's own cursor to the cursor drawn
    here but keeps it hidden; shown while the box has focus, a screen reader or a braille display
    follows the typing."""

    def on_focus(self) -> None:
        self._terminal_cursor(True)

    def on_blur(self) -> None:
        self._terminal_cursor(False)

    def _terminal_cursor(self, shown: bool) -> None:
        driver = self.app._driver  # Textual has no public switch for it; the escape is the standard one
        if driver is not None and not self.app.is_headless:
            driver.write("\x1b[?25h" if shown else "\x1b[?25l")
