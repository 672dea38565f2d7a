"""The studio's fields: which widget shows which part of a seed, and how its text reads back.

The seed being edited is plain data in the seed's own shape (game/stories/document.py). Each
field here knows its place in that data and its kind: a line, a text, a comma list, a list
one a line, the placeholders one a line, the alternative openings between lines of `---`.
A value is shown as an author would type it and read back only when the author changes it,
so looking at a field never rewrites the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

RATINGS = [("everyone", "everyone"), ("teen (the default)", "teen"), ("mature", "mature")]
BREAK = "---"


@dataclass(frozen=True)
class Spec:
    id: str  # the widget's id
    path: tuple[str, ...]  # where its value is in the data: ("protagonist", "name")
    label: str
    kind: str  # line, text, list, lines, blanks, openings, rating, bool
    height: int = 3


STORY = [
    Spec("title", ("title",), "Title", "line"),
    Spec("author", ("author",), "Author", "line"),
    Spec("genre", ("genre",), "Genre: one or two words", "line"),
    Spec("tags", ("tags",), "Tags, comma-separated", "list"),
    Spec("rating", ("rating",), "Content rating", "rating"),
    Spec("premise", ("premise",), "Premise: who, where, what is at stake (the narrator reads it every step)", "text", 4),
    Spec("style", ("style",), "Style: voice, person and tense, what to avoid", "text", 3),
    Spec("protagonist-name", ("protagonist", "name"), "Protagonist's name", "line"),
    Spec("protagonist-description", ("protagonist", "description"), "Protagonist's description", "line"),
    Spec("opening", ("opening",), "Opening: what the reader sees first (empty: the model writes it)", "text", 8),
    Spec("authors-note", ("authors_note",), "Author's note: read just before every action, at most 300 characters",
         "line"),
    Spec("instructions", ("instructions",), "Instructions to the narrator, read with its rules every step", "text", 3),
]
LISTS = [
    Spec("options", ("options",), "Options: the reader's first three choices, one a line (or none)", "lines", 4),
    Spec("pinned", ("pinned",), "Pinned notes: what the narrator must never forget, one a line", "lines", 5),
    Spec("placeholders", ("placeholders",), "Placeholders the reader fills in, one a line: name | question | default",
         "blanks", 4),
    Spec("openings", ("openings",), f"Alternative openings the reader may choose from, separated by a line of {BREAK}",
         "openings", 8),
]
ENTRY = [
    Spec("entry-name", ("name",), "Name", "line"),
    Spec("entry-keys", ("keys",), "Keys, comma-separated: words that bring the entry into a scene", "list"),
    Spec("entry-secondary", ("secondary_keys",), "Secondary keys: when given, one of these must be in play too", "list"),
    Spec("entry-always", ("always",), "Always in play (keep these few and short: they cost room every step)", "bool"),
    Spec("entry-text", ("text",), "Text: what the narrator should know", "text", 6),
]
FIELDS = {spec.id: spec for spec in STORY + LISTS + ENTRY}


def get(data: dict, path: tuple[str, ...]):
    for part in path:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def put(data: dict, path: tuple[str, ...], value) -> None:
    for part in path[:-1]:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[path[-1]] = value


def shown(kind: str, value):
    """The value as its widget shows it."""
    if kind == "bool":
        return bool(value)
    if kind == "rating":
        return value if value in ("everyone", "teen", "mature") else "teen"
    if kind == "list":
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    if kind == "lines":
        return "\n".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    if kind == "openings":
        return f"\n{BREAK}\n".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
    if kind == "blanks":
        if not isinstance(value, dict):
            return ""
        return "\n".join(f"{name} | {b.get('prompt', '')} | {b.get('default', '')}" if isinstance(b, dict) else name
                         for name, b in value.items())
    return "" if value is None else str(value)


def read(kind: str, value):
    """The widget's value as data."""
    if kind in ("bool", "rating", "line", "text"):
        return value
    if kind == "list":
        return [part.strip() for part in value.split(",") if part.strip()]
    if kind == "lines":
        return [line.strip() for line in value.splitlines() if line.strip()]
    if kind == "openings":
        return [part.strip() for part in re.split(rf"(?m)^\s*{BREAK}\s*$", value) if part.strip()]
    if kind == "blanks":
        blanks = {}
        for line in value.splitlines():
            if not line.strip():
                continue
            name, prompt, default = (part.strip() for part in (line.split("|", 2) + ["", ""])[:3])
            blanks[name] = {"prompt": prompt, "default": default}
        return blanks
    raise ValueError(kind)


def place_of(field: str) -> tuple[int | None, str]:
    """(world entry index or None, widget id) where a problem with `field` is shown."""
    entry = re.match(r"world\[(\d+)\](?:\.(\w+))?", field)
    if entry:
        ids = {"keys": "entry-keys", "secondary_keys": "entry-secondary", "text": "entry-text", "always": "entry-always"}
        return int(entry.group(1)), ids.get(entry.group(2) or "", "entry-name")
    if field.startswith("protagonist"):
        return None, "protagonist-description" if field.endswith("description") else "protagonist-name"
    head = re.match(r"[a-z_]*", field).group(0)
    return None, head.replace("_", "-") if head.replace("_", "-") in FIELDS else "title"
