"""The title screen: new game, continue, load, delete, settings, quit; and the saved stories."""
from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from rich.text import Text
from textual.widgets import Button, DataTable, Footer, Static

from game.core.text import last_played
from game.ui.clipping import clip, clip_middle

BANNER = "R E C U R R E N T"
SLOT_WIDTH = 20  # slot names longer than this are clipped in the list (the Delete question names them in full)
TAGLINE = "interactive fiction with a long memory"


def played(header: dict) -> str:
    """When the slot was last played: its last step, or a game opening it since (ISO times sort as text)."""
    return max(str(header.get("updated") or ""), str(header.get("opened") or ""))


def saved_stories(shelf) -> list[dict]:
    """Every slot's header, most recently played first; unreadable slots are listed as such."""
    found = []
    for header in shelf.headers():
        if "error" in header:  # a damaged slot is shown, not fatal
            header = {"title": f"(cannot read: {header['error'][:60]})", "steps": "?", "words": "?", "slot": header["slot"]}
        found.append(header)
    found.sort(key=played, reverse=True)
    return found


class TitleScreen(Screen):
    stories: list[dict] = []  # replaced (never changed in place) by refresh_slots
    listed = False  # the slots have been read at least once
    BINDINGS = [
        Binding("n", "new", "New game", id="new-game"),
        Binding("c", "resume", "Continue", id="continue"),
        Binding("l", "load", "Load", id="load"),
        Binding("d,delete", "delete", "Delete", id="delete"),
        Binding("w", "studio", "Studio", id="studio"),
        Binding("s", "settings", "Settings", id="settings"),
        Binding("t", "map", "Story map", show=False, id="story-map"),
        Binding("q", "app.quit", "Quit", show=False, id="quit-title"),  # ^q Quit is in the footer already
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="title-box"):
            yield Static(BANNER, id="banner")
            yield Static(TAGLINE, id="tagline")
            with Horizontal(id="menu"):
                yield Button("New game", id="new", compact=True, variant="primary")
                yield Button("Continue", id="resume", compact=True)
                yield Button("Load", id="load", compact=True)
                yield Button("Studio", id="studio", compact=True)
                yield Button("Settings", id="settings", compact=True)
                yield Button("Quit", id="quit", compact=True)
            yield Static("", id="slots-label", markup=False)
            yield DataTable(id="slots", cursor_type="row", zebra_stripes=True)
        yield Footer(show_command_palette=False)  # ^p still opens it; 80 columns are better spent on F1 Help

    def on_mount(self) -> None:
        table = self.query_one("#slots", DataTable)
        table.add_column("Story", key="title")
        table.add_column("Slot", key="slot")
        table.add_column("Steps", key="steps")
        table.add_column("Words", key="words")
        table.add_column("Last played", key="updated")
        self.refresh_slots()
        self.query_one("#new").focus()

    def on_screen_resume(self) -> None:
        self.refresh_slots()

    def on_resize(self) -> None:
        if self.query_one("#slots", DataTable).columns:  # mounted: the columns are there
            self.refresh_slots()  # the story titles are clipped to the width

    def refresh_slots(self) -> None:
        """Read the slots again (in a thread: a slot without its header is read from its journal)."""
        self.read_slots()

    @work(exclusive=True, group="slots")
    async def read_slots(self) -> None:
        stories = await asyncio.to_thread(saved_stories, self.app.shelf)
        if self.is_attached:
            self.show_slots(stories)

    def show_slots(self, stories: list[dict]) -> None:
        """The slots as read, keeping the cursor on the same slot (by name) when it is still there."""
        table = self.query_one("#slots", DataTable)
        keep, row = self.selected(), table.cursor_row
        table.clear()
        self.stories = stories
        self.listed = True
        slots = [clip_middle(header["slot"], SLOT_WIDTH) for header in self.stories]
        words = [f"{w:,}" if isinstance(w := header.get("words"), int) else str(w) for header in self.stories]
        # Steps, words and the date need little room; the story's title gets what is left.
        used = sum(max([len(c) for c in column] + [len(name)]) + 2
                   for column, name in ((slots, "Slot"), (words, "Words"), (["9999"], "Steps"), (["0" * 16], "Last played")))
        scrollbar = 2 if len(self.stories) >= table.size.height else 0  # no height yet: assume one
        room = max(12, (self.app.size.width or 80) - 4 - 2 - scrollbar - used)  # the box's and the column's padding
        for header, slot, count in zip(self.stories, slots, words):
            table.add_row(Text(clip(str(header.get("title", "?")), room)), Text(slot), str(header.get("steps", "?")),
                          count, last_played(played(header) or None), key=header["slot"])
        names = [header["slot"] for header in self.stories]
        if keep in names:
            table.move_cursor(row=names.index(keep), animate=False)
        elif names and row:
            table.move_cursor(row=min(row, len(names) - 1), animate=False)  # the slot went: its neighbour
        label = f"Saved stories ({len(self.stories)})" if self.stories else "No saved stories yet: start a new game."
        self.query_one("#slots-label", Static).update(label)
        self.query_one("#resume", Button).disabled = not self.stories

    def selected(self) -> str | None:
        table = self.query_one("#slots", DataTable)
        if not self.stories or table.cursor_row is None or table.cursor_row >= len(self.stories):
            return None
        return table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value

    # -- actions ---------------------------------------------------------------------------
    def action_new(self) -> None:
        self.app.go("new")

    async def action_resume(self) -> None:
        if not self.listed:  # pressed before the first reading of the slots was done
            self.show_slots(await asyncio.to_thread(saved_stories, self.app.shelf))
        if self.stories:
            self.app.open_game(self.stories[0]["slot"])
        else:
            self.notify("No saved stories yet: press N to start a new game.")

    def action_load(self) -> None:
        table = self.query_one("#slots", DataTable)
        if self.focused is table and (name := self.selected()):
            self.app.open_game(name)
        elif self.stories:
            table.focus()

    def action_delete(self) -> None:
        from game.ui.screens.dialogs import ConfirmScreen

        name = self.selected()
        if not name:
            return

        def confirmed(yes: bool | None) -> None:
            from game.core.errors import PlayerError, one_line
            if not yes:
                return
            try:
                self.app.shelf.delete(name)
            except PlayerError as error:
                self.notify(one_line(error), severity="error")
            self.refresh_slots()

        self.app.push_screen(ConfirmScreen(f"Delete the saved story {name!r}? This cannot be undone."), confirmed)

    def action_studio(self) -> None:
        self.app.go("studio-pick")

    def action_settings(self) -> None:
        self.app.go("settings")

    def action_map(self) -> None:
        """Every saved story as a tree of its branches, the cursor on the slot selected here."""
        self.app.go("map", at=self.selected())

    @on(DataTable.RowSelected, "#slots")
    def row_chosen(self, event: DataTable.RowSelected) -> None:
        self.app.open_game(event.row_key.value)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        actions = {"new": self.action_new, "resume": self.action_resume, "load": self.action_load,
                   "studio": self.action_studio, "settings": self.action_settings, "quit": self.app.exit}
        if event.button.id in actions:
            actions[event.button.id]()
