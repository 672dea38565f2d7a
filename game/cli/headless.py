"""`recurrent write`: a story written headless, the paper's AIGC mode."""
from __future__ import annotations

import sys
from pathlib import Path

from game.core.events import Notice
from game.core.files import Unreadable, read_capped
from game.session import Game, Model, NoOption, SlotError, check_out, markdown, pick, saves_root, settings_from


MAX_ACTIONS_BYTES = 16 * 1024 * 1024  # thousands of actions; a pipe or /dev/zero is refused, not read for ever


def _actions(path: str | None) -> list[str]:
    """The lines of the actions file; a digit alone that can pick no option (0, 4-9) is refused
    here, naming its line, before a step is taken."""
    if not path:
        return []
    try:
        lines = read_capped(Path(path), MAX_ACTIONS_BYTES, "an actions file").decode("utf-8").splitlines()
    except FileNotFoundError:
        raise SlotError(f"{path}: no such actions file") from None
    except Unreadable as error:
        raise SlotError(f"{path}: {error}") from None
    except (UnicodeDecodeError, OSError) as error:
        raise SlotError(f"{path}: cannot read the actions file ({error.__class__.__name__})") from None
    for number, line in enumerate(lines, 1):
        digit = line.strip()
        if len(digit) == 1 and digit.isdigit() and not 1 <= int(digit) <= 3:
            raise SlotError(f"{path} line {number}: there is no option {digit}: 1, 2 or 3 picks an option")
    return lines


class Progress:
    """Steps done on stderr: a rich progress bar with the time left when stderr is a terminal
    (a step takes seconds, so the estimate matters), plain `step N/M` lines otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()
        self._bar = None
        if self.tty and total:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._bar = Bar(TextColumn("writing"), BarColumn(), MofNCompleteColumn(), TextColumn("steps,"),
                            TimeElapsedColumn(), TextColumn("elapsed,"), TimeRemainingColumn(), TextColumn("left"),
                            console=Console(stderr=True), transient=False)
            self._task = self._bar.add_task("steps", total=total)
            self._bar.start()

    def show(self, done: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done)
        else:
            sys.stderr.write(f"step {done}/{self.total}\n")
            sys.stderr.flush()

    def say(self, text: str) -> None:
        """A notice (a retry, a format the server refused) above the bar."""
        if self._bar is not None:
            self._bar.console.print(text, markup=False, highlight=False)
        else:
            sys.stderr.write(f"{text}\n")
            sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


async def _open(args, settings, model: Model) -> Game:
    seed = None
    if args.story:
        from game.stories.shelf import load_story

        seed = load_story(args.story, getattr(args, "opening", 1)).filled()
    return await Game.open(settings, saves_root(args, settings), args.slot, seed, model)


async def write(args) -> int:
    if args.steps < 0:
        raise SlotError("--steps must be 0 or more")
    settings = settings_from(args)
    if args.out:
        check_out(args.out, saves_root(args, settings))  # refused before a step is taken, not after
    lines = _actions(args.actions)
    model = Model(settings)
    try:
        await model.ready()  # no backend, no slot: a write that cannot start leaves nothing behind
        game = await _open(args, settings, model)
        if game.said:
            print(f"recurrent: {game.said}", file=sys.stderr)
        try:
            await _tell(game, args, lines)
        finally:
            await game.close()
    finally:
        await model.close()
    return 0


async def _tell(game: Game, args, lines: list[str]) -> None:
    progress = Progress(args.steps)

    def hear(event) -> None:
        if isinstance(event, Notice):  # the paragraphs are printed once the story is written
            progress.say(event.text)

    fallbacks = 0
    try:
        await game.begin(hear)
        for index in range(args.steps):
            line = lines[index] if index < len(lines) else ""
            try:
                action = pick(line, game.story.options, empty="first")
            except NoOption as error:  # a step offered fewer than three options
                raise SlotError(f"{args.actions} line {index + 1}: {error}") from None
            step = await game.tell(action, hear)
            fallbacks += step.version.fallback
            progress.show(index + 1)  # printed only once the step is in the journal
    finally:
        progress.close()
    if args.steps:
        fell = (f"; the notes of {fallbacks} step{' was' if fallbacks == 1 else 's were'} not valid JSON: the memory "
                "before it was kept and options were made from the story") if fallbacks else ""
        sys.stderr.write(f"wrote {args.steps} step{'' if args.steps == 1 else 's'} to slot {game.name}{fell}\n")
        sys.stderr.flush()
    elif game.fresh:  # closing a new slot with nothing but its seed removes it (Game.close)
        sys.stderr.write(f"no step was played, so the new slot {game.name} is not kept: --steps 1 or more keeps it\n")
    if args.out:
        await game.export(None, args.out)
    else:
        sys.stdout.write(markdown(game.story, game.name, game.lineage()))
