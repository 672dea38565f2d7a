"""The story seed: what an author writes and a reader starts from.

A seed is a TOML file validated by the pydantic models below. Every text field
has a size limit so that one runaway field cannot crowd the prompt, and unknown
fields are refused so that a typo never silently drops part of a story.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from game.core.text import safe

SHORT = 200  # a title, a name, a key
LINE = 600  # a premise, a description, an option
LONG = 4000  # an opening, a world entry
NOTE = 300  # the author's note: it is in every turn of the prompt, so it stays a line or two
OPENINGS = 20  # alternative openings the reader may choose from

Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=LINE)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=LONG)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=NOTE)]

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
PLACEHOLDER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

Rating = Literal["everyone", "teen", "mature"]
Person = Literal["second", "third"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_escapes(cls, data):
        # Escape sequences in a seed (a title that clears the screen, an OSC 52 clipboard write)
        # are removed where the text comes in, whoever wrote it: a file, a card, the model.
        return _cleaned(data)


class Protagonist(Strict):
    name: Short
    description: Line = ""


class WorldEntry(Strict):
    """A lore card: its text joins the prompt when one of its keys is in play."""

    name: Short
    keys: list[Short] = Field(default_factory=list, max_length=20)
    # When given, a key alone is not enough: one of these must be in play too (a lorebook's
    # "selective" entry), so "the Queen" can bring in the court only when the palace is near.
    secondary_keys: list[Short] = Field(default_factory=list, max_length=20)
    text: Long = Field(min_length=1)
    always: bool = False

    @model_validator(mode="after")
    def _needs_a_trigger(self) -> "WorldEntry":
        if not self.keys and not self.always:
            raise ValueError("needs trigger keys or always = true")
        return self


class Placeholder(Strict):
    """A blank the reader fills in at the start, written `${name}` in the seed."""

    prompt: Line = Field(min_length=1)
    default: Line = Field(min_length=1)

    @field_validator("prompt", "default")
    @classmethod
    def _no_blank_inside(cls, value: str) -> str:
        if "${" in value:  # filled in, it would be a blank nobody declared
            raise ValueError("cannot hold a placeholder (${...}); write the text itself")
        return value


class Seed(Strict):
    title: Short
    author: Line = ""
    genre: Short
    tags: list[Short] = Field(default_factory=list, max_length=20)
    premise: Line = Field(min_length=1)
    style: Line = ""
    rating: Rating = "teen"
    protagonist: Protagonist
    opening: Long = ""
    # Other ways the story can begin (a character card's alternate greetings); the reader picks
    # one at a new game. The seed's options belong to `opening`, so another opening gets the
    # model's options.
    openings: list[Long] = Field(default_factory=list, max_length=OPENINGS)
    instructions: Long = ""  # notes to the narrator, read with the rules at the top of every prompt
    authors_note: Note = ""  # read just before every action, where AI Dungeon and KoboldAI put theirs
    pinned: list[Line] = Field(default_factory=list, max_length=20)
    world: list[WorldEntry] = Field(default_factory=list, max_length=200)
    options: list[Line] = Field(default_factory=list)
    placeholders: dict[str, Placeholder] = Field(default_factory=dict, max_length=20)

    @field_validator("options")
    @classmethod
    def _three_or_none(cls, value: list[str]) -> list[str]:
        if value and len(value) != 3:
            raise ValueError(f"needs exactly 3 suggested options or none, not {len(value)}")
        return value

    @field_validator("placeholders")
    @classmethod
    def _placeholder_names(cls, value: dict[str, Placeholder]) -> dict[str, Placeholder]:
        for name in value:
            if not PLACEHOLDER_NAME.match(name):
                raise FieldProblem(
                    f"placeholders.{name}", f"placeholder name {name!r} must be lowercase letters, digits and _"
                )
        return value

    @model_validator(mode="after")
    def _openings_follow_an_opening(self) -> "Seed":
        if self.openings and not self.opening:
            raise FieldProblem("openings", "alternative openings need a main opening first (write it in `opening`)")
        for i, text in enumerate(self.openings):
            if not text:
                raise FieldProblem(f"openings[{i}]", "is empty")
        return self

    @model_validator(mode="after")
    def _placeholders_declared(self) -> "Seed":
        # Walk the fields rather than the JSON dump so the error can say where the blank is.
        declared = set(self.placeholders)
        data = self.model_dump(exclude={"placeholders"})
        for where, text in strings_of(data, ""):
            for name in PLACEHOLDER.findall(text):
                if not PLACEHOLDER_NAME.match(name):
                    raise FieldProblem(
                        where, f"placeholder ${{{name}}} has a bad name: use lowercase letters, digits and _"
                    )
                if name not in declared:
                    hint = difflib.get_close_matches(name, sorted(declared), n=1)
                    also = f" (did you mean ${{{hint[0]}}}?)" if hint else ""
                    raise FieldProblem(
                        where, f"placeholder ${{{name}}} is not declared in [placeholders]{also}"
                    )
        return self

    def blanks(self) -> dict[str, Placeholder]:
        return dict(self.placeholders)

    def all_openings(self) -> list[str]:
        """The openings a reader can start from: the seed's own first, then the alternatives."""
        return [self.opening, *self.openings] if self.opening else []

    def opened_with(self, index: int) -> "Seed":
        """The seed that begins with opening `index` of `all_openings()` (0 is its own)."""
        if index == 0 or not self.openings:
            return self
        if not 0 < index <= len(self.openings):
            raise ValueError(f"this story has no opening {index + 1}")
        return self.model_copy(update={"opening": self.openings[index - 1], "options": [], "openings": []})

    def filled(self, values: dict[str, str] | None = None, protagonist: str | None = None) -> "Seed":
        """The seed with every `${name}` replaced: the reader's value, else the default."""
        values = dict(values or {})
        # A protagonist named `${hero}` and renamed by the reader: the same name everywhere.
        own = PLACEHOLDER.fullmatch(self.protagonist.name)
        if own and _plain(protagonist or "") and not _plain(values.get(own.group(1)) or ""):
            values[own.group(1)] = protagonist
        chosen = {}
        for name, blank in self.placeholders.items():
            given = _plain(values.get(name) or "")
            chosen[name] = given or blank.default
        data = self.model_dump()
        data.pop("placeholders")
        data = _substitute(data, chosen)
        name = _plain(protagonist or "")[:SHORT]
        old = data["protagonist"]["name"]
        if name and name != old:
            data = _renamed(data, old, name)  # "Ruth Calloway" in the notes and lore becomes the new name too
            data["protagonist"]["name"] = name
        try:
            return Seed.model_validate(data)
        except ValidationError as err:
            # Only a long answer repeated in a long field can get here: cut it, don't fail the start.
            for problem in err.errors():
                if problem["type"] != "string_too_long":
                    raise
                *path, last = problem["loc"]
                holder = data
                for part in path:
                    holder = holder[part]
                holder[last] = holder[last][: problem["ctx"]["max_length"]]
            return Seed.model_validate(data)


