"""Reading seed files: every way a seed can be wrong becomes one plain line.

An author who gets a traceback, or a pydantic report ten lines long, gives up. So each
problem is told as `file:line: field.path: what is wrong`, with the line found in the
TOML text when the parser or the schema does not say it.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ValidationError

from game.core.tomlread import loads as toml_loads
from game.core.errors import PlayerError
from game.core.files import Unreadable, read_capped, size_text
from game.core.text import safe

from game.core.seed import MAX_NESTING, Placeholder, Protagonist, Seed, WorldEntry, nested_deeper_than

MAX_BYTES = 256 * 1024  # a seed is a few KiB; anything this big is a mistake or an attack
MISSING = "is required but missing"


class SeedError(PlayerError):
    """A seed file that cannot be used. `str()` is one line naming file, line, field and problem."""

    hint = "Fix the seed file at the line and field named (stories/README.md documents every field)."

    def __init__(self, path: Path | str, problem: str, line: int | None = None, field: str = "") -> None:
        self.path = Path(path)
        self.problem = _one_line(safe(problem))  # a problem may quote the file, escapes and all
        self.line = line
        self.field = field
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {field}: {self.problem}" if field else f"{where}: {self.problem}")


def list_seeds(folder: Path | str) -> list[tuple[Path, Seed | SeedError]]:
    """Every `*.toml` in the folder, in name order, each loaded or with its error."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found: list[tuple[Path, Seed | SeedError]] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            found.append((path, load_seed(path)))
        except SeedError as err:
            found.append((path, err))
    return found


def load_seed(path: Path | str, opening: int = 1) -> Seed:
    """The seed in the file; `opening` is the one it begins with (1, its own; 2... the alternatives)."""
    path = Path(path)
    text = read_seed_text(path)
    seed = parse_seed(text, path)
    if opening == 1:
        return seed
    count = len(seed.all_openings())
    if not 1 <= opening <= count:
        raise SeedError(path, f"--opening {opening}: the story has {count or 'no'} opening{'' if count == 1 else 's'}")
    return seed.opened_with(opening - 1)


def read_seed_text(path: Path) -> str:
    """The text of a seed file: a regular file (never a pipe or a device) of at most MAX_BYTES."""
    try:
        raw = read_capped(path, MAX_BYTES, "a seed file")
    except FileNotFoundError:
        raise SeedError(path, "no such file") from None
    except Unreadable as err:
        raise SeedError(path, str(err)) from None
    except OSError as err:
        raise SeedError(path, f"cannot read: {err.strerror or err}") from None
    if not raw.strip():
        raise SeedError(path, "file is empty")
    try:
        return raw.decode("utf-8-sig")  # tolerate the BOM some Windows editors add
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start]
        raise SeedError(
            path, f"not UTF-8 text: byte 0x{byte:02x} at offset {err.start}; save the file as UTF-8", line
        ) from None


def check_size(text: str, path: Path | str) -> None:
    """A seed about to be written must be one that can be read back: at most MAX_BYTES."""
    size = len(text.encode("utf-8"))
    if size > MAX_BYTES:
        raise SeedError(path, f"would be {size_text(size)}; a seed may be at most {size_text(MAX_BYTES)}")


def parse_seed(text: str, path: Path | str = "<seed>") -> Seed:
    """Validate seed TOML text; `path` is only used to name the file in errors."""
    seed, found = check_seed(text, path)
    if seed is not None:
        return seed
    first = found[0]
    if len(found) > 1:
        more = len(found) - 1
        raise SeedError(first.path, f"{first.problem} (and {more} more problem{'s' if more > 1 else ''})",
                        first.line, first.field)
    raise first


def check_seed(text: str, path: Path | str = "<seed>") -> tuple[Seed | None, list[SeedError]]:
    """(the seed, []) or (None, every problem as a SeedError of its own), the one `parse_seed`
    reports first leading: the studio shows each at its field."""
    path = Path(path)
    try:
        data = toml_loads(text)
    except tomllib.TOMLDecodeError as err:
        message, line = _toml_message(str(err))
        return None, [SeedError(path, f"invalid TOML: {message}", line)]
    except RecursionError:
        return None, [SeedError(path, "invalid TOML: nested too deeply")]
    if nested_deeper_than(data):
        return None, [SeedError(path, f"tables nested more than {MAX_NESTING} deep; a seed needs a few levels at most")]
    if not data:
        return None, [SeedError(path, "has no fields; a seed needs at least title, genre, premise and [protagonist]")]
    try:
        return Seed.model_validate(data), []
    except ValidationError as err:
        problems = _without_echoes([describe(e) for e in err.errors()])
        located = [(find_line(text, loc), loc, field, what) for loc, field, what in problems]
        # A missing field is often the echo of a typo elsewhere, so it goes last; otherwise the
        # problem nearest the top of the file, where an author starts reading.
        located.sort(key=lambda p: (p[3] == MISSING, p[0] or 10**9))
        return None, [SeedError(path, what, line, field) for line, _, field, what in located]


# -- turning pydantic errors into sentences --------------------------------------------------

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _toml_message(message: str) -> tuple[str, int | None]:
    found = _TOML_AT.search(message)
    if not found:
        return message.replace("(at end of document)", "at the end of the file"), None
    return f"{message[: found.start()]} (column {found.group(2)})", int(found.group(1))


