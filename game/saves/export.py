"""Transcripts: the story as Markdown."""
from __future__ import annotations

from game.engine.story import Story
from game.engine.text import safe


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
