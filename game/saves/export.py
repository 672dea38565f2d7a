"""Exports: the story as Markdown, a web page, an e-book or plain text, from one entry point.

Each format has one writer, and every writer reads the same `Book` (game/saves/book.py), so
chapters, actions and the branch an export tells are the same in all of them.
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

from game.core.story import Story
from game.core.files import CannotWrite, write_whole
from game.saves.book import Book, book_of
from game.saves.names import SlotError

FORMATS = {"md": "Markdown", "html": "HTML web page", "epub": "EPUB 3 e-book", "txt": "plain text"}
WIDTH = 72  # plain text is wrapped as a book's page would be


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


# What Markdown would run or follow if a model or a seed wrote it: raw HTML (`<script>`, `<img
# onerror=...>`) and links (`[here](javascript:...)`). A backslash makes each a plain character,
# and a backslash of the text's own is one too: else `\<script>` escapes the escape, and runs.
_MARKUP = re.compile(r"([\\<\[])")


def _plain(text: str) -> str:
    return _MARKUP.sub(r"\\\1", text)


def _md(book: Book) -> str:
    out = [f"# {_plain(book.title)}", "", f"*{_plain(book.genre)}* — {_plain(book.premise)}", ""]
    if book.telling:
        out += [f"*{_plain(book.telling)}*", ""]
    headed = len(book.chapters) > 1  # a story that never closed a chapter reads as one
    for chapter in book.chapters:
        if headed:
            out += [f"## {_plain(chapter.title)}", ""]
        if chapter.recap:
            out += [_quote(f"*The story so far:* {_plain(chapter.recap)}"), ""]
        for page in chapter.pages:
            if page.number > 0:
                out += [_quote(f"**Step {page.number}:** {_plain(page.action)}"), ""]
            out += [_plain(page.paragraph), ""]
    return "\n".join(out).rstrip() + "\n"


def _txt(book: Book) -> str:
    def wrap(text: str, indent: str = "") -> list[str]:
        return [textwrap.fill(line, WIDTH, initial_indent=indent, subsequent_indent=indent) if line else ""
                for line in text.splitlines()] or [""]

    out = [book.title, "=" * min(len(book.title), WIDTH), "", *wrap(f"{book.genre}: {book.premise}"), ""]
    if book.telling:
        out += [*wrap(book.telling), ""]
    headed = len(book.chapters) > 1
    for chapter in book.chapters:
        if headed:
            out += ["", chapter.title, "-" * len(chapter.title), ""]
        if chapter.recap:
            out += [*wrap(f"The story so far: {chapter.recap}", "    "), ""]
        for page in chapter.pages:
            if page.number > 0:
                out += [*wrap(f"> {page.action}"), ""]
            out += [*wrap(page.paragraph), ""]
    return "\n".join(out).rstrip() + "\n"


def markdown(story: Story, slot: str = "", header: dict | None = None) -> str:
    return _md(book_of(story, slot, header))


def render(story: Story, fmt: str = "md", slot: str = "", header: dict | None = None) -> bytes:
    """The story in format `fmt` (one of FORMATS); `slot` and its `header` name the branch it tells."""
    book = book_of(story, slot, header)
    if fmt == "md":
        return _md(book).encode("utf-8")
    if fmt == "txt":
        return _txt(book).encode("utf-8")
    if fmt == "html":
        from game.saves.html_book import html

        return html(book).encode("utf-8")
    if fmt == "epub":
        from game.saves.epub_book import epub

        return epub(book)
    raise SlotError(f"no export format {fmt!r}: use one of {', '.join(FORMATS)}")


_NAMES = {**{fmt: fmt for fmt in FORMATS}, "markdown": "md", "htm": "html", "text": "txt"}


def named_format(path: Path | str) -> str | None:
    """The format a file's name ends in (`x.epub` -> "epub", `x.htm` -> "html"), None for another name."""
    return _NAMES.get(Path(path).suffix.lower().lstrip("."))


def format_of(path: Path | str, fmt: str | None = None) -> str:
    """The format asked for, else the one the file's name ends in, else Markdown."""
    return fmt or named_format(path) or "md"


def agreeing(path: Path | str, fmt: str | None, saved: str = "") -> str:
    """The format to write `path` in: `fmt`, unless the file's own name says another format, which
    is refused in one line (Markdown written into `x.epub` is a file no e-reader opens, and the
    name is what the player sees of it later); a name of no known format takes `fmt` as asked."""
    named = named_format(path)
    if fmt and named and named != fmt:
        raise SlotError(f"{path}: the name says {FORMATS[named]} but {FORMATS.get(fmt, fmt)} was asked for: name "
                        f"the file .{fmt} or ask for {named} (nothing was written){saved}")
    return format_of(path, fmt)


def write_transcript(story: Story, path: Path | str, slot: str = "", fmt: str | None = None,
                     header: dict | None = None, saves: Path | None = None) -> Path:
    """The story written to `path` in `fmt` (default: from the file's name); one-line SlotError
    (the story stays saved) if it cannot be, or if `path` is inside a slot's folder of `saves`
    (it would overwrite a journal).

    The file is written beside its target and renamed over it, so a path that is a hard link to
    a save's file replaces the link, never the save; a pipe or a device (/dev/stdout) is written to."""
    saved = f"; the story is saved in slot {slot}" if slot else ""
    target = Path(path).expanduser().absolute()
    resolved = check_out(path, saves, saved)
    data = render(story, agreeing(path, fmt, saved), slot, header)
    try:
        if resolved.exists() and not resolved.is_file():
            with open(resolved, "wb") as handle:  # a terminal, a pipe; a folder fails here
                handle.write(data)
        else:
            write_whole(resolved, data)
    except CannotWrite as error:
        raise SlotError(f"{path}: cannot write the transcript ({error.reason}){saved}") from None
    except OSError as error:
        raise SlotError(f"{path}: cannot write the transcript ({error.strerror or error}){saved}") from None
    return target


def check_out(path: Path | str, saves: Path | None, saved: str = "") -> Path:
    """Where a transcript for `path` would be written (symbolic links followed); SlotError if
    that is inside a slot's folder of `saves`. `write` asks before it takes a step."""
    target = Path(path).expanduser().absolute()
    try:
        resolved = target.resolve()  # through symbolic links: a link into a slot is in the slot
    except (OSError, RuntimeError) as error:
        raise SlotError(f"{path}: cannot write the transcript ({getattr(error, 'strerror', None) or error}){saved}") from None
    owner = _slot_holding(resolved, saves)
    if owner:
        raise SlotError(f"{path}: is inside the folder of slot {owner}, where it would overwrite the save; "
                        f"write the transcript somewhere else (nothing was written){saved}")
    return resolved


def _slot_holding(resolved: Path, saves: Path | None) -> str | None:
    """The slot whose folder `resolved` is in (saves/<slot>/...), if any."""
    if saves is None:
        return None
    try:
        inside = resolved.relative_to(Path(saves).expanduser().resolve())
    except (ValueError, OSError, RuntimeError):
        return None
    return inside.parts[0] if len(inside.parts) >= 2 else None
