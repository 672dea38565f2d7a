"""Small text helpers in any language: sentences, words, a token estimate, safe display.

Stories are told in whatever language the seed is written in. Words are runs of letters of
any script ("Zoë", "Müller", "Ярослав"); Chinese and Japanese, written without spaces, count
each character as a word (the way their writers count length) and end sentences with 。！？.
"""
from __future__ import annotations

import re
from datetime import datetime

# Scripts written without spaces between words: Han (with extensions and compatibility forms)
# and kana. With Hangul, the "dense" scripts: about one token a character, and keywords made of
# character pairs (a Korean word carries its particles: 열쇠를 is 열쇠 "the key" + 를).
SPACELESS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
DENSE = SPACELESS + "\uac00-\ud7af"
_DENSE = re.compile(f"[{DENSE}]")
_SPACELESS = re.compile(f"[{SPACELESS}]")
_NOT_LATIN = re.compile(f"[^\\x00-\\u024f\\u2000-\\u206f{DENSE}]")  # Cyrillic, Greek, Arabic, Hebrew, Devanagari...
# A word: letters or digits of any script with inner apostrophes ("don't", "l’eau"), or one
# dense-script run, which callers split further (each character, or bigrams for keywords).
_WORD = re.compile(f"[{DENSE}]+|[^\\W_{DENSE}]+(?:['’][^\\W_{DENSE}]+)*")
# A word as length counts it: a Chinese or Japanese character, or a spaced word (their own
# punctuation, 。 or ！, is neither).
_UNIT = re.compile(f"[{SPACELESS}]|[^\\s{SPACELESS}\\u3000-\\u303f\\uff01-\\uff65]+")
# A sentence ends at . ! ? … followed by space (then, checked below, a capital, digit or an uncased
# letter), or at 。！？, which need no space after them. Closing quotes and brackets stay with it.
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|[。！？]+[」』”’）)\]]*\s*")
OPENERS = "\"'“‘«„([「『（"
ENDS = ".!?…\"'”’)»。！？」』）"  # what a finished sentence ends with
# Control characters and escape sequences a model might emit; they must never reach a terminal.
_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, clearing the screen
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the same as one 8-bit character
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC (title, clipboard), DCS, SOS, PM, APC: up to their end
    r"|\x1b[ -/]*[0-~]"  # every other escape (ESC c resets the terminal, ESC ( 0 switches charset)
    r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x9f\ud800-\udfff]"  # lone control characters, lone surrogates
    r"|[\ufdd0-\ufdef\ufffe\uffff]"  # noncharacters, which XML (so EPUB and XHTML) forbids
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


def is_dense(char: str) -> bool:
    return bool(char) and _DENSE.match(char) is not None


def _is_spaceless(char: str) -> bool:
    return bool(char) and _SPACELESS.match(char) is not None


def _starts_sentence(char: str) -> bool:
    # A capital or a digit; or a letter of a script without case (Arabic, Hebrew, Chinese...).
    return char.isupper() or char.isdigit() or (char.isalpha() and char.lower() == char.upper())


def sentences(paragraph: str) -> list[str]:
    text = paragraph.strip()
    out: list[str] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        end = boundary.end()
        if end >= len(text):
            break
        after = end
        while after < len(text) and text[after] in OPENERS:
            after += 1
        dense_end = boundary.group()[0] in "。！？"
        at = boundary.start()
        initial = boundary.group()[0] == "." and at >= 1 and text[at - 1].isalpha() and (at < 2 or not text[at - 2].isalpha())
        if initial:
            continue  # "z. B.", "J. R. Hartley": a letter and its dot do not end a sentence
        if dense_end or (after < len(text) and _starts_sentence(text[after])):
            out.append(text[start:end].strip())
            start = end
    out.append(text[start:].strip())
    return [s for s in out if s]


def _joined(left: str, right: str) -> str:
    if not left:
        return right
    # Chinese and Japanese sentences follow each other without a space.
    return left + right if _is_spaceless(left[-1]) or left[-1] in "。！？」』）" else f"{left} {right}"


