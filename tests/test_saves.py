"""Save slots: journal, crash recovery, index agreement, locks and names."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from game.cli import main
from game.core.records import Amended
from game.saves.check import check, repair
from game.saves.names import SlotError, check_name
from game.saves.branch import copy_slot
from game.saves.slot import JOURNAL, MARKER, Slot
from game.engine import edits



def _env(server, saves):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RECURRENT_"))}
    env.update(OPENAI_BASE_URL=server.url, OPENAI_API_KEY="sk-test", RECURRENT_MODEL="standin",
               RECURRENT_SAVES_DIR=str(saves), RECURRENT_RETRY_BASE="0.01", RECURRENT_CONFIG=os.devnull + ".none")
    return env


@pytest.mark.slow
def test_resume_after_the_process_is_killed_mid_step(server, saves, seed_path, monkeypatch, capsys):
    """Only the killed game is a process of its own (the kill is the point); the game before it
    and the one that resumes after it run in this process, as `recurrent write` (a process start
    apiece saved, the same slot on disk either way)."""
    env = _env(server, saves)
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "RECURRENT_MODEL", "RECURRENT_SAVES_DIR", "RECURRENT_RETRY_BASE"):
        monkeypatch.setenv(name, env[name])
    assert main(["write", "--slot", "k", "--steps", "3", "--story", str(seed_path)]) == 0, capsys.readouterr().err
    server.fail("ok", "ok", "ok", "hold")  # step 4 completes; step 5's bookkeeping call hangs
    proc = subprocess.Popen([sys.executable, "-m", "game", "write", "--slot", "k", "--steps", "5"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert server.holding.wait(60)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        server.release.set()
    with Slot.open(saves, "k") as slot:
        assert slot.story.taken == 4
        assert {e.id for e in slot.story.entries()} == slot.memory.stored_ids()
    assert check(saves, "k").ok
    assert main(["write", "--slot", "k", "--steps", "1"]) == 0, capsys.readouterr().err
    with Slot.open(saves, "k", memory=False) as slot:
        assert slot.story.taken == 5


async def test_torn_last_line_is_dropped_on_open(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    await end_game(game)
    with open(saves / "test" / JOURNAL, "ab") as handle:
        handle.write(b'0badc0de {"seq": 3, "kind": "step", "st')  # a crash in the middle of an append
    with Slot.open(saves, "test") as slot:
        assert slot.story.taken == 1
    assert (saves / "test" / JOURNAL).read_bytes().endswith(b"\n")


@pytest.mark.slow
async def test_index_behind_the_journal_is_caught_up(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    marker = (saves / "test" / MARKER).read_text()
    last = game.story.steps[-1]
    await game.step("Read the logbook.")
    newest = {e.id for e in game.story.entries_of(game.story.steps[-1])}
    game.store.memory.delete(sorted(newest))  # as if the process died after the journal append
    await end_game(game)
    (saves / "test" / MARKER).write_text(marker)
    report = check(saves, "test")
    assert report.ok and report.recovered
    with Slot.open(saves, "test") as slot:
        assert newest <= slot.memory.stored_ids()
        assert last.number == 1


@pytest.mark.slow
async def test_damage_is_named_and_repaired(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    await game.step("Read the logbook.")
    await end_game(game)
    with Slot.open(saves, "test") as slot:
        slot.memory.delete(sorted(slot.memory.stored_ids())[:2])  # damage the index; the marker says it is current
    report = check(saves, "test")
    assert not report.ok and "disagrees" in report.problems[0]
    repair(saves, "test")
    assert check(saves, "test").ok
    lines = (saves / "test" / JOURNAL).read_bytes().split(b"\n")
    lines[1] = b"garbage"
    (saves / "test" / JOURNAL).write_bytes(b"\n".join(lines))
    report = check(saves, "test")
    assert not report.ok and "journal line 2 is damaged" in report.problems[0]
    with pytest.raises(SlotError, match="repair"):
        Slot.open(saves, "test")
    repair(saves, "test")
    with Slot.open(saves, "test") as slot:
        # The damaged line was the opening: rebuilt from long-term memory; the steps after it follow.
        assert slot.story.taken == 2 and slot.story.steps[0].version.fallback
        assert slot.story.steps[0].version.paragraph == slot.story.seed.opening
    assert check(saves, "test").ok


@pytest.mark.slow
async def test_one_slot_one_game(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    with pytest.raises(SlotError, match="in use"):
        Slot.open(saves, "test")
    await end_game(game)
    Slot.open(saves, "test", memory=False).close()


async def test_save_as_copies_the_story_and_rebuilds_its_memory(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    copy_slot(saves, "test", "branch")
    await game.step("Read the logbook.")
    await end_game(game)
    with Slot.open(saves, "branch") as slot:
        assert slot.story.taken == 1
        assert slot.memory.stored_ids() == {e.id for e in slot.story.entries()}
    header = json.loads((saves / "branch" / "header.json").read_text())
    assert header["steps"] == 1 and header["slot"] == "branch"


@pytest.mark.parametrize("name", ["..", "../x", "a/b", "a\\b", "", " lead", "x" * 65, "nul", "COM1", "dot.", "a..b"])
def test_bad_slot_names(name):
    with pytest.raises(SlotError, match="slot name"):
        check_name(name)


@pytest.mark.parametrize("name", ["autosave", "My Story 2", "tale_1.b", "a-b"])
def test_good_slot_names(name):
    assert check_name(name) == name


async def test_a_slot_deleted_and_made_again_in_one_process_works(server, saves, seed_path, end_game, new_game):
    from game.saves.folder import delete_slot

    for _ in range(2):
        game = await new_game(server, saves, seed_path, name="again")
        await game.step("Check the lamp.")
        assert game.store.memory.count() == len(game.story.entries())
        await end_game(game)
        delete_slot(saves, "again")


async def test_an_amend_that_never_reached_memory_is_rebuilt(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Read the logbook.")
    entry = next(e for e in game.story.entries() if e.step == 1 and e.kind == "paragraph")
    await end_game(game)
    with Slot.open(saves, "test", memory=False) as slot:  # as if killed before the index write
        slot.commit(Amended(id=entry.id, text="The keeper hid a brass key under the mat."))
    with Slot.open(saves, "test") as slot:
        assert slot.memory.collection.get(ids=[entry.id])["documents"] == ["The keeper hid a brass key under the mat."]
    assert check(saves, "test").ok


async def test_a_failed_memory_write_never_stops_the_story(server, saves, seed_path, monkeypatch, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Read the logbook.")
    collection = game.store.memory.collection
    real = collection.upsert

    def full_disk(*args, **kwargs):
        raise RuntimeError("database or disk is full")

    monkeypatch.setattr(collection, "upsert", full_disk)
    entry = next(e for e in game.story.entries() if e.step == 0)
    await edits.amend(game.store, entry.id, "The lens was cracked on purpose.")
    step = await game.step("Look at the lens.")  # recall meets the failed write: no exception
    assert step.number == 2
    monkeypatch.setattr(collection, "upsert", real)
    step = await game.step("Go down the stairs.")  # after a failed write Chroma is asked nothing more this session
    assert step.number == 3
    await end_game(game)
    assert not check(saves, "test").ok  # the index lags the journal, and check says so
    Slot.open(saves, "test").close()  # the next open rebuilds it from the journal
    assert check(saves, "test").ok


async def test_an_edit_during_a_step_cannot_share_its_memory_ids(server, saves, seed_path, end_game, new_game):
    import asyncio

    game = await new_game(server, saves, seed_path)
    await game.step("Read the logbook.")
    server.fail("ok", "hold")  # the narration goes through; the bookkeeping call waits
    task = asyncio.create_task(game.step("Check the lamp."))
    await asyncio.to_thread(server.holding.wait, 10)
    await edits.edit(game.store, 1, "You read the logbook by the light of the great lens, and one page is torn out.")
    server.release.set()
    await task
    ids = [e.id for e in game.story.entries()]
    assert len(ids) == len(set(ids))
    assert [s.version.seq for s in game.story.steps] == sorted({s.version.seq for s in game.story.steps})
    await end_game(game)
    assert check(saves, "test").ok


async def test_a_header_behind_the_journal_is_levelled_on_open(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Read the logbook.")
    await game.step("Check the lamp.")
    await end_game(game)
    header = json.loads((saves / "test" / "header.json").read_text())
    (saves / "test" / "header.json").write_text(json.dumps({**header, "steps": 1}))  # killed before the header write
    Slot.open(saves, "test", memory=False).close()
    assert json.loads((saves / "test" / "header.json").read_text())["steps"] == 2
