"""The story as one self-contained web page, and the XHTML of its chapters (which the EPUB reuses).

Everything is escaped; the style sheet is inline, so the file reads the same anywhere, offline,
in a light or a dark scheme.
"""
from __future__ import annotations

from html import escape

from game.saves.book import Book, Chapter

CSS = """
:root { color-scheme: light dark; }
body { font-family: Georgia, "Iowan Old Style", "Palatino Linotype", "Book Antiqua", serif;
       font-size: 1.1em; line-height: 1.6; color: #24211c; background: #fbf9f3;
       max-width: 36em; margin: 0 auto; padding: 2em 1.2em 4em; }
h1 { font-size: 2em; line-height: 1.2; margin: 0.5em 0 0.3em; }
h2 { font-size: 1.3em; text-align: center; letter-spacing: 0.06em; margin: 3em 0 1.2em; }
.premise { font-style: italic; color: #5c564b; margin: 0 0 0.5em; }
.telling { font-size: 0.85em; color: #7a7263; margin: 0 0 2em; }
nav ol { padding-left: 1.4em; }
a { color: #6b5525; }
p { margin: 0 0 0.9em; hyphens: auto; }
.action { font-style: italic; color: #6b5525; margin: 1.6em 0 0.6em; padding-left: 0.8em;
          border-left: 3px solid #d4c293; }
.number { font-style: normal; font-size: 0.75em; color: #9a917f; margin-right: 0.5em; }
.recap { font-size: 0.92em; color: #5c564b; background: #f1ecdf; padding: 0.8em 1em; margin: 0 0 2em; }
.recap p { margin: 0; }
@media (prefers-color-scheme: dark) {
  body { color: #e4dfd4; background: #1d1c19; }
  .premise, .recap { color: #b9b2a3; }
  .telling, .number { color: #8f887a; }
  .action, a { color: #d9bf7f; }
  .action { border-left-color: #6b5a33; }
  .recap { background: #2a2823; }
}
"""


def paragraphs(text: str, css: str = "") -> str:
    """Each line of `text` as a paragraph (a model sometimes writes more than one)."""
    attr = f' class="{css}"' if css else ""
    return "".join(f"<p{attr}>{escape(line.strip())}</p>\n" for line in text.splitlines() if line.strip())


def chapter_body(chapter: Chapter, heading: bool = True) -> str:
    """A chapter as XHTML: its heading, the recap it opens with, then every step."""
    out = [f'<section id="chapter-{chapter.number}">\n']
    if heading:
        out.append(f"<h2>{escape(chapter.title)}</h2>\n")
    if chapter.recap:
        out.append(f'<aside class="recap"><p><em>The story so far:</em> {escape(chapter.recap)}</p></aside>\n')
    for page in chapter.pages:
        out.append(f'<div id="step-{page.number}">\n')
        if page.number > 0:
            out.append(f'<p class="action"><span class="number">{page.number}</span>{escape(page.action)}</p>\n')
        out.append(paragraphs(page.paragraph))
        out.append("</div>\n")
    out.append("</section>\n")
    return "".join(out)


def front(book: Book) -> str:
    """The title, the premise and which branch this is."""
    out = f"<h1>{escape(book.title)}</h1>\n" + paragraphs(f"{book.genre} · {book.premise}", "premise")
    if book.author:
        out += f'<p class="telling">by {escape(book.author)}</p>\n'
    if book.telling:
        out += paragraphs(book.telling, "telling")
    return out


def html(book: Book) -> str:
    headed = len(book.chapters) > 1  # a story that never closed a chapter reads as one
    contents = ""
    if headed:
        items = "".join(f'<li><a href="#chapter-{c.number}">{escape(c.title)}</a></li>\n' for c in book.chapters)
        contents = f"<nav>\n<ol>\n{items}</ol>\n</nav>\n"
    body = "".join(chapter_body(chapter, headed) for chapter in book.chapters)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="author" content="{escape(book.author)}">\n'
        f"<title>{escape(book.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header>\n{front(book)}</header>\n{contents}<main>\n{body}</main>\n</body>\n</html>\n"
    )
