"""`recurrent play --plain`: the game as lines of text, for screen readers, scripts and dumb terminals.

Plain lines only (no escape sequences, no drawing, nothing timed), the way `dfrotz` serves
Z-machine players: a line says when the narrator starts writing, the paragraph comes as whole
sentences once each is complete (so a screen reader never speaks a fragment), the options as
numbered lines, then a `>` prompt. It goes through the same `Game` as the TUI and `write`.

Ctrl+C while the narrator writes stops the step (the engine saves nothing it has not finished)
and keeps the typed line: Enter alone sends it again. At the prompt a second Ctrl+C, or the end
of input, quits; every step was saved as it was told.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path

from game.core.errors import PlayerError, one_line
from game.core.events import Notice, Text
from game.core.text import safe, sentences
from game.session import CONTINUE, Game, Model, NoOption, Shelf, SlotError, pick, saves_root, settings_from
from game.session.verbs import (NoVerb, help_for, language_of, last_action, memory_lines, recap_of, status_line,
                                 verb_of)

QUIT = object()  # what the reader hands over for a second Ctrl+C at the prompt


def wanted(args) -> bool:
    """Plain play: asked for, or no terminal to draw on (a pipe either way, or TERM=dumb). A game
    that Textual is told to draw elsewhere (TEXTUAL_DRIVER: `recurrent serve` runs each browser's
    game over pipes with the web driver) is the full-screen game, pipes or not."""
    if getattr(args, "plain", False):
        return True
    if os.environ.get("TEXTUAL_DRIVER"):
        return False
    if os.environ.get("TERM") == "dumb":
        return True
    return not (sys.stdin.isatty() and sys.stdout.isatty())


def run(args) -> int:
    return asyncio.run(play(args))


async def play(args) -> int:
    settings = settings_from(args)
    saves = saves_root(args, settings)
    shelf = Shelf(saves, settings)
    if settings.gguf:
        from game.session.checks import check_gguf

        check_gguf(settings.gguf)  # a wrong model path is one line here, as for the full-screen game
    seed = None
    if args.story:
        from game.stories.shelf import load_story

        seed = load_story(args.story, getattr(args, "opening", 1)).filled()
    name = args.slot or (shelf.unique_for(seed.title) if seed is not None else None)
    if name is None:
        raise SlotError("plain play needs a story: --story NAME (recurrent stories list) "
                        "or --slot NAME to go on with a saved one (recurrent saves list)")
    if seed is None and not shelf.has(name):
        raise SlotError(f"no slot named {name} in {saves}; start one with --story NAME --slot {name}")
    model = Model(settings)
    try:
        game = await Game.open(settings, saves, name, seed, model, reading=True)
        table = Table(game, shelf, model)
        try:
            await table.play()
        finally:
            await table.game.close()
    finally:
        await model.close()
    return 0


class Lines:
    """The player's lines, read in a thread of their own so that Ctrl+C and the narrator never
    wait on input. os.read holds no lock of Python's, so the thread cannot block the exit."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue()
        self.echo = not sys.stdin.isatty()  # piped input is echoed after the prompt, so the output reads as a transcript
        threading.Thread(target=self._read, args=(sys.stdin.fileno(),), daemon=True).start()

    def _hand(self, item) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:
            pass  # the game has ended

    def _read(self, fd: int) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                if pending:
                    self._hand(pending.decode("utf-8", "replace"))
                self._hand(None)  # the end of input
                return
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                self._hand(line.decode("utf-8", "replace").rstrip("\r"))


def say(text: str = "") -> None:
    sys.stdout.write(safe(text) + "\n")
    sys.stdout.flush()


def said_as_sentence(error: PlayerError) -> str:
    """An error's one line, capitalised: said alone, it is a sentence of its own."""
    text = one_line(error)
    return text[:1].upper() + text[1:]


SEARCH_LIMIT = 10  # entries a /search prints: a screen reader reads each one whole


class Paragraph:
    """A paragraph as it streams in, printed a complete sentence at a time."""

    def __init__(self) -> None:
        self.pending = ""
        self.printed: list[str] = []
        self.held: list[str] = []  # notices that came while a sentence waited: said after it

    def notice(self, text: str) -> None:
        """A notice, said at once, or after the paragraph if a sentence of it is still to come
        (the length limit is noticed as the stream ends, before its last sentence is printed)."""
        if self.pending.strip():
            self.held.append(text)
        else:
            say(text)

    def say_held(self) -> None:
        for text in self.held:
            say(text)
        self.held = []

    def add(self, text: str) -> None:
        self.pending += text
        parts = sentences(self.pending)
        if len(parts) > 1:  # the last may be unfinished: it waits for the next sentence, or the end
            self._print(parts[:-1])
            self.pending = self.pending[self.pending.rindex(parts[-1]):]  # its trailing space kept for the next word

    def again(self) -> None:
        """The narrator starts the paragraph over: what was printed cannot be taken back, so say so."""
        self.say_held()
        if self.printed:
            say("(the narrator starts the paragraph again)")
        self.pending, self.printed = "", []

    def end(self, paragraph: str) -> None:
        """The paragraph as saved: the rest of it printed, or all of it if the guards changed it."""
        told = " ".join(" ".join(self.printed).split())
        whole = " ".join(paragraph.split())
        if not whole.startswith(told):
            say("(as saved:)")
            told = ""
        self._print(sentences(whole[len(told):]))
        self.say_held()
        say()

    def _print(self, parts: list[str]) -> None:
        for part in parts:
            say(part)
        self.printed.extend(parts)


