"""The story studio: a seed's fields to edit, checked as they change, saved as the author's own
TOML (comments and order kept); what the narrator will read; a playtest; the model's suggestions.

The seed is plain data in the seed's own shape (game/stories/document.py). The widgets show it
(game/ui/widgets/seed_form.py) and a change to a widget changes that part of the data only.
Every change is a step of the studio's own undo history, which covers everything (a field, a
deleted world entry, an accepted suggestion), so Ctrl+Z outranks the text boxes' own.
"""
from __future__ import annotations

import copy
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (Button, Checkbox, DataTable, Footer, Input, Select, Static, TabbedContent, TabPane,
                             TextArea)

from game.core.errors import PlayerError, one_line
from game.ui.screens.studio_checks import StudioChecks
from game.ui.screens.studio_suggestions import StudioSuggestions
from game.ui.widgets.drafts import History
from game.ui.clipping import clip
from game.ui.widgets.fields import Box, Field
from game.ui.widgets.seed_form import ENTRY, FIELDS, LISTS, RATINGS, STORY, Spec, get, place_of, put, read, shown

CHANGES = (Input.Changed, TextArea.Changed, Select.Changed, Checkbox.Changed)


class StudioScreen(StudioChecks, StudioSuggestions):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="studio-save"),
        Binding("ctrl+z", "undo", "Undo", priority=True, id="studio-undo"),
        Binding("ctrl+y", "redo", "Redo", priority=True, show=False, id="studio-redo"),
        Binding("f5", "playtest", "Playtest", id="playtest"),
        Binding("ctrl+g", "suggest", "Suggest", id="suggest"),
        Binding("ctrl+n", "add_entry", "New entry", show=False, id="add-entry"),
        Binding("f2", "tab('story')", "Story", show=False, id="tab-story"),
        Binding("f3", "tab('lists')", "Lists", show=False, id="tab-lists"),
        Binding("f4", "tab('world')", "World", show=False, id="tab-world"),
        Binding("f6", "tab('preview')", "Preview", id="tab-preview"),
        Binding("escape", "back", "Back", id="studio-back"),
    ]

    def __init__(self, seed_file, folder: Path | None = None, standalone: bool = False) -> None:
        super().__init__()
        from game.stories.document import entries_with_origin

        self.seed_file = seed_file
        self.folder = folder  # where a new seed is saved (the player's stories folder)
        self.standalone = standalone  # `recurrent stories edit`: leaving the studio ends the game
        self.data = {**seed_file.data, "world": entries_with_origin(seed_file.data)}
        self.saved = copy.deepcopy(self.data)
        self.history = History(self.data)
        self.entry: int | None = 0 if self.data["world"] else None  # the world entry in the form
        self.seed = None  # the seed the data makes, when it is valid
        self.problems: list = []
        self.found: list = []  # what lint says of the valid seed
        self._check_timer = None
        self.asked = self.told = 0  # checks asked for and shown (only the newest is shown)

    @property
    def unsaved(self) -> bool:
        return self.data != self.saved

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="studio-title", markup=False)
        with TabbedContent(initial="story", id="studio-tabs"):
            with TabPane("Story (F2)", id="story"):
                with VerticalScroll():
                    for spec in STORY:
                        yield from self.field(spec)
            with TabPane("Lists (F3)", id="lists"):
                with VerticalScroll():
                    for spec in LISTS:
                        yield from self.field(spec)
                    yield Button("Suggest options (Ctrl+G)", id="suggest-options", compact=True)
            with TabPane("World (F4)", id="world"):
                yield DataTable(id="world-table", cursor_type="row", zebra_stripes=True)
                with Horizontal(id="world-buttons"):
                    yield Button("Add entry (Ctrl+N)", id="entry-add", compact=True)
                    yield Button("Delete entry", id="entry-delete", compact=True, variant="error")
                    yield Button("Suggest entries (Ctrl+G)", id="suggest-world", compact=True)
                with VerticalScroll(id="entry-form"):
                    for spec in ENTRY:
                        yield from self.field(spec)
            with TabPane("Preview (F6)", id="preview"):
                with VerticalScroll(id="preview-scroll"):
                    yield Static("", id="preview-text", markup=False)
        yield Static("", id="studio-status", markup=False)
        yield Footer()

    def field(self, spec: Spec) -> ComposeResult:
        if spec.kind == "bool":
            yield Checkbox(spec.label, id=spec.id, compact=True)
        else:
            yield Static(spec.label, classes="label", markup=False)
            if spec.kind == "rating":
                yield Select(RATINGS, allow_blank=False, value="teen", id=spec.id, compact=True)
            elif spec.kind in ("line", "list"):
                yield Field(id=spec.id, compact=True, select_on_focus=False)
            else:
                box = Box(id=spec.id, soft_wrap=True, compact=True)
                box.styles.height = spec.height
                yield box
        yield Static("", id=f"problem-{spec.id}", classes="field-problem", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#world-table", DataTable)
        for label, key in (("!", "problem"), ("Name", "name"), ("Keys", "keys"), ("Always", "always"), ("Text", "text")):
            table.add_column(label, key=key)
        self.fill()
        self.check()
        self.query_one("#title").focus()

    # -- data to widgets ------------------------------------------------------------------
    def fill(self) -> None:
        """Every widget from the data (at the start, after undo, after a suggestion)."""
        with self.prevent(*CHANGES):
            for spec in STORY + LISTS:
                self.show_value(spec, get(self.data, spec.path))
            self.fill_table()
            self.fill_entry()
        self.show_title()

    def show_value(self, spec: Spec, value) -> None:
        widget = self.query_one(f"#{spec.id}")
        value = shown(spec.kind, value)
        if isinstance(widget, TextArea):
            if widget.text != value:
                widget.load_text(value)
        elif widget.value != value:
            widget.value = value

    def fill_table(self) -> None:
        table = self.query_one("#world-table", DataTable)
        table.clear()
        for index, entry in enumerate(self.data["world"]):
            table.add_row(*self.row(index, entry), key=str(index))
        if self.entry is not None and self.data["world"]:
            self.entry = min(self.entry, len(self.data["world"]) - 1)
            table.move_cursor(row=self.entry, animate=False)
        else:
            self.entry = None

    def row(self, index: int, entry: dict) -> tuple:
        problem = "!" if any(place_of(p.field)[0] == index for p in self.problems) else ""
        text = " ".join(str(entry.get("text", "")).split())
        return (problem, clip(str(entry.get("name", "")), 24), clip(shown("list", entry.get("keys", [])), 24),
                "yes" if entry.get("always") else "", clip(text, 40))

    def fill_entry(self) -> None:
        entry = self.data["world"][self.entry] if self.entry is not None else {}
        with self.prevent(*CHANGES):
            for spec in ENTRY:
                self.show_value(spec, get(entry, spec.path))
        self.query_one("#entry-form").disabled = self.entry is None
        self.query_one("#entry-delete").disabled = self.entry is None

    def show_title(self) -> None:
        path = _shown(self.seed_file.path) if self.seed_file.path else "a new seed (saved in your stories folder)"
        mark = " · unsaved changes" if self.unsaved else ""
        self.query_one("#studio-title", Static).update(f"Story studio · {path}{mark}")

    # -- widgets to data ------------------------------------------------------------------
    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def changed(self, event) -> None:
        widget = event.control
        spec = FIELDS.get(widget.id or "")
        if spec is None:
            return
        value = widget.text if isinstance(widget, TextArea) else widget.value
        if spec in ENTRY:
            if self.entry is None:
                return
            holder = self.data["world"][self.entry]
            where = f"world[{self.entry}].{spec.id}"
        else:
            holder, where = self.data, spec.id
        if shown(spec.kind, get(holder, spec.path)) == value:
            return  # what the data says already (a widget being filled)
        put(holder, spec.path, read(spec.kind, value))
        self.remember(where)
        if spec in ENTRY:
            table = self.query_one("#world-table", DataTable)
            for key, cell in zip(("problem", "name", "keys", "always", "text"), self.row(self.entry, holder)):
                table.update_cell(str(self.entry), key, cell)

    def remember(self, where: str = "") -> None:
        """A change made: one undo step (typing on in one field stays one step)."""
        self.history.record(self.data, where)
        self.show_title()
        self.check_soon()

    # -- the world table ------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#world-table")
    def entry_chosen(self, event: DataTable.RowHighlighted) -> None:
        index = int(event.row_key.value)
        if index != self.entry:
            self.entry = index
            self.fill_entry()
            self.show_problems()

    @on(Button.Pressed, "#entry-add")
    def action_add_entry(self) -> None:
        names = {str(e.get("name", "")).lower() for e in self.data["world"]}
        name, n = "New entry", 1
        while name.lower() in names:
            n += 1
            name = f"New entry {n}"
        self.data["world"].append({"name": name, "keys": [], "text": ""})
        self.entry = len(self.data["world"]) - 1
        self.remember()
        self.fill()
        self.query_one("#entry-name").focus()

    @on(Button.Pressed, "#entry-delete")
    def action_delete_entry(self) -> None:
        if self.entry is None:
            return
        gone = self.data["world"].pop(self.entry)
        self.remember()
        self.fill()
        self.notify(f"deleted world entry {gone.get('name', '')!r} (Ctrl+Z brings it back)")

    # -- undo -----------------------------------------------------------------------------
    def action_undo(self) -> None:
        self.restore(self.history.undo(), "nothing to undo")

    def action_redo(self) -> None:
        self.restore(self.history.redo(), "nothing to redo")

    def restore(self, data: dict | None, otherwise: str) -> None:
        if data is None:
            self.notify(otherwise)
            return
        self.data = data
        self.fill()
        self.check()

    # -- saving and leaving ---------------------------------------------------------------
    def action_save(self) -> None:
        from game.core.paths import own_stories_dir
        from game.stories.writer import free_path

        path = self.seed_file.path
        if path is None:
            title = str(self.data.get("title", "")).strip()
            if not title:
                self.notify("give the story a title first: it names the file", severity="warning")
                self.query_one("#title").focus()
                return
            path = free_path(self.folder or own_stories_dir(), title)
        try:
            target = self.seed_file.save(self.data, path)
        except PlayerError as error:
            self.notify(one_line(error), severity="error", timeout=8)
            return
        self.saved = copy.deepcopy(self.data)
        self.show_title()
        self.seed, self.problems = self.seed_file.check(self.data)
        self.check()
        if self.problems:
            self.notify(f"saved {target}; it does not validate yet: {self.problems[0]}", severity="warning", timeout=8)
        else:
            self.notify(f"saved {target}")

    def action_back(self) -> None:
        self.leave(self.app.exit if self.standalone else self.dismiss)

    def leave(self, then) -> None:
        """`then()`, asking first when there are unsaved changes."""
        from game.ui.screens.dialogs import ConfirmScreen

        if not self.unsaved:
            then()
            return
        name = self.seed_file.path.name if self.seed_file.path else "the new seed"
        self.app.push_screen(ConfirmScreen(f"Leave without saving your changes to {name}?"),
                             lambda yes: then() if yes else None)

    def action_tab(self, tab: str) -> None:
        """Show a tab, with the focus in it (a focus left in the tab before would bring that one back)."""
        self.query_one("#studio-tabs", TabbedContent).active = tab
        first = {"story": "#title", "lists": "#options", "world": "#world-table", "preview": "#preview-scroll"}[tab]
        self.query_one(first).focus()

    # -- playtest -------------------------------------------------------------------------
    def action_playtest(self) -> None:
        """Play the seed as it stands in a throwaway slot; back here with everything as it was."""
        if not self.validate_now():
            return
        if self.seed.placeholders or self.seed.openings:
            self.app.go("setup", self.seed, playtest=True)
        else:
            self.app.go("play", "playtest", self.seed.filled(), throwaway=True)


def _shown(path: Path) -> Path:
    """The path relative to the current folder when it is inside it: shorter to read."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except (ValueError, OSError):
        return path
