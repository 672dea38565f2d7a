"""Bringing lore from other games into a seed.

Formats understood:
- AI Dungeon story cards: a JSON list of {"keys": "a, b", "value": "...", "title", "type"}
  (older exports call the text "entry"). A whole scenario export ("storyCards" or
  "worldInfo", with "prompt", "memory" = the plot essentials, "authorsNote", "title"...)
  can become a whole seed: the plot essentials pinned notes, the author's note the seed's.
- Character Card V2 / V3 (`"spec": "chara_card_v2"`): the lorebook in
  `data.character_book.entries`, and the character itself, which can become a whole seed:
  alternate greetings become alternative openings, the system prompt and the
  post-history instructions notes to the narrator. PNG cards carry the same JSON
  base64-encoded in a `chara` (or `ccv3`) text chunk.
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

from pydantic import ValidationError

from game.core.errors import PlayerError
from game.core.files import Unreadable, read_capped, size_text
from game.core.seed import LINE, LONG, MAX_NESTING, NOTE, OPENINGS, SHORT, Placeholder, Protagonist, Seed, WorldEntry, nested_deeper_than
from game.core.text import safe
from game.stories.loader import describe

MAX_JSON = 4 * 1024 * 1024
MAX_PNG = 20 * 1024 * 1024  # card art is big; the JSON inside it is not
MAX_KEYS = 20
MAX_PINNED = 20


class CardError(PlayerError):
    """A card file that cannot be imported; `str()` is one line naming the file."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        super().__init__(f"{path}: {' '.join(problem.split())}")


@dataclass
class Imported:
    entries: list[WorldEntry]
    seed: Seed | None = None  # when the file describes a character or a whole scenario
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    # What a scenario adds to a seed besides lore (AI Dungeon's plot essentials and author's note).
    pinned: list[str] = field(default_factory=list)
    authors_note: str = ""
    instructions: str = ""


def import_cards(path: Path | str) -> Imported:
    path = Path(path)
    data = _read_json(path)
    try:
        return _import(path, data)
    except ValidationError as err:  # a value no seed field takes, wherever it was met: the field, in one line
        raise CardError(path, f"the card does not make a valid seed: {_reason(err)}") from None


def _import(path: Path, data) -> Imported:
    warnings: list[str] = []
    if isinstance(data, list):
        return Imported(_story_cards(path, data, warnings), None, warnings, "AI Dungeon story cards")
    if not isinstance(data, dict):
        raise CardError(path, f"expected a JSON list of story cards or a character card object, not {_kind(data)}")
    if str(data.get("spec", "")).startswith("chara_card_v") or "data" in data and isinstance(data["data"], dict):
        return _character_card(path, data, warnings)
    for name in ("storyCards", "worldInfo"):
        if isinstance(data.get(name), list):
            return _scenario(path, data, _story_cards(path, data[name], warnings), warnings)
    if "entries" in data:
        return Imported(_book_entries(path, data["entries"], warnings), None, warnings, "lorebook")
    if "first_mes" in data and "name" in data:  # a V1 card: the character fields at the top level
        return _character_card(path, {"data": data}, warnings)
    raise CardError(path, "not a format I know: expected AI Dungeon story cards, a character card or a lorebook")


def _reason(error: ValueError) -> str:
    """One sentence for why a card's fields do not make a seed: the field and the problem, in the
    words `stories validate` uses (the last line of pydantic's message is only its web address)."""
    if isinstance(error, ValidationError) and error.errors():
        _loc, field, what = describe(error.errors()[0])
        more = len(error.errors()) - 1
        return f"{field}: {what}" + (f" (and {more} more)" if more else "") if field else what
    return " ".join(str(error).split())[:300]


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
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CardError(path, f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}") from None
    except RecursionError:
        raise CardError(path, "not valid JSON: nested too deeply") from None
    except ValueError:  # Python refuses to read an integer of more than 4,300 digits
        raise CardError(path, "not valid JSON for a card: it holds a number thousands of digits long") from None
    if nested_deeper_than(data):
        raise CardError(path, f"not a card: its JSON nests more than {MAX_NESTING} deep")
    return data


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
            entries.append(_with_secondary(path, i, entry, item, warnings))
    return entries


