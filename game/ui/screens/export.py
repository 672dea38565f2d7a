"""The export dialog: which format, and where to write it."""
from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from game.session import FORMATS, named_format
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
        """A new format: a name that ends in a format's ending follows it (the file and its name
        agree); a name of the player's own with another ending is kept."""
        fmt = event.pressed.id.removeprefix("format-")
        box = self.query_one("#answer", Input)
        path = Path(box.value.strip())
        self.fmt = fmt
        if named_format(path) not in (None, fmt):
            box.value = str(path.with_suffix(f".{fmt}"))

    @on(Input.Changed, "#answer")
    def name_typed(self, event: Input.Changed) -> None:
        """A name typed with a format's ending (`x.epub`) chooses that format: the file is what its
        name says, and the choice above shows it."""
        fmt = named_format(event.value.strip())
        if fmt and fmt != self.fmt:
            self.query_one(f"#format-{fmt}", RadioButton).value = True
            self.fmt = fmt

    @on(Input.Submitted, "#answer")
    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        path = self.query_one("#answer", Input).value.strip()
        self.dismiss(((named_format(path) or self.fmt), path) if path else None)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)
