"""The play screen's turns: the player asks for a paragraph, a worker tells it through the
`Game`, and the handlers here own what the screen shows meanwhile.

A turn is one worker (`tell`) that only posts messages. Esc cancels it: the engine commits
nothing when cancelled, and the typed action goes back into the box.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from textual import on, work
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Button, Input

from game.core.errors import PlayerError, one_line, with_hint
from game.session import CONTINUE, NoModel, NoOption, pick
from game.ui.messages import TurnFinished, TurnNotice, TurnOptions, TurnText, turn_message
from game.ui.screens.play_verbs import typed_verb, write_transcript
from game.ui.widgets.options import OptionBar, OptionButton
from game.ui.widgets.story_log import StoryLog


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
    worker: object = None  # the worker telling it: a failure of any other is stale


class PlayTurns(Screen):
    """The turn's state machine, for PlayScreen (which shows the story and owns the rest)."""

    busy = reactive(False, bindings=True)  # a paragraph is being told: the story's own keys wait

    def watch_busy(self, busy: bool) -> None:
        # While a paragraph is told, the options of the step before are spent: shown dimmed, not pressable.
        bar = self.query_one(OptionBar)
        bar.disabled = busy
        bar.set_class(busy, "spent")

    def ready(self) -> bool:
        """A game is open to tell. (Its backend is made in the turn's worker, off the event loop;
        a backend that cannot be made is said there.)"""
        return self.game is not None

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
        self.turn.worker = self.tell(self.turn.number, kind, action)

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def tell(self, turn: int, kind: str, action: str) -> None:
        """The turn told through the `Game`; its failure is said by PlayScreen.worker_failed."""
        game = self.game

        def hear(event) -> None:
            self.post_message(turn_message(turn, event))

        if kind == "begin":
            step = await game.begin(hear)
        elif kind == "retry":
            step = await game.retry(hear)
        else:
            step = await game.tell(action, hear)
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
        write_transcript(self)  # while `transcript on` holds
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
                await self.game.remember(text)
            except PlayerError as error:
                self.notify(f"your memory edit could not be kept: {one_line(error)}", severity="error")
                return
            self.edited_memory = (steps[-1].version.seq, text)
            self.notify("your edit of the memory was kept for the new telling")

    def turn_failed(self, error: PlayerError) -> None:
        """Nothing of the turn was saved: the story as it was, the typed action back in the box,
        and the problem with its hint. No model could be made: trying again waits for the settings."""
        self.turn.worker = None
        self.end_turn(restore=True)
        self.show_story()
        self.show_problem(with_hint(error), retry=not isinstance(error, NoModel))

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
        self.turn.worker = None  # and so is its failure, if it failed before it heard the stop
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
        if not keep_box and typed_verb(self, text):  # "undo" typed alone is the verb, as in the plain face
            return
        if self.busy and self.turn.options is not None and self.turn.kind != "retry" and self.turn.queued is None:
            box = self.query_one("#action", Input)
            typed = box.value if keep_box else text
            action = self.picked(text, self.turn.options)
            if action is None:
                return
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
        action = self.picked(text, self.slot.story.options)
        if action is not None:
            self.start("step", action, typed)

    def picked(self, text: str, options: list[str]) -> str | None:
        """The action `text` stands for, or None (said, the box kept) for a digit that picks no option."""
        try:
            return pick(text, options)
        except NoOption as error:
            self.notify(one_line(error), severity="warning")
            return None

    def action_retry(self) -> None:
        if len(self.slot.story.steps) < 2:
            self.notify("there is no step to retry yet", severity="warning")
            return
        if self.ready():
            self.start("retry")
