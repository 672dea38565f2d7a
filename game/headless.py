"""`recurrent write`: a story written headless, the paper's AIGC mode."""
from __future__ import annotations

import sys
from pathlib import Path

from game.engine.narrator import Narrator, pick
from game.saves.export import markdown
from game.saves.names import SlotError
from game.saves.slot import delete_slot
from game.session import engine_settings, memory_config, prefs_from, saves_root, settings_from


def _actions(path: str | None) -> list[str]:
    if not path:
        return []
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SlotError(f"{path}: no such actions file") from None
    except (UnicodeDecodeError, OSError) as error:
        raise SlotError(f"{path}: cannot read the actions file ({error.__class__.__name__})") from None


class Progress:
    """A progress bar on stderr; plain lines when stderr is not a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.tty = sys.stderr.isatty()

    def show(self, done: int, note: str = "") -> None:
        if self.tty:
            width = 30
            filled = width * done // max(1, self.total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {note[:30]:<30}")
            if done == self.total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(f"step {done}/{self.total}{' ' + note if note else ''}\n")
        sys.stderr.flush()


def open_or_create(args, settings):
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    root = saves_root(args, settings)
    config = memory_config(settings)
    if args.story:
        seed = load_seed(Path(args.story)).filled()
        return Slot.create(root, args.slot, seed, prefs_from(settings, seed), config=config)
    return Slot.open(root, args.slot, config)


async def write(args) -> int:
    from game.llm import from_settings

    if args.steps < 0:
        raise SlotError("--steps must be 0 or more")
    settings = settings_from(args)
    lines = _actions(args.actions)
    backend = from_settings(settings=settings)
    slot = open_or_create(args, settings)
    try:
        narrator = Narrator(slot, backend, engine_settings(settings))
        progress = Progress(args.steps)

        def notice(event) -> None:
            sys.stderr.write(f"\n{event.text}\n" if progress.tty else f"{event.text}\n")

        try:
            await narrator.begin(None, notice)
        except BaseException:
            if args.story and not slot.story.steps:
                slot.close()
                delete_slot(slot.root, slot.name)  # only the seed was written: leave no empty slot behind
            raise
        fallbacks = 0
        for index in range(args.steps):
            line = lines[index] if index < len(lines) else ""
            action = pick(line, slot.story.options, empty="first")
            step = await narrator.step(action, None, notice)
            fallbacks += step.version.fallback
            progress.show(index + 1)  # printed only once the step is in the journal
        if args.steps:
            sys.stderr.write(f"wrote {args.steps} steps to slot {slot.name}; {fallbacks} fell back to the previous memory "
                             f"and generic options (the model's bookkeeping was not valid JSON)\n")
            sys.stderr.flush()
        text = markdown(slot.story)
        if args.out:
            try:
                Path(args.out).write_text(text, encoding="utf-8")
            except OSError as error:
                raise SlotError(f"{args.out}: cannot write the transcript ({error.strerror or error}); "
                                f"the story is saved in slot {slot.name}") from None
        else:
            sys.stdout.write(text)
    finally:
        slot.close()
        await backend.close()
    return 0
