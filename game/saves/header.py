"""A slot's header (`header.json`): what listings show without replaying the journal, and the
branch's origin, which only the header holds.

The header is a typed, versioned record, read here and nowhere else: `read` gives a `Header` or
says in one line why the file is no good. A header written before it carried a `version` is
version 0 and is upgraded as it is read (pyeventsourcing's habit: one upgrade a stored version),
so every slot an older Recurrent wrote still opens. The journal stays the truth: a header that
is missing or damaged is rebuilt from it by whoever reads it (`folder.read_header`, `Slot.open`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, model_validator

from game.core.text import safe

HEADER = "header.json"
VERSION = 1  # of the header's own shape; the journal's save format is `schema`


class HeaderProblem(ValueError):
    """header.json is there but cannot be used; the message is one line for `saves check`."""


class Header(BaseModel):
    """One slot's header. Unknown keys (a newer version's, or a player's) are kept out of it."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    version: StrictInt = VERSION
    save_format: StrictInt | None = Field(None, alias="schema")  # the journal's save format when it was written
    slot: StrictStr = ""  # the folder's name when it was written (a copied folder keeps the other's)
    title: StrictStr
    genre: StrictStr = ""
    steps: StrictInt = Field(ge=0)
    words: StrictInt | None = Field(None, ge=0)
    updated: StrictStr | None = None  # the last step told, ISO time
    opened: StrictStr | None = None  # the last time a player opened it to play
    embedder: StrictStr = ""
    # The slot's identity, made once with it and kept on every rewrite: a slot deleted and another
    # made under its name have different ones, so a branch of the first never hangs under the second.
    id: StrictStr | None = Field(None, min_length=1)
    parent: StrictStr | None = None  # a branch's parent slot, and the step it forked at
    fork_step: StrictInt | None = None
    parent_id: StrictStr | None = None  # the parent's identity (branches made before ids had none)
    choice: StrictStr | None = None  # a branch's first action after its fork

    @model_validator(mode="before")
    @classmethod
    def _sound_origin(cls, data):
        """A parent and fork step that are not both sound name no origin; the rest still counts."""
        if isinstance(data, dict):
            parent, fork = data.get("parent"), data.get("fork_step")
            if not isinstance(parent, str) or isinstance(fork, bool) or not isinstance(fork, int) or fork < 0:
                data = {key: value for key, value in data.items() if key not in ("parent", "fork_step", "parent_id")}
            for key in ("id", "parent_id"):  # an identity of the wrong kind is no identity
                if key in data and not (isinstance(data[key], str) and data[key]):
                    data = {k: value for k, value in data.items() if k != key}
        return data

    @property
    def origin(self) -> dict:
        """{"parent", "fork_step"} of a branch, and "parent_id" when it holds one; {} for a story's first slot."""
        if self.parent is None:
            return {}
        origin = {"parent": self.parent, "fork_step": self.fork_step}
        return {**origin, "parent_id": self.parent_id} if self.parent_id else origin

    def listing(self, name: str) -> dict:
        """The header as a listing shows it: plain values, no escape codes (a header may have been
        written by hand), and "slot" the folder's own name."""
        row = self.model_dump(by_alias=True, exclude_none=True)
        for key in ("title", "genre", "updated", "opened", "choice", "parent"):
            if key in row:
                row[key] = safe(row[key])
        return {**row, "slot": name}

    def text(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, exclude_none=True), indent=1)


def _from_0(data: dict) -> dict:
    """Version 0: the headers written before `version` was (the same fields, unmarked)."""
    return {**data, "version": 1}


UPGRADES: dict[int, Callable[[dict], dict]] = {0: _from_0}


def read(folder: Path) -> Header | None:
    """The header of the slot in `folder`; None when there is none (a crash before it was first
    written). HeaderProblem, in one line, when it cannot be read or used."""
    try:
        raw = (Path(folder) / HEADER).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise HeaderProblem(f"header.json cannot be read ({error.strerror or error})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HeaderProblem("header.json is damaged (not JSON)") from None
    return parse(data)


def parse(data) -> Header:
    """`data` (a header's JSON) as a Header of this version, upgraded from an older one."""
    if not isinstance(data, dict) or not {"title", "steps"} <= set(data):
        raise HeaderProblem("header.json is damaged (title or steps missing)")
    version = data.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise HeaderProblem("header.json is damaged (a field of the wrong kind)")
    if version > VERSION:
        raise HeaderProblem(f"header.json is from a newer version of Recurrent (header version {version})")
    while version < VERSION:
        data = UPGRADES[version](data)
        version = data["version"]
    try:
        return Header.model_validate(data)
    except ValidationError:
        raise HeaderProblem("header.json is damaged (a field of the wrong kind)") from None


def ident(folder: Path) -> str | None:
    """The identity in the header of the slot in `folder` (None when it holds none or cannot be read)."""
    try:
        header = read(folder)
    except HeaderProblem:
        return None
    return header.id if header is not None else None