def field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _fields_at(loc: tuple) -> list[str]:
    """Allowed field names at the level where an unknown field `loc[-1]` sits."""
    model: type[BaseModel] = Seed
    if loc[:1] == ("protagonist",):
        model = Protagonist
    elif loc[:1] == ("world",) and len(loc) > 2:
        model = WorldEntry
    elif loc[:1] == ("placeholders",) and len(loc) > 2:
        model = Placeholder
    return list(model.model_fields)


def _kind(value) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list", dict: "a table"}
    return names.get(type(value), "a date" if hasattr(value, "isoformat") else type(value).__name__)


def describe(error: dict) -> tuple[tuple, str, str]:
    """(loc, field path, one-line problem) for one pydantic error."""
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    value = error.get("input")
    cause = ctx.get("error")
    if getattr(cause, "where", None):  # our own whole-seed checks know the field
        return _loc_of(cause.where), cause.where, str(cause)
    if kind == "extra_forbidden":
        name = str(loc[-1])
        hint = difflib.get_close_matches(name, _fields_at(loc), n=1, cutoff=0.6)
        also = f"; did you mean {hint[0]!r}?" if hint else f"; allowed here: {', '.join(_fields_at(loc))}"
        return loc, field_path(loc), f"unknown field {name!r}{also}"
    if kind == "missing":
        return loc, field_path(loc), MISSING
    if kind == "string_type":
        return loc, field_path(loc), f"should be text in quotes, not {_kind(value)}"
    if kind == "list_type":
        what = f"should be a list like [\"a\", \"b\"], not {_kind(value)}"
        if loc == ("world",):
            what = f"should be [[world]] tables, not {_kind(value)}"
        if isinstance(value, str) and "," in value:
            what += " (split the comma-separated text into a list)"
        return loc, field_path(loc), what
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return loc, field_path(loc), f"should be a table, not {_kind(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return loc, field_path(loc), f"should be true or false, not {_kind(value)}"
    if kind == "string_too_long":
        size = len(value) if isinstance(value, str) else "?"
        return loc, field_path(loc), f"is {size} characters; the limit is {ctx.get('max_length')}"
    if kind == "string_too_short":
        return loc, field_path(loc), "is empty"
    if kind == "too_long":
        return loc, field_path(loc), f"has {ctx.get('actual_length')} items; the limit is {ctx.get('max_length')}"
    if kind == "too_short":
        return loc, field_path(loc), "is empty"
    if kind == "literal_error":
        allowed = ctx.get("expected", "")
        hint = difflib.get_close_matches(str(value), re.findall(r"'([^']*)'", allowed), n=1)
        also = f"; did you mean {hint[0]!r}?" if hint else ""
        return loc, field_path(loc), f"is {value!r}; it must be one of {allowed}{also}"
    message = str(error.get("msg", "is not valid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return loc, field_path(loc), message


def _without_echoes(problems: list[tuple[tuple, str, str]]) -> list[tuple[tuple, str, str]]:
    """Drop "title is missing" when "unknown field 'tittle'; did you mean 'title'?" says it all."""
    meant = set()
    for loc, _, what in problems:
        found = re.search(r"did you mean '([^']+)'", what)
        if found:
            meant.add(loc[:-1] + (found.group(1),))
    return [p for p in problems if not (p[2] == MISSING and p[0] in meant)]


def line_of(text: str, where: str) -> int | None:
    """The line of the seed text where the field `where` ("world[2].keys") is written."""
    return find_line(text, _loc_of(where))


def _loc_of(where: str) -> tuple:
    loc: list = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", where):
        loc.append(int(index) if index else name)
    return tuple(loc)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# -- finding the line a field is on ----------------------------------------------------------

_ARRAY_HEADER = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
_HEADER = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]")


def _header_parts(raw: str) -> tuple[str, ...]:
    return tuple(p.strip().strip("\"'") for p in raw.split("."))


def _sections(text: str) -> list[tuple[tuple, int, list[tuple[int, str]]]]:
    """(loc prefix, header line, body lines) for the root and each [table] / [[array]] entry."""
    sections: list[tuple[tuple, int, list[tuple[int, str]]]] = [((), 0, [])]
    counts: dict[tuple, int] = {}
    in_string = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:  # inside a multi-line string nothing is a header or a key
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        array, table = _ARRAY_HEADER.match(line), _HEADER.match(line)
        if array:
            name = _header_parts(array.group(1))
            index = counts.get(name, 0)
            counts[name] = index + 1
            sections.append((name + (index,), number, []))
        elif table:
            sections.append((_header_parts(table.group(1)), number, []))
        else:
            sections[-1][2].append((number, line))
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                in_string = quote
                break
    return sections


def find_line(text: str, loc: tuple) -> int | None:
    """The line where the field at `loc` is written, or its table's header; None if nowhere."""
    matching = [s for s in _sections(text) if loc[: len(s[0])] == s[0]]
    for prefix, header, body in sorted(matching, key=lambda s: -len(s[0])):
        keys: list[str] = []
        for part in loc[len(prefix):]:
            if not isinstance(part, str):
                break
            keys.append(part)
        # The longest dotted key first (`protagonist.name = ...`), then shorter ones (`protagonist = {...}`).
        for size in range(len(keys), 0, -1):
            dotted = r"\s*\.\s*".join(rf"[\"']?{re.escape(k)}[\"']?" for k in keys[:size])
            pattern = re.compile(rf"^\s*{dotted}\s*=")
            for number, line in body:
                if pattern.match(line):
                    return number
        if header:
            return header
    # A problem with a whole table of tables (`placeholders`, `world`): its first header.
    for prefix, header, _ in _sections(text):
        if header and loc and prefix[: len(loc)] == loc:
            return header
    return None