def _with_secondary(path: Path, i: int, entry: WorldEntry, item: dict, warnings: list[str]) -> WorldEntry:
    """The entry with its card's secondary keys. A card means them only when the entry is
    `selective` (then a key and a secondary key must both be in play, which is what ours do);
    SillyTavern's other logics (NOT ANY, NOT ALL, AND ALL) have no equal here, so they are noted."""
    raw = item.get("secondary_keys", item.get("keysecondary", []))
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list):
        raise CardError(path, f"entry {i}: secondary keys should be a list, not {_kind(raw)}")
    keys = _keys(raw)
    if not keys or entry.always:
        return entry
    label = f"entry {i} ({entry.name})"
    if not item.get("selective"):
        warnings.append(f"{label}: its secondary keys are not used by the card (selective is off); left out")
        return entry
    if item.get("selectiveLogic", 0) not in (0, None):
        warnings.append(f"{label}: its secondary keys use a logic other than 'and any'; kept as 'and any'")
    if len(keys) > MAX_KEYS:
        warnings.append(f"{label} has {len(keys)} secondary keys; kept the first {MAX_KEYS}")
    return entry.model_copy(update={"secondary_keys": keys[:MAX_KEYS]})


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
        raise CardError(path, f"the character does not make a valid seed: {_reason(err)}") from None
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
    # Chat cards mark actions as *looks up*; in prose the asterisks are noise.
    greetings = [re.sub(r"\*([^*\n]+)\*", r"\1", fill(g)) for g in [data.get("first_mes"), *_list(data, "alternate_greetings")]]
    greetings = [g for g in greetings if g]
    if len(greetings) > OPENINGS + 1:
        warnings.append(f"the card has {len(greetings)} greetings; kept the first {OPENINGS + 1} as openings")
    openings = [_cut(g, LONG, warnings, "opening" if i == 0 else f"alternate greeting {i}")
                for i, g in enumerate(greetings[: OPENINGS + 1])]
    # The card's {{original}} is the front end's own system prompt: ours is already there.
    system = fill(_text(data.get("system_prompt")).replace("{{original}}", ""))
    note, instructions = _narrator_notes(system, fill(data.get("post_history_instructions")), warnings)
    return Seed(
        title=_cut(name, SHORT),
        author=_cut(_text(data.get("creator")), LINE),
        genre=tags[0] if tags else "character",
        tags=tags,
        premise=_cut(premise, LINE, warnings, "premise"),
        style="Second person, present tense: the reader is 'you'.",
        rating="mature" if mature else "teen",
        protagonist=Protagonist(name="${hero_name}", description=""),
        opening=openings[0] if openings else "",
        openings=openings[1:],
        instructions=instructions,
        authors_note=note,
        world=world,
        placeholders={"hero_name": Placeholder(prompt="Your name", default="Traveller")},
    )


def _narrator_notes(system: str, after: str, warnings: list[str]) -> tuple[str, str]:
    """(author's note, instructions) from a card's system prompt and post-history instructions:
    the first are read just before each action, as the card means; longer than an author's
    note may be, they join the instructions instead, whole."""
    system = " ".join(system.split())
    after = " ".join(after.split())
    if len(after) > NOTE:
        warnings.append(f"post_history_instructions is {len(after)} characters, more than an author's note "
                        f"holds ({NOTE}); kept with the narrator's instructions instead")
        system, after = "\n\n".join(t for t in (system, after) if t), ""
    return after, _cut(system, LONG, warnings, "system_prompt")


def _list(data: dict, name: str) -> list:
    value = data.get(name)
    return value if isinstance(value, list) else []


