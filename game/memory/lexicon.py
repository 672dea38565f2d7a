"""Keyword scoring (BM25) over long-term memory, kept in RAM beside the vectors.

A player who asks about "the brass key" means those words; a rare word such as a
name should pull its passage up even when the vector of a whole sentence says
little. The lexicon is derived from the same entries as the Chroma collection.
"""
from __future__ import annotations

import math
from collections import Counter

from game.core.text import COMMON_WORDS, is_dense, words
from game.memory.stems import detect, stemmer

# Words too common in stories to carry a cue; BM25's idf would mute most of them anyway,
# but dropping them keeps short actions ("go to the well") from matching everything.
# English, German and Russian; other languages lean on idf alone.
STOP = COMMON_WORDS | set(
    # German
    "der die das den dem des ein eine einen einem einer eines und oder aber wenn dann so von zu im am an auf "
    "bei mit aus in ist sind war waren sein bin hat haben hatte ich du er sie es wir ihr mich dich sich mir dir "
    "ihm ihn uns euch mein dein sein dieser diese dieses dass wo was wer wie warum nicht kein keine ja alle "
    "noch nur sehr auch um über unter nach vor hier dort "
    # Russian
    "и в во на с со к ко у о об от до из за по для не ни но а же ли бы что как где когда кто это то тот та те "
    "он она оно они я ты мы вы его её их ему ей им мне меня тебе тебя нам вас мой твой свой был была было были "
    "есть так уже ещё только очень все всё при про над под этот эта это эти этом этой об тоже".split()
)


def terms(text: str, language: str | None = None) -> list[str]:
    """Keywords: the stems of words that are not stop words (in the story's `language`); Chinese,
    Japanese and Korean, written without spaces between words (or with particles attached), as
    overlapping character pairs."""
    stem = stemmer(language)
    found: list[str] = []
    for word in words(text):
        if is_dense(word[0]):
            found += [word] if len(word) == 1 else [word[i:i + 2] for i in range(len(word) - 1)]
        elif word not in STOP and len(word) > 1:
            found.append(stem(word))
    return found


# Languages that write compounds as one word: "Kompass" should find "Messingkompass", whose
# head it is (the last part of a compound names what it is).
COMPOUNDING = {"german", "dutch", "swedish", "danish", "norwegian", "finnish"}
HEAD_WEIGHT = 0.6  # a compound matched by its head counts for less than the word itself
MIN_HEAD = 4


class Lexicon:
    K1 = 1.2
    B = 0.75

    def __init__(self, language: str | None = None) -> None:
        # The story's language, for stems: told, or read from the first text added (the opening).
        self.language = language
        self._decided = language is not None
        self.docs: dict[str, Counter] = {}
        self.lengths: dict[str, int] = {}
        self.df: Counter = Counter()
        self.postings: dict[str, set[str]] = {}
        self.heads: dict[str, set[str]] = {}  # a possible compound head -> the compounds ending in it
        self.total_length = 0

    def __len__(self) -> int:
        return len(self.docs)

    def add(self, doc_id: str, text: str) -> None:
        if doc_id in self.docs:
            self.remove(doc_id)
        self.decide(text)
        counts = Counter(self.terms(text))
        self.docs[doc_id] = counts
        self.lengths[doc_id] = sum(counts.values())
        self.total_length += self.lengths[doc_id]
        for term in counts:
            self.df[term] += 1
            self.postings.setdefault(term, set()).add(doc_id)
            if self.df[term] == 1 and self.language in COMPOUNDING:
                for start in range(3, len(term) - MIN_HEAD + 1):
                    self.heads.setdefault(term[start:], set()).add(term)

    def remove(self, doc_id: str) -> None:
        counts = self.docs.pop(doc_id, None)
        if counts is None:
            return
        self.total_length -= self.lengths.pop(doc_id)
        for term in counts:
            self.df[term] -= 1
            self.postings[term].discard(doc_id)
            if self.df[term] <= 0:
                del self.df[term]
                del self.postings[term]

    def decide(self, text: str) -> None:
        """Take the story's language from `text`, unless it is known already."""
        if not self._decided:
            self.language, self._decided = detect(text), True

    def terms(self, text: str) -> list[str]:
        return terms(text, self.language)

    def idf(self, term: str) -> float:
        n = len(self.docs)
        df = self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, limit: int, allowed=None) -> list[tuple[str, float]]:
        """(id, score) pairs, best first; `allowed(id)` filters candidates."""
        if not self.docs:
            return []
        average = self.total_length / len(self.docs) or 1.0
        scores: dict[str, float] = {}
        wanted = set(self.terms(query))
        # A term in more than a twentieth of all pieces ("walk", "look") adds little to BM25 but
        # costs a pass over a long posting list; leave it out unless it is all we have.
        common = max(10, len(self.docs) / 20)
        rare = {t for t in wanted if self.df.get(t, 0) <= common}
        weighted = [(term, self.idf(term)) for term in rare or wanted]
        weighted += [(compound, HEAD_WEIGHT * self.idf(compound)) for term in rare or wanted
                     for compound in self.heads.get(term, ()) if compound in self.df and compound not in wanted]
        for term, weight in weighted:
            for doc_id in self.postings.get(term, ()):
                tf = self.docs[doc_id][term]
                norm = tf * (self.K1 + 1) / (tf + self.K1 * (1 - self.B + self.B * self.lengths[doc_id] / average))
                scores[doc_id] = scores.get(doc_id, 0.0) + weight * norm
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        if allowed is None:
            return ranked[:limit]
        found = []
        for doc_id, score in ranked:  # filtering only as far down as needed
            if allowed(doc_id):
                found.append((doc_id, score))
                if len(found) == limit:
                    break
        return found
