"""Bringing lore from other games into a seed.

Formats understood:
- AI Dungeon story cards: a JSON list of {"keys": "a, b", "value": "...", "title", "type"}
  (older exports call the text "entry"; a whole scenario export with "storyCards" or
  "worldInfo" works too).
- Character Card V2 / V3 (`"spec": "chara_card_v2"`): the lorebook in
  `data.character_book.entries`, and the character itself, which can become a whole seed.
  PNG cards carry the same JSON base64-encoded in a `chara` (or `ccv3`) text chunk.
- A bare lorebook: {"entries": [...]} or {"entries": {"0": {...}}} (SillyTavern world info).

Imported text is cleaned rather than refused where a reader would not care (an overlong
entry is cut at a sentence, a disabled entry skipped); each such change is a warning.
"""
from __future__ import annotations

import base64
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from game.core.errors import PlayerError
from game.core.files import Unreadable, read_capped, size_text
from game.core.text import safe
from game.core.seed import LINE, LONG, SHORT, Placeholder, Protagonist, Seed, WorldEntry

MAX_JSON = 4 * 1024 * 1024
MAX_PNG = 20 * 1024 * 1024  # card art is big; the JSON inside it is not
MAX_KEYS = 20


class CardError(PlayerError):
    """A card file that cannot be imported; `str()` is one line naming the file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {' '.join(problem.split())}")


@dataclass
class Imported:
    entries: list[WorldEntry]
    seed: Seed | None = None  # only when the file describes a character
    warnings: list[str] = field(default_factory=list)
    format: str = ""


def import_cards(path: Path | str) -> Imported:
    path = Path(path)
    data = _read_json(path)
    warnings: list[str] = []
    if isinstance(data, list):
        return Imported(_story_cards(path, data, warnings), None, warnings, "AI Dungeon story cards")
    if not isinstance(data, dict):
        raise CardError(path, f"expected a JSON list of story cards or a character card object, not {_kind(data)}")
    if str(data.get("spec", "")).startswith("chara_card_v") or "data" in data and isinstance(data["data"], dict):
        return _character_card(path, data, warnings)
    for name in ("storyCards", "worldInfo"):
        if isinstance(data.get(name), list):
            return Imported(_story_cards(path, data[name], warnings), None, warnings, "AI Dungeon story cards")
    if "entries" in data:
        return Imported(_book_entries(path, data["entries"], warnings), None, warnings, "lorebook")
    if "first_mes" in data and "name" in data:  # a V1 card: the character fields at the top level
        return _character_card(path, {"data": data}, warnings)
    raise CardError(path, "not a format I know: expected AI Dungeon story cards, a character card or a lorebook")


# -- reading -----------------------------------------------------------------------------------


def _read_json(path: Path):
    try:
        raw = read_capped(path, MAX_PNG, "a card file")  # a regular file only: never a pipe or a device
    except FileNotFoundError:
        raise CardError(path, "no such file") from None
    except Unreadable as err:
        raise CardError(path, str(err)) from None
    except OSError as err:
        raise CardError(path, f"cannot read: {err.strerror or err}") from None
    is_png = raw[:8] == b"\x89PNG\r\n\x1a\n"
    if not is_png and len(raw) > MAX_JSON:
        raise CardError(path, f"file is {size_text(len(raw))}; the limit is {size_text(MAX_JSON)}")
    if not raw.strip():
        raise CardError(path, "file is empty")
    if is_png:
        raw = _png_card(path, raw)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CardError(path, f"not UTF-8 text: byte 0x{raw[err.start]:02x} at offset {err.start}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CardError(path, f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise CardError(path, "not valid JSON: nested too deeply") from None


def _png_card(path: Path, raw: bytes) -> bytes:
    """The card JSON from a PNG's tEXt chunk (`ccv3` preferred over `chara`, as the V3 spec says)."""
    found: dict[str, bytes] = {}
    at = 8
    while at + 8 <= len(raw):
        length, kind = struct.unpack(">I4s", raw[at : at + 8])
        body = raw[at + 8 : at + 8 + length]
        if kind == b"tEXt" and b"\0" in body:
            keyword, _, value = body.partition(b"\0")
            found[keyword.decode("latin-1").lower()] = value
        if kind == b"IEND":
            break
        at += 12 + length
    value = found.get("ccv3") or found.get("chara")
    if value is None:
        raise CardError(path, "a PNG without character card data (no 'chara' text chunk)")
    try:
        return base64.b64decode(value, validate=False)
    except ValueError:
        raise CardError(path, "the PNG's character card data is not valid base64") from None


# -- the formats -----------------------------------------------------------------------------


def _story_cards(path: Path, cards: list, warnings: list[str]) -> list[WorldEntry]:
    entries = []
    for i, card in enumerate(cards):
        if not isinstance(card, dict):
            raise CardError(path, f"card {i} should be a JSON object, not {_kind(card)}")
        keys = card.get("keys", "")
        if isinstance(keys, str):
            keys = keys.split(",")
        text = card.get("value") if card.get("value") not in (None, "") else card.get("entry")
        name = card.get("title") or card.get("name") or ""
        entry = _entry(path, i, name, keys, text, False, warnings)
        if entry:
            entries.append(entry)
    return entries


