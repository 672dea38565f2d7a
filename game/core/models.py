"""The story's state, as pydantic models: what a save holds and a step changes."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, Field, field_validator


GENERIC_OPTIONS = [
    "Look around carefully.",
    "Press on toward what matters most.",
    "Stop and think about what you know.",
]


def now() -> datetime:
    return datetime.now(timezone.utc)


class Preferences(BaseModel):
    """How the reader likes the story told; part of every step's prompt."""

    person: Literal["second", "third"] = "second"
    tone: str = ""
    paragraph_words: int = Field(180, ge=40, le=1000)
    rating: Literal["everyone", "teen", "mature"] = "teen"


class Notes(BaseModel):
    """What the model writes after each paragraph. The options come first, so that they can be
    shown as soon as they arrive; the note follows while the player reads them."""

    options: list[str] = Field(min_length=3, max_length=3, description="Three different next actions for the protagonist.")
    # A ceiling for grammars (llama.cpp), so that a small model cannot spend the notes on this line;
    # not a validation rule, and not sent to servers that refuse length keywords.
    note: str = Field("", description="Two or three sentences: what changed in this paragraph.",
                      json_schema_extra={"maxLength": 400})

    @field_validator("options")
    @classmethod
    def _plain_options(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(option.split()) for option in value]
        if any(not option for option in cleaned):
            raise ValueError("an option is empty")
        return cleaned


class Bookkeeping(Notes):
    """After the paragraph that closes a chapter: the notes and a recap of the whole story so far,
    which the narrator reads from then on in place of the chapter's steps."""

    memory: str = Field(description="The summary of the whole story so far, updated with the new paragraph.")


class Recalled(BaseModel):
    """A passage of long-term memory that was put into a step's prompt, and why."""

    step: int
    text: str
    score: float
    why: str


class Version(BaseModel):
    """One telling of a step. Retry keeps earlier versions to flip through."""

    seq: int  # the journal record that wrote this text; long-term memory ids derive from it
    paragraph: str
    memory: str  # the recap the narrator reads after this step (copied forward until a chapter closes)
    options: list[str]
    recalled: list[Recalled] = Field(default_factory=list)
    world: list[str] = Field(default_factory=list)  # names of world entries used
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fallback: bool = False  # bookkeeping failed and the old memory was kept
    note: str = ""  # what changed in this paragraph, in one sentence
    chapter: bool = False  # this step closed a chapter: its memory is a new recap, read from the next step on


class Step(BaseModel):
    number: int  # 0 is the opening; 1.. are actions answered
    action: str = ""
    at: datetime = Field(default_factory=now)
    version: Version
    alternatives: list[Version] = Field(default_factory=list)


class Entry(BaseModel):
    """One item of long-term memory: an action or a sentence-sized piece of a paragraph."""

    id: str
    step: int
    kind: Literal["action", "paragraph"]
    text: str
    paragraph: str = ""  # the id prefix of the whole paragraph this piece belongs to