def _scenario(path: Path, data: dict, entries: list[WorldEntry], warnings: list[str]) -> Imported:
    """An AI Dungeon scenario: its story cards, its plot essentials (pinned notes), its author's
    note and AI instructions; and, when it has a title and a prompt or description, a whole seed."""
    blanks: dict[str, Placeholder] = {}
    pinned = _pinned(_aid(data.get("memory") or data.get("plotEssentials"), blanks), warnings)
    note, instructions = _narrator_notes(_aid(data.get("instructions") or data.get("aiInstructions"), blanks),
                                         _aid(data.get("authorsNote") or data.get("authorNote"), blanks), warnings)
    imported = Imported(entries, None, warnings, "AI Dungeon scenario", pinned, note, instructions)
    title, prompt = _text(data.get("title")), _aid(data.get("prompt"), blanks)
    description = _aid(data.get("description"), blanks)
    if not title or not (prompt or description):
        return imported
    raw_tags = data.get("tags")
    raw_tags = raw_tags.split(",") if isinstance(raw_tags, str) else raw_tags if isinstance(raw_tags, list) else []
    tags = [_cut(_text(t), SHORT) for t in raw_tags if _text(t)][:20]
    hero = "hero_name" in blanks
    try:
        imported.seed = Seed(
            title=_cut(title, SHORT),
            genre=tags[0] if tags else "adventure",
            tags=tags,
            premise=_cut(_first_sentences(description or prompt, LINE), LINE),
            style="Second person, present tense: the reader is 'you'.",
            protagonist=Protagonist(name="${hero_name}" if hero else "You"),
            opening=_cut(prompt, LONG, warnings, "prompt"),
            pinned=pinned,
            authors_note=note,
            instructions=instructions,
            world=entries[:200],
            placeholders=blanks,
        )
    except ValueError as err:
        raise CardError(path, f"the scenario does not make a valid seed: {_reason(err)}") from None
    return imported


_AID_BLANK = re.compile(r"\$ \{([^{}\n]{1,120})\}")


def _aid(value, blanks: dict[str, Placeholder]) -> str:
    """AI Dungeon text with its `${What is your name?}` questions turned into seed placeholders
    (declared in `blanks`); `${character.name}` and name questions become `${hero_name}`."""

    def blank(found: re.Match) -> str:
        question = " ".join(found.group(1).split())
        if not question:
            return found.group(0)  # `${ }` asks nothing: it stays as written
        prompt = "Your name" if question.lower().startswith("character.") else _cut(question, LINE)
        for name, known in blanks.items():  # the same question asked twice is one blank
            if known.prompt == prompt:
                return "${" + name + "}"
        if prompt == "Your name" or "name" in question.lower() and "hero_name" not in blanks:
            name, default = "hero_name", "Traveller"
        else:
            name = re.sub(r"[^a-z0-9]+", "_", question.lower()).strip("_")[:38].rstrip("_") or "answer"
            name, default = (name if name[0].isalpha() else f"q_{name}"), "something"
        if name in blanks or len(blanks) >= 20:
            return question  # no room for another blank: the question itself stands in
        blanks[name] = Placeholder(prompt=prompt, default=default)
        return "${" + name + "}"

    return _AID_BLANK.sub(blank, _text(value))


def _pinned(text: str, warnings: list[str]) -> list[str]:
    """Plot essentials as pinned notes: one a line; a line too long for a note split at its sentences."""
    notes: list[str] = []
    for line in (" ".join(line.split()) for line in text.splitlines()):
        while len(line) > LINE:
            part = _cut(line, LINE)
            notes.append(part)
            line = line[len(part):].strip()
        if line:
            notes.append(line)
    if len(notes) > MAX_PINNED:
        warnings.append(f"the plot essentials make {len(notes)} notes; kept the first {MAX_PINNED}")
    return notes[:MAX_PINNED]


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
    clean = _keys(keys)
    if len(clean) > MAX_KEYS:
        warnings.append(f"{label} has {len(clean)} keys; kept the first {MAX_KEYS}")
        clean = clean[:MAX_KEYS]
    name = _text(name)[:SHORT] or (clean[0] if clean else f"Entry {i + 1}")
    if not clean and not always:
        clean = [name]  # an entry nobody can trigger would be dead weight; its name is the best key
    return WorldEntry(name=name, keys=clean, text=_cut(text, LONG, warnings, f"entry {i} ({name})"), always=always)


def _keys(keys: list) -> list[str]:
    """Keys trimmed, cut to their limit, duplicates (any case) and blanks dropped."""
    clean: list[str] = []
    for key in keys:
        key = _text(key)[:SHORT] if isinstance(key, str) else ""
        if key and key.lower() not in (k.lower() for k in clean):
            clean.append(key)
    return clean


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
