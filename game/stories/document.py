"""A seed file as its author wrote it, to change and write back (the studio).

The file is kept as a tomlkit document, so comments, the order of fields and the layout of
everything the author did not change stay as they were; only a changed value is written anew.
What the studio edits is plain data in the seed's own shape (what `tomllib` reads from the
file); each world entry may carry `_from`, the index of the `[[world]]` table it came from, so
an edited entry keeps its table (and the comments in it) and a new one gets a table of its own.
"""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import tomlkit
from tomlkit.items import AoT

from game.core.tomlread import loads as toml_loads
from game.core.seed import Seed
from game.core.files import CannotWrite, write_whole
from game.stories.loader import SeedError, check_seed, check_size, read_seed_text

FIELDS = ("title", "author", "genre", "tags", "rating", "premise", "style", "opening", "openings", "instructions",
          "authors_note", "pinned", "options")
REQUIRED = {"title", "genre", "premise"}  # written even when empty, so the problem is "is empty" at the field
ENTRY_FIELDS = ("name", "keys", "secondary_keys", "always", "text")

BLANK = """\
# A story seed for Recurrent: stories/README.md documents every field.
title = ""
genre = ""
premise = ""

[protagonist]
name = ""
"""


class SeedFile:
    """One seed file being edited: where it is (None until a new seed is first saved), its text
    as last read or saved, and that text's data."""

    def __init__(self, text: str, path: Path | None = None) -> None:
        self.path = path
        self.text = text
        try:
            self._data = toml_loads(text)
            tomlkit.parse(text)
        except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError, RecursionError):
            # The loader says what is wrong in the words `stories validate` uses.
            _seed, problems = check_seed(text, path or "<new seed>")
            raise problems[0] if problems else SeedError(path or "<new seed>", "invalid TOML") from None

    @property
    def data(self) -> dict:
        """The file's data as last read or saved: a copy, so that editing it changes nothing here."""
        return copy.deepcopy(self._data)

    @classmethod
    def open(cls, path: Path | str) -> "SeedFile":
        path = Path(path)
        return cls(read_seed_text(path), path)

    @classmethod
    def blank(cls) -> "SeedFile":
        return cls(BLANK)

    # -- reading and checking -------------------------------------------------------------
    def render(self, data: dict) -> str:
        """The file's text with `data` in it, the rest as the author left it."""
        doc = tomlkit.parse(self.text)  # a fresh document: rendering never changes what was read
        old = self._data
        for key in FIELDS:
            _set(doc, key, data.get(key), old.get(key), required=key in REQUIRED)
        # A table the file holds in a shape the studio cannot show (`protagonist = "Ada"`) stays as
        # the author wrote it, for validation to name, until the author changes it.
        for key, write, shape in (("protagonist", _protagonist, dict), ("placeholders", _placeholders, dict),
                                  ("world", _world, list)):
            new, before = data.get(key), old.get(key)
            if new == before or (new is not None and not isinstance(new, shape)):
                continue
            if not new and before is not None and not isinstance(before, shape):
                continue  # nothing shown of it, nothing to change
            write(doc, new or shape(), old.get(key))
        return tomlkit.dumps(doc)

    def check(self, data: dict) -> tuple[Seed | None, list[SeedError]]:
        """The seed `data` makes, or every problem with it, as `stories validate` words them."""
        return check_seed(self.render(data), self.path or "<new seed>")

    # -- saving ---------------------------------------------------------------------------
    def save(self, data: dict, path: Path | None = None) -> Path:
        """Write `data` to `path` (default: where it was read), whole or not at all."""
        target = Path(path or self.path)
        text = self.render(data)
        write_text(target, text)
        self.path, self.text, self._data = target, text, tomllib.loads(text)
        return target


