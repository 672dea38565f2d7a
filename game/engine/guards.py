"""A floor under what the model writes, for every backend.

A weak model (the bundled 135M demo, a small Ollama model, a server at its token limit, a
badly quantised GGUF) copies the prompt's own labels into the story, says a sentence it has
just said, loops on a phrase, stops half-way through a sentence, and offers fragments or
field names as options. The guards here clean a paragraph and the notes before they are
saved. They change nothing in good output. Each one that fires is said quietly (a Notice for
the status line, a line in the "recurrent.guards" log), never in the story.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from game.core.text import COMMON_WORDS, clip_words, sentences
from game.engine.notes import whole_sentences
from game.engine.prompts import LABELS, notes_request

log = logging.getLogger("recurrent.guards")

MIN_WORDS = 30  # a paragraph shorter than this (after the guards) is told again, once
SAME_WORDS = 4  # a sentence this long said twice in one paragraph is a repeat
COPY_WORDS = 6  # ... and this long, said again from a paragraph before it
LOOP_WORDS = 8  # the same run of this many words twice in one paragraph is a loop
NEAR_COPY = 0.5  # a sentence whose 5-word runs are this much a paragraph before it is a copy
OPTION_WORDS = 3

# Labels the model may copy, besides the prompt's own (LABELS): section names of prompts it has
# seen elsewhere, and the fields of the notes.
OTHER_LABELS = ("The reader chose", "The next paragraph", "Next paragraph", "The story has just begun",
                "Just before:", "Options:", "Option:", "Note:", "Notes:", "Memory:", "Recap:", "Summary:",
                "How could I improve")
# A label the model puts in front of good prose: dropped, the prose kept.
PREFIXES = re.compile(r"^(narrator|narration|paragraph|story|answer|response|assistant|continuation)\s*:\s*", re.I)
MARKUP = re.compile(r"[*_`]+")
HEADER = re.compile(r"^\s*#{1,6}(\s|$)")
LIST_ITEM = re.compile(r"^\s*([-*•>]|\d{1,2}[.)])\s+")  # list items, and "> " lines: the reader's, quoted
ASIDE = re.compile(r"\s*\((the reader chose|reader|action)\b[^)]*\)", re.I)
# Words of the task, not of a story: a sentence or an option that uses them talks about the prompt
# ("your protagonist", "the next paragraph", "as JSON").
META = re.compile(r"\b(protagonist|narrator|paragraphs?|json|the reader|the story so far|the next sentence|"
                  r"this sentence|the previous (sentence|paragraph)|the story (continues|will continue)|"
                  r"second[- ]person|present[- ]tense)", re.I)
FIELDS = {"options", "option", "note", "notes", "memory", "paragraph", "action", "none", "null", "n a"}
# A fragment ends like this: a comma, or a word that needs another after it.
DANGLING = re.compile(r"([,;:\-–—]|\b(the|a|an|of|to|and|or|but|with|from|into|by|his|her|its|their|my|your|our))\W*$", re.I)
OPTION_PREFIX = re.compile(r"^\s*(?:options?\s*\d*\s*[:.)-]\s*|\d{1,2}\s*[.):-]\s*|[-*•]\s*)+", re.I)


def _norm(text: str) -> str:
    """Lower-case words only: what two sentences share when spacing, case and quotes differ."""
    return " ".join(re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower()))


def _label_pattern() -> re.Pattern:
    """A line that starts with a label: "Title:", "**Premise**:", "Option 2:", "The reader chose …"."""
    named = []
    for label in (*LABELS, *OTHER_LABELS):
        words = re.escape(label.rstrip(":").strip()).replace("\\ ", r"\s+")
        # A label written with a colon counts only with it (or alone on its line), so that prose
        # such as "Note the scratches" stays; a longer phrase counts as it stands.
        named.append(words + (r"\s*\d*\s*(:|$)" if label.endswith(":") else r"\b"))
    return re.compile(r"^\s*(?:" + "|".join(named) + ")", re.I)


LABEL = _label_pattern()


def _label(line: str) -> bool:
    return bool(LABEL.match(MARKUP.sub("", line).replace("’", "'")))


def _grams(words: list[str], n: int) -> set[str]:
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def _stutters(words: list[str]) -> bool:
    """The same one to three words four times running ("no, no, no, no")."""
    for size in (1, 2, 3):
        for i in range(len(words) - 4 * size + 1):
            if all(words[i:i + size] == words[i + k * size:i + (k + 1) * size] for k in range(1, 4)):
                return True
    return False


@dataclass
class Cleaned:
    text: str
    fired: list[str] = field(default_factory=list)  # what the guards did, for the player and the log


# -- paragraphs -------------------------------------------------------------------------------
def scaffolding(text: str) -> tuple[str, int]:
    """`text` without the lines that echo the prompt: headers, labels, list items, asides about
    the reader's choice; a label before good prose ("Narrator: ...") loses only the label."""
    kept, dropped = [], 0
    for line in text.splitlines():
        line, asides = ASIDE.subn("", line)
        dropped += asides
        if HEADER.match(line) or LIST_ITEM.match(line) or _label(line):
            dropped += 1
            continue
        bare = PREFIXES.sub("", line)
        dropped += bare != line
        kept.append(bare.rstrip())
    return "\n".join(kept).strip(), dropped


