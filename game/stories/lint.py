"""What a valid seed may still get wrong: keys that cannot work, blanks nobody uses, openings
that dwarf the narrator's paragraphs.

These are warnings (and notes), not errors: the seed plays. What the prompt budget clips is
the engine's to say (game/engine/preview.py); `recurrent stories lint` and the studio show both.
"""
from __future__ import annotations

import re
from collections import Counter

from game.core.seed import PLACEHOLDER, Finding, Seed, strings_of
from game.core.text import COMMON_WORDS, count_words, words
from game.core.world import key_pattern

FAR_LONGER = 2  # an opening this many times the paragraph length reads as a different story
EVERY_PARAGRAPH_FROM = 4  # "in every paragraph" means something from this many paragraphs on
_TOKEN = re.compile(r"\w+")


def lint(seed: Seed, paragraph_words: int = 180) -> list[Finding]:
    """Findings about `seed`, warnings first, in the order of the file."""
    found = _world(seed) + _placeholders(seed) + _options(seed) + _openings(seed, paragraph_words)
    return sorted(found, key=lambda f: f.level != "warning")


def paragraphs(seed: Seed) -> list[str]:
    """The seed's own prose, paragraph by paragraph: what the narrator's paragraphs will resemble."""
    found = [seed.premise]
    for opening in seed.all_openings():
        found += [p for p in opening.split("\n\n") if p.strip()]
    found += [entry.text for entry in seed.world]
    return [p for p in found if p.strip()]


class Texts:
    """Texts to find keys in. A seed may hold 200 entries, and a search of every text for every
    key would take seconds: the words of each text are indexed once, and a key is searched only
    in the texts that have all of its words."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.index: dict[str, set[int]] = {}
        for i, text in enumerate(texts):
            for word in set(_TOKEN.findall(text.lower())):
                self.index.setdefault(word, set()).add(i)
        self._found: dict[str, set[int]] = {}

    @property
    def count(self) -> int:
        return len(self.texts)

    def holding(self, key: str) -> set[int]:
        """The indexes of the texts `key` occurs in, as a world entry's key triggers."""
        if key not in self._found:
            spelled = _TOKEN.findall(key.lower())  # split as a key's pattern sees word boundaries
            maybe = set.intersection(*(self.index.get(w, set()) for w in spelled)) if spelled else set()
            self._found[key] = {i for i in maybe if key_pattern(key).search(self.texts[i])}
        return self._found[key]


def _world(seed: Seed) -> list[Finding]:
    found = []
    prose = Texts(paragraphs(seed))
    # What the narrator reads besides the world entries, then each entry's text: an entry's keys
    # count as found when they are in any text but the entry's own.
    data = seed.model_dump(exclude={"placeholders", "world", "tags", "rating", "author", "title"})
    rest = [text for _where, text in strings_of(data, "")]
    own = Texts(rest + [entry.text for entry in seed.world])
    names = Counter(entry.name.lower() for entry in seed.world)
    for i, entry in enumerate(seed.world):
        where = f"world[{i}]"
        if names[entry.name.lower()] > 1:
            found.append(Finding(f"{where}.name", f"another world entry is also named {entry.name!r}: the narrator "
                                                  "keeps track of lore in play by name, so give each its own"))
        for field in ("keys", "secondary_keys"):
            for key in getattr(entry, field):
                problem = _bad_key(key, prose)
                if problem:
                    found.append(Finding(f"{where}.{field}", f"key {key!r} {problem}"))
        if entry.always or not any(words(key) for key in entry.keys):
            continue  # always in play; or keys that cannot match, said above
        if not any(own.holding(key) - {len(rest) + i} for key in entry.keys):
            keys = ", ".join(repr(k) for k in entry.keys)
            found.append(Finding(f"{where}.keys", f"none of the keys of {entry.name!r} ({keys}) occurs in the seed's own "
                                                  "text: it joins only when the reader or the narrator names one",
                                 "note"))
    return found


def _bad_key(key: str, prose: Texts) -> str:
    """Why a key cannot mean anything, or ''."""
    spelled = words(key)
    if not spelled:
        return "has no letter or digit in it: it matches punctuation, not a word"
    if all(word in COMMON_WORDS for word in spelled):
        return "is one of the commonest words in English: it is in nearly every paragraph, so the entry would join every step"
    if prose.count >= EVERY_PARAGRAPH_FROM and len(prose.holding(key)) == prose.count:
        return (f"is in every paragraph of the seed's own text ({prose.count} of them): too common to mean anything, "
                "so the entry would join every step (make it always = true, or choose rarer keys)")
    return ""


def _placeholders(seed: Seed) -> list[Finding]:
    used = {name for _where, text in strings_of(seed.model_dump(exclude={"placeholders"}), "")
            for name in PLACEHOLDER.findall(text)}
    return [Finding(f"placeholders.{name}", f"placeholder ${{{name}}} is declared but the seed never uses it: the "
                                            "reader is asked for something that goes nowhere")
            for name in seed.placeholders if name not in used]


def _options(seed: Seed) -> list[Finding]:
    if seed.options:
        return []
    if seed.opening:
        why = "the model proposes the first three after the opening (one more model call before the reader can act)"
    else:
        why = "the model writes the opening and proposes the first three"
    return [Finding("options", f"no suggested options (fewer than three): {why}")]


def _openings(seed: Seed, paragraph_words: int) -> list[Finding]:
    found = []
    for i, opening in enumerate(seed.all_openings()):
        size = count_words(opening)
        if size > FAR_LONGER * paragraph_words:
            where = "opening" if i == 0 else f"openings[{i - 1}]"
            found.append(Finding(where, f"the opening is {size:,} words, far longer than a paragraph of the story "
                                        f"(about {paragraph_words}): the narrator's paragraphs will read thin beside it"))
    return found
