"""The studio's checking: the seed checked in a thread a moment after each change, each
problem shown at its field, the status line, and the preview of what the narrator reads."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from textual import on, work
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from game.ui.widgets.drafts import Check, check, preview_text
from game.ui.widgets.seed_form import ENTRY, LISTS, STORY, place_of

CHECK_AFTER = 0.15  # seconds of quiet before the seed is checked again (bench/studio.py: tens of ms)


@dataclass
class Checked(Message):
    """A check of the seed, made in a thread."""

    number: int
    result: Check


class StudioChecks(Screen):
    """For StudioScreen, which holds the data (`data`, `seed_file`) and the counters used here."""

    def check_soon(self) -> None:
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(CHECK_AFTER, self.check)

    def check(self) -> None:
        """Check the seed as it stands, in a thread (a big seed takes a moment); only the newest
        check's result is shown."""
        self._check_timer = None
        self.asked += 1
        self.checking(self.asked, copy.deepcopy(self.data))

    @property
    def settled(self) -> bool:
        """What is shown is the check of the data as it stands."""
        return self._check_timer is None and self.told == self.asked

    @work(thread=True, exclusive=True, group="check")
    def checking(self, number: int, data: dict) -> None:
        self.post_message(Checked(number, check(self.seed_file, data, self.app.settings)))

    @on(Checked)
    def checked(self, message: Checked) -> None:
        """Show each problem at its field, in the words of `stories validate`."""
        if message.number != self.asked:
            return  # the data changed since: a newer check is on its way
        self.told = message.number
        result = message.result
        self.seed, self.problems, self.found = result.seed, result.problems, result.findings
        self.show_problems()
        self.show_status()
        self.query_one("#preview-text", Static).update(preview_text(result))

    def show_problems(self) -> None:
        shown_at: dict[str, str] = {}
        for problem in self.problems:  # the first problem of a field is the one shown
            entry, widget = place_of(problem.field)
            if entry is None or entry == self.entry:
                shown_at.setdefault(widget, f"{problem.field}: {problem.problem}" if problem.field else problem.problem)
        for spec in STORY + LISTS + ENTRY:
            line = self.query_one(f"#problem-{spec.id}", Static)
            line.update(shown_at.get(spec.id, ""))
            line.display = spec.id in shown_at
        table = self.query_one("#world-table", DataTable)
        marked = {place_of(p.field)[0] for p in self.problems}
        for index in range(min(table.row_count, len(self.data["world"]))):
            table.update_cell(str(index), "problem", "!" if index in marked else "")

    def show_status(self) -> None:
        status = self.query_one("#studio-status", Static)
        if self.problems:
            more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            status.update(f"{self.problems[0]}{more}")
        else:
            warnings = sum(f.level == "warning" for f in self.found)
            notes = len(self.found) - warnings
            status.update(f"valid · {warnings} warning{'s' if warnings != 1 else ''}, {notes} "
                          f"note{'s' if notes != 1 else ''} · F6 shows what the narrator reads")
        status.set_class(bool(self.problems), "invalid")

    def validate_now(self) -> bool:
        """Check at once (before a playtest); False, said, when the seed is not valid."""
        self.seed, self.problems = self.seed_file.check(self.data)
        self.check()
        if self.seed is None:
            self.notify(f"the seed does not validate yet: {self.problems[0]}", severity="warning", timeout=8)
        return self.seed is not None

