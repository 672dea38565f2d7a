"""Held-out variants of the red team's findings (issue 26): each ends in one plain line or the
right behaviour, never a traceback or a hang."""
from __future__ import annotations

import pytest

from game.cli import main
from game.stories.importers import CardError, import_cards
from game.stories.shelf import shelf

pytestmark = pytest.mark.slow  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)


def _deep_seed(depth: int, style: str) -> str:
    head = 'title = "Deep"\ngenre = "mystery"\npremise = "A door below a door."\n'
    if style == "header":
        return head + "[" + ".".join(["room"] * depth) + "]\nlamp = 1\n"
    return head + "world = " + "[" * depth + "]" * depth + "\n"  # arrays nested inline


@pytest.mark.parametrize("style", ["header", "inline"])
def test_a_deeply_nested_seed_among_the_players_stories_is_one_line(tmp_path, monkeypatch, capsys, style):
    own = tmp_path / "own"
    own.mkdir()
    (own / "deep.toml").write_text(_deep_seed(20_000 if style == "header" else 900, style), encoding="utf-8")
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(own))
    listed = {s.name: s.seed for s in shelf()}  # what the title screen's New game lists
    assert "deep" in listed and "nested" in str(listed["deep"]) and "\n" not in str(listed["deep"])
    assert main(["stories", "list"]) == 0
    assert main(["stories", "validate", str(own / "deep.toml")]) != 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "RecursionError" not in out + err
    assert "deep.toml: " in out + err and "nested" in out + err


def test_a_card_with_a_huge_number_is_one_line(tmp_path):
    card = tmp_path / "card.json"
    card.write_text('[{"keys": "lamp", "value": "The lamp.", "weight": ' + "7" * 5_000 + "}]", encoding="utf-8")
    with pytest.raises(CardError) as caught:
        import_cards(card)
    assert str(caught.value).startswith(str(card)) and "\n" not in str(caught.value)


def test_a_card_nested_deeply_is_one_line(tmp_path):
    card = tmp_path / "card.json"
    card.write_text('{"entries": ' + "[" * 500 + "]" * 500 + "}", encoding="utf-8")
    with pytest.raises(CardError) as caught:
        import_cards(card)
    assert "nests more than" in str(caught.value)


def test_options_naming_different_people_are_different_choices():
    from game.engine import guards

    offered = ["Ask Mara about the ledger.", "Ask Tobin about the ledger.", "Ask Mara about the ledger again."]
    assert guards.options(offered) == offered[:2]  # a name makes a choice; "again" does not
    assert guards.options(["Search the hold for the crate.", "Search the deck for the crate.",
                           "Searching the hold for the crates."]) == ["Search the hold for the crate.",
                                                                      "Search the deck for the crate."]