def pieces(paragraph: str) -> list[str]:
    """Sentence-sized pieces for long-term memory; very short sentences join the next one,
    so that a fact keeps its own vector instead of being diluted in a whole paragraph."""
    out: list[str] = []
    pending = ""
    for sentence in sentences(paragraph):
        pending = _joined(pending, sentence)
        if count_words(pending) >= MIN_PIECE_WORDS:
            out.append(pending)
            pending = ""
    if pending:
        if out and count_words(pending) < MIN_PIECE_WORDS:
            out[-1] = _joined(out[-1], pending)
        else:
            out.append(pending)
    return out


def words(text: str) -> list[str]:
    """Lower-cased words; a run of Chinese or Japanese characters is one item (see `units`)."""
    return [w.lower() for w in _WORD.findall(text)]


def count_words(text: str) -> int:
    """Words, with each Chinese or Japanese character counted as one."""
    return len(_UNIT.findall(text))


def tokens(text: str) -> int:
    """An estimate of the tokens a model's tokenizer makes of `text`: about four characters a
    token in Latin scripts, two and a half in others (Cyrillic, Greek...), one a character in
    Chinese, Japanese and Korean. Backends calibrate it against the server's own counts."""
    if text.isascii():
        return (len(text) + 3) // 4
    dense = len(_DENSE.findall(text))
    other = len(_NOT_LATIN.findall(text))
    latin = len(text) - dense - other
    return int(latin / 4 + other / 2.5 + dense + 0.75)


def _cut(text: str, limit: int, from_end: bool) -> int:
    """How many characters of `text` (from its start, or its end) fit in `limit` tokens."""
    low, high = 0, len(text)
    while low < high:  # the longest piece that fits: tokens() grows with the length
        middle = (low + high + 1) // 2
        part = text[-middle:] if from_end else text[:middle]
        if tokens(part) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


CHARS_PER_WORD = 12  # generous for prose; what clipping by words allows a word at most, on average


def clip_words(text: str, limit: int) -> str:
    """At most `limit` words (a word of a spaceless script is one character), and at most
    `limit * CHARS_PER_WORD` characters: a "word" of 100,000 characters from a hostile model is
    not one word's worth of text."""
    units = list(_UNIT.finditer(text))
    clipped = text.strip() if len(units) <= limit else text[: units[limit - 1].end()].rstrip() + " …"
    most = limit * CHARS_PER_WORD
    if len(clipped) <= most:
        return clipped
    cut = clipped[:most]
    if " " in cut[most // 2:]:
        cut = cut.rsplit(" ", 1)[0]  # at a word where there is one
    return cut.rstrip(" …") + " …"


def clip_tokens(text: str, limit: int) -> str:
    if tokens(text) <= limit:
        return text
    if text.isascii():
        return text[: max(0, limit * 4 - 2)].rsplit(" ", 1)[0] + " …"
    head = text[: _cut(text, max(0, limit - 1), from_end=False)]
    if " " in head[len(head) * 4 // 5:]:  # end at a word when there are spaces to end at
        head = head.rsplit(" ", 1)[0]
    return head + " …"


def tail_tokens(text: str, limit: int) -> str:
    """The end of `text` within `limit` tokens, from a word boundary."""
    if tokens(text) <= limit:
        return text
    if text.isascii():
        return "… " + text[-limit * 4:].split(" ", 1)[-1]
    tail = text[len(text) - _cut(text, max(0, limit - 1), from_end=True):]
    if " " in tail[: len(tail) // 5]:
        tail = tail.split(" ", 1)[-1]
    return "… " + tail


def safe(text: str) -> str:
    """The one gate for text from outside (a model, a seed, a card): terminal control and escape
    sequences removed (newlines and tabs kept), lone surrogates (which cannot be written as
    UTF-8) and the noncharacters XML forbids (an EPUB holding U+FFFF fails its checker) dropped."""
    return _CONTROL.sub("", text)


def last_played(updated: str | None) -> str:
    """A slot header's time (ISO 8601) as the player's clock shows it; '—' when it has none."""
    if not updated:
        return "—"
    try:
        return datetime.fromisoformat(updated).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return "—"
