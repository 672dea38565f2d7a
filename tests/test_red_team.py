"""Held-out variants of the red team's findings (issue 26): each ends in one plain line or the
right behaviour, never a traceback or a hang."""
from __future__ import annotations

import pytest

from game.cli import main
from game.stories.importers import CardError, import_cards
from game.stories.shelf import shelf
from tests.test_faults import fill, remount_read_only, tiny_disk  # noqa: F401 - tiny_disk: a fixture, used by name

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


def _byte_order_marks_twice_and_on_a_line(saves):
    """An editor that adds a mark to a file that has one, and a line pasted from another file with its own."""
    lines = _lines(saves)
    lines[3] = b"\xef\xbb\xbf" + lines[3]
    (saves / "damaged" / "journal.jsonl").write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + b"\n".join(lines))


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
                                    _byte_order_marks_twice_and_on_a_line, _flip_a_byte_in_the_first_record,
                                    _flip_a_byte_in_a_step])
def test_a_hand_damaged_journal_loses_no_step_after_repair(game_env, saves, seed_path, capsys, damage):
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, replay

    paragraphs = _story_slot(saves, seed_path, capsys)
    damage(saves)
    code = main(["saves", "check", "damaged"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    assert (code == 0) == (damage in (_byte_order_mark, _byte_order_marks_twice_and_on_a_line)), out + err
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


def test_a_format_and_a_file_name_that_disagree_are_one_line_and_write_nothing(saves, seed_path, tmp_path, capsys, monkeypatch):
    """`--format md --out x.epub` asks for two things at once: one line, nothing written. A name
    of no known format takes the format asked for; a name alone decides the format."""
    from tests.test_book import long_story

    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    long_story(saves, seed_path, steps=2)
    code = main(["saves", "export", "book", "--format", "md", "--out", str(tmp_path / "x.epub")])
    out, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "x.epub" in err and "EPUB" in err and "Markdown" in err, err
    assert not (tmp_path / "x.epub").exists()
    assert main(["saves", "export", "book", "--format", "html", "--out", str(tmp_path / "x.htm")]) == 0
    assert main(["saves", "export", "book", "--format", "txt", "--out", str(tmp_path / "x.story")]) == 0
    assert main(["saves", "export", "book", "--out", str(tmp_path / "y.epub")]) == 0
    assert (tmp_path / "y.epub").read_bytes()[:2] == b"PK" and (tmp_path / "x.story").read_text().startswith("The ")


@pytest.mark.parametrize("damage", [_delete_a_step_line, "garbage"])
def test_branching_a_damaged_slot_names_the_damage_and_changes_nothing(game_env, saves, seed_path, capsys, damage):
    """A branch of a damaged journal was made of the records before the damage, silently; a step
    past it was 'out of range'. Now: one line naming the line and repair, no slot made, and after
    repair the branch is made with every step."""
    from game.saves.folder import list_slots

    _story_slot(saves, seed_path, capsys)
    if damage == "garbage":
        lines = _lines(saves)
        lines[_step_lines(saves)[2]] = b"0badc0de {this line was scribbled over}"
        (saves / "damaged" / "journal.jsonl").write_bytes(b"\n".join(lines))
    else:
        damage(saves)
    before = {p.name: p.read_bytes() for p in (saves / "damaged").iterdir() if p.is_file() and p.name != "lock"}
    for step in ("1", "4"):
        for command in (["saves", "branch", "damaged", "--at", step, "--as", "fork"],):
            code = main(command)
            out, err = capsys.readouterr()
            assert code == 1 and err.count("\n") == 1 and "Traceback" not in out + err, out + err
            assert "journal line" in err and "saves repair damaged" in err, err
    assert list_slots(saves) == ["damaged"]
    after = {p.name: p.read_bytes() for p in (saves / "damaged").iterdir() if p.is_file() and p.name != "lock"}
    assert after == before
    assert main(["saves", "repair", "damaged"]) == 0
    assert main(["saves", "branch", "damaged", "--at", "4", "--as", "fork"]) == 0, capsys.readouterr()


def test_a_deleted_parents_name_is_not_inherited_by_a_new_slot_of_that_name(game_env, saves, seed_path, capsys):
    """A branch of a slot that was deleted stays a branch of the deleted slot: a new story later
    saved under the same name (the same seed, even) is not its parent on the story map."""
    from game.saves.tree import forest

    assert main(["write", "--story", str(seed_path), "--slot", "old", "--steps", "2"]) == 0
    assert main(["saves", "branch", "old", "--at", "1", "--as", "twig"]) == 0
    assert main(["saves", "delete", "old", "--yes"]) == 0
    assert main(["write", "--story", str(seed_path), "--slot", "old", "--steps", "1"]) == 0
    capsys.readouterr()
    trees = {tree.slot: tree for tree in forest(saves)}
    assert set(trees) == {"old", "twig"} and not trees["old"].children and trees["twig"].orphan
    assert main(["saves", "tree"]) == 0
    out = capsys.readouterr().out
    assert "twig · a branch of old (deleted) from step 1" in out and "└── twig" not in out, out
    # A branch of the new slot is its child, as before; so is a branch made before identities were kept.
    assert main(["saves", "branch", "old", "--at", "1", "--as", "shoot"]) == 0
    assert [child.slot for child in {t.slot: t for t in forest(saves)}["old"].children] == ["shoot"]
    import json

    header = json.loads((saves / "shoot" / "header.json").read_text())
    del header["parent_id"]
    (saves / "shoot" / "header.json").write_text(json.dumps(header))
    assert [child.slot for child in {t.slot: t for t in forest(saves)}["old"].children] == ["shoot"]


@pytest.mark.parametrize("point", ["branch-memory", "branch-journal"])
def test_a_branch_killed_between_its_journal_and_its_memory_leaves_no_broken_slot(game_env, saves, seed_path, capsys, point):
    """`saves branch` in its own process, SIGKILLed where it stops itself (RECURRENT_TEST_STOP):
    after the kill there is either no slot of that name (and the branch can be made again) or a
    whole one that `saves check` passes. The source is never touched."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from game.saves.check import check
    from game.saves.folder import list_slots

    assert main(["write", "--story", str(seed_path), "--slot", "source", "--steps", "3"]) == 0
    capsys.readouterr()
    before = (saves / "source" / "journal.jsonl").read_bytes()
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen([sys.executable, "-m", "game", "saves", "branch", "source", "--at", "2", "--as", "twig"],
                             env={**os.environ, "PYTHONPATH": str(root), "RECURRENT_TEST_STOP": point}, cwd=root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = os.waitid(os.P_PID, child.pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
        assert seen.si_code == os.CLD_STOPPED, child.communicate()  # it reached the point, and stopped there
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate()
    assert (saves / "source" / "journal.jsonl").read_bytes() == before
    if "twig" not in list_slots(saves):
        assert main(["saves", "branch", "source", "--at", "2", "--as", "twig"]) == 0, capsys.readouterr()
    report = check(saves, "twig")
    assert report.ok and not report.recovered, (report.problems, report.recovered)
    assert main(["write", "--slot", "twig", "--steps", "1"]) == 0  # and it plays on


@pytest.mark.parametrize("field", ["prompt", "memory", "authorsNote"])
def test_a_blank_that_asks_nothing_in_a_scenario_is_no_traceback(tmp_path, field):
    """`${   }` in an AI Dungeon scenario made a placeholder with no prompt: pydantic's error and
    its web address, as a traceback. An empty blank asks nothing and stays as written."""
    import json

    card = tmp_path / "scenario.json"
    data = {"storyCards": [{"keys": "lamp", "value": "The lamp."}], "title": "Wake", "prompt": "You wake."}
    data[field] = (data.get(field, "") + " Then ${   } calls, and ${\t} answers.").strip()
    card.write_text(json.dumps(data), encoding="utf-8")
    imported = import_cards(card)
    assert imported.seed is not None and not imported.seed.placeholders


def test_any_value_no_seed_takes_is_one_line_naming_the_card_and_the_field(tmp_path, monkeypatch):
    """Whatever part of an import meets a value a seed cannot take, the player reads the card's
    file and the field, in one line, never pydantic's web address."""
    import json

    from game.core.seed import Placeholder
    from game.stories import importers

    card = tmp_path / "scenario.json"
    card.write_text(json.dumps({"storyCards": [{"keys": "lamp", "value": "The lamp."}], "title": "Wake",
                                "prompt": "You wake, ${What is your name?}."}), encoding="utf-8")
    monkeypatch.setattr(importers, "Placeholder", lambda prompt, default: Placeholder(prompt=prompt, default=""))
    with pytest.raises(CardError) as caught:
        import_cards(card)
    said = str(caught.value)
    assert said.startswith(str(card)) and "default" in said and "http" not in said and "\n" not in said, said


@pytest.fixture
def kept_on_a_small_disk(game_env, tiny_disk, seed_path, capsys, monkeypatch):
    """Slot `kept`, two steps told, on a real 8 MB tmpfs: (the mount point, the saves folder)."""
    saves = tiny_disk / "saves"
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    assert main(["write", "--story", str(seed_path), "--slot", "kept", "--steps", "2"]) == 0
    capsys.readouterr()
    return tiny_disk, saves


def test_a_slot_on_a_read_only_disk_can_be_checked_and_shown(kept_on_a_small_disk, capsys):
    """A real read-only mount (a backup, a write-protected stick): check and show only read, so
    they answer; they said 'cannot open it for writing', since taking the slot's lock is a write.
    No game can be writing a slot there, so none is waited for."""
    import subprocess

    point, _saves = kept_on_a_small_disk
    assert remount_read_only(point)
    try:
        assert main(["saves", "check", "kept"]) == 0, capsys.readouterr()
        assert capsys.readouterr().out.strip().endswith("kept: ok")
        assert main(["saves", "show", "kept", "--json"]) == 0
        out, err = capsys.readouterr()
        assert '"steps": 2' in out and "in use" not in err, err
        assert main(["write", "--slot", "kept", "--steps", "1"]) == 1  # playing it is still one line
        assert "Read-only file system" in capsys.readouterr().err
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(point)], capture_output=True)


