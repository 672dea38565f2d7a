"""Transcripts: the story as Markdown, written in one place for every face of the game."""
from __future__ import annotations

import os
from pathlib import Path

from game.core.story import Story
from game.core.text import safe
from game.saves.names import SlotError


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def markdown(story: Story) -> str:
    seed = story.seed
    out = [f"# {safe(seed.title)}", "", f"*{safe(seed.genre)}* — {safe(seed.premise)}", ""]
    for step in story.steps:
        if step.number > 0:
            out += [_quote(f"**Step {step.number}:** {safe(step.action)}"), ""]
        out += [safe(step.version.paragraph), ""]
    return "\n".join(out).rstrip() + "\n"


def write_transcript(story: Story, path: Path | str, slot: str = "", saves: Path | None = None) -> Path:
    """The transcript written to `path`; one-line SlotError (the story stays saved) if it cannot
    be, or if `path` is inside a slot's folder of `saves` (it would overwrite a journal).

    The file is written beside its target and renamed over it, so a path that is a hard link to
    a save's file replaces the link, never the save; a pipe or a device (/dev/stdout) is written to."""
    saved = f"; the story is saved in slot {slot}" if slot else ""
    target = Path(path).expanduser().absolute()
    resolved = check_out(path, saves, saved)
    text = markdown(story)
    tmp = resolved.with_name(f".{resolved.name}.{os.getpid()}.tmp")
    try:
        if resolved.exists() and not resolved.is_file():
            with open(resolved, "w", encoding="utf-8") as handle:  # a terminal, a pipe; a folder fails here
                handle.write(text)
        else:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, resolved)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise SlotError(f"{path}: cannot write the transcript ({error.strerror or error}){saved}") from None
    return target


def check_out(path: Path | str, saves: Path | None, saved: str = "") -> Path:
    """Where a transcript for `path` would be written (symbolic links followed); SlotError if
    that is inside a slot's folder of `saves`. `write` asks before it takes a step."""
    target = Path(path).expanduser().absolute()
    try:
        resolved = target.resolve()  # through symbolic links: a link into a slot is in the slot
    except (OSError, RuntimeError) as error:
        raise SlotError(f"{path}: cannot write the transcript ({getattr(error, 'strerror', None) or error}){saved}") from None
    owner = _slot_holding(resolved, saves)
    if owner:
        raise SlotError(f"{path}: is inside the folder of slot {owner}, where it would overwrite the save; "
                        f"write the transcript somewhere else (nothing was written){saved}")
    return resolved


def _slot_holding(resolved: Path, saves: Path | None) -> str | None:
    """The slot whose folder `resolved` is in (saves/<slot>/...), if any."""
    if saves is None:
        return None
    try:
        inside = resolved.relative_to(Path(saves).expanduser().resolve())
    except (ValueError, OSError, RuntimeError):
        return None
    return inside.parts[0] if len(inside.parts) >= 2 else None
