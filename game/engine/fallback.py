"""Options made from the story itself, for when the model's own are not usable.

The people and places of the paragraph just told, the world entries in play, and the seed's
own suggestions not yet taken give options that belong to this story at this step, so a
model that cannot write options still leaves the reader real choices, not the same three
generic lines every time. The generic lines are the last resort.
"""
from __future__ import annotations

import re

from game.core.models import GENERIC_OPTIONS
from game.core.seed import WorldEntry
from game.core.text import sentences
from game.engine.guards import usable

TITLES = {"mr", "mrs", "miss", "ms", "dr", "doctor", "captain", "sir", "lady", "lord", "father", "sister", "brother",
          "inspector", "professor", "madam", "uncle", "aunt", "officer", "sergeant", "master", "mistress"}
SPEECH = re.compile(r"^\W*(says|said|asks|asked|replies|replied|whispers|whispered|shouts|shouted|murmurs|nods|smiles)\b")
# Capitalised words that are not names wherever they stand.
NOT_NAMES = {"i", "you", "he", "she", "it", "we", "they", "the", "a", "an", "his", "her", "its", "their", "my", "your",
             "our", "this", "that", "there", "then", "when", "what", "who", "why", "how", "yes", "no", "but", "and",
             "or", "if", "in", "on", "at", "as", "so", "now", "oh", "not", "one", "all", "for", "with", "after", "before"}
NAME = re.compile(r"\b[A-Z][a-z'’]+(?:\s+(?:of\s+)?[A-Z][a-z'’]+)*")
PRONOUNS = re.compile(r"\b(he|she|him|his|her|hers)\b", re.I)

PERSON = ["Talk to {0}.", "Ask {0} about what happened.", "Keep a close eye on {0}.", "Follow {0} quietly."]
THING = ["Take a closer look at {0}.", "Ask about {0}.", "Look for {0}."]
NAMED = ["Ask about {0}.", "Find out more about {0}.", "Go looking for {0}."]


def names(paragraph: str, protagonist: str) -> list[tuple[str, bool]]:
    """(name, is a person) for the proper names of a paragraph, in order of first mention. A
    single capitalised word that opens a sentence is a name only with a title ("Captain Hale"),
    a verb of speech after it, or where it also appears inside a sentence."""
    own = {part.lower() for part in protagonist.split()}
    found: dict[str, bool] = {}
    sure: set[str] = set()
    for sentence in sentences(paragraph.replace("\n", " ")):
        for match in NAME.finditer(sentence):
            words = [re.sub(r"['’]s$", "", word) for word in match.group().split()]
            while words and (words[0].lower() in NOT_NAMES or re.search(r"['’]", words[0])):
                words = words[1:]
            if not words or {w.lower() for w in words} & own or words[-1].lower() in TITLES:
                continue
            name = " ".join(words)
            before = sentence[:match.start()].split()[-1:] or [""]
            person = (words[0].lower() in TITLES or bool(SPEECH.match(sentence[match.end():]))
                      or bool(SPEECH.match(before[0].lower())))
            found[name] = found.get(name, False) or person
            if person or match.start() > 0 or len(words) > 1 or len(words) < len(match.group().split()):
                sure.add(name)
    # "Ashby" and "Mr Ashby" are one man: the longer name stands for both.
    merged: dict[str, bool] = {}
    for name, person in found.items():
        if name not in sure:
            continue
        longer = next((other for other in found if other != name and other.endswith(" " + name) and other in sure), None)
        key = longer or name
        merged[key] = merged.get(key, False) or person or found.get(key, False)
    return list(merged.items())


def _from_entry(entry: WorldEntry) -> tuple[str, bool]:
    name = entry.name.split(",")[0].strip()
    if name.lower().startswith(("the ", "a ", "an ")):
        return name[:1].lower() + name[1:], False
    return name, bool(PRONOUNS.search(entry.text))


def _phrased(name: str, person: bool, turn: int) -> str:
    if person:
        return PERSON[turn % len(PERSON)].format(name)
    if name[:1].islower():
        return THING[turn % len(THING)].format(name)
    return NAMED[turn % len(NAMED)].format(name)


def story_options(have: list[str], *, paragraph: str, lore: list[WorldEntry], seed_options: list[str],
                  taken: list[str], protagonist: str, turn: int) -> list[str]:
    """Three options: `have` (the model's usable ones) first, then, in turn, one from each of the
    paragraph's people and places, the world entries in play and the seed's options not yet
    taken, then the generic lines. `turn` (the step number) varies the wording."""
    said = [_phrased(name, person, turn + i) for i, (name, person) in enumerate(names(paragraph, protagonist))]
    cards = [_phrased(*_from_entry(entry), turn + i) for i, entry in enumerate(lore) if not entry.always]
    done = {" ".join(action.lower().split()) for action in taken}
    seeded = [option for option in seed_options if " ".join(option.lower().split()) not in done]
    sources = [said, cards, seeded]
    mixed = [source[i] for i in range(max(map(len, sources), default=0)) for source in sources if i < len(source)]
    generic = GENERIC_OPTIONS[turn % 3:] + GENERIC_OPTIONS[:turn % 3]
    chosen = list(have[:3])
    action = taken[-1] if taken else ""
    for candidate in [*mixed, *generic]:
        if len(chosen) == 3:
            break
        if usable(candidate, chosen, paragraph, action):
            chosen.append(candidate)
    for candidate in generic:  # never fewer than three, whatever the story gave
        if len(chosen) == 3:
            break
        if candidate not in chosen:
            chosen.append(candidate)
    return chosen
