"""The story as the journal tells it: replaying records gives the current state.

Every change to a story is a record appended to the journal. `Story.apply` is the
only place that interprets records, so a save opened after a crash, a save being
played and a rebuilt memory index all see the same story.
"""
from __future__ import annotations

from pydantic import BaseModel, Field, PrivateAttr

from game.engine.models import Entry, Preferences, Step, Version
from game.engine.text import count_words, pieces
from game.stories.seed import Seed


class RecordError(ValueError):
    """A journal record that does not fit the story (names the record's seq)."""


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
    def apply(self, record: dict) -> None:
        kind = record.get("kind")
        seq = record["seq"]
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            raise RecordError(f"record {seq}: unknown kind {kind!r}")
        handler(record)
        self.seq = seq

    def _on_begin(self, record: dict) -> None:
        raise RecordError(f"record {record['seq']}: a story begins only once")

    def _check_seq(self, step: Step, record: dict) -> None:
        if step.version.seq != record["seq"]:
            raise RecordError(f"record {record['seq']}: its text claims record {step.version.seq}")

    def _on_step(self, record: dict) -> None:
        step = Step.model_validate(record["step"])
        self._check_seq(step, record)
        if step.number != len(self.steps):
            raise RecordError(f"record {record['seq']}: step {step.number} does not follow step {len(self.steps) - 1}")
        self.steps.append(step)

    def _on_redo(self, record: dict) -> None:
        step = Step.model_validate(record["step"])
        self._check_seq(step, record)
        if not self.steps or step.number != self.steps[-1].number:
            raise RecordError(f"record {record['seq']}: retry of a step that is not the last")
        self.steps[-1] = step

    def _on_undo(self, record: dict) -> None:
        if len(self.steps) <= 1:
            raise RecordError(f"record {record['seq']}: nothing to undo")
        self.steps.pop()

    def _on_edit(self, record: dict) -> None:
        step = self._step(record)
        step.version = step.version.model_copy(update={"paragraph": record["paragraph"], "seq": record["seq"]})

    def _on_flip(self, record: dict) -> None:
        step = self._step(record)
        index = record["index"]
        if not 0 <= index < len(step.alternatives):
            raise RecordError(f"record {record['seq']}: step {step.number} has no version {index}")
        step.version, step.alternatives[index] = step.alternatives[index], step.version

    def _on_memory(self, record: dict) -> None:
        if self.steps:
            last = self.steps[-1]
            last.version = last.version.model_copy(update={"memory": record["text"]})

    def _on_pinned(self, record: dict) -> None:
        self.pinned = list(record["notes"])

    def _on_forget(self, record: dict) -> None:
        self.forgotten.add(record["id"])
        self.amended.pop(record["id"], None)

    def _on_amend(self, record: dict) -> None:
        self.amended[record["id"]] = record["text"]

    def _on_prefs(self, record: dict) -> None:
        self.prefs = Preferences.model_validate(record["prefs"])

    def _step(self, record: dict) -> Step:
        number = record["number"]
        if not 0 <= number < len(self.steps):
            raise RecordError(f"record {record['seq']}: no step {number}")
        return self.steps[number]

    @classmethod
    def begin(cls, record: dict) -> "Story":
        if record.get("kind") != "begin":
            raise RecordError(f"record {record.get('seq')}: a journal must start with its seed")
        story = cls(seed=Seed.model_validate(record["seed"]), prefs=Preferences.model_validate(record.get("prefs") or {}))
        story.pinned = list(story.seed.pinned)
        story.seq = record["seq"]
        return story


def new_version(seq: int, paragraph: str, memory: str, options: list[str], **extra) -> Version:
    return Version(seq=seq, paragraph=paragraph, memory=memory, options=options, **extra)