def test_a_full_disk_is_not_taken_for_unreadable_memory(kept_on_a_small_disk, capsys):
    """Opening a slot on a full disk: Chroma cannot open its folder ('database or disk is full').
    That is not damage: the memory folder was moved aside as unreadable and a new one begun,
    so a good index was thrown over. Now: one line that says the disk is full, nothing moved."""
    point, saves = kept_on_a_small_disk
    before = sorted(p.name for p in (saves / "kept").iterdir())
    filler = fill(point)
    assert main(["write", "--slot", "kept", "--steps", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "full" in err and "Traceback" not in err, err
    assert sorted(p.name for p in (saves / "kept").iterdir()) == before  # nothing moved aside
    filler.unlink()
    assert main(["saves", "check", "kept"]) == 0
    assert capsys.readouterr().out.strip() == "kept: ok"  # memory as it was: nothing to catch up
    assert main(["write", "--slot", "kept", "--steps", "1"]) == 0


def test_a_branch_that_loses_the_race_for_a_new_slot_never_removes_the_winners_folder(game_env, saves, seed_path, capsys, monkeypatch):
    """Two processes make slot `race` at once: the branch made its folder, but the other took the
    lock in it first. The branch, refused, removed 'its' folder with everything the winner had
    written in it (seen by hand as 'could not save the branch (No such file or directory)' from a
    third racer). Now the loser leaves the folder to the one that holds its lock."""
    from game.saves import branch as branching
    from game.saves.names import SlotError
    from game.saves.slot import Slot, SlotInUse

    assert main(["write", "--story", str(seed_path), "--slot", "source", "--steps", "2"]) == 0
    capsys.readouterr()
    real = Slot.take_lock

    def beaten(self):
        if self.name != "race":
            return real(self)
        (self.path / "journal.jsonl").write_bytes(b"the winner's journal\n")  # what the winner wrote under its lock
        raise SlotInUse(f"slot {self.name} is in use by another game")

    monkeypatch.setattr(Slot, "take_lock", beaten)
    with pytest.raises(SlotError) as caught:
        branching.branch_at(saves, "source", 1, "race")
    assert "race" in str(caught.value) and "\n" not in str(caught.value)
    assert (saves / "race" / "journal.jsonl").read_bytes() == b"the winner's journal\n"


@pytest.mark.parametrize("where", ["top", "world"])
def test_a_seed_with_a_huge_integer_is_one_line(tmp_path, monkeypatch, capsys, where):
    """tomllib lets Python's integer limit through as a bare ValueError: `stories validate`,
    `stories list` and the title's shelf printed a traceback for a seed holding a 5,000-digit
    number. (The card's variant of this finding was fixed; the seed's was not.)"""
    from game.core.settings import SettingsError, load_settings
    from game.stories.document import SeedFile
    from game.stories.loader import SeedError

    own = tmp_path / "own"
    own.mkdir()
    head = 'title = "Big"\ngenre = "mystery"\npremise = "A number."\n[protagonist]\nname = "Ada"\n'
    number = "9" * 5_000
    text = head + (f"x = {number}\n" if where == "top" else f"[[world]]\nname = \"n\"\ntext = \"t\"\nalways = {number}\n")
    (own / "big.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(own))
    listed = {s.name: s.seed for s in shelf()}
    assert "digits long" in str(listed["big"]) and "\n" not in str(listed["big"])
    assert main(["stories", "validate", str(own / "big.toml")]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "big.toml:" in out + err and "5,000 digits long" in out + err
    with pytest.raises(SeedError):
        SeedFile.open(own / "big.toml")  # the studio's way in
    settings = tmp_path / "settings.toml"
    settings.write_text(f"theme = {number}\n", encoding="utf-8")
    monkeypatch.setenv("RECURRENT_CONFIG", str(settings))
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(settings) in str(caught.value) and "digits long" in str(caught.value)


def test_a_backslash_in_model_text_cannot_undo_the_markdown_escape(saves, seed_path):
    r"""The transcript put a backslash before `<`; a model that wrote `\<script>` got `\\<script>`:
    an escaped backslash, then raw HTML that ran. The text's own backslashes are escaped too."""
    from markdown_it import MarkdownIt

    from game.core.models import Step, Version
    from game.core.records import Told
    from game.saves.export import render
    from game.saves.journal import Journal
    from game.saves.slot import JOURNAL, Slot, replay
    from game.stories.loader import load_seed

    hostile = (r'The note reads \<script>alert("x")</script>, then \<img src=x onerror=alert(1)> and '
               r'\[a map](javascript:alert(2)), and a path C:\keeper\log that stays as written.')
    with Slot.create(saves, "book", load_seed(seed_path)) as slot:
        for n in range(2):
            version = Version(seq=slot.story.seq + 1, options=["a", "b", "c"], paragraph=hostile, memory="")
            slot.commit(Told(step=Step(number=n, action=r"Read \<b>it</b>" if n else "", version=version)))
    story = replay(Journal(saves / "book" / JOURNAL).read(), "book")
    page = MarkdownIt("commonmark").render(render(story, "md", "book").decode("utf-8"))
    assert "<script" not in page and "<img" not in page and "<b>" not in page and 'href="javascript' not in page
    assert r"C:\keeper\log" in page and "alert(1)" in page
