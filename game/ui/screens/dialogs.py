"""Small modal screens: ask for a line, edit a text, confirm, and the help listing the keys."""
from __future__ import annotations

from typing import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Static

from game.core.errors import PlayerError, one_line
from game.session.verbs import help_for, language_of
from game.ui.widgets.fields import Box, Field


class Dialog(ModalScreen):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class AskScreen(Dialog):
    """One line of text (a slot name, a file path); dismisses with it, or None. `check` raises
    a PlayerError for an answer that will not do: the dialog says why and stays, text and all."""

    def __init__(self, question: str, default: str = "", check: Callable[[str], object] | None = None) -> None:
        super().__init__()
        self.question = question
        self.default = default
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, markup=False, classes="question")
            yield Field(self.default, id="answer")
            yield Static("", id="answer-problem", markup=False, classes="field-problem")
            with Horizontal(classes="buttons"):
                yield Button("OK", id="ok", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        value = self.query_one("#answer", Input).value.strip()
        if value and self.check is not None:
            try:
                self.check(value)
            except PlayerError as error:
                self.query_one("#answer-problem", Static).update(one_line(error))
                self.query_one("#answer", Input).focus()
                return
        self.dismiss(value or None)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(Dialog):
    """Yes or no; dismisses with True or False."""

    BINDINGS = [Binding("y", "answer(True)", "Yes", id="yes"), Binding("n,escape", "answer(False)", "No", id="no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, markup=False, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error", compact=True)
                yield Button("No (n)", id="no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#no").focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class EditScreen(Dialog):
    """A longer text to edit; Ctrl+S saves, Esc cancels."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="save"), Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.heading = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(f"{self.heading} (Ctrl+S saves, Esc cancels)", markup=False, classes="question")
            yield Box(self.text, id="text", soft_wrap=True)
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        yield Footer()  # this dialog's keys, over the play screen's

    def on_mount(self) -> None:
        box = self.query_one("#text", Box)
        box.move_cursor(box.document.end)  # ready to add to the paragraph
        box.focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#text", Box).text)

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(Dialog):
    """The keys of the screen it was opened over, read from that screen's bindings."""

    BINDINGS = [Binding("escape,f1,question_mark,q", "cancel", "Close", id="close")]

    def __init__(self, over: Screen) -> None:
        super().__init__()
        self.over = over

    def compose(self) -> ComposeResult:
        lines = []
        seen = set()
        for key, active in self.over.active_bindings.items():
            binding = active.binding
            if active.node not in (self.over, self.app) or not binding.description or binding.system:
                continue
            if (binding.action, key) in seen:
                continue
            seen.add((binding.action, key))
            name = f"  ({binding.id})" if binding.id else ""
            lines.append(f"{self.app.get_key_display(binding):>12}  {binding.description}{name}")
        if hasattr(self.over, "action_stop"):
            lines.insert(0, f"{'esc':>12}  Stop narrating (the step is discarded, your action kept)")
        with Vertical(classes="dialog"):
            yield Static("Keys", classes="question")
            with VerticalScroll(id="help-keys"):
                yield Static("\n".join(lines), markup=False)
                if hasattr(self.over, "action_stop"):  # the play screen: its action box knows the verbs too
                    game = getattr(self.over, "game", None)
                    yield Static("\n" + help_for(language_of(game.story) if game else None), markup=False)
            yield Static("In the action box: 1, 2 or 3 and Enter picks an option; your own words are your own "
                         "action; Enter alone continues the story. To change a key, name it by the id in brackets "
                         "in the settings file: [keys] undo = \"f9\".", markup=False, classes="hint")
