"""Seeds drafted by the model from a one-line premise, and seeds written back out as TOML.

`SeedDraft` is what the model fills in: flat, no dict-typed fields and no length limits
in the schema (several servers reject or ignore them), so that every OpenAI-compatible
server can turn it into a grammar. Limits are applied afterwards, when the draft becomes
a `Seed`: a long field is cut at a sentence rather than the whole draft thrown away.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, Field, ValidationError

from game.core.calls import InvalidOutput
from game.core.text import safe

from game.stories.loader import describe
from game.core.seed import LINE, LONG, SHORT, Protagonist, Seed, WorldEntry

WRITER_TOKENS = 3000
WRITER_TEMPERATURE = 0.9


class DraftEntry(BaseModel):
    name: str = Field(description="what the entry is about: a person, place, object or faction")
    keys: list[str] = Field(description="1-4 words or names that, when they come up, bring this entry to mind")
    text: str = Field(description="2-4 sentences of facts the narrator must keep straight")
    always: bool = Field(description="true only for the one or two facts that matter in every scene")


class SeedDraft(BaseModel):
    title: str = Field(description="a short evocative title")
    genre: str = Field(description="one or two words, lowercase")
    tags: list[str] = Field(description="3-6 lowercase tags")
    premise: str = Field(description="two or three sentences: who, where, what is at stake")
    style: str = Field(description="one or two sentences of style notes for the narrator")
    rating: Literal["everyone", "teen", "mature"]
    protagonist_name: str
    protagonist_description: str = Field(description="one sentence about the protagonist")
    opening: str = Field(description="the first paragraph, 150-250 words, second person present tense")
    pinned: list[str] = Field(description="2-4 facts the narrator must never forget")
    world: list[DraftEntry] = Field(description="5-8 world entries")
    options: list[str] = Field(description="exactly three different things the reader could do first")


SYSTEM = (
    "You design openings for an interactive story game. A narrator model will continue the story "
    "from what you write, one paragraph per turn, with the reader choosing actions. Write original "
    "material. The opening is a single vivid paragraph of 150-250 words in second person, present "
    "tense ('you'), that ends at a moment where the reader wants to act. World entries are short lore "
    "cards; their keys are the names or words that bring them into a scene. Options are short "
    "imperative actions, each leading somewhere different. Answer with the JSON object only."
)


async def write_seed(backend, premise: str, genre: str | None = None) -> Seed:
    """Ask the model for a whole seed. Raises the backend's ModelError (one line) on failure."""
    ask = f"Premise: {premise.strip()}"
    if genre:
        ask += f"\nGenre: {genre.strip()}"
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ask}]
    draft = await backend.structured(messages, SeedDraft, max_tokens=WRITER_TOKENS, temperature=WRITER_TEMPERATURE)
    return draft_to_seed(draft, premise, genre, author=f"Recurrent writer ({getattr(backend, 'model', 'model')})")


def draft_to_seed(draft: SeedDraft, premise: str = "", genre: str | None = None, author: str = "") -> Seed:
    """A valid Seed from whatever the model gave: fields cut to their limits, gaps filled."""
    world = draft_entries(draft.world[:200])
    options = [o for o in (_clip(o, LINE) for o in draft.options) if o]
    data = dict(
        title=_clip(draft.title, SHORT) or _clip(premise, 60) or "Untitled",
        author=_clip(author, LINE),
        genre=_clip(draft.genre, SHORT) or _clip(genre or "", SHORT) or "adventure",
        tags=[t for t in (_clip(t, SHORT).lower() for t in draft.tags) if t][:20],
        premise=_clip(draft.premise, LINE) or _clip(premise, LINE) or "An untold story.",
        style=_clip(draft.style, LINE),
        rating=draft.rating,
        protagonist=Protagonist(
            name=_clip(draft.protagonist_name, SHORT) or "You",
            description=_clip(draft.protagonist_description, LINE),
        ),
        opening=_clip(draft.opening, LONG),
        pinned=[p for p in (_clip(p, LINE) for p in draft.pinned) if p][:20],
        world=world,
        options=options[:3] if len(options) >= 3 else [],  # three or none, as the seed requires
    )
    try:
        return Seed.model_validate(data)
    except ValidationError as err:
        _, where, what = describe(err.errors()[0])
        raise InvalidOutput(f"the model's seed is not valid: {where}: {what}") from None


def draft_entries(items: list[DraftEntry]) -> list[WorldEntry]:
    """World entries from the model's drafts: cut to their limits, an entry with no name or text
    dropped, one with no keys (and not always on) keyed by its name."""
    world = []
    for item in items:
        text = _clip(item.text, LONG)
        name = _clip(item.name, SHORT)
        if not text or not name:
            continue
        keys = [k for k in (_clip(k, SHORT) for k in item.keys) if k][:20]
        if not keys and not item.always:
            keys = [name]
        world.append(WorldEntry(name=name, keys=keys, text=text, always=item.always))
    return world


# -- suggestions for one field (the studio) ------------------------------------------------------


class WorldSuggestion(BaseModel):
    world: list[DraftEntry] = Field(description="3-6 new world entries")


class OptionsSuggestion(BaseModel):
    options: list[str] = Field(description="exactly three different things the reader could do first")


