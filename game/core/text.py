"""Small text helpers: sentences, words, a token estimate, safe display."""
from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z0-9']+")
# Control characters and escape sequences a model might emit; they must never reach a terminal.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the same as one 8-bit character
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC (title, clipboard), DCS, SOS, PM, APC: up to their end
    r"|\x1b[ -/]*[0-~]"  # every other escape (ESC c resets the terminal, ESC ( 0 switches charset)
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f\ud800-\udfff]"  # lone control characters, lone surrogates
)

MIN_PIECE_WORDS = 6

# The commonest words of English prose: too common to be a keyword in memory's search, or a
# world entry's key (they are in nearly every paragraph).
COMMON_WORDS = frozenset(
    "a an the and or but if then so of to in on at by for with from into onto about as is are was were be been "
    "being am do does did have has had i you he she it we they me him her us them my your his its our their this "
    "that these those there here what which who whom whose when where why how not no yes all any some can could "
    "will would shall should may might must just very too also up down out over under again once than".split()
)


def sentences(paragraph: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(paragraph.strip()) if s.strip()]


def pieces(paragraph: str) -> list[str]:
    """Sentence-sized pieces for long-term memory; very short sentences join the next one,
    so that a fact keeps its own vector instead of being diluted in a whole paragraph."""
    out: list[str] = []
    pending = ""
    for sentence in sentences(paragraph):
        pending = f"{pending} {sentence}".strip()
        if len(pending.split()) >= MIN_PIECE_WORDS:
            out.append(pending)
            pending = ""
    if pending:
        if out and len(pending.split()) < MIN_PIECE_WORDS:
            out[-1] = f"{out[-1]} {pending}"
        else:
            out.append(pending)
    return out


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def count_words(text: str) -> int:
    return len(text.split())


def tokens(text: str) -> int:
    """A rough token count (about four characters a token for English prose)."""
    return (len(text) + 3) // 4


def clip_words(text: str, limit: int) -> str:
    parts = text.split()
    if len(parts) <= limit:
        return text.strip()
    return " ".join(parts[:limit]) + " …"


def clip_tokens(text: str, limit: int) -> str:
    if tokens(text) <= limit:
        return text
    return text[: max(0, limit * 4 - 2)].rsplit(" ", 1)[0] + " …"


def safe(text: str) -> str:
    """Text with terminal control and escape sequences removed (newlines and tabs kept), and
    lone surrogates, which cannot be written as UTF-8, dropped."""
    return _CONTROL.sub("", text)
