"""The studio's draft of a seed, apart from its widgets: the undo history of its data, and what a
check of that data finds (the problems `stories validate` would name, the narrator's first
request, what `stories lint` would say)."""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

GROUP = 1.0  # typing on in one field within this many seconds is one undo step
HISTORY = 300


class History:
    """Every state of the data, to step back and forth through."""

    def __init__(self, data: dict) -> None:
        self.states = [copy.deepcopy(data)]
        self.at = 0
        self.last: tuple[str, float] = ("", 0.0)  # the field changed last, and when

    def record(self, data: dict, where: str = "") -> None:
        """A change made to `data` (in field `where`, when it is one field's)."""
        now = time.monotonic()
        field_before, then = self.last
        if where and where == field_before and now - then < GROUP and self.at == len(self.states) - 1 and self.at:
            self.states[self.at] = copy.deepcopy(data)
        else:
            del self.states[self.at + 1:]
            self.states.append(copy.deepcopy(data))
            if len(self.states) > HISTORY:
                del self.states[0]
            self.at = len(self.states) - 1
        self.last = (where, now)

    def undo(self) -> dict | None:
        return self._go(-1)

    def redo(self) -> dict | None:
        return self._go(1)

    def _go(self, step: int) -> dict | None:
        if not 0 <= self.at + step < len(self.states):
            return None
        self.at += step
        self.last = ("", 0.0)  # the next change is a step of its own
        return copy.deepcopy(self.states[self.at])


@dataclass
class Check:
    seed: object = None  # the seed the data makes, when it is valid
    problems: list = field(default_factory=list)  # SeedErrors, the first as `validate` reports it
    preview: object = None  # the narrator's first request (game/engine/preview.py)
    findings: list = field(default_factory=list)  # lint's and the preview's


def check(seed_file, data: dict, settings) -> Check:
    """What the data makes, as a new game with the player's settings would read it."""
    from game.session import prefs_from
    from game.session.preview import first_request
    from game.stories.lint import lint

    seed, problems = seed_file.check(data)
    if seed is None:
        return Check(problems=problems)
    prefs = prefs_from(settings, seed)
    preview = first_request(seed, settings)
    return Check(seed, [], preview, lint(seed, prefs.paragraph_words) + preview.findings())


def preview_text(result: Check) -> str:
    """The preview panel: the parts and their sizes, lint's findings, the request word for word."""
    if result.preview is None:
        return ("The narrator's first request is shown here once the seed is valid:\n"
                + "\n".join(str(p) for p in result.problems[:5]))
    lines = result.preview.report()
    if result.findings:
        lines += ["", "What `stories lint` says:"] + [f"  {f.line()}" for f in result.findings]
    for index, message in enumerate(result.preview.messages):
        lines += ["", f"--- message {index + 1}: {message['role']} ---", message["content"]]
    return "\n".join(lines)
