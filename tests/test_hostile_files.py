"""Hostile files, slots and paths (issue 12, F8 F10 F11 F12 F13 F14 F15 F17 F18): each ends in one
plain line or the right behaviour, and loses nothing."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from game.cli import main
from game.saves.journal import Journal
from game.saves.slot import HEADER, JOURNAL, MARKER, Slot
from game.stories.loader import load_seed
from tests.test_bad_input import CONTROL, one_line_error as one_line, _strings as strings

pytestmark = pytest.mark.slow  # hangs guarded by real processes with a time limit; slots opened again and again

ROOT = Path(__file__).resolve().parents[1]
ESCAPES = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\x1b]8;;https://evil.example\x1b\\"  # clear, clipboard write, a link


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- F8: escape sequences in seeds, cards and drafts -------------------------------------------------
def test_escape_sequences_in_a_seed_never_reach_the_terminal_or_the_journal(game_env, saves, tmp_path, capsys):
    stories = tmp_path / "stories"
    stories.mkdir()
    seed = stories / "nasty.toml"
    seed.write_text(f'''title = "The {ESCAPES}Lamp"
genre = "mystery{ESCAPES}"
premise = "A {ESCAPES}keeper vanished."
protagonist = {{ name = "Ada{ESCAPES}" }}
opening = "The lamp room is cold.{ESCAPES} The lens turns."
options = ["Read.", "Look{ESCAPES}.", "Leave."]
'''.replace("\\", "\\\\").replace("\x1b", "\\u001b").replace("\x07", "\\u0007"), encoding="utf-8")
    outputs = [run(capsys, "stories", "list", "--dir", str(stories))[1], run(capsys, "stories", "validate", str(seed))[1]]
    code, out, err = run(capsys, "write", "--story", str(seed), "--slot", "n", "--steps", "1")
    assert code == 0, err
    outputs += [out, err, run(capsys, "saves", "list")[1], run(capsys, "saves", "show", "n")[1]]
    assert "The Lamp" in outputs[0] and "The Lamp" in outputs[2]
    for text in outputs:
        assert not CONTROL.search(text), repr(text)
    for text in strings(Journal(saves / "n" / JOURNAL).read().records):
        assert not CONTROL.search(text), repr(text)


def test_escape_sequences_in_a_card_are_removed_as_it_is_imported(seed_path, tmp_path, capsys):
    card = tmp_path / "cards.json"
    card.write_text(json.dumps([{"title": f"The {ESCAPES}Bell", "keys": f"bell{ESCAPES}, tower",
                                 "value": f"It rings {ESCAPES}at noon."}]), encoding="utf-8")
    code, out, err = run(capsys, "stories", "import", str(card), "--into", str(seed_path))
    assert code == 0, err
    assert not CONTROL.search(out + err)
    text = seed_path.read_text(encoding="utf-8")
    assert "\\u001b" not in text and not CONTROL.search(text.replace("\n", ""))
    entry = load_seed(seed_path).world[-1]
    assert (entry.name, entry.keys, entry.text) == ("The Bell", ["bell", "tower"], "It rings at noon.")


def test_escape_sequences_in_a_drafted_seed_are_removed(game_env, tmp_path, capsys):
    draft = {"title": f"Glass {ESCAPES}Road", "genre": "fantasy", "tags": ["x"], "premise": f"A {ESCAPES}road.",
             "style": "Plain.", "rating": "teen", "protagonist_name": f"Ivo{ESCAPES}", "protagonist_description": "a carter",
             "opening": f"You stand {ESCAPES}at the gate.", "pinned": [], "world": [],
             "options": ["Go.", f"Wait{ESCAPES}.", "Turn back."]}
    game_env.say(json.dumps(draft))
    out_path = tmp_path / "drafted.toml"
    code, out, err = run(capsys, "stories", "new", "a road of glass", "--out", str(out_path))
    assert code == 0, err
    assert "Glass Road" in out and not CONTROL.search(out + err)
    text = out_path.read_text(encoding="utf-8")
    assert "\\u001b" not in text and "\x1b" not in text
    assert load_seed(out_path).protagonist.name == "Ivo"


# -- F14: a placeholder inside a default; pipes, devices ---------------------------------------------
def test_a_placeholder_inside_a_placeholder_default_is_refused_by_validate(game_env, saves, tmp_path, capsys):
    seed = tmp_path / "blank.toml"
    seed.write_text('title = "T"\ngenre = "g"\npremise = "Meet ${who}."\nprotagonist = { name = "Ada" }\n'
                    '[placeholders.who]\nprompt = "Who?"\ndefault = "${a}"\n', encoding="utf-8")
    code, out, err = run(capsys, "stories", "validate", str(seed))
    assert code == 1 and "blank.toml:7: placeholders.who.default: cannot hold a placeholder" in out
    code, out, err = run(capsys, "write", "--story", str(seed), "--slot", "s", "--steps", "1")
    one_line(code, out, err)
    assert "placeholders.who.default" in err and not (saves / "s").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_a_seed_that_is_not_a_regular_file_is_one_line(game_env, tmp_path, kind):
    """In a process of its own with a timeout, because the failure this guards against is a hang."""
    path = tmp_path / "story.toml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    is_what = {"fifo": "is a named pipe", "dev-zero": "is a device", "folder": "is a folder"}[kind]
    commands = [["write", "--story", str(path), "--slot", "s", "--steps", "1"],
                ["stories", "import", str(path), "--into", str(tmp_path / "x.toml")]]
    if kind != "folder":  # `validate FOLDER` validates the seeds in it
        commands.append(["stories", "validate", str(path)])
    for args in commands:
        done = subprocess.run([sys.executable, "-m", "game", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)
        said = (done.stdout or done.stderr).strip()  # validate adds its tally on stderr
        assert done.returncode == 1 and "\n" not in said and "Traceback" not in done.stdout + done.stderr, said
        assert is_what in said, said


def test_an_actions_file_that_is_a_pipe_is_one_line(game_env, saves, seed_path, tmp_path, capsys):
    pipe = tmp_path / "actions"
    os.mkfifo(pipe)
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "s", "--steps", "1", "--actions", str(pipe))
    one_line(code, out, err)
    assert "actions: is a named pipe, not an actions file" in err


# -- F15: an import that would make the seed too big to read -----------------------------------------
def test_an_import_too_big_for_a_seed_is_refused_before_writing(seed_path, tmp_path, capsys):
    card = tmp_path / "many.json"
    card.write_text(json.dumps([{"title": f"Card {i}", "keys": f"key{i}", "value": ("Lore. " * 680)[:4000]}
                                for i in range(190)]), encoding="utf-8")
    before = seed_path.read_bytes()
    code, out, err = run(capsys, "stories", "import", str(card), "--into", str(seed_path))
    one_line(code, out, err)
    assert "a seed may be at most 256 KiB; nothing was written" in out
    assert seed_path.read_bytes() == before
    assert run(capsys, "stories", "validate", str(seed_path))[0] == 0


# -- F10 / F11: slot names and links ------------------------------------------------------------------
def test_a_slot_name_with_a_final_newline_is_refused_everywhere(game_env, saves, seed_path, tmp_path, capsys):
    for args in (("write", "--story", str(seed_path), "--slot", "abc\n", "--steps", "1"), ("saves", "show", "abc\n"),
                 ("saves", "check", "abc\n"), ("saves", "repair", "abc\n"), ("saves", "delete", "abc\n"),
                 ("saves", "export", "abc\n")):
        code, out, err = run(capsys, *args)
        one_line(code, out, err)
        assert "bad slot name 'abc\\n'" in err
    assert list(saves.iterdir()) == []


def test_a_slot_that_is_a_link_out_of_the_saves_folder_is_refused(game_env, saves, seed_path, tmp_path, capsys):
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n")
    (saves / "etcslot").symlink_to(outside)
    for args in (("write", "--story", str(seed_path), "--slot", "etcslot", "--steps", "0"), ("saves", "show", "etcslot"),
                 ("saves", "repair", "etcslot"), ("saves", "delete", "etcslot")):
        code, out, err = run(capsys, *args)
        one_line(code, out, err)
        assert "slot etcslot is a symbolic link" in err
    assert [p.name for p in outside.iterdir()] == ["passwd"] and (saves / "etcslot").is_symlink()


def test_a_journal_that_is_a_link_is_refused(game_env, saves, seed_path, tmp_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "s", "--steps", "1")[0] == 0
    target = tmp_path / "bashrc"
    target.write_bytes((saves / "s" / JOURNAL).read_bytes())
    (saves / "s" / JOURNAL).unlink()
    (saves / "s" / JOURNAL).symlink_to(target)
    before = target.read_bytes()
    code, out, err = run(capsys, "write", "--slot", "s", "--steps", "1")
    one_line(code, out, err)
    assert "journal.jsonl is a symbolic link" in err and target.read_bytes() == before


# -- F12: --out inside a slot folder ----------------------------------------------------------------------
def test_out_inside_a_slot_folder_is_refused(game_env, saves, seed_path, tmp_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "S", "--steps", "2")[0] == 0
    journal = (saves / "S" / JOURNAL).read_bytes()
    link = tmp_path / "sneaky.md"
    link.symlink_to(saves / "S" / JOURNAL)
    for args in (("saves", "export", "S", "--out", str(saves / "S" / JOURNAL)),
                 ("saves", "export", "S", "--out", str(link)),
                 ("write", "--slot", "S", "--steps", "1", "--out", str(saves / "S" / JOURNAL))):
        code, out, err = run(capsys, *args)
        one_line(code, out, err)
        assert "is inside the folder of slot S" in err and "nothing was written" in err
    assert (saves / "S" / JOURNAL).read_bytes() == journal  # all records there, and `write` took no step
    assert len(game_env.chat_requests()) == 4


def test_out_that_is_a_hard_link_to_a_journal_replaces_the_link_not_the_journal(game_env, saves, seed_path, tmp_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "S", "--steps", "1")[0] == 0
    journal = (saves / "S" / JOURNAL).read_bytes()
    hard = tmp_path / "hard.md"
    os.link(saves / "S" / JOURNAL, hard)
    code, out, err = run(capsys, "saves", "export", "S", "--out", str(hard))
    assert code == 0, err
    assert hard.read_text().startswith("# The Lighthouse") and (saves / "S" / JOURNAL).read_bytes() == journal


# -- F17: a copied folder ---------------------------------------------------------------------------------
def test_a_copied_slot_folder_is_listed_by_its_own_name(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "A", "--steps", "1")[0] == 0
    shutil.copytree(saves / "A", saves / "B", symlinks=True)
    rows = json.loads(run(capsys, "saves", "list", "--json")[1])
    assert [r["slot"] for r in rows] == ["A", "B"]
    assert run(capsys, "write", "--slot", "B", "--steps", "1")[0] == 0
    assert json.loads((saves / "B" / HEADER).read_text())["slot"] == "B"
    assert [(r["slot"], r["steps"]) for r in json.loads(run(capsys, "saves", "list", "--json")[1])] == [("A", 1), ("B", 2)]


# -- F18: a slot a crash left with no step -------------------------------------------------------------
def _left_by_a_crash(saves: Path, seed_path: Path, torn: bool = False) -> None:
    slot = Slot.create(saves, "T", load_seed(seed_path).filled())
    slot.close()  # no step, and no Game.close to tidy it away: as a killed `write` leaves it
    if torn:  # killed in the middle of writing the seed record itself
        data = (saves / "T" / JOURNAL).read_bytes()
        (saves / "T" / JOURNAL).write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("torn", [False, True], ids=["seed saved", "seed record torn"])
def test_rerunning_a_write_that_died_before_its_first_step_goes_on(game_env, saves, seed_path, capsys, torn):
    _left_by_a_crash(saves, seed_path, torn)
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "T", "--steps", "2")
    assert code == 0, err
    with Slot.open(saves, "T") as slot:
        assert slot.story.taken == 2 and slot.story.seed.title == "The Lighthouse at Skerry Point"
    assert run(capsys, "saves", "check", "T")[0] == 0


def test_another_seed_on_a_slot_a_crash_left_is_refused_in_one_line(game_env, saves, seed_path, tmp_path, capsys):
    _left_by_a_crash(saves, seed_path)
    other = tmp_path / "other.toml"
    other.write_text(seed_path.read_text().replace("The Lighthouse at Skerry Point", "Another Tale"), encoding="utf-8")
    journal = (saves / "T" / JOURNAL).read_bytes()
    code, out, err = run(capsys, "write", "--story", str(other), "--slot", "T", "--steps", "1")
    one_line(code, out, err)
    assert err == ("recurrent: slot T already holds another story ('The Lighthouse at Skerry Point'): continue that one "
                   "with --slot T and no --story, or choose another --slot for this one\n")
    assert (saves / "T" / JOURNAL).read_bytes() == journal


# -- F13: garbage where the slot's small files are ------------------------------------------------------
def test_a_garbage_marker_is_not_a_traceback(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "s", "--steps", "1")[0] == 0
    (saves / "s" / MARKER).write_text('{"seq": "x"}')
    code, out, err = run(capsys, "saves", "check", "s")
    assert (code, out) == (0, "s: ok\n"), err


def test_a_header_of_the_wrong_kinds_is_listed_from_the_journal(game_env, saves, seed_path, capsys):
    for name in ("a", "b", "c"):
        assert run(capsys, "write", "--story", str(seed_path), "--slot", name, "--steps", "1")[0] == 0
    (saves / "b" / HEADER).write_text('{"title": 42, "steps": "many"}')
    code, out, err = run(capsys, "saves", "list")
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()] == ["a", "b", "c"]
    assert all("The Lighthouse at Skerry Point" in line and " 1 step " in line for line in out.splitlines())
    code, out, err = run(capsys, "saves", "check", "b")
    assert code == 1 and err.startswith("b: header.json is damaged (a field of the wrong kind)")
    assert run(capsys, "saves", "repair", "b")[0] == 0 and run(capsys, "saves", "check", "b")[0] == 0


def test_a_folder_in_place_of_a_journal_or_the_settings_is_one_line(game_env, saves, seed_path, tmp_path, capsys):
    for name in ("a", "b"):
        assert run(capsys, "write", "--story", str(seed_path), "--slot", name, "--steps", "1")[0] == 0
    (saves / "a" / JOURNAL).unlink()
    (saves / "a" / JOURNAL).mkdir()
    code, out, err = run(capsys, "saves", "list")
    assert code == 0 and out.splitlines()[0].startswith("a  ") and "journal.jsonl is not a file" in out
    assert out.splitlines()[1].startswith("b  ") and "Skerry Point" in out
    for args in (("saves", "show", "a"), ("saves", "check", "a"), ("saves", "repair", "a"), ("write", "--slot", "a", "--steps", "1")):
        code, out, err = run(capsys, *args)
        one_line(code, out, err)
        assert "journal.jsonl is not a file" in err
    (tmp_path / "settings.toml").mkdir()
    code, out, err = run(capsys, "saves", "list")
    one_line(code, out, err)
    assert f"{tmp_path / 'settings.toml'}: is a folder, not a settings file" in err