def write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all: a crash mid-write must not leave half a seed. A seed too
    big to be read back is refused before anything is written."""
    try:
        check_size(text, path)
    except SeedError as err:
        raise SeedError(path, f"{err.problem}; nothing was written") from None
    try:
        write_whole(path, text, make_folder=True)
    except CannotWrite as err:
        raise SeedError(path, f"cannot write: {err.reason}") from None


def entries_with_origin(data: dict) -> list[dict]:
    """The world entries of `data` (as read from a file), each marked with the table it came from."""
    world = data.get("world")
    if not isinstance(world, list):
        return []
    return [{**entry, "_from": i} for i, entry in enumerate(world) if isinstance(entry, dict)]


# -- writing values into the document -------------------------------------------------------


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value is False or value == {}


def _item(value):
    if isinstance(value, str):
        return tomlkit.string(value, multiline="\n" in value)
    if isinstance(value, list):
        array = tomlkit.array()
        array.extend(_item(v) for v in value)
        if any("\n" in v for v in value if isinstance(v, str)) or sum(len(str(v)) + 4 for v in value) > 90:
            array.multiline(True)  # long notes and options one a line, as authors write them
        return array
    return value


def _set(container, key: str, new, old, required: bool = False) -> None:
    """`container[key] = new`, unless it is what the file already says (then the author's text
    stays, to the byte); an emptied optional field goes rather than stay as `""`."""
    if new == old:
        return
    if _empty(new) and not required:
        if key in container:
            del container[key]
        return
    container[key] = _item("" if new is None else new)


def _protagonist(doc, new: dict, old) -> None:
    old = old if isinstance(old, dict) else {}
    if "protagonist" not in doc or not isinstance(doc["protagonist"], dict):
        if "protagonist" in doc:
            del doc["protagonist"]
        doc["protagonist"] = tomlkit.table()
    table = doc["protagonist"]
    _set(table, "name", new.get("name", ""), old.get("name"), required=True)
    _set(table, "description", new.get("description", ""), old.get("description"))


def _placeholders(doc, new: dict, old) -> None:
    old = old if isinstance(old, dict) else {}
    if new == old:
        return
    if not new:
        if "placeholders" in doc:
            del doc["placeholders"]
        return
    if "placeholders" not in doc or not isinstance(doc["placeholders"], dict):
        if "placeholders" in doc:
            del doc["placeholders"]
        doc["placeholders"] = tomlkit.table(is_super_table=True)
    tables = doc["placeholders"]
    for name in [name for name in tables if name not in new]:
        del tables[name]
    for name, blank in new.items():
        before = old.get(name) if isinstance(old.get(name), dict) else {}
        if name not in tables or not isinstance(tables[name], dict):
            tables[name] = tomlkit.table()
        for key in ("prompt", "default"):
            _set(tables[name], key, blank.get(key, ""), before.get(key), required=True)


def _world(doc, new: list[dict], old) -> None:
    old = old if isinstance(old, list) else []
    present = doc.get("world")
    tables = list(present) if isinstance(present, AoT) else []
    origins = [entry.get("_from") for entry in new]
    kept = []
    for entry in new:
        origin = entry.get("_from")
        if origin is not None and origin < len(tables):
            table, before = tables[origin], old[origin] if origin < len(old) and isinstance(old[origin], dict) else {}
        else:
            table, before = tomlkit.table(), {}
        for key in ENTRY_FIELDS:
            _set(table, key, entry.get(key), before.get(key), required=key in ("name", "text"))
        kept.append(table)
    old_ones = [o for o in origins if o is not None]
    if not isinstance(present, AoT):  # none yet, or an inline `world = [...]`: tables of our own
        if "world" in doc:
            del doc["world"]
        if not kept:
            return
        doc["world"] = present = tomlkit.aot()
        tables = []
    elif old_ones != list(range(len(tables))) or origins[: len(tables)] != old_ones:
        while len(present):  # emptied and refilled in place: the tables keep their own comments
            del present[0]
        tables = []
        if not kept:
            del doc["world"]
            return
    for i, table in enumerate(kept[len(tables):], start=len(tables)):  # what is new goes at the end
        if i and not kept[i - 1].as_string().endswith("\n\n"):
            kept[i - 1].add(tomlkit.nl())  # a blank line before each [[world]], as authors write them
        present.append(table)
