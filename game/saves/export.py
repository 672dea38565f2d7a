"""Transcripts: the story as Markdown, written in one place for every face of the game."""
from __future__ import annotations

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


def write_transcript(story: Story, path: Path | str, slot: str = "") -> Path:
    """The transcript written to `path`; one-line SlotError (the story stays saved) if it cannot be."""
    target = Path(path).expanduser().absolute()
    try:
        target.write_text(markdown(story), encoding="utf-8")
    except OSError as error:
        saved = f"; the story is saved in slot {slot}" if slot else ""
        raise SlotError(f"{path}: cannot write the transcript ({error.strerror or error}){saved}") from None
    return target
