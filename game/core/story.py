"""The story as the journal tells it: replaying records gives the current state.

Every change to a story is a record appended to the journal (core/records.py).
`Story.apply` is the only place that interprets records, so a save opened after a
crash, a save being played and a rebuilt memory index all see the same story; it
also says what long-term memory must change, so nothing else needs to know the kinds.
"""
from __future__ import annotations

from pydantic import BaseModel, Field, PrivateAttr

from game.core import records as r
from game.core.models import Entry, Preferences, Step
from game.core.records import Change, RecordError
from game.core.seed import Seed
from game.core.text import count_words, pieces


class Story(BaseModel):
    seed: Seed
    prefs: Preferences = Field(default_factory=Preferences)
    steps: list[Step] = Field(default_factory=list)
    pinned: list[str] = Field(default_factory=list)
    forgotten: set[str] = Field(default_factory=set)  # long-term entries the player deleted
    amended: dict[str, str] = Field(default_factory=dict)  # long-term entries the player rewrote
    seq: int = -1  # the last record applied
    _word_counts: dict[int, int] = PrivateAttr(default_factory=dict)

    # -- reading ---------------------------------------------------------------
    @property
    def taken(self) -> int:
        """Steps taken: actions answered (the opening is not one)."""
        return max(0, len(self.steps) - 1)

    @property
    def memory(self) -> str:
        return self.steps[-1].version.memory if self.steps else ""

    @property
    def options(self) -> list[str]:
        return list(self.steps[-1].version.options) if self.steps else []

    def words(self) -> int:
        counts = self._word_counts  # by version seq: a version's text never changes under one seq
        total = 0
        for step in self.steps:
            seq = step.version.seq
            if seq not in counts:
                counts[seq] = count_words(step.version.paragraph)
            total += counts[seq]
        return total

    def entries_of(self, step: Step) -> list[Entry]:
        version = step.version
        prefix = f"v{version.seq}"
        found: list[Entry] = []
        if step.number > 0 and step.action.strip():
            found.append(Entry(id=f"{prefix}-a", step=step.number, kind="action", text=step.action, paragraph=prefix))
        for i, piece in enumerate(pieces(version.paragraph)):
            found.append(Entry(id=f"{prefix}-{i}", step=step.number, kind="paragraph", text=piece, paragraph=prefix))
        out = []
        for entry in found:
            if entry.id in self.forgotten:
                continue
            if entry.id in self.amended:
                entry = entry.model_copy(update={"text": self.amended[entry.id]})
            out.append(entry)
        return out

    def entries(self) -> list[Entry]:
        """Everything long-term memory should hold for this story, as the journal says."""
        return [entry for step in self.steps for entry in self.entries_of(step)]

    # -- changing ---------------------------------------------------------------
    def apply(self, record: r.Record) -> Change:
        """Apply the next record; what long-term memory must change. RecordError, with the story
        unchanged, when the record does not fit (a seq out of order, a step that does not follow)."""
        if record.seq != self.seq + 1:
            raise RecordError(f"record {record.seq}: expected record {self.seq + 1} next")
        handler = getattr(self, f"_on_{type(record).__name__.lower()}", None)
        if handler is None:
            raise RecordError(f"record {record.seq}: a story begins only once")
        change = handler(record)
        self.seq = record.seq
        return change

    def _replaced(self, number: int, before: list[Entry]) -> Change:
        """Long-term memory for step `number`, whose entries were `before`."""
        after = self.entries_of(self.steps[number]) if number < len(self.steps) else []
        old = {e.id: e.text for e in before}
        kept = {e.id for e in after}
        return Change(drop=[i for i in old if i not in kept], add=[e for e in after if old.get(e.id) != e.text])

    def _on_told(self, record: r.Told) -> Change:
        step = record.step
        if step.version.seq != record.seq:
            raise RecordError(f"record {record.seq}: its text claims record {step.version.seq}")
        if step.number != len(self.steps):
            raise RecordError(f"record {record.seq}: step {step.number} does not follow step {len(self.steps) - 1}")
        self.steps.append(step)
        return Change(add=self.entries_of(step))

    def _on_retold(self, record: r.Retold) -> Change:
        step = record.step
        if step.version.seq != record.seq:
            raise RecordError(f"record {record.seq}: its text claims record {step.version.seq}")
        if not self.steps or step.number != self.steps[-1].number:
            raise RecordError(f"record {record.seq}: retry of a step that is not the last")
        before = self.entries_of(self.steps[-1])
        self.steps[-1] = step
        return self._replaced(step.number, before)

    def _on_undone(self, record: r.Undone) -> Change:
        if len(self.steps) <= 1:
            raise RecordError(f"record {record.seq}: nothing to undo")
        gone = self.entries_of(self.steps.pop())
        return Change(drop=[e.id for e in gone])

    def _on_edited(self, record: r.Edited) -> Change:
        step = self._step(record.seq, record.number)
        before = self.entries_of(step)
        step.version = step.version.model_copy(update={"paragraph": record.paragraph, "seq": record.seq})
        return self._replaced(record.number, before)

    def _on_flipped(self, record: r.Flipped) -> Change:
        step = self._step(record.seq, record.number)
        if not 0 <= record.index < len(step.alternatives):
            raise RecordError(f"record {record.seq}: step {step.number} has no version {record.index}")
        before = self.entries_of(step)
        step.version, step.alternatives[record.index] = step.alternatives[record.index], step.version
        return self._replaced(record.number, before)

    def _on_memoryedited(self, record: r.MemoryEdited) -> Change:
        if self.steps:
            last = self.steps[-1]
            last.version = last.version.model_copy(update={"memory": record.text})
        return Change()

    def _on_pinned(self, record: r.Pinned) -> Change:
        self.pinned = list(record.notes)
        return Change()

    def _on_forgotten(self, record: r.Forgotten) -> Change:
        self.forgotten.add(record.id)
        self.amended.pop(record.id, None)
        return Change(drop=[record.id])

    def _on_amended(self, record: r.Amended) -> Change:
        self.amended[record.id] = record.text
        prefix = record.id.split("-", 1)[0]  # "v12-3": piece 3 of the version record 12 wrote
        steps = [step for step in self.steps if f"v{step.version.seq}" == prefix]
        return Change(add=[e for step in steps for e in self.entries_of(step) if e.id == record.id])

    def _on_prefsset(self, record: r.PrefsSet) -> Change:
        self.prefs = record.prefs
        return Change()

    def _on_lost(self, record: r.Lost) -> Change:
        return Change()  # a damaged record's place, kept by repair

    def _step(self, seq: int, number: int) -> Step:
        if not 0 <= number < len(self.steps):
            raise RecordError(f"record {seq}: no step {number}")
        return self.steps[number]

    @classmethod
    def begin(cls, record: r.Record) -> "Story":
        if not isinstance(record, r.Begin):
            raise RecordError(f"record {record.seq}: a journal must start with its seed")
        story = cls(seed=record.seed, prefs=record.prefs)
        story.pinned = list(story.seed.pinned)
        story.seq = record.seq
        return story


def replay(raw_records: list[dict]) -> Story:
    """The story a journal's records make, upgraded from the format they were written in."""
    written_in = r.save_format(raw_records[0])
    story = Story.begin(r.parse(raw_records[0], written_in))
    for raw in raw_records[1:]:
        story.apply(r.parse(raw, written_in))
    return story
