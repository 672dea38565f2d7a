"""The journal's records, typed: one class per kind of change to a story.

A record is written once and never changed. `Story.apply` (core/story.py) is the only
place that interprets them; the slot appends them and hands long-term memory the
`Change` that `apply` returns, so a new kind of record is one class here and one
handler there. Records are stored as JSON with their `kind`; `parse` reads one back.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from game.core.models import Entry, Preferences, Step
from game.core.seed import Seed

SCHEMA = 1  # the save format this version writes; older ones are upgraded as they are read


class Record(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    seq: int = -1  # the record's place in the journal, given when it is committed

    def stamped(self, seq: int) -> "Record":
        """This record as the `seq`-th of its journal."""
        return self.model_copy(update={"seq": seq})

    def line(self) -> dict:
        return self.model_dump(mode="json", by_alias=True)


class Begin(Record):
    """The first record: the seed the story starts from and how the reader likes it told."""

    kind: Literal["begin"] = "begin"
    save_format: int = Field(SCHEMA, alias="schema")
    created: str = ""
    seed: Seed
    prefs: Preferences = Field(default_factory=Preferences)


class _Telling(Record):
    step: Step

    def stamped(self, seq: int) -> "_Telling":
        # A version's seq is the record that wrote it; long-term memory ids derive from it.
        version = self.step.version.model_copy(update={"seq": seq})
        return self.model_copy(update={"seq": seq, "step": self.step.model_copy(update={"version": version})})


class Told(_Telling):
    """A new step: the player's action and the paragraph that answered it (step 0: the opening)."""

    kind: Literal["step"] = "step"


class Retold(_Telling):
    """The last step told again; the earlier tellings are its alternatives."""

    kind: Literal["redo"] = "redo"


class Undone(Record):
    """The last step taken back."""

    kind: Literal["undo"] = "undo"


class Edited(Record):
    """The player rewrote a paragraph."""

    kind: Literal["edit"] = "edit"
    number: int
    paragraph: str


class Flipped(Record):
    """The player chose another telling of a step: `index` into its alternatives."""

    kind: Literal["flip"] = "flip"
    number: int
    index: int


class MemoryEdited(Record):
    """The player rewrote the short-term memory of the last step."""

    kind: Literal["memory"] = "memory"
    text: str


class Pinned(Record):
    """The player's pinned notes, all of them."""

    kind: Literal["pinned"] = "pinned"
    notes: list[str]


class Forgotten(Record):
    """The player deleted an entry of long-term memory."""

    kind: Literal["forget"] = "forget"
    id: str


class Amended(Record):
    """The player rewrote an entry of long-term memory."""

    kind: Literal["amend"] = "amend"
    id: str
    text: str


class PrefsSet(Record):
    """How the reader likes the story told, from the next step on."""

    kind: Literal["prefs"] = "prefs"
    prefs: Preferences


class Lost(Record):
    """A record that repair could not read back (its journal line was damaged). It keeps the
    record's place, so the records after it still follow one another; it changes nothing."""

    kind: Literal["lost"] = "lost"
    damaged_line: int = 0  # the journal line it was on, before the repair


AnyRecord = Annotated[
    Union[Begin, Told, Retold, Undone, Edited, Flipped, MemoryEdited, Pinned, Forgotten, Amended, PrefsSet, Lost],
    Field(discriminator="kind"),
]
_reader = TypeAdapter(AnyRecord)


class RecordError(ValueError):
    """A journal record that does not fit the story (names the record's seq)."""


class Change(BaseModel):
    """What long-term memory must do after a record: entries to drop and entries to (re)write."""

    drop: list[str] = Field(default_factory=list)
    add: list[Entry] = Field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.drop and not self.add


def save_format(raw: dict) -> int:
    """The save format a journal's first record was written in (before the field existed: 1)."""
    value = raw.get("schema", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


# One function per save format older than SCHEMA, turning its raw records into the next
# format's. There are none yet: format 1 is the first.
UPGRADES: dict[int, callable] = {}


def upgrade(raw: dict, written_in: int) -> dict:
    for version in range(written_in, SCHEMA):
        raw = UPGRADES[version](raw)
    return raw


def parse(raw: dict, written_in: int = SCHEMA) -> Record:
    """A stored record, upgraded from the format it was written in; RecordError if it is not one."""
    try:
        return _reader.validate_python(upgrade(raw, written_in))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RecordError(f"record {raw.get('seq')}: {where}: {first['msg']}") from None