def _read_only_disk(monkeypatch):
    """Writes fail as on a read-only filesystem, and so does removing what a failed write left."""
    import errno
    import os
    from pathlib import Path

    def refuse(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr(Path, "unlink", refuse)


def test_exports_settings_and_seeds_to_a_read_only_disk_are_one_line(saves, seed_path, tmp_path, capsys, monkeypatch):
    from game.core.settings import SettingsError, save_choices
    from game.stories.document import write_text
    from game.stories.loader import SeedError
    from tests.test_book import long_story

    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    long_story(saves, seed_path, steps=2)
    before = (saves / "book" / "journal.jsonl").read_bytes()
    _read_only_disk(monkeypatch)
    for fmt in ("md", "epub"):
        code = main(["saves", "export", "book", "--format", fmt, "--out", str(tmp_path / f"story.{fmt}")])
        out, err = capsys.readouterr()
        assert code == 1 and "Read-only file system" in err and err.count("\n") == 1 and "Traceback" not in err
    assert (saves / "book" / "journal.jsonl").read_bytes() == before  # the story is untouched
    with pytest.raises(SeedError) as caught:
        write_text(seed_path, seed_path.read_text(encoding="utf-8"))
    assert "Read-only file system" in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.setenv("RECURRENT_CONFIG", str(tmp_path / "settings.toml"))
    with pytest.raises(SettingsError) as said:
        save_choices({"theme": "nord"})
    assert str(tmp_path / "settings.toml") in str(said.value)


def test_model_text_with_html_is_plain_text_in_every_export(saves, seed_path, tmp_path, monkeypatch):
    """Markdown passes raw HTML and links through to whatever renders it: the transcript escapes
    them, as the web page and the e-book do."""
    from markdown_it import MarkdownIt

    from game.core.models import Step, Version
    from game.core.records import Told
    from game.saves.export import render
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, Slot, replay
    from game.stories.loader import load_seed

    hostile = ('The note reads <script>alert("x")</script> and <img src=x onerror=alert(1)> and '
               '[a map](javascript:alert(2)) in a shaking hand, and nothing more is written on it.')
    with Slot.create(saves, "book", load_seed(seed_path)) as slot:
        for n in range(2):
            version = Version(seq=slot.story.seq + 1, options=["a", "b", "c"], paragraph=hostile, memory="")
            slot.commit(Told(step=Step(number=n, action="Read <b>it</b>" if n else "", version=version)))
    story = replay(Journal(saves / "book" / JOURNAL).read(), "book")
    page = MarkdownIt("commonmark").render(render(story, "md", "book").decode("utf-8"))
    assert "<script" not in page and "<img" not in page and "javascript:" not in page.split("href=")[-1][:20]
    assert "alert(1)" in page  # the words are kept, as words
    html = render(story, "html", "book").decode("utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html


# -- one byte never costs a story ------------------------------------------------------------
def _story_slot(saves, seed_path, capsys, steps=4) -> list[str]:
    """A slot of `steps` told steps; its paragraphs."""
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, replay

    assert main(["write", "--story", str(seed_path), "--slot", "damaged", "--steps", str(steps)]) == 0
    capsys.readouterr()
    story = replay(Journal(saves / "damaged" / JOURNAL).read(), "damaged")
    return [step.version.paragraph for step in story.steps]


def _lines(saves) -> list[bytes]:
    return (saves / "damaged" / "journal.jsonl").read_bytes().split(b"\n")


def _step_lines(saves) -> list[int]:
    return [i for i, line in enumerate(_lines(saves)) if b'"kind":"step"' in line]


def _delete_a_step_line(saves):
    lines = _lines(saves)
    del lines[_step_lines(saves)[1]]
    (saves / "damaged" / "journal.jsonl").write_bytes(b"\n".join(lines))


def _swap_two_lines(saves):
    lines = _lines(saves)
    a = _step_lines(saves)[1]
    lines[a], lines[a + 1] = lines[a + 1], lines[a]
    (saves / "damaged" / "journal.jsonl").write_bytes(b"\n".join(lines))


def _byte_order_mark(saves):
    path = saves / "damaged" / "journal.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _flip_a_byte_in_the_first_record(saves):
    lines = _lines(saves)
    at = len(lines[0]) // 2
    lines[0] = lines[0][:at] + bytes([lines[0][at] ^ 0x5A]) + lines[0][at + 1:]
    (saves / "damaged" / "journal.jsonl").write_bytes(b"\n".join(lines))


def _flip_a_byte_in_a_step(saves):
    lines = _lines(saves)
    line = _step_lines(saves)[2]
    lines[line] = lines[line][:20] + b"{" + lines[line][21:]  # inside the JSON's structure, not a string
    (saves / "damaged" / "journal.jsonl").write_bytes(b"\n".join(lines))


@pytest.mark.parametrize("damage", [_delete_a_step_line, _swap_two_lines, _byte_order_mark,
                                    _flip_a_byte_in_the_first_record, _flip_a_byte_in_a_step])
def test_a_hand_damaged_journal_loses_no_step_after_repair(game_env, saves, seed_path, capsys, damage):
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, replay

    paragraphs = _story_slot(saves, seed_path, capsys)
    damage(saves)
    code = main(["saves", "check", "damaged"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and (code == 0) == (damage is _byte_order_mark), out + err
    assert main(["saves", "repair", "damaged"]) == 0, capsys.readouterr()
    capsys.readouterr()
    assert main(["saves", "check", "damaged"]) == 0, capsys.readouterr()
    capsys.readouterr()
    story = replay(Journal(saves / "damaged" / JOURNAL).read(), "damaged")
    assert [step.version.paragraph for step in story.steps] == paragraphs  # every step, rebuilt from memory if need be
    assert main(["write", "--slot", "damaged", "--steps", "1"]) == 0  # and it plays on


def test_a_branch_racing_a_new_game_of_the_same_name_never_mixes_them(game_env, saves, seed_path, capsys, monkeypatch):
    """At the worst moment, between the branch's check of the name and its writing the slot, a new
    game of the same name starts in another process: it is refused in one line and writes nothing,
    and the slot is the branch, whole. (Without the lock held across both, the game wrote 'wrote 1
    step' and the branch then replaced its journal.)"""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from game.saves.check import check
    from game.saves.slot import Slot

    assert main(["write", "--story", str(seed_path), "--slot", "source", "--steps", "2"]) == 0
    capsys.readouterr()
    root = Path(__file__).resolve().parents[1]
    raced = {}
    writing = Slot.fill  # the branch writes its slot whole, under the lock it took before checking the name

    def racing(slot, records, story, origin):
        game = subprocess.run([sys.executable, "-m", "game", "write", "--story", str(seed_path), "--slot", "race",
                               "--steps", "1"], env={**os.environ, "PYTHONPATH": str(root)}, cwd=root,
                              capture_output=True, text=True, timeout=120)
        raced.update(code=game.returncode, err=game.stderr)
        writing(slot, records, story, origin)

    monkeypatch.setattr(Slot, "fill", racing)
    assert main(["saves", "branch", "source", "--at", "1", "--as", "race"]) == 0, capsys.readouterr()
    assert raced["code"] == 1 and raced["err"].count("\n") == 1 and "race" in raced["err"], raced
    assert check(saves, "race").ok
    with Slot.open(saves, "race", memory=False) as slot:
        assert slot.origin.get("parent") == "source" and slot.story.taken == 1


def test_saves_check_writes_nothing_to_the_slot(game_env, saves, seed_path, capsys):
    """A slot a crash left behind (a torn last line, memory's marker gone, the header gone): check
    names what opening will recover, and not one byte of the slot changes, long-term memory's
    files included (Chroma's housekeeping on opening happens on a copy)."""
    from game.saves.journal import encode

    assert main(["write", "--story", str(seed_path), "--slot", "kept", "--steps", "3"]) == 0
    folder = saves / "kept"
    record = encode({"seq": 99, "kind": "memory", "text": "never acknowledged"})
    with open(folder / "journal.jsonl", "ab") as handle:
        handle.write(record[: len(record) // 2])
    (folder / "index.json").unlink(missing_ok=True)
    (folder / "header.json").unlink()
    capsys.readouterr()
    before = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "lock"}
    assert main(["saves", "check", "kept"]) == 0
    out = capsys.readouterr().out
    assert "on opening, a torn last journal record" in out and out.rstrip().endswith("kept: ok")
    after = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "lock"}
    assert after == before
    assert main(["write", "--slot", "kept", "--steps", "1"]) == 0  # opening recovers, and it plays on


def test_opening_a_slot_whose_memory_cannot_be_read_rebuilds_it(game_env, saves, seed_path, capsys):
    """Long-term memory is an index of the journal: when Chroma cannot read its folder, opening
    the slot keeps the folder aside and rebuilds memory from the journal, losing nothing."""
    from game.saves.slot import Slot

    assert main(["write", "--story", str(seed_path), "--slot", "scrambled", "--steps", "2"]) == 0
    folder = saves / "scrambled" / "memory"
    for path in folder.rglob("*.sqlite3"):
        path.write_bytes(b"\x00not a database\xff" * 64)
    with Slot.open(saves, "scrambled") as slot:
        assert "rebuilt from the journal" in slot.said and "\n" not in slot.said
        assert slot.memory.stored_ids() == {e.id for e in slot.story.entries()}
    assert [p.name for p in (saves / "scrambled").glob("memory.damaged-*")]
    capsys.readouterr()
    for path in (saves / "scrambled" / "memory").rglob("*.sqlite3"):  # and again, as a player meets it
        path.write_bytes(b"\x00not a database\xff" * 64)
    assert main(["write", "--slot", "scrambled", "--steps", "1"]) == 0
    err = capsys.readouterr().err
    assert "rebuilt from the journal" in err and "Traceback" not in err
    assert main(["saves", "check", "scrambled"]) == 0


def test_why_a_card_makes_no_seed_is_a_field_and_a_problem_not_a_web_address():
    from pydantic import ValidationError

    from game.core.seed import Seed
    from game.stories.importers import _reason

    with pytest.raises(ValidationError) as caught:
        Seed.model_validate({"title": "T", "genre": "g", "premise": "", "protagonist": {"name": "A"}})
    reason = _reason(caught.value)
    assert "premise" in reason and "http" not in reason and "\n" not in reason