def _renamed(data, old: str, new: str):
    """Every whole-word mention of the protagonist's old name, full or first or last, renamed."""
    olds, news = old.split(), new.split()
    pairs = [(old, new)]
    if len(olds) > 1:
        pairs.append((olds[0], news[0]))
        pairs.append((olds[-1], news[-1] if len(news) > 1 else news[0]))
    patterns = [(re.compile(r"(?<![\w$])" + re.escape(a) + r"(?!\w)"), b) for a, b in pairs if a and a[0].isupper()]

    def walk(value):
        if isinstance(value, str):
            for pattern, replacement in patterns:
                value = pattern.sub(lambda _m, r=replacement: r, value)
            return value
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return walk(data)


class FieldProblem(ValueError):
    """A validation error that knows which field it is about (pydantic reports whole-model
    errors at the root; the loader reads `.where` from the error's context)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where


def _plain(value: str) -> str:
    # A reader's answer is one short line, and must not smuggle in a new `${blank}`.
    return " ".join(str(value).replace("${", "$ {").split())[:SHORT]


MAX_NESTING = 32  # a seed is a few tables deep, a card a few more: deeper is an attack or an accident


def nested_deeper_than(value, limit: int = MAX_NESTING) -> bool:
    """Whether tables and lists nest more than `limit` deep, found without recursion (a file
    nested 30,000 deep must not overflow the stack of every walk over it)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _cleaned(value):
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    return value


def strings_of(value, where: str):
    """(field path, text) for every string in a dumped seed, e.g. ("world[2].text", "...")."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings_of(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_of(item, f"{where}.{key}" if where else key)


def _substitute(value, chosen: dict[str, str]):
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: chosen.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_substitute(v, chosen) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, chosen) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Finding:
    """Something about a seed worth its author's attention that is not an error (stories lint,
    the studio): the field it is about, as error messages name it, and what to know."""

    where: str
    message: str
    level: Literal["warning", "note"] = "warning"

    def line(self, path: str = "") -> str:
        where = f"{path}: " if path else ""
        return f"{where}{self.level}: {self.where}: {self.message}" if self.where else f"{where}{self.level}: {self.message}"
