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


class Bookkeeping(BaseModel):
    """What the model returns after each paragraph: the new short-term memory and three options."""

    memory: str = Field(description="The summary of the whole story so far, updated with the new paragraph.")
    options: list[str] = Field(min_length=3, max_length=3, description="Three different next actions for the protagonist.")

    @field_validator("options")
    @classmethod
    def _plain_options(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(option.split()) for option in value]
        if any(not option for option in cleaned):
            raise ValueError("an option is empty")
        return cleaned


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
    memory: str
    options: list[str]
    recalled: list[Recalled] = Field(default_factory=list)
    world: list[str] = Field(default_factory=list)  # names of world entries used
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fallback: bool = False  # bookkeeping failed and the old memory was kept


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