def sift(text: str, earlier: list[str]) -> tuple[str, int, bool]:
    """`text` without the sentences that copy one of `earlier`'s (or nearly) or talk about the
    task rather than tell the story, and ended where it starts going round: two sentences in a
    row that repeat one of its own or loop on a run of words. One such sentence alone is
    dropped, so a fact told after a single stray repeat is kept: (what is left, sentences
    dropped, whether it was ended)."""
    said = {_norm(s) for p in earlier for s in sentences(p) if len(_norm(s).split()) >= COPY_WORDS}
    runs = set().union(*(_grams(_norm(p).split(), 5) for p in earlier)) if earlier else set()
    known = set(_norm(" ".join(earlier)).split())
    seen: set[str] = set()
    words: list[str] = []
    kept: list[str] = []  # pieces of `text` itself, the space before each included: nothing is rebuilt
    carry, dropped, at, going_round = "", 0, 0, False
    for sentence in sentences(text):
        start = text.find(sentence, at)
        gap, at = text[at:start], start + len(sentence)
        key = _norm(sentence)
        new = key.split()
        together = words + new
        if (len(new) >= SAME_WORDS and key in seen) or _loops(together):
            if going_round:  # a loop has set in: nothing after it is worth reading
                return "".join(kept).strip(), dropped, True
            going_round = True
            carry = gap if "\n" in gap else carry
            continue
        dropped += going_round  # the repeat before this sentence was a stray one
        going_round = False
        if key in said or _near_copy(new, runs, known) or META.search(sentence):
            dropped += 1
            carry = gap if "\n" in gap else carry  # a paragraph break before a dropped sentence stays
            continue
        kept.append((carry if "\n" in carry and "\n" not in gap else gap) + sentence)
        carry = ""
        seen.add(key)
        words = together
    return "".join(kept).strip(), dropped, going_round


def _near_copy(words: list[str], runs: set[str], known: set[str]) -> bool:
    """A sentence that is mostly runs of five words said just before, with at most two words the
    paragraphs before never used (besides the commonest): one word changed or added ("the grey
    hat" again), not a new fact told in a familiar frame ("Solveig swears the deed lies under the
    red hymnal", after "Piet swears the key lies under the blue chest")."""
    if len(words) < 8 or len(runs & _grams(words, 5)) < NEAR_COPY * (len(words) - 4):
        return False
    return len({word for word in words if word not in known and word not in COMMON_WORDS}) <= 2


def _loops(words: list[str]) -> bool:
    return len(_grams(words, LOOP_WORDS)) < max(0, len(words) - LOOP_WORDS + 1) or _stutters(words)