SUGGEST_SYSTEM = (
    "You help an author write the seed of an interactive story game: a narrator model tells the story one "
    "paragraph per turn and the reader chooses what the protagonist does. Write original material that fits "
    "what the author has written so far. Answer with the JSON object only."
)
SUGGEST_TOKENS = 1500


def _about(title: str, genre: str, premise: str, opening: str, style: str = "") -> str:
    lines = [f"{name}: {' '.join(value.split())}" for name, value in
             (("Title", title), ("Genre", genre), ("Premise", premise), ("Style", style)) if value.strip()]
    if opening.strip():
        lines.append(f"Opening:\n{opening.strip()}")
    return "\n".join(lines)


async def suggest_world(backend, *, premise: str, title: str = "", genre: str = "", opening: str = "",
                        taken: list[str] = ()) -> list[WorldEntry]:
    """New world entries for a story, from its premise (and opening): none with a name it has."""
    if not premise.strip():
        raise InvalidOutput("write the premise first: the world entries are drawn from it")
    ask = _about(title, genre, premise, opening)
    if taken:
        ask += "\nWorld entries it has already (do not repeat them): " + "; ".join(taken)
    ask += ("\n\nSuggest 3-6 new world entries: the people, places, objects and rules the narrator must keep "
            "straight. Keys are the names or words that bring an entry into a scene.")
    messages = [{"role": "system", "content": SUGGEST_SYSTEM}, {"role": "user", "content": ask}]
    draft = await backend.structured(messages, WorldSuggestion, max_tokens=SUGGEST_TOKENS, temperature=WRITER_TEMPERATURE)
    have = {name.lower() for name in taken}
    entries = [entry for entry in draft_entries(draft.world[:20]) if entry.name.lower() not in have]
    if not entries:
        raise InvalidOutput("the model suggested no new world entries; try again")
    return entries


async def suggest_options(backend, *, opening: str, premise: str = "", title: str = "", style: str = "") -> list[str]:
    """Three first actions that follow from the opening."""
    if not opening.strip():
        raise InvalidOutput("write the opening first: the options follow from it")
    ask = _about(title, "", premise, opening, style) + (
        "\n\nSuggest exactly three different things the reader could do first, each a short imperative "
        "sentence that follows from the opening and leads somewhere different.")
    messages = [{"role": "system", "content": SUGGEST_SYSTEM}, {"role": "user", "content": ask}]
    draft = await backend.structured(messages, OptionsSuggestion, max_tokens=400, temperature=WRITER_TEMPERATURE)
    options = [o for o in (_clip(o, LINE) for o in draft.options) if o]
    if len(options) < 3:
        raise InvalidOutput(f"the model suggested {len(options)} options, not three; try again")
    return options[:3]


def _clip(text: str, limit: int) -> str:
    """One cleaned string within `limit` characters, cut at a sentence or word where possible."""
    text = re.sub(r"[ \t]+", " ", safe(str(text or "")).replace("${", "$ {")).strip()  # no escapes from the model
    if len(text) <= limit:
        return text
    cut = text[:limit]
    stop = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if stop > limit // 2:
        return cut[: stop + 1]
    return cut.rsplit(" ", 1)[0]


# -- TOML out --------------------------------------------------------------------------------


def seed_to_toml(seed: Seed) -> str:
    """The seed as an author would write it: scalars first, then [protagonist], blanks, [[world]]."""
    data = seed.model_dump()
    out: dict = {}
    for key in ("title", "author", "genre", "tags", "rating", "premise", "style", "opening", "openings", "instructions",
                "authors_note", "pinned", "options"):
        if data[key] not in ("", [], None):
            out[key] = data[key]
    out["protagonist"] = {k: v for k, v in data["protagonist"].items() if v}
    if data["placeholders"]:
        out["placeholders"] = data["placeholders"]
    if data["world"]:
        out["world"] = [world_entry_dict(e) for e in seed.world]
    return _compact(tomli_w.dumps(out, multiline_strings=True))


def world_entry_dict(entry: WorldEntry) -> dict:
    data = {"name": entry.name}
    if entry.keys:
        data["keys"] = list(entry.keys)
    if entry.secondary_keys:
        data["secondary_keys"] = list(entry.secondary_keys)
    if entry.always:
        data["always"] = True
    data["text"] = entry.text
    return data


_ARRAY = re.compile(r'= \[\n((?:    "(?:[^"\\\n]|\\.)*",\n)+)\]')


def _compact(text: str) -> str:
    """`keys = ["a", "b"]` on one line, as authors write it, when it fits in 100 characters.

    tomli_w puts every array item on its own line; only arrays of plain one-line strings are
    joined, so nothing about the values can change."""

    def join(found: re.Match) -> str:
        items = [line.strip().rstrip(",") for line in found.group(1).splitlines()]
        flat = "= [" + ", ".join(items) + "]"
        return flat if len(flat) <= 100 else found.group(0)

    return _ARRAY.sub(join, text)


def free_path(folder: Path, title: str) -> Path:
    """`folder/<title as a slug>.toml`, or `-2`, `-3`... whichever no file has yet."""
    slug = slugify(title)
    path, n = folder / f"{slug}.toml", 2
    while path.exists():
        path, n = folder / f"{slug}-{n}.toml", n + 1
    return path


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:60].rstrip("-") or "story"
