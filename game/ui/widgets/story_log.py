"""The story so far, and the reader of all of it: the player's actions set apart from the
narration, chapter breaks with their recaps, newest at the bottom.

Every piece of text is shown as plain text (markup off), so "[bold]" in a model's prose is
printed, never interpreted. Only a window of steps is mounted (`PAGE` at first, at most
`KEEP`): scrolling near either end of it mounts the next steps there and lets go of the far
end, so a story thousands of steps long opens as fast as a short one and can still be read
back to its first paragraph. A step can be selected (a click, or the arrows when the log has
focus) for "Branch here"; a search lights up its words.
"""
from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

PAGE = 20  # steps mounted at a time: more than a tall terminal shows
KEEP = 120  # steps mounted at most; the far end of the window is let go beyond this


class Part(Static):
    """A piece of one step on screen (its action, its paragraph, a chapter break...)."""

    def __init__(self, number: int, text: str | Text = "", **kwargs) -> None:
        super().__init__(text, markup=False, **kwargs)
        self.number = number


class Prose(Part):
    """A paragraph of narration."""

    def __init__(self, text: str | Text = "", number: int = -1, **kwargs) -> None:
        super().__init__(number, text, **kwargs)


class ActionLine(Part):
    def __init__(self, number: int, action: str | Text, **kwargs) -> None:
        super().__init__(number, self.line(action), **kwargs)

    @staticmethod
    def line(action: str | Text) -> str | Text:
        """The reader's action as the log shows it, its search words lit if it has them."""
        return Text.assemble("> ", action) if isinstance(action, Text) else f"> {action}"


class Marker(Static):
    """Where the mounted window ends and more of the story waits (above or below)."""