def _book_entries(path: Path, raw, warnings: list[str]) -> list[WorldEntry]:
    if isinstance(raw, dict):  # SillyTavern keys its entries by uid
        raw = list(raw.values())
    if not isinstance(raw, list):
        raise CardError(path, f"lorebook entries should be a list, not {_kind(raw)}")
    entries = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise CardError(path, f"lorebook entry {i} should be a JSON object, not {_kind(item)}")
        if item.get("enabled") is False or item.get("disable") is True:
            warnings.append(f"entry {i} is disabled in the card; skipped")
            continue
        keys = item.get("keys", item.get("key", []))
        name = item.get("name") or item.get("comment") or ""
        entry = _entry(path, i, name, keys, item.get("content"), bool(item.get("constant")), warnings)
        if entry:
            entries.append(entry)
    return entries


def _character_card(path: Path, card: dict, warnings: list[str]) -> Imported:
    data = card.get("data")
    if not isinstance(data, dict):
        raise CardError(path, "a character card needs a 'data' object")
    name = _text(data.get("name")) or "Unnamed"
    book = data.get("character_book") or {}
    if not isinstance(book, dict):
        raise CardError(path, f"data.character_book should be an object, not {_kind(book)}")
    entries = _book_entries(path, book.get("entries", []), warnings)
    try:
        seed = _seed_from_character(data, name, entries, warnings)
    except ValueError as err:  # pydantic's ValidationError is a ValueError; keep it to one line
        raise CardError(path, f"the character does not make a valid seed: {str(err).splitlines()[-1]}") from None
    return Imported(entries, seed, warnings, "character card")


def _seed_from_character(data: dict, name: str, entries: list[WorldEntry], warnings: list[str]) -> Seed:
    """A seed where the card's character is someone the reader meets, not the reader.

    The card's {{user}} is the reader: it becomes a `${hero_name}` blank.
    """
    def fill(value) -> str:
        text = _text(value).replace("{{char}}", name).replace("<BOT>", name)
        return re.sub(r"\{\{user\}\}|<USER>", "${hero_name}", text, flags=re.I)

    personality = fill(data.get("personality"))
    about = "\n\n".join(t for t in (fill(data.get("description")), personality and f"Personality: {personality}") if t)
    world = []
    if about:
        world.append(WorldEntry(name=_cut(name, SHORT), keys=[_cut(name, SHORT)], text=_cut(about, LONG, warnings, name), always=True))
    taken = {e.name.lower() for e in world}
    world += [e for e in entries if e.name.lower() not in taken][:199]
    scenario = fill(data.get("scenario"))
    premise = scenario or _first_sentences(fill(data.get("description")), LINE) or f"A story with {name}."
    raw_tags = data.get("tags") if isinstance(data.get("tags"), list) else []
    tags = [_cut(_text(t), SHORT) for t in raw_tags if _text(t)][:20]
    mature = any(t.lower() in ("nsfw", "mature", "adult", "18+") for t in tags)
    return Seed(
        title=_cut(name, SHORT),
        author=_cut(_text(data.get("creator")), LINE),
        genre=tags[0] if tags else "character",
        tags=tags,
        premise=_cut(premise, LINE, warnings, "premise"),
        style="Second person, present tense: the reader is 'you'.",
        rating="mature" if mature else "teen",
        protagonist=Protagonist(name="${hero_name}", description=""),
        # Chat cards mark actions as *looks up*; in prose the asterisks are noise.
        opening=_cut(re.sub(r"\*([^*\n]+)\*", r"\1", fill(data.get("first_mes"))), LONG, warnings, "opening"),
        world=world,
        placeholders={"hero_name": Placeholder(prompt="Your name", default="Traveller")},
    )


# -- cleaning one entry ----------------------------------------------------------------------


def _entry(path: Path, i: int, name, keys, text, always: bool, warnings: list[str]) -> WorldEntry | None:
    text = _text(text)
    label = f"entry {i}" + (f" ({_text(name)[:40]})" if _text(name) else "")
    if not text:
        warnings.append(f"{label} has no text; skipped")
        return None
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list):
        raise CardError(path, f"entry {i}: keys should be a list or comma-separated text, not {_kind(keys)}")
    clean: list[str] = []
    for key in keys:
        key = _text(key)[:SHORT] if isinstance(key, str) else ""
        if key and key.lower() not in (k.lower() for k in clean):
            clean.append(key)
    if len(clean) > MAX_KEYS:
        warnings.append(f"{label} has {len(clean)} keys; kept the first {MAX_KEYS}")
        clean = clean[:MAX_KEYS]
    name = _text(name)[:SHORT] or (clean[0] if clean else f"Entry {i + 1}")
    if not clean and not always:
        clean = [name]  # an entry nobody can trigger would be dead weight; its name is the best key
    return WorldEntry(name=name, keys=clean, text=_cut(text, LONG, warnings, f"entry {i} ({name})"), always=always)


def _text(value) -> str:
    if not isinstance(value, str):
        return ""
    # `${` would read as an undeclared seed blank; card text never means that. Escape sequences
    # (a clipboard write, a cleared screen) are removed as the text comes in.
    return safe(value.replace("${", "$ {").replace("\r\n", "\n")).strip()


def _cut(text: str, limit: int, warnings: list[str] | None = None, what: str = "") -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    stop = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("! "), cut.rfind("? "))
    if stop > limit // 2:
        cut = cut[: stop + 1]
    if warnings is not None:
        warnings.append(f"{what} was {len(text)} characters; cut to {len(cut)}")
    return cut.strip()


def _first_sentences(text: str, limit: int) -> str:
    return _cut(" ".join(text.split()), limit)


def _kind(value) -> str:
    return {list: "a list", dict: "an object", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
