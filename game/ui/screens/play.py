"""The play screen: the story so far, the paragraph being told, three options and the action box.

A turn is one worker (`tell`) that only posts messages; the handlers below own the
screen's state. Esc cancels the worker: the engine commits nothing when cancelled,
and the typed action goes back into the box.
"""
from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from game.engine.narrator import CONTINUE, Narrator, StepError, pick
from game.errors import PLAYER_ERRORS, one_line
from game.session import engine_settings
from game.ui.advice import advice
from game.ui.messages import Said, SlotFailed, SlotReady, TurnFailed, TurnFinished, TurnNotice, TurnStarted, TurnText
from game.ui.widgets.fields import Field
from game.ui.widgets.options import OptionBar, OptionButton
from game.ui.widgets.status import StatusLine
from game.ui.widgets.story_log import StoryLog, flip_index

HINT = "What do you do? 1-3 picks an option, Enter alone continues"


class PlayScreen(Screen):
    BINDINGS = [
        Binding("escape", "stop", "Stop", id="stop"),
        Binding("ctrl+z", "undo", "Undo", id="undo"),
        Binding("ctrl+r", "retry", "Retry", id="retry"),
        Binding("alt+left", "flip(-1)", "Older version", show=False, id="older-version"),
        Binding("alt+right", "flip(1)", "Newer version", show=False, id="newer-version"),
        Binding("f4", "edit", "Edit", id="edit"),
        Binding("f2", "memory", "Memory", id="memory"),
        Binding("m", "memory", "Memory", show=False, id="memory-alt"),
        Binding("ctrl+s", "save_as", "Save as", id="save-as"),
        Binding("ctrl+o", "export", "Export", show=False, id="export"),
        Binding("f5", "settings", "Settings", show=False, id="settings"),
        Binding("ctrl+t", "title", "Title", show=False, id="title"),
    ]

    def __init__(self, name: str, seed=None) -> None:
        super().__init__()
        self.slot_name = name
        self.seed = seed  # a new game when given
        self.slot = None
        self.narrator: Narrator | None = None
        self.turn = 0
        self.busy = False
        self.kind = ""  # what the current or last failed turn was: begin, step, retry
        self.typed = ""  # what the player typed for it
        self.action = ""
        self.before = -1  # the journal seq when the turn began
        self.edited_memory: tuple[int, str] | None = None  # (version seq, text) of the player's memory edit

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
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
        yield Field(placeholder=HINT, id="action")
        yield Footer()

    # -- opening the slot -----------------------------------------------------------------
    def on_mount(self) -> None:
        self.query_one("#problem").display = False
        self.query_one(OptionBar).show([])
        self.query_one(StatusLine).state("opening the story…", busy=True)
        self.query_one("#action", Input).focus()
        self.open_slot(self.app.saves, self.slot_name, self.seed, self.app.settings)

    @work(exclusive=True, group="turn")
    async def open_slot(self, saves, name, seed, settings) -> None:
        from game.engine.models import Preferences
        from game.saves.slot import Slot
        from game.session import memory_config

        def opening():
            if seed is not None:
                prefs = Preferences(paragraph_words=settings.paragraph_words)
                return Slot.create(saves, name, seed, prefs=prefs, config=memory_config(settings))
            return Slot.open(saves, name, memory_config(settings))

        task = asyncio.ensure_future(asyncio.to_thread(opening))
        try:
            slot = await asyncio.shield(task)
        except asyncio.CancelledError:  # the player left while it opened: close it once it is open
            task.add_done_callback(lambda done: done.cancelled() or done.exception() or done.result().close())
            raise
        except PLAYER_ERRORS as error:
            self.post_message(SlotFailed(one_line(error)))
            return
        self.post_message(SlotReady(slot, None))

    @on(SlotFailed)
    def slot_failed(self, message: SlotFailed) -> None:
        """The slot cannot be opened (in use by another game, damaged...): back to the title, saying why."""
        if self not in self.app.screen_stack:
            return
        self.app.notify(message.error, title="Cannot open the story", severity="error", timeout=8)
        while self.app.screen is not self:  # e.g. the help, opened while the slot was opening
            self.app.pop_screen()
        self.dismiss()

    @on(SlotReady)
    def slot_ready(self, message: SlotReady) -> None:
        if not self.is_attached:
            message.slot.close()
            return
        self.slot = message.slot
        self.narrator = Narrator(self.slot, None, engine_settings(self.app.settings))
        if self.slot.story.steps:
            self.app.prepare_backend()  # the opening needs it at once; otherwise make it while the player reads
        self.show_story()
        if not self.slot.story.steps and self.ready():
            self.start("begin")

    def ready(self) -> bool:
        """Give the narrator the current backend; say plainly when there is none."""
        if self.narrator is None:
            return False
        try:
            backend = self.app.backend()
        except PLAYER_ERRORS as error:
            self.show_problem(advice(one_line(error)), retry=False)
            return False
        self.narrator.backend = backend
        self.narrator.settings = engine_settings(self.app.settings)
        return True

    def on_unmount(self) -> None:
        self.workers.cancel_group(self, "turn")
        if self.slot is not None:
            self.slot.close()
            self.slot = None

    # -- showing the story ---------------------------------------------------------------
    def show_story(self, hide_last: bool = False) -> None:
        story = self.slot.story
        self.query_one(StoryLog).show(story, hide_last)
        self.query_one(OptionBar).show(story.options)
        self.show_status()
        memory = story.memory or "(empty until the first step)"
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

    # -- turns ---------------------------------------------------------------------------
    def start(self, kind: str, action: str = "", typed: str = "") -> None:
        story = self.slot.story
        self.turn += 1
        if kind == "retry":
            typed = self.typed  # a retry takes no action from the box: what is typed there stays
        self.busy, self.kind, self.action, self.typed, self.before = True, kind, action, typed, story.seq
        self.hide_problem()
        if kind == "step":
            self.query_one("#action", Input).value = ""
        log = self.query_one(StoryLog)
        if kind == "retry":
            log.show(story, hide_last=True)
            log.start(None)
        else:
            log.start(None if kind == "begin" else ("(continue)" if action == CONTINUE else action))
        self.query_one(OptionBar).disabled = True
        self.show_status("narrating… Esc stops")
        self.refresh_bindings()
        self.tell(self.turn, kind, action)

    @work(exclusive=True, group="turn")
    async def tell(self, turn: int, kind: str, action: str) -> None:
        narrator = self.narrator
        self.post_message(TurnStarted(turn))

        def on_text(text: str) -> None:
            self.post_message(TurnText(turn, text))

        def on_notice(notice) -> None:
            self.post_message(TurnNotice(turn, notice.text, notice.restart))

        try:
            if kind == "begin":
                step = await narrator.begin(on_text, on_notice)
            elif kind == "retry":
                step = await narrator.retry(on_text, on_notice)
            else:
                step = await narrator.step(action, on_text, on_notice)
        except PLAYER_ERRORS as error:
            self.post_message(TurnFailed(turn, one_line(error)))
            return
        self.post_message(TurnFinished(turn, step))

    @on(TurnText)
    def turn_text(self, message: TurnText) -> None:
        if message.turn == self.turn and self.busy:
            self.query_one(StoryLog).add(message.text)

    @on(TurnNotice)
    def turn_notice(self, message: TurnNotice) -> None:
        if message.turn != self.turn or not self.busy:
            return
        if message.restart:
            self.query_one(StoryLog).restart()
        self.show_status(message.text[:70])
        self.notify(message.text, severity="warning", timeout=6)  # the status line may cut it short

    @on(TurnFinished)
    def turn_finished(self, message: TurnFinished) -> None:
        if message.turn == self.turn:
            kind = self.kind
            self.end_turn()
            if kind == "retry":
                self.keep_edited_memory()
        self.show_story()

    def keep_edited_memory(self) -> None:
        """A retry tells the step again from the memory before it; the player's own edit of the
        step's memory (F2) is put back on the new telling rather than lost on the old one."""
        edited, steps = self.edited_memory, self.slot.story.steps
        if edited is None or not steps:
            return
        seq, text = edited
        if any(v.seq == seq for v in steps[-1].alternatives) and steps[-1].version.memory != text:
            try:
                self.narrator.set_memory(text)
            except PLAYER_ERRORS as error:
                self.notify(f"your memory edit could not be kept: {one_line(error)}", severity="error")
                return
            self.edited_memory = (steps[-1].version.seq, text)
            self.notify("your edit of the memory was kept for the new telling")

    @on(TurnFailed)
    def turn_failed(self, message: TurnFailed) -> None:
        if message.turn != self.turn:
            return
        self.end_turn(restore=True)
        self.show_story()
        self.show_problem(advice(message.error))

    def end_turn(self, restore: bool = False) -> None:
        self.busy = False
        self.query_one(OptionBar).disabled = False
        box = self.query_one("#action", Input)
        if restore and self.kind == "step" and not box.value:
            box.value = self.typed
            box.cursor_position = len(box.value)
        box.focus()

    def action_stop(self) -> None:
        if not self.busy:
            return
        self.workers.cancel_group(self, "turn")
        self.turn += 1  # whatever the cancelled worker still posts is stale
        saved = self.slot.story.seq != self.before  # the step made it in before the stop
        self.end_turn(restore=not saved)
        if saved and self.kind == "retry":
            self.keep_edited_memory()
        self.show_story()
        if not saved:
            self.notify("stopped: nothing was saved")

    # -- the player's moves ---------------------------------------------------------------
    @on(Input.Submitted, "#action")
    def submitted(self, event: Input.Submitted) -> None:
        self.submit(event.value)

    @on(Button.Pressed, ".option")
    def option_pressed(self, event: Button.Pressed) -> None:
        assert isinstance(event.button, OptionButton)
        self.submit(str(event.button.index), keep_box=True)

    @on(Button.Pressed, "#try-again")
    def try_again(self) -> None:
        if self.busy or self.slot is None:
            return
        if self.kind == "retry":
            self.action_retry()
        elif self.kind == "begin" or not self.slot.story.steps:
            if self.ready():
                self.start("begin")
        else:
            box = self.query_one("#action", Input)
            self.submit(box.value or self.typed)

    def submit(self, text: str, keep_box: bool = False) -> None:
        if self.busy:
            self.notify("still narrating… Esc stops")
            return
        if self.slot is None or not self.ready():
            return
        if not self.slot.story.steps:
            self.start("begin")
            return
        box = self.query_one("#action", Input)
        typed = box.value if keep_box else text
        self.start("step", pick(text, self.slot.story.options), typed)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "stop":
            return self.busy
        if action in ("undo", "retry", "flip", "edit", "memory", "save_as", "export", "settings"):
            return None if self.busy or self.slot is None else True
        return True

    def action_undo(self) -> None:
        try:
            undone = self.narrator.undo()
        except StepError as error:
            self.notify(one_line(error), severity="warning")
            return
        self.hide_problem()
        box = self.query_one("#action", Input)
        if not box.value or box.value == self.typed:
            box.value = self.typed = undone.action if undone.action != CONTINUE else ""
        self.show_story()
        self.notify(f"undid step {undone.number}")

    def action_retry(self) -> None:
        if len(self.slot.story.steps) < 2:
            self.notify("there is no step to retry yet", severity="warning")
            return
        if self.ready():
            self.start("retry")

    def action_flip(self, direction: int) -> None:
        last = self.slot.story.steps[-1] if self.slot.story.steps else None
        if last is None or not last.alternatives:
            self.notify("this step has only one version (Ctrl+R tells it again)")
            return
        index = flip_index(last, direction)
        if index is None:
            self.notify("this is the newest version" if direction > 0 else "this is the oldest version")
            return
        self.narrator.flip(last.number, index)
        self.show_story()

    def action_edit(self) -> None:
        from game.ui.screens.dialogs import EditScreen

        if not self.slot.story.steps:
            return
        last = self.slot.story.steps[-1]

        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                self.narrator.edit(last.number, text)
            except PLAYER_ERRORS as error:
                self.notify(one_line(error), severity="error")
                return
            self.show_story()
            self.notify("paragraph edited")

        self.app.push_screen(EditScreen("Edit the last paragraph", last.version.paragraph), done)

    def action_memory(self) -> None:
        from game.ui.screens.memory import MemoryScreen

        story = self.slot.story
        before = (story.steps[-1].version.seq, story.memory) if story.steps else None

        def closed(_) -> None:
            after = (story.steps[-1].version.seq, story.memory) if story.steps else None
            if after and before and after[0] == before[0] and after[1] != before[1]:
                self.edited_memory = after  # kept if this step is retried
            self.show_story()

        self.app.push_screen(MemoryScreen(self.slot, self.narrator), closed)

    def action_save_as(self) -> None:
        from game.ui.app import unique_slot
        from game.ui.screens.dialogs import AskScreen

        default = unique_slot(self.app.saves, self.slot.name)
        self.app.push_screen(AskScreen("Save a copy of this story as (a new slot)", default), self.save_copy)

    def save_copy(self, name: str | None) -> None:
        if name:
            self.copy_worker(name)

    @work(group="saves")
    async def copy_worker(self, name: str) -> None:
        from game.saves.slot import copy_slot
        from game.session import memory_config

        source = self.slot.name
        try:
            await asyncio.to_thread(copy_slot, self.app.saves, source, name, memory_config(self.app.settings))
        except PLAYER_ERRORS as error:
            self.post_message(Said(one_line(error), error=True))
            return
        self.post_message(Said(f"saved a copy as {name}; you are still playing {source}"))

    @on(Said)
    def said(self, message: Said) -> None:
        self.notify(message.text, severity="error" if message.error else "information")

    def action_export(self) -> None:
        from pathlib import Path

        from game.ui.screens.dialogs import AskScreen

        default = str(Path.home() / f"{self.slot.name}.md")
        self.app.push_screen(AskScreen("Export the transcript as Markdown to", default), self.export)

    def export(self, path: str | None) -> None:
        from pathlib import Path

        from game.saves.export import markdown

        if not path:
            return
        target = Path(path).expanduser().absolute()
        try:
            target.write_text(markdown(self.slot.story), encoding="utf-8")
        except OSError as error:
            self.notify(f"could not write {target}: {error.strerror or error}", severity="error", timeout=8)
            return
        self.notify(f"transcript written to {target}", timeout=8)

    def action_settings(self) -> None:
        from game.ui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(), self.settings_changed)

    def settings_changed(self, saved: bool | None) -> None:
        """A new paragraph length applies to this story from the next step (a prefs record)."""
        settings = self.app.settings
        if saved and self.slot is not None and self.narrator is not None:
            prefs = self.slot.story.prefs
            wanted = prefs.model_copy(update={"paragraph_words": settings.paragraph_words, "person": settings.person, "tone": settings.tone})
            if wanted != prefs:
                self.narrator.set_prefs(wanted)
        self.show_status()

    def action_title(self) -> None:
        if self.busy:  # leaving now would drop the step and the typed action
            self.notify("still narrating: Esc stops it first", severity="warning")
            return
        self.app.pop_screen()
