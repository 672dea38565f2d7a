"""Keyword scoring (BM25) over long-term memory, kept in RAM beside the vectors.

A player who asks about "the brass key" means those words; a rare word such as a
name should pull its passage up even when the vector of a whole sentence says
little. The lexicon is derived from the same entries as the Chroma collection.
"""
from __future__ import annotations

import math
from collections import Counter

from game.core.text import COMMON_WORDS, words

# Words too common in stories to carry a cue; BM25's idf would mute most of them anyway,
# but dropping them keeps short actions ("go to the well") from matching everything.
STOP = COMMON_WORDS


def terms(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOP and len(w) > 1]


class Lexicon:
    K1 = 1.2
    B = 0.75

    def __init__(self) -> None:
        self.docs: dict[str, Counter] = {}
        self.lengths: dict[str, int] = {}
        self.df: Counter = Counter()
        self.postings: dict[str, set[str]] = {}
        self.total_length = 0

    def __len__(self) -> int:
        return len(self.docs)

    def add(self, doc_id: str, text: str) -> None:
        if doc_id in self.docs:
            self.remove(doc_id)
        counts = Counter(terms(text))
        self.docs[doc_id] = counts
        self.lengths[doc_id] = sum(counts.values())
        self.total_length += self.lengths[doc_id]
        for term in counts:
            self.df[term] += 1
            self.postings.setdefault(term, set()).add(doc_id)

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
        wanted = set(terms(query))
        # A term in more than a twentieth of all pieces ("walk", "look") adds little to BM25 but
        # costs a pass over a long posting list; leave it out unless it is all we have.
        common = max(10, len(self.docs) / 20)
        rare = {t for t in wanted if self.df.get(t, 0) <= common}
        for term in rare or wanted:
            weight = self.idf(term)
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
