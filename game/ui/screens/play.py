"""The play screen: the story so far, the paragraph being told, three options and the action box.

The App opens the playthrough (a `Game`) in a thread; a turn is one worker (`tell`) that
only posts messages; the handlers below own the screen's state. Esc cancels the worker:
the engine commits nothing when cancelled, and the typed action goes back into the box.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Static

from game.core.errors import PlayerError, one_line, with_hint
from game.engine.narrator import CONTINUE, pick
from game.ui.messages import (Branched, GameFailed, GameReady, Said, StoryRead, TurnFailed, TurnFinished, TurnNotice,
                              TurnOptions, TurnText)
from game.ui.widgets.fields import Field
from game.ui.widgets.options import OptionBar, OptionButton
from game.ui.widgets.search import SearchBar
from game.ui.widgets.status import StatusLine
from game.ui.widgets.story_log import StoryLog, find, flip_index

HINT = "What do you do? 1-3 picks an option, Enter alone continues"


@dataclass
class Turn:
    """One telling the player asked for, and what to put back if it fails."""

    number: int = 0  # messages of an older turn are stale
    kind: str = ""  # begin, step or retry
    action: str = ""  # what the narrator is asked
    typed: str = ""  # what the player typed for it
    before: int = -1  # the journal's last record when it began
    options: list[str] | None = None  # the new step's options, once they have streamed in
    queued: tuple[str, str] | None = None  # (action, typed) given while the notes were still coming
    remarks: list[str] = field(default_factory=list)  # what the guards did to the model's words this turn


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
        Binding("ctrl+f", "search", "Search the story", show=False, id="search"),
        Binding("ctrl+b", "branch", "Branch here", show=False, id="branch"),
        Binding("f3", "map", "Story map", show=False, id="story-map"),
        Binding("pageup", "read(-1)", "Read back", show=False, id="read-back"),
        Binding("pagedown", "read(1)", "Read on", show=False, id="read-on"),
        Binding("ctrl+home", "first_step", "The story's first step", show=False, id="first-step"),
        Binding("ctrl+end", "newest_step", "The newest step", show=False, id="newest-step"),
        Binding("f5", "settings", "Settings", show=False, id="settings"),
        Binding("ctrl+t", "title", "Title", show=False, id="title"),
    ]

    busy = reactive(False, bindings=True)  # a paragraph is being told: the story's own keys wait

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

    @property
    def narrator(self):
        return self.game.narrator if self.game is not None else None

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
        yield Field(placeholder=HINT, id="action")
        yield Footer()

    def watch_busy(self, busy: bool) -> None:
        # While a paragraph is told, the options of the step before are spent: shown dimmed, not pressable.
        bar = self.query_one(OptionBar)
        bar.disabled = busy
        bar.set_class(busy, "spent")

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

    @work(exclusive=True, group="turn")
    async def open_game(self, saves, name, seed, settings) -> None:
        from game.session import Game

        game = None
        try:
            def read() -> Game:
                if self.throwaway:
                    game = Game.playtest(settings, seed, backend=self.app.backend)
                else:
                    game = Game.open(settings, saves, name, seed, backend=self.app.backend, memory=False, reading=True)
                game.story.words()  # counted here, off the screen's thread: the status line shows it
                return game

            game = await self._opening(asyncio.to_thread(read))
            if game.slot.memory is None:
                # The story on screen first; long-term memory, which grows with the story and keeps
                # the machine busy while it opens, after the first paint.
                self._painted.clear()
                self.post_message(StoryRead(game.story))
                try:
                    await asyncio.wait_for(self._painted.wait(), 5)
                except asyncio.TimeoutError:
                    pass  # a slow screen: memory opens all the same
                except asyncio.CancelledError:
                    self.app.close_game(game)  # the player left before the story was shown
                    raise
                await self._opening(asyncio.to_thread(game.open_memory), game)
        except PlayerError as error:
            if game is not None:
                self.app.close_game(game)  # its memory could not be opened: let go of the slot
            self.post_message(GameFailed(one_line(error)))
            return
        self.post_message(GameReady(game))

    async def _opening(self, work, game=None):
        """`work` (opening a slot, or its memory) seen through even if the player leaves meanwhile:
        then the game it opened is closed once it is open."""
        task = asyncio.ensure_future(work)
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            def close(done) -> None:
                opened = game if game is not None else (None if done.cancelled() or done.exception() else done.result())
                if opened is not None:
                    self.app.close_game(opened)
            task.add_done_callback(close)
            raise
        return result if game is None else game

    @on(StoryRead)
    def story_read(self, message: StoryRead) -> None:
        if self.game is None and self.is_attached:
            self.query_one(StoryLog).show(message.story)
            self.query_one(StatusLine).show(message.story, self.app.model_name, self.app.tokens_used)
            self.query_one(StatusLine).state("opening long-term memory…", busy=True)
        self.call_after_refresh(self._painted.set)

    @on(GameFailed)
    def game_failed(self, message: GameFailed) -> None:
        """The slot cannot be opened (in use by another game, damaged...): back to the title, saying why."""
        if self not in self.app.screen_stack:
            return
        self.app.notify(message.error, title="Cannot open the story", severity="error", timeout=8)
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
        if self.slot.story.steps:
            self.app.prepare_backend()  # the opening needs it at once; otherwise make it while the player reads
        self.show_story(log=self.query_one(StoryLog).story is not self.slot.story)  # drawn already when it was read
        if not self.slot.story.steps and self.ready():
            self.start("begin")

    def ready(self) -> bool:
        """Give the narrator the current backend; say plainly when there is none."""
        if self.game is None:
            return False
        try:
            self.game.backend()
        except PlayerError as error:
            self.show_problem(with_hint(error), retry=False)
            return False
        return True

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

    # -- turns ---------------------------------------------------------------------------
    def start(self, kind: str, action: str = "", typed: str = "") -> None:
        story = self.slot.story
        if kind == "retry":
            typed = self.turn.typed  # a retry takes no action from the box: what is typed there stays
        self.turn = Turn(self.turn.number + 1, kind, action, typed, story.seq)
        self.busy = True
        self.hide_problem()
        if kind == "step":
            self.query_one("#action", Input).value = ""
        log = self.query_one(StoryLog)
        if kind == "retry":
            log.show(story, hide_last=True)
            log.start(None)
        else:
            log.start(None if kind == "begin" else ("(continue)" if action == CONTINUE else action))
        self.show_status("narrating… Esc stops")
        self.tell(self.turn.number, kind, action)

    @work(exclusive=True, group="turn")
    async def tell(self, turn: int, kind: str, action: str) -> None:
        narrator = self.narrator

        def on_text(text: str) -> None:
            self.post_message(TurnText(turn, text))

        def on_notice(notice) -> None:
            self.post_message(TurnNotice(turn, notice.text, notice.restart, notice.quiet))

        def on_options(options: list[str]) -> None:
            self.post_message(TurnOptions(turn, options))

        try:
            if kind == "begin":
                step = await narrator.begin(on_text, on_notice, on_options)
            elif kind == "retry":
                step = await narrator.retry(on_text, on_notice, on_options)
            else:
                step = await narrator.step(action, on_text, on_notice, on_options)
        except PlayerError as error:
            self.post_message(TurnFailed(turn, one_line(error), error.hint))
            return
        self.post_message(TurnFinished(turn, step))

    @on(TurnText)
    def turn_text(self, message: TurnText) -> None:
        if message.turn == self.turn.number and self.busy:
            self.query_one(StoryLog).add(message.text)

    @on(TurnNotice)
    def turn_notice(self, message: TurnNotice) -> None:
        if message.turn != self.turn.number or not self.busy:
            return
        if message.restart:
            self.query_one(StoryLog).restart()
        self.show_status(message.text[:70])
        if message.quiet:  # a guard tidied the model's words: said in the status line, and again once the step is in
            self.turn.remarks.append(message.text)
            return
        self.notify(message.text, severity="warning", timeout=6)  # the status line may cut it short

    @on(TurnOptions)
    def turn_options(self, message: TurnOptions) -> None:
        """The paragraph is told and its options are in: the player may choose now, while the
        rest of the notes are written; a choice made now waits for them."""
        if message.turn != self.turn.number or not self.busy:
            return
        self.turn.options = list(message.options)
        bar = self.query_one(OptionBar)
        bar.show(self.turn.options)
        bar.disabled = False
        bar.set_class(False, "spent")
        self.show_status("writing the notes… you can choose now")

    @on(TurnFinished)
    async def turn_finished(self, message: TurnFinished) -> None:
        queued = None
        if message.turn == self.turn.number:
            queued = self.turn.queued
            self.end_turn()
            if self.turn.kind == "retry":
                await self.keep_edited_memory()
        self.show_story()
        if message.turn == self.turn.number and self.turn.remarks:
            self.show_status("; ".join(self.turn.remarks)[:70])
        if queued is not None and self.ready():
            action, typed = queued
            self.start("step", action, typed)

    async def keep_edited_memory(self) -> None:
        """A retry tells the step again from the memory before it; the player's own edit of the
        step's memory (F2) is put back on the new telling rather than lost on the old one."""
        edited, steps = self.edited_memory, self.slot.story.steps
        if edited is None or not steps:
            return
        seq, text = edited
        if any(v.seq == seq for v in steps[-1].alternatives) and steps[-1].version.memory != text:
            try:
                await self.narrator.set_memory(text)
            except PlayerError as error:
                self.notify(f"your memory edit could not be kept: {one_line(error)}", severity="error")
                return
            self.edited_memory = (steps[-1].version.seq, text)
            self.notify("your edit of the memory was kept for the new telling")

    @on(TurnFailed)
    def turn_failed(self, message: TurnFailed) -> None:
        if message.turn != self.turn.number:
            return
        self.end_turn(restore=True)
        self.show_story()
        self.show_problem(f"{message.error.rstrip('.')}. {message.hint}" if message.hint else message.error)

    def end_turn(self, restore: bool = False) -> None:
        self.busy = False
        box = self.query_one("#action", Input)
        if restore and self.turn.kind == "step" and not box.value:
            box.value = self.turn.typed
            box.cursor_position = len(box.value)
        box.focus()

    async def action_stop(self) -> None:
        if not self.busy:
            return
        if self.turn.queued is not None:  # first Esc: the queued action back in the box; the step goes on
            box = self.query_one("#action", Input)
            box.value = self.turn.queued[1]
            box.cursor_position = len(box.value)
            self.turn.queued = None
            self.show_status("writing the notes… you can choose now")
            self.notify("your next action is back in the box; Esc again stops this step")
            return
        self.workers.cancel_group(self, "turn")
        self.turn.number += 1  # whatever the cancelled worker still posts is stale
        saved = self.slot.story.seq != self.turn.before  # the step made it in before the stop
        self.end_turn(restore=not saved)
        if saved and self.turn.kind == "retry":
            await self.keep_edited_memory()
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
        if self.turn.kind == "retry":
            self.action_retry()
        elif self.turn.kind == "begin" or not self.slot.story.steps:
            if self.ready():
                self.start("begin")
        else:
            box = self.query_one("#action", Input)
            self.submit(box.value or self.turn.typed)

    def submit(self, text: str, keep_box: bool = False) -> None:
        if self.busy and self.turn.options is not None and self.turn.kind != "retry" and self.turn.queued is None:
            box = self.query_one("#action", Input)
            typed = box.value if keep_box else text
            action = pick(text, self.turn.options)
            self.turn.queued = (action, typed)
            if not keep_box:
                box.value = ""
            self.show_status(f"queued: {action[:50]} (it waits for the notes; Esc takes it back)")
            return
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
        if action == "save_as" and self.throwaway:
            return False  # a playtest is not kept
        if action in ("branch", "map") and self.throwaway:
            return False  # nor branched
        if action in ("undo", "retry", "flip", "edit", "memory", "save_as", "export", "settings", "search", "branch", "map"):
            return None if self.busy or self.slot is None else True
        return True

    async def action_undo(self) -> None:
        try:
            undone = await self.narrator.undo()
        except PlayerError as error:
            self.notify(one_line(error), severity="warning")
            return
        self.hide_problem()
        box = self.query_one("#action", Input)
        if not box.value or box.value == self.turn.typed:
            box.value = self.turn.typed = undone.action if undone.action != CONTINUE else ""
        self.show_story()
        self.notify(f"undid step {undone.number}")

    def action_retry(self) -> None:
        if len(self.slot.story.steps) < 2:
            self.notify("there is no step to retry yet", severity="warning")
            return
        if self.ready():
            self.start("retry")

    async def action_flip(self, direction: int) -> None:
        last = self.slot.story.steps[-1] if self.slot.story.steps else None
        if last is None or not last.alternatives:
            self.notify("this step has only one version (Ctrl+R tells it again)")
            return
        index = flip_index(last, direction)
        if index is None:
            self.notify("this is the newest version" if direction > 0 else "this is the oldest version")
            return
        await self.narrator.flip(last.number, index)
        self.show_story()

    def action_edit(self) -> None:
        from game.ui.screens.dialogs import EditScreen

        if not self.slot.story.steps:
            return
        last = self.slot.story.steps[-1]

        def done(text: str | None) -> None:
            if text is not None:
                self.change(self.narrator.edit(last.number, text), "paragraph edited")

        self.app.push_screen(EditScreen("Edit the last paragraph", last.version.paragraph), done)

    @work(group="changes")
    async def change(self, saving, said: str = "") -> None:
        """A change the player made, saved in its worker (a journal record is a disk sync)."""
        try:
            await saving
        except PlayerError as error:
            self.notify(one_line(error), severity="error")
            return
        self.show_story()
        if said:
            self.notify(said)

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
        from game.saves.branch import free_slot
        from game.ui.app import unique_slot
        from game.ui.screens.dialogs import AskScreen

        default = unique_slot(self.app.saves, self.slot.name)
        self.app.push_screen(AskScreen("Save a copy of this story as (a new slot)", default,
                                       check=partial(free_slot, self.app.saves)), self.save_copy)

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
        except PlayerError as error:
            self.post_message(Said(one_line(error), error=True))
            return
        self.post_message(Said(f"saved a copy as {name}; you are still playing {source}"))

    @on(Said)
    def said(self, message: Said) -> None:
        self.notify(message.text, severity="error" if message.error else "information")

    def action_export(self) -> None:
        from pathlib import Path

        from game.ui.screens.export import ExportScreen

        # In a browser the file downloads there: its name only, no folder of the server's.
        self.app.push_screen(ExportScreen(Path("") if self.app.is_web else Path.home(), self.slot.name), self.export)

    def export(self, choice: tuple[str, str] | None) -> None:
        if choice:
            self.export_worker(*choice)

    @work(group="saves")
    async def export_worker(self, fmt: str, path: str) -> None:
        """An e-book of a long story takes a moment: written in a thread, the screen goes on."""
        from game.saves.export import write_transcript

        slot = self.slot
        try:
            if self.app.is_web:
                from game.ui.delivery import deliver_export

                self.post_message(Said(f"{await deliver_export(self.app, slot, fmt, path)}: downloading to your browser"))
                return
            target = await asyncio.to_thread(write_transcript, slot.story, path, slot.name, fmt, slot.lineage(),
                                             self.app.saves)
        except PlayerError as error:
            self.post_message(Said(one_line(error), error=True))
            return
        self.post_message(Said(f"transcript written to {target}"))

    # -- the reader: all of the story, its search, and branches -----------------------------
    def action_read(self, direction: int) -> None:
        log = self.query_one(StoryLog)
        if direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)

    def action_first_step(self) -> None:
        self.query_one(StoryLog).action_first()

    def action_newest_step(self) -> None:
        self.query_one(StoryLog).action_last()

    def action_search(self) -> None:
        self.query_one(SearchBar).open()

    @on(Input.Submitted, "#search-box")
    def search_submitted(self) -> None:
        self.search(-1)

    @on(SearchBar.Move)
    def search_moved(self, message: SearchBar.Move) -> None:
        self.search(message.direction)

    def search(self, direction: int) -> None:
        """The next step back (-1) or forward (+1) from the selected one whose text has the words."""
        bar, log = self.query_one(SearchBar), self.query_one(StoryLog)
        if self.slot is None or self.busy:
            return
        words = " ".join(bar.words.split())
        found = find(self.slot.story, words)
        if not found:
            bar.said("no match" if words else "")
            return
        here = log.selected if log.selected is not None else len(self.slot.story.steps)
        if direction < 0:
            target = max([n for n in found if n < here], default=found[-1])  # past the first: round to the newest
        else:
            target = min([n for n in found if n > here], default=found[0])
        log.highlight = words
        log.jump(target)
        bar.said(f"{found.index(target) + 1} of {len(found)} · step {target}")

    @on(SearchBar.Close)
    def search_closed(self) -> None:
        bar, log = self.query_one(SearchBar), self.query_one(StoryLog)
        bar.display = False
        if log.highlight:
            log.highlight = ""
            log.relight()
        self.query_one("#action", Input).focus()

    @on(StoryLog.Selected)
    def step_selected(self, message: StoryLog.Selected) -> None:
        if not self.busy:
            self.show_status(f"step {message.number} · Ctrl+B branches here")

    def action_branch(self) -> None:
        from game.saves.branch import branch_name, free_slot
        from game.ui.screens.dialogs import AskScreen

        story = self.slot.story
        selected = self.query_one(StoryLog).selected
        step = selected if selected is not None else story.taken
        name = self.slot.name
        question = (f"Branch from step {step}: a new slot whose story is steps 0 to {step} of {name}, to play on "
                    f"another way ({name} stays as it is). Name it")
        self.app.push_screen(AskScreen(question, branch_name(self.app.saves, name, step), check=partial(free_slot, self.app.saves)),
                             lambda new: new and self.branch_worker(step, new))

    @work(group="saves")
    async def branch_worker(self, step: int, new: str) -> None:
        from game.saves.branch import branch_at
        from game.session import memory_config

        source = self.slot.name
        try:
            made = await asyncio.to_thread(branch_at, self.app.saves, source, step, new, memory_config(self.app.settings))
        except PlayerError as error:
            self.post_message(Said(one_line(error), error=True))
            return
        self.post_message(Branched(made, source, step))

    @on(Branched)
    def branched(self, message: Branched) -> None:
        self.app.notify(f"you are playing {message.slot}, a branch of {message.parent} from step {message.step}; "
                        f"{message.parent} is kept as it was (F3: the story map)", timeout=8)
        self.app.open_game(message.slot)

    def action_map(self) -> None:
        from game.ui.screens.story_map import StoryMapScreen

        self.app.push_screen(StoryMapScreen(self.slot.name, playing=self.slot.name))

    def action_settings(self) -> None:
        from game.ui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen(), self.settings_changed)

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
