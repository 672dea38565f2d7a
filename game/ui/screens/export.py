"""The export dialog: which format, and where to write it."""
from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from game.session import FORMATS
from game.ui.screens.dialogs import Dialog
from game.ui.widgets.fields import Field


class ExportScreen(Dialog):
    """Dismisses with (format, path), or None."""

    def __init__(self, folder: Path, slot: str, fmt: str = "md") -> None:
        super().__init__()
        self.folder = Path(folder)
        self.slot = slot
        self.fmt = fmt

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Export {self.slot} as", markup=False, classes="question")
            with RadioSet(id="formats"):
                for fmt, name in FORMATS.items():
                    yield RadioButton(f"{name[0].upper()}{name[1:]} (.{fmt})", value=fmt == self.fmt, id=f"format-{fmt}")
            yield Static("to the file", classes="label")
            yield Field(str(self.folder / f"{self.slot}.{self.fmt}"), id="answer")
            with Horizontal(classes="buttons"):
                yield Button("Export", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#answer", Input).focus()

    @on(RadioSet.Changed, "#formats")
    def format_chosen(self, event: RadioSet.Changed) -> None:
        """A new format: the file's name follows, unless the player named it something else."""
        fmt = event.pressed.id.removeprefix("format-")
        box = self.query_one("#answer", Input)
        path = Path(box.value.strip())
        if path.suffix.lstrip(".") == self.fmt:
            box.value = str(path.with_suffix(f".{fmt}"))
        self.fmt = fmt

    @on(Input.Submitted, "#answer")
    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        path = self.query_one("#answer", Input).value.strip()
        self.dismiss((self.fmt, path) if path else None)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)
