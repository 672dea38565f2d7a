"""What repair can put back into a damaged story, and what has to become a branch.

A damaged journal still holds intact records after the damage, and long-term memory
still holds the text of most steps (every action and sentence-sized piece, under the id
of the record that wrote it). So repair keeps every intact record that still replays, in
its place; a lost record's place is kept by a `Lost` record, unless long-term memory
holds the step it wrote, which is then rebuilt from there (its text and action; its
options and notes are gone). The same rebuilds the steps of a journal cut short, when
memory holds steps past its end. What still cannot follow (the steps after a lost step
that memory does not hold) is made into a branch: the story so far, a step that says
what was lost, then those steps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from game.core import records as r
from game.core.models import GENERIC_OPTIONS, Entry, Step, Version
from game.core.records import RecordError
from game.core.story import Story
from game.saves.journal import Reading
from game.saves.names import SlotError
from game.saves.slot import record_of

CONTINUE = "Continue the story."  # the action of a rebuilt step whose action memory did not keep
REBUILT = "rebuilt from long-term memory after the journal was damaged (its options and notes were lost)"
LOST_STEP = ("This part of the story was lost: its record in the save was damaged, and long-term memory "
             "did not hold it.")


@dataclass
class Remembered:
    """One record's text as long-term memory holds it."""

    step: int
    action: str = ""
    pieces: dict[int, str] = field(default_factory=dict)

    @property
    def paragraph(self) -> str:
        return " ".join(self.pieces[i] for i in sorted(self.pieces))


def remembered(entries: list[Entry]) -> dict[int, Remembered]:
    """Long-term memory's entries, by the record that wrote them."""
    found: dict[int, Remembered] = {}
    for entry in entries:
        seq = record_of(entry.id)
        suffix = entry.id.rsplit("-", 1)[-1]
        if seq is None:
            continue
        item = found.setdefault(seq, Remembered(step=entry.step))
        if entry.kind == "action":
            item.action = entry.text
        elif suffix.isdigit():
            item.pieces[int(suffix)] = entry.text
    return {seq: item for seq, item in found.items() if item.pieces}


@dataclass
class Salvage:
    records: list[dict]  # the journal repair writes
    branch: list[dict] | None = None  # a playable journal of what could not go back, if anything
    fork_step: int = 0  # the last step the branch shares with the story
    kept: int = 0  # intact records kept
    rebuilt: int = 0  # steps rebuilt from long-term memory
    lost: int = 0  # records whose place is kept by a Lost record
    left: int = 0  # intact records that only the branch holds


class _Teller:
    """A story being put back together, record by record."""

    def __init__(self, begin: dict, written_in: int) -> None:
        self.written_in = written_in  # a journal is read in one format, as `replay` reads it
        self.story = Story.begin(r.parse(begin, written_in))
        self.records = [begin]

    def add(self, raw: dict) -> None:
        """Apply and keep `raw`; RecordError (the story unchanged) when it does not fit."""
        try:
            self.story.apply(r.parse(raw, self.written_in))
        except (KeyError, ValueError) as error:  # RecordError is one; a handler may raise the others
            raise RecordError(str(error)) from None
        self.records.append(raw)

    def _made(self, seq: int, memory: dict[int, Remembered], stand_in: bool) -> dict | None:
        """A record for lost record `seq`: what it wrote, rebuilt from memory; else, with
        `stand_in`, a step that says it was lost; else None."""
        story = self.story
        number = len(story.steps)
        item = memory.get(seq)
        if item is not None and item.step < number:  # a lost edit or retelling of a step still there
            return r.Edited(seq=seq, number=item.step, paragraph=item.paragraph).line()
        if item is not None and item.step == number:
            paragraph, action, note = item.paragraph, item.action, REBUILT
        elif stand_in:
            paragraph, action, note = LOST_STEP, "", "lost when the journal was damaged"
        else:
            return None
        version = Version(seq=seq, paragraph=paragraph, memory=story.memory,
                          options=list(GENERIC_OPTIONS), fallback=True, note=note)
        action = (action or CONTINUE) if number else ""  # step 0, the opening, answers no action
        return r.Told(seq=seq, step=Step(number=number, action=action, version=version)).line()

    def fill(self, upto: int, memory: dict[int, Remembered], stand_ins: int = 0) -> tuple[int, int]:
        """Records for the lost places before record `upto`: steps rebuilt where memory holds
        them, then up to `stand_ins` steps that say they were lost, the rest Lost. (rebuilt, lost)."""
        rebuilt = lost = 0
        for seq in range(self.story.seq + 1, upto):
            raw = self._made(seq, memory, stand_in=stand_ins > 0)
            if raw is not None:
                try:
                    self.add(raw)
                    if seq in memory:
                        rebuilt += 1
                    else:
                        stand_ins -= 1
                    continue
                except RecordError:
                    pass
            self.add(r.Lost(seq=seq).line())
            lost += 1
        return rebuilt, lost

    def trim(self) -> int:
        """Drop Lost records at the end (a place after the last record kept is not known to be
        one); how many were dropped."""
        dropped = 0
        while len(self.records) > 1 and self.records[-1].get("kind") == "lost":
            self.records.pop()
            dropped += 1
        if dropped:
            self.story.seq -= dropped
        return dropped


