"""The story so far: the player's actions set apart from the narration, newest at the bottom.

Every piece of text is shown as plain text (markup off), so "[bold]" in a model's
prose is printed, never interpreted. Only the last `WINDOW` steps are mounted, so a
story thousands of steps long opens as fast as a short one.
"""
from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

WINDOW = 40


class Prose(Static):
    """A paragraph of narration."""

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, markup=False, **kwargs)


class ActionLine(Static):
    def __init__(self, number: int, action: str, **kwargs) -> None:
        super().__init__(f"> {action}", markup=False, **kwargs)
        self.number = number


class StoryLog(VerticalScroll):
    can_focus = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.streaming: Prose | None = None
        self.streamed = ""

    def show(self, story, hide_last: bool = False) -> None:
        """Draw the story from scratch (the story is the truth; the log only shows it)."""
        self.streaming = None
        widgets = []
        steps = story.steps[-WINDOW:]
        if len(story.steps) > WINDOW:
            widgets.append(Static(f"… {len(story.steps) - WINDOW} earlier steps (export the transcript to read them)",
                                  markup=False, classes="earlier"))
        chapter = 1 + sum(s.version.chapter for s in story.steps[: len(story.steps) - len(steps)])
        for step in steps:
            last = step is story.steps[-1]
            if step.number > 0 and step.action:
                widgets.append(ActionLine(step.number, step.action, classes="action"))
            if last and hide_last:
                continue
            widgets.append(Prose(step.version.paragraph, classes="prose"))
            if last and step.alternatives:
                index, count = version_place(step)
                widgets.append(Static(f"version {index} of {count} · Alt+← / Alt+→ to flip",
                                      markup=False, classes="versions"))
            if step.version.chapter:
                # A compaction: from here the narrator reads the chapter's recap (F2), not its steps.
                chapter += 1
                widgets.append(Static(f"── chapter {chapter} ──", markup=False, classes="chapter"))
        self.remove_children()
        self.mount_all(widgets)
        self.scroll_end(animate=False)

    def start(self, action: str | None) -> None:
        """A new paragraph is on its way (after the action, when there is one)."""
        widgets = []
        if action:
            widgets.append(ActionLine(-1, action, classes="action"))
        self.streaming = Prose("", classes="prose streaming")
        self.streamed = ""
        widgets.append(self.streaming)
        self.mount_all(widgets)
        self.scroll_end(animate=False)

    def add(self, text: str) -> None:
        if self.streaming is None:
            return
        self.streamed += text
        self.streaming.update(self.streamed)
        self.scroll_end(animate=False)

    def restart(self) -> None:
        """The backend is sending the paragraph again: drop what was shown."""
        self.add("")
        self.streamed = ""
        if self.streaming is not None:
            self.streaming.update("")


def version_place(step) -> tuple[int, int]:
    """Which telling of the step is shown (1-based, oldest first) and how many there are."""
    versions = sorted([step.version, *step.alternatives], key=lambda v: v.seq)
    return versions.index(step.version) + 1, len(versions)


def flip_index(step, direction: int) -> int | None:
    """The index in `step.alternatives` of the next older (-1) or newer (+1) telling; None at either end."""
    if not step.alternatives:
        return None
    versions = sorted([step.version, *step.alternatives], key=lambda v: v.seq)
    place = versions.index(step.version) + direction
    if not 0 <= place < len(versions):
        return None
    target = versions[place]
    return next(i for i, v in enumerate(step.alternatives) if v is target)