class StoryLog(VerticalScroll):
    can_focus = True
    BINDINGS = [
        Binding("up", "select(-1)", "Previous step", show=False),
        Binding("down", "select(1)", "Next step", show=False),
        Binding("home", "first", "First step", show=False),
        Binding("end", "last", "Newest step", show=False),
    ]

    @dataclass
    class Selected(Message):
        """The reader selected a step (for "Branch here")."""

        number: int

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.story = None
        self.lo = self.hi = 0  # the steps mounted: lo..hi-1
        self.hide_last = False
        self.selected: int | None = None
        self.highlight = ""  # words a search lights up
        self.streaming: Prose | None = None
        self.streamed = ""
        self._growing = False
        self._follow = False  # the reader is at the newest paragraph: keep them there as the log resizes

    # -- drawing ------------------------------------------------------------------
    def show(self, story, hide_last: bool = False) -> None:
        """Draw the end of the story from scratch (the story is the truth; the log only shows it)."""
        self.story, self.hide_last = story, hide_last
        self.selected = None
        n = len(story.steps)
        self._draw(max(0, n - PAGE), n)
        self._follow = True
        self.scroll_end(animate=False)

    def jump(self, number: int) -> None:
        """Draw the steps around step `number`, select it and bring it to the top."""
        n = len(self.story.steps)
        hi = min(n, max(0, number - PAGE // 4) + PAGE)
        self._draw(max(0, hi - PAGE), hi)
        self._follow = False
        self.select(number)
        self.call_after_refresh(self._bring, number)

    def _bring(self, number: int) -> None:
        parts = self._parts(number)
        if parts:
            self.scroll_to_widget(parts[0], top=True, animate=False)

    def _draw(self, lo: int, hi: int) -> None:
        self.workers.cancel_group(self, "reading")  # a window being grown is drawn anew
        self.streaming = None
        self.lo, self.hi = lo, hi
        # Until the new window is laid out, the scroll position says nothing about the reader.
        self._growing = True
        self.remove_children()
        self.mount_all([*self._top(), *self._steps(lo, hi), *self._bottom()])
        self.call_after_refresh(self._drawn)

    def _drawn(self) -> None:
        self._growing = False
        # A window that does not fill the screen cannot be scrolled to grow it: look once the
        # scroll that came with the drawing (to the end, to a step) has been made.
        self.call_after_refresh(self._near_an_edge)

    def _top(self) -> list[Static]:
        if self.lo == 0:
            return []
        return [Marker(f"↑ {self.lo:,} earlier steps: scroll up to read them (Home, in the story, goes to the first)",
                       markup=False, classes="earlier")]

    def _bottom(self) -> list[Static]:
        later = len(self.story.steps) - self.hi
        if later <= 0:
            return []
        return [Marker(f"↓ {later:,} later steps: scroll down to read on (End goes to the newest)",
                       markup=False, classes="earlier")]

    def _steps(self, lo: int, hi: int) -> list[Static]:
        steps = self.story.steps
        chapter = 1 + sum(s.version.chapter for s in steps[:lo])
        widgets: list[Static] = []
        for step in steps[lo:hi]:
            last = step is steps[-1]
            number = step.number
            if number > 0 and step.action:
                widgets.append(ActionLine(number, self._lit(step.action), classes="action"))
            if last and self.hide_last:
                continue
            widgets.append(Prose(self._lit(step.version.paragraph), number, classes="prose"))
            if last and step.alternatives:
                index, count = version_place(step)
                widgets.append(Part(number, f"version {index} of {count} · Alt+← / Alt+→ to flip", classes="versions"))
            if step.version.chapter:
                # A compaction: from here the narrator reads the chapter's recap, not its steps.
                chapter += 1
                widgets.append(Part(number, f"── chapter {chapter} ──", classes="chapter"))
                if step.version.memory:
                    widgets.append(Part(number, f"The story so far: {step.version.memory}", classes="recap"))
        for widget in widgets:
            if isinstance(widget, Part) and widget.number == self.selected:
                widget.add_class("-selected")
        return widgets

    def _lit(self, paragraph: str) -> str | Text:
        if not self.highlight or self.highlight.lower() not in paragraph.lower():
            return paragraph
        text = Text(paragraph)
        text.highlight_words([self.highlight], "reverse", case_sensitive=False)
        return text

    def relight(self) -> None:
        """Show the mounted paragraphs with the search's words lit (or none) again."""
        steps = self.story.steps if self.story is not None else []
        for prose in self.query(Prose):
            if prose is not self.streaming and 0 <= prose.number < len(steps):
                prose.update(self._lit(steps[prose.number].version.paragraph))
        for line in self.query(ActionLine):  # a search finds the reader's actions too
            if 0 < line.number < len(steps):
                line.update(ActionLine.line(self._lit(steps[line.number].action)))

    def _parts(self, number: int) -> list[Part]:
        return [w for w in self.children if isinstance(w, Part) and w.number == number]

    # -- reading on past the window ---------------------------------------------------
    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if not self._growing and self.story is not None:
            self._follow = self.hi == len(self.story.steps) and new_value >= self.max_scroll_y - 1
        self._near_an_edge()

    def on_resize(self) -> None:
        if self._follow:  # the options came or went under the log: the newest paragraph stays in sight
            self.scroll_end(animate=False)

    def _near_an_edge(self) -> None:
        """Within a screen of either end of the window, and the story goes on past it: mount more."""
        if self.story is None or self._growing or self.streaming is not None:
            return
        edge = max(3, self.size.height)
        if self.scroll_y <= edge and self.lo > 0:
            self.run_worker(self._grow(-1), group="reading", exit_on_error=False)
        elif self.scroll_y >= self.max_scroll_y - edge and self.hi < len(self.story.steps):
            self.run_worker(self._grow(1), group="reading", exit_on_error=False)

    async def _grow(self, direction: int) -> None:
        """Mount the next `PAGE` steps above (-1) or below (+1), keeping what the reader sees where
        it is, and let go of the far end past `KEEP` steps."""
        if self._growing:
            return
        self._growing = True
        try:
            steps = [w for w in self.children if isinstance(w, Part)]
            if not steps:
                return
            anchor = steps[0] if direction < 0 else steps[-1]
            offset = anchor.virtual_region.y - self.scroll_y
            n = len(self.story.steps)
            if direction < 0:
                lo = max(0, self.lo - PAGE)
                new, self.lo = self._steps(lo, self.lo), lo
                await self.mount_all(new, before=steps[0])
                if self.hi - self.lo > KEEP:
                    await self._let_go(range(self.lo + KEEP, self.hi))
                    self.hi = self.lo + KEEP
            else:
                hi = min(n, self.hi + PAGE)
                new, self.hi = self._steps(self.hi, hi), hi
                await self.mount_all(new, after=steps[-1])
                if self.hi - self.lo > KEEP:
                    await self._let_go(range(self.lo, self.hi - KEEP))
                    self.lo = self.hi - KEEP
            await self._markers()
            self.call_after_refresh(self._settle, anchor, offset)
        except BaseException:
            self._growing = False
            raise

    def _settle(self, anchor: Part, offset: float) -> None:
        self.scroll_to(y=anchor.virtual_region.y - offset, animate=False, immediate=True)
        self._growing = False
        self._near_an_edge()  # still at an edge (a scroll that could go no further): on to the next page

    async def _let_go(self, numbers: range) -> None:
        gone = [w for w in self.children if isinstance(w, Part) and w.number in numbers]
        if gone:
            await self.remove_children(gone)

    async def _markers(self) -> None:
        for marker in self.query(Marker):
            await marker.remove()
        if top := self._top():
            await self.mount_all(top, before=0)
        if bottom := self._bottom():
            await self.mount_all(bottom)

    # -- choosing a step ------------------------------------------------------------
    def select(self, number: int | None) -> None:
        for part in self.query(".-selected"):
            part.remove_class("-selected")
        self.selected = number
        if number is None:
            return
        for part in self._parts(number):
            part.add_class("-selected")
        self.post_message(self.Selected(number))

    def on_click(self, event) -> None:
        widget = event.widget
        while widget is not None and widget is not self and not isinstance(widget, Part):
            widget = widget.parent
        if isinstance(widget, Part) and self.streaming is None:
            self.select(widget.number)

    def action_select(self, direction: int) -> None:
        if self.story is None or not self.story.steps:
            return
        last = len(self.story.steps) - 1
        current = self.selected if self.selected is not None else last + (1 if direction < 0 else 0)
        target = min(last, max(0, current + direction))
        if not self.lo <= target < self.hi:
            self.jump(target)
            return
        self.select(target)
        parts = self._parts(target)
        if parts:
            self.scroll_to_widget(parts[0], animate=False)

    def action_first(self) -> None:
        if self.story is not None and self.story.steps:
            self.jump(0)
            self.call_after_refresh(lambda: self.scroll_home(animate=False))

    def action_last(self) -> None:
        if self.story is not None:
            self.show(self.story, self.hide_last)

    # -- a paragraph on its way ---------------------------------------------------------
    def start(self, action: str | None) -> None:
        """A new paragraph is on its way (after the action, when there is one)."""
        if self.story is not None and self.hi < len(self.story.steps):
            self.show(self.story, self.hide_last)  # the reader was further back: the story goes on at its end
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


def find(story, words: str) -> list[int]:
    """The steps whose paragraph or action holds `words` (any case), oldest first."""
    needle = " ".join(words.split()).lower()
    if not needle:
        return []
    return [step.number for step in story.steps
            if needle in step.version.paragraph.lower() or needle in step.action.lower()]


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
