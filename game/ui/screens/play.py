"""The play screen: the story so far, the paragraph being told, three options and the action box.

The App opens the playthrough (a `Game`) through the door, off the event loop; the turns live
in play_turns.py, the reader (search, branches, the map) in play_reader.py, and copies of the
story (save as, export) in play_copies.py. Workers only
post messages; the handlers own the screen's state.
"""
from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Static, Button
from textual.worker import Worker, WorkerState

from game.core.errors import PlayerError, one_line
from game.session import CONTINUE, Game
from game.ui.messages import GameReady, StoryRead
from game.ui.screens.play_copies import PlayCopies
from game.ui.screens.play_reader import PlayReader
from game.ui.screens.play_turns import PlayTurns, Turn
from game.ui.screens.play_verbs import write_transcript
from game.ui.widgets.fields import ActionBox
from game.ui.widgets.options import OptionBar
from game.ui.widgets.search import SearchBar
from game.ui.widgets.status import StatusLine
from game.ui.widgets.story_log import StoryLog, flip_index

HINT = "What do you do? 1-3 picks an option, Enter alone continues"


# What a key's action needs to be offered: a paragraph being told (Esc stops it), or an open
# story with none being told; KEPT also a story that is kept (a playtest is neither saved nor
# branched). Keys with no need work always (reading back, the title).
BUSY, STORY, KEPT = "busy", "story", "kept"


def _keys(*rows: tuple[Binding, str | None]) -> tuple[list[Binding], dict[str, str | None]]:
    """The screen's bindings, and what each one's action needs, from one table: a key added
    here cannot be left out of `check_action`."""
    return [binding for binding, _ in rows], {binding.action.split("(")[0]: needs for binding, needs in rows}


