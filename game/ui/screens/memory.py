"""The memory panel: short-term memory and pinned notes to read and edit; what was recalled
into the last step and why; long-term memory to search, amend and forget.

Every change goes through the game, so it is a journal record: saved at once and
used from the next step on.
"""
from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from game.core.errors import PlayerError, one_line
from game.ui.widgets.fields import Box, Field

LIMIT = 20


class MemoryScreen(Screen):
    BINDINGS = [
        Binding("escape", "close", "Back", id="close"),
        Binding("f2", "close", "Back", show=False, id="close-f2"),
        Binding("ctrl+s", "save_notes", "Save notes", id="save-notes"),
        Binding("ctrl+f", "find", "Search", id="search"),
    ]

    def __init__(self, game, query: str | None = None) -> None:
        super().__init__()
        self.game = game
        self.slot = game.slot
        self.chosen = None  # the long-term entry being edited
        self.query_text = query  # opened by `/search WORDS`: on the Search tab, searched

    @property
    def story(self):
        return self.slot.story

    def compose(self) -> ComposeResult:
        story = self.story
        yield Static(f"Memory · {story.seed.title}", id="memory-title", markup=False)
        with TabbedContent(initial="notes"):
            with TabPane("Notes", id="notes"):
                yield Static(self.recap_hint(), classes="hint", markup=False)
                yield Box(story.memory, id="short", soft_wrap=True)
                yield Static("Pinned notes, one a line: never forgotten.", classes="hint", markup=False)
                yield Box("\n".join(story.pinned), id="pinned", soft_wrap=True)
                yield Button("Save notes (Ctrl+S)", id="save-notes", compact=True, variant="primary")
            with TabPane("Last step", id="last"):
                with VerticalScroll():
                    yield Static(self.recalled_text(), id="recalled", markup=False)
            with TabPane("Search", id="search"):
                yield Field(placeholder="search long-term memory: best match first, by meaning and by shared words "
                                        "(empty: the latest entries)", id="query")
                yield OptionList(id="hits")
                yield Box("", id="entry", soft_wrap=True)
                with Horizontal(classes="buttons"):
                    yield Button("Save entry", id="amend", compact=True, variant="primary")
                    yield Button("Delete entry", id="forget", compact=True, variant="error")
        yield Footer()

    def recap_hint(self) -> str:
        steps = self.story.steps
        start = next((s.number for s in reversed(steps) if s.version.chapter), 0)
        return (f"The recap: the narrator reads it, then steps {start} to {max(0, len(steps) - 1)} word for word. "
                "The model rewrites it when a chapter closes; your edit is used from the next step.")

    def on_mount(self) -> None:
        self.search(self.query_text or "")  # a worker: the newest entries need no Chroma, a query does
        if self.query_text is None:
            self.query_one("#short").focus()
        else:
            self.query_one("#query", Input).value = self.query_text
            self.action_find()

    def recalled_text(self) -> str:
        if not self.story.steps:
            return "Nothing yet."
        step = self.story.steps[-1]
        version = step.version
        lines = [f"Step {step.number}: passages recalled from long-term memory into its prompt, and why."]
        for item in version.recalled:
            lines += ["", f"step {item.step} · score {item.score:.3f} · {item.why}", f"  {item.text}"]
        if not version.recalled:
            lines += ["", "(none: nothing earlier matched the action)"]
        lines += ["", "World entries used: " + (", ".join(version.world) or "none")]
        if version.fallback:
            lines += ["", "The memory could not be updated this step; the previous one was kept."]
        return "\n".join(lines)

    # -- short-term memory and pinned notes -----------------------------------------------------
    async def action_save_notes(self) -> None:
        memory = self.query_one("#short", Box).text.strip()
        pinned = [line.strip() for line in self.query_one("#pinned", Box).text.splitlines() if line.strip()]
        changed = []
        try:
            if self.story.steps and memory != self.story.memory:
                await self.game.remember(memory)
                changed.append("memory")
            if pinned != self.story.pinned:
                await self.game.pin(pinned)
                changed.append("pinned notes")
        except PlayerError as error:
            self.notify(one_line(error), severity="error")
            return
        self.say(f"saved {' and '.join(changed)}" if changed else "nothing changed")

    @on(Button.Pressed, "#save-notes")
    async def save_notes(self) -> None:
        await self.action_save_notes()

    # -- long-term memory --------------------------------------------------------------------
    def action_find(self) -> None:
        self.query_one(TabbedContent).active = "search"
        self.query_one("#query").focus()

    @on(Input.Submitted, "#query")
    def searched(self, event: Input.Submitted) -> None:
        self.search(event.value)

    @work(exclusive=True, group="search")
    async def search(self, query: str) -> None:
        try:  # a Chroma query, off the event loop
            self.found = await self.game.search(query, LIMIT)
        except PlayerError as error:
            self.notify(one_line(error), severity="error")
            self.found = []
        hits = self.query_one("#hits", OptionList)
        hits.clear_options()
        # Why each was found ("meaning 0.41; words: lamp"): a search by meaning finds entries
        # that share no word with the query, and the player should see that it did.
        hits.add_options([Option(Content(f"step {e.step} · {e.kind} · {e.text}  ({why})"), id=e.id)
                          for e, why in self.found])
        self.chosen = None
        self.query_one("#entry", Box).text = ""
        if not self.found:
            hits.add_option(Option(Content("(no entries)"), disabled=True))

    @on(OptionList.OptionHighlighted, "#hits")
    @on(OptionList.OptionSelected, "#hits")
    def chose(self, event) -> None:
        entry = next((e for e, _ in self.found if e.id == event.option.id), None)
        if entry is not None:
            self.chosen = entry
            self.query_one("#entry", Box).text = entry.text

    @on(Button.Pressed, "#amend")
    async def amend(self) -> None:
        if self.chosen is None:
            return
        try:
            await self.game.amend(self.chosen.id, self.query_one("#entry", Box).text)
        except PlayerError as error:
            self.notify(one_line(error), severity="error")
            return
        self.say(f"entry from step {self.chosen.step} saved")
        self.search(self.query_one("#query", Input).value)

    @on(Button.Pressed, "#forget")
    def forget(self) -> None:
        from game.ui.screens.dialogs import ConfirmScreen

        entry = self.chosen
        if entry is None:
            return

        async def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            await self.game.forget(entry.id)
            self.say(f"entry from step {entry.step} deleted from long-term memory")
            self.search(self.query_one("#query", Input).value)

        self.app.push_screen(ConfirmScreen(f"Delete this memory for good?\n\n{entry.text[:300]}"), confirmed)

    def say(self, text: str) -> None:
        self.notify(text)  # a toast: the title line would cut a long message short

    def action_close(self) -> None:
        self.dismiss(None)