def paragraph(text: str, earlier: list[str]) -> Cleaned:
    """The paragraph a reader should see: no echoed scaffolding, no talk about the task, no
    sentence of the paragraphs before it, nothing said twice, no unfinished last sentence.
    `earlier` are the paragraphs just before it."""
    fired = []
    bare, lines = scaffolding(text)
    if lines:
        fired.append(f"dropped {lines} echoed prompt line{'s' if lines > 1 else ''}")
    sifted, dropped, ended = sift(bare, earlier)
    if dropped:
        fired.append(f"dropped {dropped} sentence{'s' if dropped > 1 else ''} said before or about the prompt")
    if ended:
        fired.append("ended it where it began repeating itself")
    whole = whole_sentences(sifted)
    if whole != sifted:
        fired.append("dropped an unfinished last sentence")
    return Cleaned(whole, fired)


def better(first: Cleaned, second: Cleaned) -> Cleaned:
    """The longer of two tellings after their guards (the first when they tie)."""
    return second if len(second.text.split()) > len(first.text.split()) else first


# -- notes ------------------------------------------------------------------------------------
def distinct(text: str) -> Cleaned:
    """A memory or a note cut back to its distinct sentences, in their order."""
    kept, seen = [], set()
    said = sentences(text.replace("\n", " "))
    for sentence in said:
        key = _norm(sentence)
        if key and key not in seen:
            seen.add(key)
            kept.append(sentence)
    return Cleaned(" ".join(kept), ["cut back to its distinct sentences"] if len(kept) < len(said) else [])


def option(text: str) -> str:
    """An option as the player should see it: no numbering, label, quotes or markup; capitalised."""
    text = " ".join(MARKUP.sub("", text).split())
    text = OPTION_PREFIX.sub("", text).strip().strip("\"'“”‘’").strip()
    return (text[:1].upper() + text[1:]) if text else ""


REQUEST = _grams(_norm(notes_request(200, True)).split(), 4)  # four words in a row of the notes request


def usable(text: str, kept: list[str], paragraph: str = "", action: str = "") -> bool:
    """Whether `text` (cleaned) is an action worth offering beside `kept`: three words or more,
    whole, not a field name, a line or the words of the prompt, not copied from the paragraph,
    not the action just taken, and not another option said again."""
    key = _norm(text)
    if len(key.split()) < OPTION_WORDS or key in FIELDS or DANGLING.search(text) or _label(text) or META.search(text):
        return False
    if _grams(key.split(), 4) & REQUEST or (action and key == _norm(action)):  # the request's words, its example
        return False
    if paragraph and _copied(key, paragraph):  # a sentence of the story, not something to do
        return False
    content = _content(key)
    return all(content != _content(_norm(other)) for other in kept)


def _content(key: str) -> frozenset[str]:
    """An option's content words, crudely stemmed: two options are the same choice only when
    these are the same. "Ask Mara about the ledger." and "Ask Tobin about the ledger." share
    most of their words, but a name, an object or a place makes them different choices."""
    return frozenset(_SUFFIX.sub("", w) if len(w) > 4 else w for w in key.split() if w not in COMMON_WORDS)


_SUFFIX = re.compile(r"(?:ing|ed|s)$")


def _copied(key: str, paragraph: str) -> bool:
    """Whether an option is one of the paragraph's sentences, or a long run of its words."""
    return key in {_norm(s) for s in sentences(paragraph)} or (len(key.split()) >= 7 and key in _norm(paragraph))


def options(candidates: list[str], paragraph: str = "", action: str = "") -> list[str]:
    """The usable options among `candidates`, cleaned, in order (at most three)."""
    kept: list[str] = []
    for candidate in candidates:
        text = clip_words(option(candidate), 40)
        if len(kept) < 3 and usable(text, kept, paragraph, action):
            kept.append(text)
    return kept


# -- saying so --------------------------------------------------------------------------------
def said(what: str, fired: list[str], detail: str = "") -> str:
    """The status line's words for guards that fired on `what` ("the paragraph"), logged too."""
    text = f"{what}: {'; '.join(fired)}"
    log.info("%s%s", text, f" ({detail})" if detail else "")
    return text
