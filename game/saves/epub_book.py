"""The story as an EPUB 3 e-book, made with ebooklib: a title page, one document per chapter,
the navigation document (and an NCX for older readers), title and author from the seed.

It must pass epubcheck (tests/test_book.py runs it when it is installed).
"""
from __future__ import annotations

import io
from html import escape

from game.saves.book import Book
from game.saves.html_book import chapter_body, front

STYLE = """
body { font-family: serif; line-height: 1.5; margin: 0 0.5em; }
h1 { font-size: 1.8em; margin: 2em 0 0.4em; }
h2 { font-size: 1.3em; text-align: center; margin: 2em 0 1em; }
p { margin: 0; text-indent: 1.2em; }
.premise, .telling, .action, .recap p { text-indent: 0; }
.premise { font-style: italic; margin: 0 0 0.6em; }
.telling { font-size: 0.85em; margin: 0 0 0.4em; }
.action { font-style: italic; margin: 1.2em 0 0.5em; }
.number { font-style: normal; font-size: 0.75em; margin-right: 0.5em; }
.recap { font-size: 0.92em; margin: 0 0 1.5em; padding: 0.6em 0.8em; border: 1px solid #999; }
"""


def epub(book: Book) -> bytes:
    from ebooklib import epub as e  # imported only when an e-book is asked for

    doc = e.EpubBook()
    doc.set_identifier(book.identifier)
    doc.set_title(book.title)
    doc.set_language("en")
    doc.add_author(book.author)
    if book.telling:
        doc.add_metadata("DC", "description", f"{book.premise} ({book.telling})")
    else:
        doc.add_metadata("DC", "description", book.premise)
    doc.add_metadata("DC", "subject", book.genre)
    style = e.EpubItem(uid="style", file_name="style/book.css", media_type="text/css", content=STYLE)
    doc.add_item(style)

    title = e.EpubHtml(title=book.title, file_name="title.xhtml", lang="en")
    title.content = f"<html><head><title>{escape(book.title)}</title></head><body>{front(book)}</body></html>"
    title.add_item(style)
    doc.add_item(title)
    chapters = []
    for chapter in book.chapters:
        page = e.EpubHtml(title=chapter.title, file_name=f"chapter-{chapter.number}.xhtml", lang="en")
        page.content = f"<html><head><title>{escape(chapter.title)}</title></head><body>{chapter_body(chapter)}</body></html>"
        page.add_item(style)
        doc.add_item(page)
        chapters.append(page)
    doc.toc = [e.Link("title.xhtml", book.title, "title"), *chapters]
    doc.add_item(e.EpubNcx())
    doc.add_item(e.EpubNav())
    doc.spine = [title, "nav", *chapters]
    out = io.BytesIO()
    e.write_epub(out, doc, {"raise_exceptions": True})
    return out.getvalue()