class PlayScreen(PlayTurns, PlayReader, PlayCopies):
    BINDINGS, NEEDS = _keys(
        (Binding("escape", "stop", "Stop", id="stop"), BUSY),
        (Binding("ctrl+z", "undo", "Undo", id="undo"), STORY),
        (Binding("ctrl+r", "retry", "Retry", id="retry"), STORY),
        (Binding("alt+left", "flip(-1)", "Older version", show=False, id="older-version"), STORY),
        (Binding("alt+right", "flip(1)", "Newer version", show=False, id="newer-version"), STORY),
        (Binding("f4", "edit", "Edit", id="edit"), STORY),
        (Binding("f2", "memory", "Memory", id="memory"), STORY),
        (Binding("m", "memory", "Memory", show=False, id="memory-alt"), STORY),
        (Binding("ctrl+s", "save_as", "Save as", id="save-as"), KEPT),
        (Binding("ctrl+o", "export", "Export", show=False, id="export"), STORY),
        (Binding("ctrl+f", "search", "Search the story", show=False, id="search"), STORY),
        (Binding("ctrl+b", "branch", "Branch here", show=False, id="branch"), KEPT),
        (Binding("f3", "map", "Story map", show=False, id="story-map"), KEPT),
        (Binding("pageup", "read(-1)", "Read back", show=False, id="read-back"), None),
        (Binding("pagedown", "read(1)", "Read on", show=False, id="read-on"), None),
        (Binding("ctrl+home", "first_step", "The story's first step", show=False, id="first-step"), None),
        (Binding("ctrl+end", "newest_step", "The newest step", show=False, id="newest-step"), None),
        (Binding("f5", "settings", "Settings", show=False, id="settings"), STORY),
        (Binding("ctrl+t", "title", "Title", show=False, id="title"), None),
    )

    def __init__(self, name: str, seed=None, throwaway: bool = False) -> None:
        super().__init__()
        self.slot_name = name
        self.seed = seed  # a new game when given
        self.throwaway = throwaway  # the studio's playtest: a slot of its own, deleted when the screen goes
        self.game = None
        self.turn = Turn()
        self.edited_memory: tuple[int, str] | None = None  # (version seq, text) of the player's memory edit
        self._painted = asyncio.Event()  # the story read from the journal is on screen

    @property
    def slot(self):
        return self.game.slot if self.game is not None else None

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        yield SearchBar(id="search-bar")
        with Horizontal(id="body"):
            yield StoryLog(id="log")
            with VerticalScroll(id="sidebar"):
                yield Static("Memory", classes="heading")
                yield Static("", id="side-memory", markup=False)
                yield Static("Recalled into this step", classes="heading")
                yield Static("", id="side-recalled", markup=False)
        with Horizontal(id="problem"):
            yield Static("", id="problem-text", markup=False)
            yield Button("Try again", id="try-again", compact=True, variant="warning")
        yield OptionBar(id="options")
        yield ActionBox(placeholder=HINT, id="action")
        yield Footer()

    # -- opening the playthrough ---------------------------------------------------------
    def on_mount(self) -> None:
        self.query_one("#problem").display = False
        self.query_one("#search-bar").display = False
        self.query_one(OptionBar).show([])
        self.query_one(StatusLine).state("opening the story…", busy=True)
        self.query_one("#action", Input).focus()
        self.open_game(self.app.saves, self.slot_name, self.seed, self.app.settings)
        if self.throwaway:
            self.notify("A playtest, in a throwaway slot: nothing of it is kept. Ctrl+T goes back to the studio.",
                        timeout=8)

    @work(exclusive=True, group="turn", name="opening", exit_on_error=False)
    async def open_game(self, saves, name, seed, settings) -> None:
        async def shown(story) -> None:
            # The story on screen first; long-term memory, which grows with the story and keeps
            # the machine busy while it opens, after the first paint.
            self._painted.clear()
            self.post_message(StoryRead(story))
            try:
                await asyncio.wait_for(self._painted.wait(), 5)
            except asyncio.TimeoutError:
                pass  # a slow screen: memory opens all the same

        game = await Game.open(settings, saves, name, seed, self.app.model, reading=not self.throwaway,
                               playtest=self.throwaway, shown=shown)  # a failure: `worker_failed`
        self.post_message(GameReady(game))

    @on(StoryRead)
    def story_read(self, message: StoryRead) -> None:
        if self.game is None and self.is_attached:
            self.query_one(StoryLog).show(message.story)
            self.query_one(StatusLine).show(message.story, self.app.model_name, self.app.tokens_used)
            self.query_one(StatusLine).state("opening long-term memory…", busy=True)
        self.call_after_refresh(self._painted.set)

    # -- a worker's failure: said in one place ---------------------------------------------
    @on(Worker.StateChanged)
    def worker_failed(self, event: Worker.StateChanged) -> None:
        """Every worker of this screen raises its failure and posts nothing about it; it is said
        here, by what failed. The turn's failure goes on the problem bar (with "Try again", unless
        no model could be made: that waits for the settings to change); the story that cannot be
        opened sends the player back to the title, saying why; a change, a copy, an export or a
        branch that could not be made is a notice. A failure that is no `PlayerError` is a bug,
        and fails the app loudly as Textual's own handler would."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if not isinstance(error, PlayerError):
            raise error
        if event.worker.name == "opening":
            self.game_failed(one_line(error))
        elif event.worker.group == "turn":
            if event.worker is self.turn.worker:  # a turn stopped or replaced since is stale
                self.turn_failed(error)
        else:
            self.notify(one_line(error), severity="error")

    def game_failed(self, error: str) -> None:
        """The slot cannot be opened (in use by another game, damaged...): back to the title, saying why."""
        if self not in self.app.screen_stack:
            return
        self.app.notify(error, title="Cannot open the story", severity="error", timeout=8)
        while self.app.screen is not self:  # e.g. the help, opened while the slot was opening
            self.app.pop_screen()
        self.dismiss()

    @on(GameReady)
    def game_ready(self, message: GameReady) -> None:
        if not self.is_attached:
            self.app.close_game(message.game)
            return
        self.game = message.game
        self.app.game = self.game
        if self.game.said:  # memory rebuilt from the journal as the slot opened: nothing lost, but said
            self.app.notify(self.game.said, title="Long-term memory rebuilt", severity="warning", timeout=10)
        if self.slot.story.steps:
            self.app.prepare_backend()  # the opening needs it at once; otherwise make it while the player reads
        self.show_story(log=self.query_one(StoryLog).story is not self.slot.story)  # drawn already when it was read
        if not self.slot.story.steps and self.ready():
            self.start("begin")

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "turn")
        if self.game is not None:
            self.app.close_game(self.game)
            self.game = None

    # -- showing the story ---------------------------------------------------------------
    def show_story(self, hide_last: bool = False, log: bool = True) -> None:
        story = self.slot.story
        if log:
            self.query_one(StoryLog).show(story, hide_last)
        self.query_one(OptionBar).show(story.options)
        self.show_status()
        memory = story.memory or "(no recap yet: the narrator still reads the whole story word for word; it writes one when the first chapter closes)"
        self.query_one("#side-memory", Static).update(memory)
        recalled = story.steps[-1].version.recalled if story.steps else []
        lines = [f"step {r.step}: {r.text}" for r in recalled] or ["(nothing this step)"]
        self.query_one("#side-recalled", Static).update("\n\n".join(lines))
        self.refresh_bindings()

    def show_status(self, state: str | None = None) -> None:
        status = self.query_one(StatusLine)
        if self.slot is not None:
            status.show(self.slot.story, self.app.model_name, self.app.tokens_used)
        if state is None:
            fallback = bool(self.slot and self.slot.story.steps and self.slot.story.steps[-1].version.fallback)
            state = "memory kept from before" if fallback else ""
        status.state(state, busy=self.busy)

    def show_problem(self, text: str, retry: bool = True) -> None:
        self.query_one("#problem-text", Static).update(text)
        self.query_one("#try-again").display = retry
        self.query_one("#problem").display = True

    def hide_problem(self) -> None:
        self.query_one("#problem").display = False

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Whether a key is offered now (None: shown, but dimmed), by what its action needs (`NEEDS`)."""
        needs = self.NEEDS.get(action)
        if needs == BUSY:
            return self.busy
        if needs == KEPT and self.throwaway:
            return False  # a playtest is not kept, nor branched
        if needs in (STORY, KEPT):
            return None if self.busy or self.slot is None else True
        return True

    async def action_undo(self) -> None:
        try:
            undone = await self.game.undo()
        except PlayerError as error:
            self.notify(one_line(error), severity="warning")
            return
        self.hide_problem()
        box = self.query_one("#action", Input)
        if not box.value or box.value == self.turn.typed:
            box.value = self.turn.typed = undone.action if undone.action != CONTINUE else ""
        self.show_story()
        write_transcript(self)
        self.notify(f"undid step {undone.number}")

    async def action_flip(self, direction: int) -> None:
        last = self.slot.story.steps[-1] if self.slot.story.steps else None
        if last is None or not last.alternatives:
            self.notify("this step has only one version (Ctrl+R tells it again)")
            return
        index = flip_index(last, direction)
        if index is None:
            self.notify("this is the newest version" if direction > 0 else "this is the oldest version")
            return
        await self.game.flip(last.number, index)
        self.show_story()

    def action_edit(self) -> None:
        from game.ui.screens.dialogs import EditScreen

        if not self.slot.story.steps:
            return
        last = self.slot.story.steps[-1]

        def done(text: str | None) -> None:
            if text is not None:
                self.change(self.game.edit(last.number, text), "paragraph edited")

        self.app.push_screen(EditScreen("Edit the last paragraph", last.version.paragraph), done)

    @work(group="changes", exit_on_error=False)
    async def change(self, saving, said: str = "") -> None:
        """A change the player made, saved in its worker (a journal record is a disk sync)."""
        await saving
        self.show_story()
        if said:
            self.notify(said)

    def action_memory(self, query: str | None = None) -> None:
        """The memory panel; with `query` (typed `/search WORDS`), on its Search tab, searched."""
        story = self.slot.story
        before = (story.steps[-1].version.seq, story.memory) if story.steps else None

        def closed(_) -> None:
            after = (story.steps[-1].version.seq, story.memory) if story.steps else None
            if after and before and after[0] == before[0] and after[1] != before[1]:
                self.edited_memory = after  # kept if this step is retried
            self.show_story()

        self.app.go("memory", self.game, query, then=closed)

    def action_settings(self) -> None:
        self.app.go("settings", then=self.settings_changed)

    def settings_changed(self, saved: bool | None) -> None:
        """New settings apply to this story from the next step (the way it is told is a record)."""
        if saved and self.game is not None:
            self.change(self.game.use_settings(self.app.settings))
        self.show_status()

    def action_title(self) -> None:
        if self.busy:  # leaving now would drop the step and the typed action
            self.notify("still narrating: Esc stops it first", severity="warning")
            return
        self.app.pop_screen()