class Table:
    """One sitting at the plain game: the prompt, the verbs, the tellings."""

    def __init__(self, game: Game, shelf: Shelf, model: Model) -> None:
        self.game = game
        self.shelf = shelf
        self.model = model
        self.lines: Lines | None = None
        self.telling: asyncio.Task | None = None
        self.interrupted = False  # a Ctrl+C at this prompt already
        self.kept = ""  # a stopped or failed step's typed line: Enter alone sends it again
        self.transcript: Path | None = None
        self.language = language_of(game.story)  # the story's own words for the verbs, with the English

    async def play(self) -> None:
        loop = asyncio.get_running_loop()
        self.lines = Lines(loop)
        try:
            loop.add_signal_handler(signal.SIGINT, self._ctrl_c)
        except (NotImplementedError, RuntimeError):
            pass  # no signal handlers here (Windows, a thread): Ctrl+C ends the game as anywhere
        try:
            await self._play()
        finally:
            try:
                loop.remove_signal_handler(signal.SIGINT)
            except (NotImplementedError, RuntimeError):
                pass

    def _ctrl_c(self) -> None:
        if self.telling is not None and not self.telling.done():
            self.telling.cancel()
        elif self.interrupted:
            self.lines.queue.put_nowait(QUIT)
        else:
            self.interrupted = True
            sys.stdout.write("\n")
            say("(Ctrl+C again, or the end of input, quits; every step is saved)")
            sys.stdout.write("> ")
            sys.stdout.flush()

    # -- the sitting ------------------------------------------------------------------------
    async def _play(self) -> None:
        self.introduce()
        if not self.game.story.steps:
            await self.tell("begin")
        while True:
            self.show_options()
            line = await self.ask()
            if line is None:
                say("Every step is saved. Goodbye.")
                return
            try:
                verb = verb_of(line, self.language)
            except NoVerb as error:
                say(one_line(error))
                say()
                continue
            if verb is None:
                await self.act(line)
            elif verb.name == "quit":
                say("Every step is saved. Goodbye.")
                return
            else:
                try:
                    await getattr(self, f"verb_{verb.name}")(verb.arg)
                except PlayerError as error:
                    say(one_line(error))
                if verb.name != "read":  # a paragraph ends with its blank line already
                    say()

    def introduce(self) -> None:
        story = self.game.story
        say(f"{story.seed.title} (slot {self.game.name}). Type help for the verbs.")
        if story.steps:
            if story.taken:
                say(f"Resuming at step {story.taken}.")
            say()
            self.read_back()

    def read_back(self) -> None:
        story = self.game.story
        if not story.steps:
            say("Nothing is told yet.")
            return
        last = story.steps[-1]
        if last.action:
            say(f"Step {last.number}: {'(continue)' if last.action == CONTINUE else last.action}")
        Paragraph().end(last.version.paragraph)

    def show_options(self) -> None:
        for number, option in enumerate(self.game.story.options, 1):
            say(f"{number}. {option}")
        if self.kept:
            say(f"Enter alone sends your action again: {self.kept}")

    async def ask(self):
        sys.stdout.write("> ")
        sys.stdout.flush()
        self.interrupted = False
        line = await self.lines.queue.get()
        if line is QUIT or line is None:
            sys.stdout.write("\n")
            return None
        if self.lines.echo:
            say(line)
        return line

    async def act(self, line: str) -> None:
        if not line.strip() and self.kept:
            line = self.kept
        self.kept = ""
        if not self.game.story.steps:
            await self.tell("begin")
            return
        try:
            action = pick(line, self.game.story.options)
        except NoOption as error:
            say(one_line(error))
            return
        await self.tell("step", action, "" if action == CONTINUE else action)  # kept as the words it stands for

    async def tell(self, kind: str, action: str = "", typed: str = "") -> None:
        """A telling through the Game; Ctrl+C stops it, a failure keeps the typed line."""
        game = self.game
        before = game.story.seq
        paragraph = Paragraph()

        def hear(event) -> None:
            if isinstance(event, Text):
                paragraph.add(event.text)
            elif isinstance(event, Notice):
                if event.restart:
                    paragraph.again()
                if not event.quiet:  # a guard's quiet tidying is in the paragraph as saved
                    paragraph.notice(f"({event.text})")
            # Options: shown with the prompt, once the step is saved

        say("The narrator is writing...")
        if kind == "begin":
            work = game.begin(hear)
        elif kind == "retry":
            work = game.retry(hear)
        else:
            work = game.tell(action, hear)
        self.telling = asyncio.ensure_future(work)
        try:
            await asyncio.wait({self.telling})
        finally:
            task, self.telling = self.telling, None
        if task.cancelled() or task.exception() is not None:
            paragraph.say_held()
        if task.cancelled():
            if game.story.seq != before:  # the step was in before the stop
                say("(stopped, but the step was already saved)")
                self.read_back()
            else:
                self.stopped(typed, "Stopped: nothing of this step was saved.")
            return
        error = task.exception()
        if isinstance(error, PlayerError):
            # As the TUI shows it: a failed step says so itself ("the story could not go on: ...").
            self.stopped(typed, said_as_sentence(error))
            return
        if error is not None:
            raise error
        paragraph.end(task.result().version.paragraph)
        await self.write_transcript()

    def stopped(self, typed: str, why: str) -> None:
        say()
        say(why)
        if typed.strip():
            self.kept = typed

    async def write_transcript(self) -> None:
        if self.transcript is not None:
            try:
                await self.game.export("md", str(self.transcript))
            except PlayerError as error:
                say(f"the transcript could not be written ({one_line(error)}); transcript off")
                self.transcript = None

    # -- the verbs ----------------------------------------------------------------------------
    async def verb_help(self, _: str) -> None:
        say(help_for(self.language))

    async def verb_undo(self, _: str) -> None:
        undone = await self.game.undo()
        said = "(continue)" if undone.action == CONTINUE else undone.action
        say(f"Undone: step {undone.number} ({said}).")
        await self.write_transcript()

    async def verb_again(self, _: str) -> None:
        action = last_action(self.game.story)
        if action is None:
            say("There is no action to do again yet.")
            return
        await self.tell("step", action, "" if action == CONTINUE else action)

    async def verb_retry(self, _: str) -> None:
        if len(self.game.story.steps) < 2:
            say("There is no step to retry yet.")
            return
        await self.tell("retry")

    async def verb_save(self, name: str) -> None:
        name = name or self.shelf.unique(self.game.name)
        await self.game.save_as(name)
        say(f"Saved a copy as {name}; you are still playing {self.game.name} (restore {name} goes there).")

    async def verb_restore(self, name: str) -> None:
        if not name:
            say("Restore which? The slots: " + ", ".join(self.shelf.names()))
            return
        if name == self.game.name:
            say(f"You are playing {name} already.")
            return
        if not self.shelf.has(name):
            say(f"No slot named {name}; the slots: {', '.join(self.shelf.names())}")
            return
        await self.switch(name)

    async def verb_restart(self, _: str) -> None:
        seed = self.game.story.seed
        await self.switch(self.shelf.unique_for(seed.title), seed)

    async def switch(self, name: str, seed=None) -> None:
        """Another slot in this game's place; if it cannot be opened, this one again."""
        old = self.game
        await old.close()
        try:
            self.game = await Game.open(old.settings, old.saves, name, seed, self.model, reading=True)
        except PlayerError as error:
            say(f"{name} could not be opened: {one_line(error)}")
            self.game = await Game.open(old.settings, old.saves, old.name, None, self.model, reading=True)
            return
        self.kept, self.transcript = "", None
        self.language = language_of(self.game.story)
        if seed is not None:
            say(f"Restarted in a new slot, {name}; {old.name} is kept as it was.")
        self.introduce()
        if not self.game.story.steps:
            await self.tell("begin")

    async def verb_status(self, _: str) -> None:
        say(status_line(self.game))

    async def verb_recap(self, _: str) -> None:
        say(recap_of(self.game.story))

    async def verb_read(self, _: str) -> None:
        self.read_back()

    # -- memory, as the TUI's memory panel shows it: read it, pin and unpin notes, search ---------
    async def verb_memory(self, _: str) -> None:
        for line in memory_lines(self.game.story):
            say(line)

    async def verb_pin(self, note: str) -> None:
        say(f"Pinned as note {await self.game.pin_note(note)}: the narrator reads it every step.")

    async def verb_unpin(self, number: str) -> None:
        try:
            say(f"Unpinned: {await self.game.unpin_note(int(number))}")
        except PlayerError as error:  # no such note
            say(said_as_sentence(error))

    async def verb_search(self, words: str) -> None:
        found = await self.game.search(words, SEARCH_LIMIT)
        if not found:
            say("Nothing in long-term memory" + (f" for {words}." if words else " yet."))
            return
        say(f"Long-term memory, best match first, for {words}:" if words else "Long-term memory, the latest entries:")
        for entry, why in found:
            say(f"  step {entry.step}, {entry.kind} ({why}): {entry.text}")

    async def verb_transcript(self, switch: str) -> None:
        if switch == "off":
            if self.transcript is None:
                say("The transcript is off.")
            else:
                say(f"Transcript off; {self.transcript} holds the story to step {self.game.story.taken}.")
                self.transcript = None
            return
        if switch == "" and self.transcript is not None:
            say(f"The transcript is on, written to {self.transcript} (transcript off stops it).")
            return
        self.transcript = Path.cwd() / f"{self.game.name}-transcript.md"
        await self.write_transcript()
        if self.transcript is not None:
            say(f"Transcript on: {self.transcript} is written as you play.")
