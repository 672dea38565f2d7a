"""Damaged saves: `saves check` names the problem in one line, `saves repair` rebuilds what the
journal allows, other slots are never touched; schema versions old and new."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from game.cli import main
from game.saves.journal import Journal, encode
from game.saves.names import SlotError
from game.saves.slot import HEADER, JOURNAL, MARKER, MEMORY, SCHEMA, Slot

pytestmark = pytest.mark.slow  # each damages and repairs a slot, opening long-term memory several times


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def agrees(saves: Path, name: str) -> int:
    with Slot.open(saves, name) as slot:
        assert slot.memory.stored_ids() == {e.id for e in slot.story.entries()}
        return slot.story.taken


# -- each kind of damage ---------------------------------------------------------------------
def _truncate_last_line(path: Path) -> None:
    data = (path / JOURNAL).read_bytes()
    (path / JOURNAL).write_bytes(data[:-40])  # the last record loses its end and its newline


def _torn_by_a_crash(path: Path) -> None:
    """What SIGKILL in the middle of an append leaves: the start of a new record, no newline."""
    record = encode({"seq": 99, "kind": "memory", "text": "a record that was never acknowledged"})
    with open(path / JOURNAL, "ab") as handle:
        handle.write(record[: len(record) // 2])


def _scribble_last_line(path: Path) -> None:
    lines = (path / JOURNAL).read_bytes().split(b"\n")
    lines[-2] = lines[-2][:30] + b"XXXX" + lines[-2][34:]  # whole, with its newline, but the checksum fails
    (path / JOURNAL).write_bytes(b"\n".join(lines))


def _garbage_header(path: Path) -> None:
    (path / HEADER).write_bytes(b"\x00\xff{ not json at all")


def _delete_memory(path: Path) -> None:
    shutil.rmtree(path / MEMORY)


def _other_embedder(path: Path) -> None:
    """A Chroma folder made by another embedder: a collection with another name, and not ours."""
    import chromadb

    from game.memory.embedders import make_embedder
    from game.memory.longterm import chroma_settings, close_client, collection_name

    client = chromadb.PersistentClient(path=str(path / MEMORY), settings=chroma_settings())
    try:
        client.delete_collection(collection_name(make_embedder().key))
        other = client.create_collection("story-minilm-int8-384", embedding_function=None)
        other.add(ids=["v1-0"], documents=["a vector from another model"], embeddings=[[0.1] * 384])
    finally:
        close_client(client)


def _garbage_mid_journal(path: Path) -> None:
    lines = (path / JOURNAL).read_bytes().split(b"\n")
    lines[2] = b"\x00\x01 this line was overwritten by something else \xff\xfe"
    (path / JOURNAL).write_bytes(b"\n".join(lines))


DAMAGE = {
    # name: (how, what check says, steps kept after repair of a 3-step slot, exit code of check)
    # A lost step record is rebuilt from long-term memory, which holds its text.
    "torn last line (a crash)": (_torn_by_a_crash, "on opening, a torn last journal record", 3, 0),
    "truncated last line": (_truncate_last_line, "the journal's last record (record 4) is cut short", 3, 1),
    "scribbled last line": (_scribble_last_line, "journal line 5 is damaged", 3, 1),
    "garbage header": (_garbage_header, "header.json is damaged", 3, 1),
    "deleted memory folder": (_delete_memory, "the long-term memory folder is missing", 3, 1),
    "memory of another embedder": (_other_embedder, "long-term memory was made by another embedder (story-minilm-int8-384)", 3, 1),
    "garbage mid-journal": (_garbage_mid_journal, "journal line 3 is damaged", 3, 1),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_named_repaired_and_other_slots_untouched(game_env, saves, seed_path, capsys, kind):
    damage, said, kept, exit_code = DAMAGE[kind]
    for name in ("hurt", "bystander"):
        assert run(capsys, "write", "--story", str(seed_path), "--slot", name, "--steps", "3")[0] == 0
    bystander = snapshot(saves / "bystander")
    damage(saves / "hurt")

    code, out, err = run(capsys, "saves", "check", "hurt")
    assert code == exit_code
    if exit_code:  # damage: one line on stderr, naming the problem and the way out
        assert err.count("\n") == 1 and err.startswith(f"hurt: {said}") and "saves repair hurt" in err
        assert "Traceback" not in err
    else:  # what a crash leaves: named, recovered on opening (check writes nothing), and the check passes
        assert said in out and out.rstrip().endswith("hurt: ok")

    code, out, err = run(capsys, "saves", "repair", "hurt")
    assert code == 0, err
    assert "rebuilt long-term memory from the journal" in out
    code, out, err = run(capsys, "saves", "check", "hurt")
    assert (code, out) == (0, "hurt: ok\n"), err
    assert agrees(saves, "hurt") == kept
    header = json.loads((saves / "hurt" / HEADER).read_text())
    assert header["schema"] == SCHEMA and header["steps"] == kept

    assert snapshot(saves / "bystander") == bystander  # not one byte of another slot changed
    assert run(capsys, "saves", "check", "bystander")[0] == 0
    # and the repaired slot plays on
    assert run(capsys, "write", "--slot", "hurt", "--steps", "1")[0] == 0
    assert agrees(saves, "hurt") == kept + 1


def test_repair_keeps_the_damaged_journal_aside(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "hurt", "--steps", "3")[0] == 0
    original = (saves / "hurt" / JOURNAL).read_bytes()
    _garbage_mid_journal(saves / "hurt")
    damaged = (saves / "hurt" / JOURNAL).read_bytes()
    code, out, err = run(capsys, "saves", "show", "hurt")
    assert code == 1 and "journal line 3 is damaged" in err and "saves repair hurt" in err and err.count("\n") == 1
    assert run(capsys, "saves", "repair", "hurt")[0] == 0
    (aside,) = (saves / "hurt").glob("journal.damaged-*")
    assert aside.read_bytes() == damaged
    lines = (saves / "hurt" / JOURNAL).read_bytes().split(b"\n")
    before = original.split(b"\n")
    assert lines[:2] == before[:2] and lines[3:] == before[3:]  # every intact record, in its place
    rebuilt = Journal(saves / "hurt" / JOURNAL).read().records[2]["step"]
    was = json.loads(before[2].split(b" ", 1)[1])["step"]
    assert rebuilt["number"] == was["number"] == 1 and rebuilt["action"] == was["action"]
    assert rebuilt["version"]["paragraph"] == was["version"]["paragraph"] and rebuilt["version"]["fallback"]


def test_a_deleted_memory_folder_is_rebuilt_on_open(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "s", "--steps", "2")[0] == 0
    _delete_memory(saves / "s")  # the marker still says the index is current: opening must not believe it
    assert agrees(saves, "s") == 2


def test_a_journal_whose_first_record_is_garbage(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "s", "--steps", "1")[0] == 0
    (saves / "s" / JOURNAL).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    for args in (("saves", "check", "s"), ("saves", "repair", "s"), ("saves", "show", "s"), ("write", "--slot", "s", "--steps", "1")):
        code, out, err = run(capsys, *args)
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, (args, err)
    code, out, err = run(capsys, "saves", "list", "--json")
    assert code == 0 and json.loads(out)[0]["slot"] == "s"


# -- schema versions ---------------------------------------------------------------------------
OLD_SEED = {"title": "Old Times", "genre": "mystery", "premise": "A save from the first release.",
            "protagonist": {"name": "Ada"}}


def _old_journal(path: Path, schema: int | None = None, extra: list[dict] | None = None) -> None:
    """A journal as an older version wrote it: no schema field, no prefs, no created stamp; steps
    without `at`, alternatives, recalled passages, world, token counts or the fallback flag."""
    begin = {"seq": 0, "kind": "begin", "seed": OLD_SEED}
    if schema is not None:
        begin["schema"] = schema
    records = [begin]
    for number in range(3):
        records.append({"seq": number + 1, "kind": "step", "step": {
            "number": number, "action": "" if number == 0 else f"Look at thing {number}.",
            "version": {"seq": number + 1, "paragraph": f"Paragraph {number}. The old house creaks in the wind tonight.",
                        "memory": "Things happened.", "options": ["One.", "Two.", "Three."]}}})
    records += extra or []
    path.mkdir(parents=True)
    (path / JOURNAL).write_bytes(b"".join(encode(r) for r in records))


def test_a_save_from_an_older_version_opens_and_plays_on(game_env, saves, capsys):
    _old_journal(saves / "old")
    code, out, err = run(capsys, "saves", "show", "old", "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["steps"] == 2 and info["title"] == "Old Times" and info["memories"] > 0
    assert run(capsys, "saves", "check", "old")[0] == 0
    assert run(capsys, "write", "--slot", "old", "--steps", "1")[0] == 0
    assert agrees(saves, "old") == 3
    assert run(capsys, "saves", "list", "--json")[0] == 0


def test_a_save_from_a_newer_version_is_refused_in_one_line(game_env, saves, capsys):
    _old_journal(saves / "new", schema=SCHEMA + 1, extra=[{"seq": 4, "kind": "illustration", "png": "..."}])
    journal = (saves / "new" / JOURNAL).read_bytes()
    for args in (("saves", "show", "new"), ("saves", "check", "new"), ("saves", "repair", "new"),
                 ("saves", "export", "new"), ("write", "--slot", "new", "--steps", "1")):
        code, out, err = run(capsys, *args)
        assert code == 1 and err.count("\n") == 1, (args, err)
        assert "newer version of Recurrent" in err and "Traceback" not in err
    with pytest.raises(SlotError, match="update Recurrent"):
        Slot.open(saves, "new")
    code, out, err = run(capsys, "saves", "list")
    assert code == 0 and "newer version" in out
    assert (saves / "new" / JOURNAL).read_bytes() == journal  # refused, not touched


# -- issue 12: what is not damage, what repair puts back, and a journal cut short (F3, F4) ---------------
def _lines(path: Path) -> list[bytes]:
    return (path / JOURNAL).read_bytes().split(b"\n")[:-1]


NOT_DAMAGE = {
    "a blank line": lambda lines: lines[:5] + [b"", b"   "] + lines[5:],
    "CRLF line ends": lambda lines: [line + b"\r" for line in lines],
    "a line repeated exactly": lambda lines: lines[:6] + [lines[5]] + lines[6:],
    "the last line repeated": lambda lines: lines + [lines[-1]],
}


@pytest.mark.parametrize("kind", [*NOT_DAMAGE, "no final newline"])
def test_what_an_editor_does_to_a_journal_is_not_damage(game_env, saves, seed_path, capsys, kind):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "ed", "--steps", "8")[0] == 0
    lines = _lines(saves / "ed")
    if kind == "no final newline":
        (saves / "ed" / JOURNAL).write_bytes(b"\n".join(lines))
    else:
        (saves / "ed" / JOURNAL).write_bytes(b"\n".join(NOT_DAMAGE[kind](lines)) + b"\n")
    assert run(capsys, "saves", "check", "ed")[:2] == (0, "ed: ok\n")
    assert agrees(saves, "ed") == 8
    assert run(capsys, "write", "--slot", "ed", "--steps", "1")[0] == 0  # the next record starts a line of its own
    assert run(capsys, "saves", "check", "ed")[:2] == (0, "ed: ok\n") and agrees(saves, "ed") == 9


def _flip_bytes(path: Path, line: int, count: int = 2) -> None:
    """`count` bytes flipped in the middle of `line`. One flipped byte is mended on reading (the
    checksum says which it was), so damage that loses a record takes two."""
    data = bytearray((path / JOURNAL).read_bytes())
    start = sum(len(x) + 1 for x in data.split(b"\n")[: line - 1])
    at = start + len(data.split(b"\n")[line - 1]) // 2
    for n in range(count):
        data[at + 7 * n] ^= 0x01
    (path / JOURNAL).write_bytes(bytes(data))


def test_one_flipped_byte_is_mended_and_repair_writes_it_back(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "hurt", "--steps", "5")[0] == 0
    before = _lines(saves / "hurt")
    _flip_bytes(saves / "hurt", 4, count=1)
    code, out, err = run(capsys, "saves", "check", "hurt")
    assert code == 1 and "journal line 4 had one damaged byte" in err
    with Slot.open(saves, "hurt") as slot:  # it plays as it is
        assert slot.story.taken == 5
    assert run(capsys, "saves", "repair", "hurt")[0] == 0
    assert _lines(saves / "hurt") == before
    assert run(capsys, "saves", "check", "hurt")[:2] == (0, "hurt: ok\n")


def test_a_scribbled_line_costs_only_what_memory_cannot_give_back(game_env, saves, seed_path, capsys):
    """Line 16 of 31 (step 14), two bytes flipped (one would be mended): every other record stays,
    in its place, and step 14 is rebuilt from long-term memory, which holds its action and its text."""
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "hurt", "--steps", "29")[0] == 0
    before = _lines(saves / "hurt")
    assert len(before) == 31
    _flip_bytes(saves / "hurt", 16)
    code, out, err = run(capsys, "saves", "check", "hurt")
    assert code == 1 and err.startswith("hurt: journal line 16 is damaged")
    code, out, err = run(capsys, "saves", "repair", "hurt")
    assert code == 0, err
    assert "kept 30 of 30 intact journal records" in out and "rebuilt 1 step(s) from long-term memory" in out
    after = _lines(saves / "hurt")
    assert after[:15] == before[:15] and after[16:] == before[16:]
    with Slot.open(saves, "hurt") as slot:
        step = slot.story.steps[14]
        was = json.loads(before[15].split(b" ", 1)[1])["step"]
        assert (step.action, step.version.paragraph) == (was["action"], was["version"]["paragraph"])
        assert step.version.fallback and slot.story.taken == 29
    assert run(capsys, "saves", "check", "hurt")[:2] == (0, "hurt: ok\n")
    assert [p.name for p in saves.iterdir()] == ["hurt"]  # nothing needed a branch


def test_steps_that_cannot_follow_a_lost_step_become_a_playable_branch(game_env, saves, seed_path, capsys):
    """The same flipped bytes with long-term memory gone as well: step 14 cannot be rebuilt, so the
    story stops at step 13, and steps 15-29 are in a branch slot that says what was lost."""
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "hurt", "--steps", "29")[0] == 0
    before = _lines(saves / "hurt")
    _flip_bytes(saves / "hurt", 16)
    shutil.rmtree(saves / "hurt" / MEMORY)
    code, out, err = run(capsys, "saves", "repair", "hurt")
    assert code == 0, err
    assert "15 record(s) after the damage could not follow the story: they are in the new slot hurt-recovered, " \
           "which branches off after step 13" in out
    assert _lines(saves / "hurt") == before[:15]
    with Slot.open(saves, "hurt-recovered") as slot:
        steps = slot.story.steps
        assert slot.story.taken == 29 and "was lost" in steps[14].version.paragraph
        assert [s.version.paragraph for s in steps[15:]] == [json.loads(line.split(b" ", 1)[1])["step"]["version"]["paragraph"]
                                                             for line in before[16:]]
    header = json.loads((saves / "hurt-recovered" / HEADER).read_text())
    assert (header["parent"], header["fork_step"]) == ("hurt", 13)
    for name, steps in (("hurt", 13), ("hurt-recovered", 29)):
        assert run(capsys, "saves", "check", name)[0] == 0 and agrees(saves, name) == steps
    assert run(capsys, "write", "--slot", "hurt-recovered", "--steps", "1")[0] == 0  # it plays on
    assert json.loads((saves / "hurt-recovered" / HEADER).read_text())["parent"] == "hurt"  # and keeps its lineage
    rows = json.loads(run(capsys, "saves", "list", "--json")[1])
    assert [(r["slot"], r["steps"]) for r in rows] == [("hurt", 13), ("hurt-recovered", 30)]


def test_a_journal_cut_short_is_reported_and_its_steps_rebuilt(game_env, saves, seed_path, capsys):
    """Cut inside line 11 with index.json deleted: long-term memory holding steps past the journal's
    end is the evidence. `check` says so (non-zero) and changes nothing; opening the slot to play
    refuses rather than levelling the evidence away; `repair` rebuilds the lost steps from it."""
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "cut", "--steps", "20")[0] == 0
    data = (saves / "cut" / JOURNAL).read_bytes()
    at = sum(len(line) + 1 for line in data.split(b"\n")[:10]) + 40
    (saves / "cut" / JOURNAL).write_bytes(data[:at])
    (saves / "cut" / MARKER).unlink()
    with Slot.open(saves, "cut", memory=False) as slot:
        slot.open_memory(level=False)
        ids = slot.memory.stored_ids()
    journal = (saves / "cut" / JOURNAL).read_bytes()
    code, out, err = run(capsys, "saves", "check", "cut")
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("cut: the journal is cut short: it ends at record 9, but long-term memory holds ")
    assert "later record(s) (up to record 21)" in err and "saves repair cut" in err
    for args in (("saves", "check", "cut"), ("write", "--slot", "cut", "--steps", "1")):
        assert run(capsys, *args)[0] == 1  # asked again, and by a game: still refused, still there
    assert (saves / "cut" / JOURNAL).read_bytes() == journal
    with Slot.open(saves, "cut", memory=False) as slot:
        slot.open_memory(level=False)
        assert slot.memory.stored_ids() == ids
    code, out, err = run(capsys, "saves", "repair", "cut")
    assert code == 0, err
    assert "rebuilt 12 step(s) from long-term memory" in out
    assert run(capsys, "saves", "check", "cut")[:2] == (0, "cut: ok\n")
    with Slot.open(saves, "cut") as slot:
        assert slot.story.taken == 20 and sum(s.version.fallback for s in slot.story.steps) == 12
