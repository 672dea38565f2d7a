"""A new game: pick a seed from the library or the player's own stories, or have the model write one from a line of premise;
then fill its blanks, name the protagonist and the slot, and begin."""
from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from game.core.errors import PlayerError, one_line, with_hint
from game.ui.widgets.fields import Field


@dataclass
class SeedWritten(Message):
    seed: object = None
    error: str = ""  # the error's line and its hint


def premise_line(text: str, width: int = 110) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1].rsplit(" ", 1)[0] + "…"


class NewGameScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("ctrl+w", "own", "Write your own", id="own-premise"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="new-box"):
            yield Static("Choose a story", classes="heading")
            yield OptionList(id="seeds")
            yield Static("…or write a premise of your own in one line, and the model drafts the story:",
                         classes="hint")
            with Horizontal(id="own"):
                yield Field(placeholder="e.g. a lighthouse keeper finds a door in the sea", id="premise")
                yield Button("Write it", id="write", compact=True)
            yield Static("", id="new-problem", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        from game.stories.loader import list_seeds
        from game.stories.shelf import Shelved, shelf

        self.seeds = []
        seeds = self.query_one("#seeds", OptionList)
        # The library and the player's own stories; a folder given to the app (tests) alone.
        found = shelf() if self.app.stories is None else [Shelved(p, s, False) for p, s in list_seeds(self.app.stories)]
        for shelved in found:
            seed = shelved.seed
            if isinstance(seed, Exception):
                seeds.add_option(Option(Content(f"{shelved.path.name}: {one_line(seed)}"), disabled=True))
                continue
            self.seeds.append(seed)
            mine = " · yours" if shelved.own else ""
            text = f"{seed.title} · {seed.genre}{mine}\n  {premise_line(seed.premise)}"
            seeds.add_option(Option(Content(text), id=str(len(self.seeds) - 1)))
        if not self.seeds:
            seeds.add_option(Option(Content("No story files found: write a premise below."), disabled=True))
            self.query_one("#premise").focus()
            return
        seeds.highlighted = next(i for i, option in enumerate(seeds.options) if not option.disabled)
        seeds.focus()

    @on(OptionList.OptionSelected, "#seeds")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.app.push_screen(SetupScreen(self.seeds[int(event.option.id)]))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_own(self) -> None:
        self.query_one("#premise").focus()

    @on(Input.Submitted, "#premise")
    @on(Button.Pressed, "#write")
    def write(self) -> None:
        premise = self.query_one("#premise", Input).value.strip()
        if not premise:
            self.query_one("#new-problem", Static).update("Type a premise first.")
            return
        self.query_one("#new-problem", Static).update("The model is drafting your story… (Esc to go back)")
        self.query_one("#write", Button).disabled = True
        self.draft(premise)

    @work(exclusive=True, group="writer")
    async def draft(self, premise: str) -> None:
        from game.stories.writer import write_seed

        try:
            backend = await self.app.model.ready()  # made off the event loop: a probe may take seconds
            seed = await write_seed(backend, premise)
        except PlayerError as error:
            self.post_message(SeedWritten(error=with_hint(error)))
            return
        self.post_message(SeedWritten(seed))

    @on(SeedWritten)
    def written(self, message: SeedWritten) -> None:
        self.query_one("#write", Button).disabled = False
        if message.error:
            self.query_one("#new-problem", Static).update(message.error)
            return
        self.query_one("#new-problem", Static).update("")
        self.app.push_screen(SetupScreen(message.seed))


class SetupScreen(Screen):
    """Fill the seed's blanks, choose its opening, name the protagonist and the slot (a playtest
    from the studio has no slot to name: it plays in a throwaway one)."""

    BINDINGS = [Binding("escape", "back", "Back", id="back"), Binding("ctrl+b", "begin", "Begin", id="begin")]

    def __init__(self, seed, playtest: bool = False) -> None:
        super().__init__()
        self.seed = seed
        self.playtest = playtest

    def compose(self) -> ComposeResult:
        seed = self.seed
        with VerticalScroll(id="setup-box"):
            yield Static(f"{seed.title} · {seed.genre}", classes="heading", markup=False)
            yield Static(premise_line(seed.premise, 400), classes="hint", markup=False)
            for name, blank in seed.placeholders.items():
                yield Static(blank.prompt, markup=False, classes="label")
                yield Field(blank.default, id=f"blank-{name}", classes="blank")
            if "${" not in seed.protagonist.name:
                yield Static("Your protagonist's name", classes="label")
                yield Field(seed.protagonist.name, id="protagonist")
            if seed.openings:
                yield Static("How does it begin?", classes="label")
                with RadioSet(id="openings"):
                    for index, opening in enumerate(seed.all_openings()):
                        yield RadioButton(Content(premise_line(opening, 100)), value=index == 0)
            if not self.playtest:
                yield Static("Save slot name", classes="label")
                yield Field(self.app.shelf.unique_for(seed.title), id="slot-name")
            yield Static("", id="setup-problem", markup=False)
            yield Button("Begin (Ctrl+B)", id="begin", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        fields = self.query(Field)
        (fields.first() if fields else self.query_one("#begin")).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        last = event.input is list(self.query(Field))[-1] and not self.seed.openings
        if event.input.id == "slot-name" or (self.playtest and last):
            self.action_begin()
        else:
            self.focus_next()

    @on(Button.Pressed, "#begin")
    def action_begin(self) -> None:
        from game.session import check_name

        values = {field.id.removeprefix("blank-"): field.value for field in self.query(".blank").results(Input)}
        protagonist = self.query("#protagonist").results(Input)
        openings = self.query("#openings")
        chosen = max(0, openings.first(RadioSet).pressed_index) if openings else 0
        problem = self.query_one("#setup-problem", Static)
        try:
            name = "playtest" if self.playtest else check_name(self.query_one("#slot-name", Input).value.strip())
            if not self.playtest and (self.app.saves / name).exists():
                raise ValueError(f"a slot named {name} already exists; choose another name")
            seed = self.seed.opened_with(chosen).filled(
                values, next(iter(protagonist), None) and self.query_one("#protagonist", Input).value)
        except (ValueError, PlayerError) as error:
            problem.update(one_line(error))
            return
        if self.playtest:
            self.app.go("play", name, seed, throwaway=True, replace=True)  # Ctrl+T there: back to the studio
            return
        self.app.open_game(name, seed)
