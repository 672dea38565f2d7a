"""The studio's two small screens: a suggestion of the model's to accept or reject, and the
list of seeds to open in the studio (from the title screen)."""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList, Static
from textual.widgets.option_list import Option

from game.core.errors import PlayerError, one_line
from game.ui.screens.dialogs import Dialog


class SuggestionScreen(Dialog):
    """What the model suggests, in full; dismisses with True (accept) or False (reject).
    Nothing of the seed changes until the author accepts."""

    BINDINGS = [Binding("a", "answer(True)", "Accept", id="accept"),
                Binding("r,escape", "answer(False)", "Reject", id="reject")]

    def __init__(self, kind: str, value: list, current: list | None = None) -> None:
        super().__init__()
        self.kind, self.value, self.current = kind, value, current or []

    def compose(self) -> ComposeResult:
        if self.kind == "world":
            heading = f"The model suggests {len(self.value)} new world entr{'y' if len(self.value) == 1 else 'ies'}:"
            body = "\n\n".join(f"{e['name']}" + (" (always in play)" if e.get("always") else
                                                  f"  keys: {', '.join(e.get('keys', []))}") + f"\n{e['text']}"
                               for e in self.value)
            after = "Accepting adds them to the world; your own entries stay as they are."
        else:
            heading = "The model suggests these three options:"
            body = "\n".join(f"{i}. {option}" for i, option in enumerate(self.value, 1))
            after = ("Accepting replaces your options:\n" + "\n".join(f"   {o}" for o in self.current)
                     if self.current else "Accepting makes them the seed's options.")
        with Vertical(classes="dialog wide", id="suggestion"):
            yield Static(heading, classes="question", markup=False)
            with VerticalScroll(id="suggestion-body"):
                yield Static(body, markup=False)
            yield Static(after, classes="hint", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Accept (a)", id="accept", variant="primary", compact=True)
                yield Button("Reject (r)", id="reject", compact=True)

    def on_mount(self) -> None:
        self.query_one("#reject").focus()

    def action_answer(self, accept: bool) -> None:
        self.dismiss(accept)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "accept")


class StudioPickScreen(Screen):
    """From the title screen: a new seed, or one of the stories folder's to edit."""

    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            yield Static("Story studio: write a seed, or open one to edit", classes="heading")
            yield OptionList(id="seed-files")
        yield Footer()

    def on_mount(self) -> None:
        from game.stories.loader import list_seeds
        from game.stories.shelf import Shelved, shelf

        self.paths = [None]
        self.library: set = set()  # the library's stories: edited here, they are saved as the player's own
        files = self.query_one("#seed-files", OptionList)
        files.add_option(Option(Content("+ A new story"), id="0"))
        found = shelf() if self.app.stories is None else [Shelved(p, s, True) for p, s in list_seeds(self.app.stories)]
        for story in found:
            path, seed = story.path, story.seed
            self.paths.append(path)
            if not story.own:
                self.library.add(path)
            about = f"invalid: {one_line(seed)}" if isinstance(seed, Exception) else f"{seed.title} · {seed.genre}"
            about += "" if story.own else " · library (saved as a copy of your own)"
            files.add_option(Option(Content(f"{path.name}\n  {about}"), id=str(len(self.paths) - 1)))
        files.highlighted = 0
        files.focus()

    @on(OptionList.OptionSelected, "#seed-files")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        from game.stories.document import SeedFile
        from game.core.paths import own_stories_dir

        path = self.paths[int(event.option.id)]
        try:
            seed_file = SeedFile.open(path) if path else SeedFile.blank()
            if path in self.library:
                seed_file.path = None  # the library stays as it shipped; Ctrl+S writes the player's copy
        except PlayerError as error:  # not TOML at all: the studio cannot show its fields
            self.notify(one_line(error), severity="error", timeout=10)
            return
        self.app.go("studio", seed_file, self.app.stories or own_stories_dir(), replace=True)

    def action_back(self) -> None:
        self.app.pop_screen()