def salvage(reading: Reading, memory: dict[int, Remembered], name: str) -> Salvage:
    """The story a damaged journal and long-term memory still make (see the module's note)."""
    intact = reading.records + [record for _line, record in reading.after]
    if not intact or intact[0].get("kind") != "begin" or intact[0].get("seq") != 0:
        raise SlotError(f"slot {name}: the journal's first record is damaged, so there is no story to rebuild "
                        "from (nothing was changed)")
    written_in = r.save_format(intact[0])
    try:
        teller = _Teller(intact[0], written_in)
    except RecordError as error:
        raise SlotError(f"slot {name}: journal does not replay ({error})") from None
    result = Salvage(records=[])
    later = sorted(intact[1:], key=lambda record: record["seq"])  # lines swapped by hand go back in order
    for index, raw in enumerate(later):
        if raw["seq"] <= teller.story.seq:
            continue  # a second record in a place already taken: only one can be the story's
        start, steps = len(teller.records), len(teller.story.steps)
        rebuilt, lost = teller.fill(raw["seq"], memory)
        result.rebuilt += rebuilt
        result.lost += lost
        try:
            teller.add(raw)
            result.kept += 1
        except RecordError:  # it cannot follow what is left of the story: a branch takes it and the rest
            result.branch, result.left = _branch(teller.records[:start], raw["seq"], later[index:], memory, written_in)
            result.fork_step = steps - 1
            break
    else:  # a journal cut short: the steps memory holds past its end
        ahead = [seq for seq in memory if seq > teller.story.seq]
        if ahead:
            rebuilt, lost = teller.fill(max(ahead) + 1, memory)
            result.rebuilt += rebuilt
            result.lost += lost
    result.lost -= teller.trim()
    result.records = teller.records
    return result


def _branch(before: list[dict], upto: int, rest: list[dict], memory: dict[int, Remembered],
            written_in: int) -> tuple[list[dict] | None, int]:
    """The story `before`, stand-in steps for the lost places before record `upto` so that the
    step there can follow, then `rest` (what does not fit is Lost). (records, records kept)."""
    teller = _Teller(before[0], written_in)
    for raw in before[1:]:
        teller.add(raw)
    first = rest[0]
    wanted = (first.get("step") or {}).get("number") if first.get("kind") in ("step", "redo") else None
    missing = wanted - len(teller.story.steps) if isinstance(wanted, int) else 0
    teller.fill(upto, memory, stand_ins=max(0, missing))
    kept = 0
    for raw in rest:
        if raw["seq"] <= teller.story.seq:
            continue
        teller.fill(raw["seq"], memory)
        try:
            teller.add(raw)
            kept += 1
        except RecordError:
            teller.add(r.Lost(seq=raw["seq"]).line())
    teller.trim()
    return (teller.records, kept) if kept else (None, 0)
