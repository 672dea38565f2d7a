"""Word stems for keyword recall, in the story's own language.

A reader asks about "карту" where the story said "карта", about "den eisernen Schlüssel"
where it said "der eiserne Schlüssel": keywords must meet at the stem. Snowball's stemmers
(pure Python) know thirty languages; which one a story needs is told by its text: the script
(Cyrillic is Russian here, Greek is Greek), else the language whose commonest words it uses most.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from typing import Callable

# The commonest words of each language written in Latin script: enough to tell them apart.
MARKERS = {
    "english": "the and of to a in is was that he she it you his her with for on at as but had not",
    "german": "der die das und ist nicht ich du er sie es ein eine mit den dem zu von sich auf war",
    "french": "le la les et est un une des du que qui dans pas il elle je tu sur au avec pour",
    "spanish": "el la los las y es un una que de en no por con para su se lo del al",
    "italian": "il la le e è un una che di in non per con sono gli del della si lo",
    "portuguese": "o a os as e é um uma que de em não por com para do da se ao",
    "dutch": "de het een en is niet ik je hij zij dat van op te met voor zijn was",
    "swedish": "och att det som en är på för med han hon inte till av den jag har",
}
_MARKER_SETS = {language: set(words.split()) for language, words in MARKERS.items()}
_SCRIPTS = (("russian", re.compile(r"[\u0400-\u04ff]")), ("greek", re.compile(r"[\u0370-\u03ff]")),
            ("arabic", re.compile(r"[\u0600-\u06ff]")))
_LETTER = re.compile(r"[^\W\d_]")


def detect(text: str) -> str | None:
    """The Snowball language `text` is written in, or None (no stemming) when it cannot tell."""
    letters = _LETTER.findall(text[:5000])
    if not letters:
        return None
    for language, script in _SCRIPTS:
        if sum(1 for c in letters if script.match(c)) > len(letters) / 2:
            return language
    votes = Counter()
    for word in re.findall(r"[^\W\d_]+", text[:5000].lower()):
        for language, markers in _MARKER_SETS.items():
            if word in markers:
                votes[language] += 1
    if not votes:
        return None
    language, count = votes.most_common(1)[0]
    return language if count >= 2 else None


def stemmer(language: str | None) -> Callable[[str], str]:
    """A word -> stem function for `language` (cached: a story reuses its words)."""
    if language is None:
        return _same
    return _cached(language)


def _same(word: str) -> str:
    return word


@lru_cache(maxsize=64)
def _cached(language: str) -> Callable[[str], str]:
    import snowballstemmer

    stem = snowballstemmer.stemmer(language).stemWord
    return lru_cache(maxsize=65536)(stem)
