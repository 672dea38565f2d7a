"""A misbehaving backend, a backend that is down, a full disk and a read-only disk."""
from __future__ import annotations

import errno
import gc
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from game.cli import main
from game.engine import guards
from game.saves.check import check
from game.saves.journal import Journal
from game.saves.names import SlotError
from game.saves.slot import JOURNAL, Slot
from game.engine import edits

from tests.heard import Heard
from tests.standin import StandIn

pytestmark = pytest.mark.slow  # faults waited out for real (timeouts, a disk filled up in a process of its own)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def agrees(saves: Path, name: str) -> int:
    with Slot.open(saves, name) as slot:
        assert slot.memory.stored_ids() == {e.id for e in slot.story.entries()}
        return slot.story.taken


# -- a misbehaving backend ---------------------------------------------------------------------
INVALID = "Sure! Here is the memory: **Memory:** it was a dark night {not json"


def test_fifty_good_steps_through_thirty_percent_faults(saves, seed_path, tmp_path, capsys, monkeypatch):
    """429s, 500s, slow answers (longer than the client's timeout), streams cut short and invalid
    JSON, each at random on 30% of requests (fixed seed). The run must finish with 50 steps, each
    with a whole paragraph (a stream cut short is asked again, never saved half), three options
    and a memory. A step whose bookkeeping stays invalid after 3 tries is saved with the previous
    memory and generic options: such a step is counted and reported, not hidden; with 3 tries at
    6% invalid answers it is rare (about 1 run in 100) and this seed has none."""
    with StandIn(fault_rate=0.3, seed=3, slow_seconds=0.6) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("RECURRENT_MODEL", "standin")
        monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
        monkeypatch.setenv("RECURRENT_TIMEOUT", "0.3")  # a slow answer times out and is retried
        monkeypatch.setenv("RECURRENT_RETRY_BASE", "0.01")  # the backoff is the faults' own; waiting it out checks nothing
        code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "rough", "--steps", "50",
                             "--out", str(tmp_path / "rough.md"))
        sent = list(server.faults_sent)
    assert code == 0, err
    assert set(sent) == {"429", "500", "slow", "cut", "invalid"}, sent
    assert len(sent) >= 25
    assert "step 50/50" in err and "Traceback" not in err
    assert re.search(r"the model server is rate limiting us; trying again", err)
    assert re.search(r"the model's answer was cut short; trying again", err)
    assert re.search(r"the model server is slow to answer; trying again", err)
    summary = re.search(r"wrote 50 steps to slot rough(; the notes of (\d+) steps? w)?", err)
    assert summary, err
    with Slot.open(saves, "rough") as slot:
        steps = slot.story.steps[1:]
        assert len(steps) == 50
        fallbacks = sum(step.version.fallback for step in steps)
        assert int(summary.group(2) or 0) == fallbacks == 0
        for step in steps:
            paragraph = step.version.paragraph
            # An invalid answer narrated twice running is kept as the guards leave it (its whole sentence).
            assert paragraph.endswith("listening quiet.") or paragraph == guards.paragraph(INVALID, []).text, paragraph
            assert len(step.version.options) == 3 and step.version.note
            assert step.version.memory or not any(s.version.chapter for s in slot.story.steps[:step.number])
        assert slot.memory.stored_ids() == {e.id for e in slot.story.entries()}
    assert check(saves, "rough").ok


@pytest.mark.parametrize("where, says", [
    ("down", "cannot reach the model server at http://127.0.0.1:9/v1"),
    ("500", "the model server answered 500: server error"),
    ("429", "the model server is rate limiting us"),
])
def test_a_backend_that_is_down_costs_nothing(game_env, saves, seed_path, capsys, monkeypatch, where, says):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "kept", "--steps", "2")[0] == 0
    before = {p.name: p.read_bytes() for p in (saves / "kept").iterdir() if p.is_file() and p.name != "lock"}
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "3")
    if where == "down":
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    else:
        game_env.fail(*[where] * 3)
    requests = len(game_env.chat_requests())
    code, out, err = run(capsys, "write", "--slot", "kept", "--steps", "1")
    lines = err.splitlines()
    assert code == 1 and lines[-1] == f"recurrent: the story could not go on: {says}"
    assert all("trying again" in line for line in lines[:-1]) and "Traceback" not in err  # retry notices, then one line
    after = {p.name: p.read_bytes() for p in (saves / "kept").iterdir() if p.is_file() and p.name != "lock"}
    assert after == before  # nothing written: not the journal, not the header, not the marker
    # Nothing was spent: no call was answered (a refused call costs no tokens), and retries are bounded.
    assert len(game_env.chat_requests()) - requests == (0 if where == "down" else 3)
    assert check(saves, "kept").ok
    monkeypatch.setenv("OPENAI_BASE_URL", game_env.url)
    assert run(capsys, "write", "--slot", "kept", "--steps", "1")[0] == 0  # and the player can go on


async def test_engine_usage_is_zero_when_the_backend_is_down(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path, attempts=2)
    spent = game.backend.usage.total
    journal = (saves / "test" / JOURNAL).read_bytes()
    server.fail("500", "500")
    from game.engine.narrator import StepError

    with pytest.raises(StepError, match="answered 500"):
        await game.step("Check the lamp.")
    assert game.backend.usage.total == spent
    assert (saves / "test" / JOURNAL).read_bytes() == journal and game.story.taken == 0
    step = await game.step("Check the lamp.")  # the game goes on
    assert step.number == 1
    await end_game(game)


# -- a full or read-only disk --------------------------------------------------------------------
def _tmpfs(tmp_path: Path, size: str):
    """A real tmpfs of `size`, so the disk really fills up (needs root and mount; skipped otherwise)."""
    point = tmp_path / "disk"
    point.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 8 MB tmpfs."""
    yield from _tmpfs(tmp_path, "8m")


def remount_read_only(disk: Path) -> bool:
    """Make the tmpfs at `disk` read-only. The kernel refuses while any file on it is open for
    writing; a game run in this process has closed its slot, but what its objects held in
    reference cycles is let go only when the collector runs (a game's own process lets go as it
    exits), so that runs first. Seen once in a while under two workers: "mount point is busy"."""
    gc.collect()
    return subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True).returncode == 0


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (1 << 20, 1 << 12, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as error:
                    assert error.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


async def pad_journal(game, slack: int) -> None:
    """Commit one real record sized so that the journal then ends `slack` bytes before a page
    boundary: with the disk full, the next append can write at most `slack` bytes."""
    from game.saves.journal import encode

    path = game.store.path / JOURNAL
    size = path.stat().st_size
    probe = len(encode({"seq": game.story.seq + 1, "kind": "memory", "text": ""}))
    filler = (-(size + probe + slack)) % 4096
    await edits.set_memory(game.store, "x" * filler)
    assert (path.stat().st_size + slack) % 4096 == 0
    game.store.memory.flush()


@pytest.mark.parametrize("slack", [0, 300], ids=["nothing fits", "part of the record fits"])
async def test_full_disk_is_a_plain_error_and_the_step_can_be_retried(server, tiny_disk, seed_path, slack, end_game, new_game):
    saves = tiny_disk / "saves"
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    await pad_journal(game, slack)
    journal = (saves / "test" / JOURNAL).read_bytes()
    filler = fill(tiny_disk)
    for _ in range(2):  # refused twice, the game still running between the tries
        with pytest.raises(SlotError, match=r"could not save \(No space left on device\); nothing was lost, try again"):
            await game.step("Read the logbook.")
        assert (saves / "test" / JOURNAL).read_bytes() == journal  # not half-written
        assert game.story.taken == 1 and Journal(saves / "test" / JOURNAL).read().torn_tail is False
    filler.unlink()  # the player makes room
    step = await game.step("Read the logbook.")
    assert step.number == 2 and game.story.taken == 2
    await end_game(game)
    assert check(saves, "test").ok
    assert agrees(saves, "test") == 2


def test_full_disk_in_write_is_one_line(game_env, tiny_disk, seed_path, capsys, monkeypatch):
    saves = tiny_disk / "saves"
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "w", "--steps", "2")[0] == 0
    journal = (saves / "w" / JOURNAL).read_bytes()
    filler = fill(tiny_disk)
    code, out, err = run(capsys, "write", "--slot", "w", "--steps", "1")
    assert code == 1 and err.startswith("recurrent: ") and err.count("\n") == 1, err
    assert ("No space left on device" in err or "disk is full" in err) and "Traceback" not in err
    assert (saves / "w" / JOURNAL).read_bytes() == journal
    filler.unlink()
    code, out, err = run(capsys, "write", "--slot", "w", "--steps", "1")
    assert code == 0, err
    assert check(saves, "w").ok and agrees(saves, "w") == 3


def test_read_only_disk_is_one_line_and_changes_nothing(game_env, tiny_disk, seed_path, capsys, monkeypatch):
    """A real read-only mount. (A mount cannot be made read-only while a game holds files open on
    it, so this covers starting and continuing a game on a read-only disk; a disk that turns
    read-only mid-game is the next test, with the failure injected.)"""
    saves = tiny_disk / "saves"
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "ro", "--steps", "1")[0] == 0
    before = {str(p): p.read_bytes() for p in saves.rglob("*") if p.is_file()}
    assert remount_read_only(tiny_disk)
    try:
        for args in (("write", "--slot", "ro", "--steps", "1"),
                     ("write", "--story", str(seed_path), "--slot", "fresh", "--steps", "1"),
                     ("saves", "repair", "ro")):
            code, out, err = run(capsys, *args)
            assert code == 1 and err.startswith("recurrent: ") and err.count("\n") == 1, (args, err)
            assert "Read-only file system" in err and "Traceback" not in err
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], capture_output=True)
    assert {str(p): p.read_bytes() for p in saves.rglob("*") if p.is_file()} == before
    assert run(capsys, "write", "--slot", "ro", "--steps", "1")[0] == 0


async def test_disk_turning_read_only_mid_game(server, saves, seed_path, monkeypatch, end_game, new_game):
    """Second best to a real mount: the journal's open() fails with EROFS, as it would."""
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    journal = (saves / "test" / JOURNAL).read_bytes()
    import game.saves.journal as journal_module

    real_open = os.open

    def read_only(path, flags, *args):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(journal_module.os, "open", read_only)
    with pytest.raises(SlotError, match=r"could not save \(Read-only file system\); nothing was lost"):
        await game.step("Read the logbook.")
    assert (saves / "test" / JOURNAL).read_bytes() == journal and game.story.taken == 1
    monkeypatch.setattr(journal_module.os, "open", real_open)
    assert (await game.step("Read the logbook.")).number == 2
    await end_game(game)
    assert check(saves, "test").ok and agrees(saves, "test") == 2


# -- long-term memory that fails or stops answering (issue 12, F2) -------------------------------------
@pytest.fixture
def two_mib_disk(tmp_path):
    """A real 2 MiB tmpfs: where Chroma's upsert was seen to hang for ever once the disk filled."""
    yield from _tmpfs(tmp_path, "2m")


def test_a_disk_that_fills_up_under_a_long_write_ends_in_one_line_and_loses_nothing(game_env, two_mib_disk, seed_path, tmp_path):
    """`write --steps 200` on a 2 MiB disk, in its own process with a time limit: it must end (it
    hung in Chroma's upsert, 2 runs in 3), acknowledged steps stay, and while the disk is full
    every command is one line; once there is room the slot plays on and checks."""
    saves = two_mib_disk / "saves"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "RECURRENT_SAVES_DIR": str(saves),
           "RECURRENT_MEMORY_TIMEOUT": "5"}

    def game(*args, timeout=120):
        return subprocess.run([sys.executable, "-m", "game", *args], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=timeout)

    done = game("write", "--story", str(seed_path), "--slot", "full", "--steps", "200", "--out", os.devnull, timeout=240)
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if not line.startswith("step ")]
    acknowledged = max((int(n) for n in re.findall(r"^step (\d+)/200", done.stderr, re.M)), default=0)
    if done.returncode:
        assert lines[-1].startswith("recurrent: ") and "No space left on device" in lines[-1], done.stderr[-600:]
    assert Journal(saves / "full" / JOURNAL).read().records[-1]["step"]["number"] >= acknowledged > 50
    for args in (("saves", "show", "full"), ("write", "--slot", "full", "--steps", "1"), ("saves", "check", "full")):
        said = game(*args)
        assert "Traceback" not in said.stderr and (said.returncode == 0 or said.stderr.count("\n") == 1), (args, said.stderr)
    subprocess.run(["mount", "-o", "remount,size=64m", str(two_mib_disk)], check=True)
    assert game("write", "--slot", "full", "--steps", "1").returncode == 0
    assert check(saves, "full").ok
    assert agrees(saves, "full") >= acknowledged + 1


async def test_after_a_failed_memory_write_chroma_is_asked_nothing_more(server, saves, seed_path, monkeypatch, end_game, new_game):
    """A write that fails once leaves Chroma unable to finish the next (on a full disk it then waits
    for ever, holding Python's lock): the story goes on from its journal, and opening the slot
    again rebuilds the index."""
    import chromadb.api.models.Collection as chroma

    game = await new_game(server, saves, seed_path)
    calls = []
    real = chroma.Collection.upsert

    def failing(self, *args, **kwargs):
        calls.append(len(kwargs.get("ids", [])))
        raise RuntimeError("database or disk is full")

    monkeypatch.setattr(chroma.Collection, "upsert", failing)
    for action in ("Check the lamp.", "Read the logbook.", "Go down the stairs."):
        await game.step(action, Heard())
    assert calls == [calls[0]]  # asked once; after it failed, never again
    assert "could not write" in game.store.memory.broken
    await end_game(game)
    monkeypatch.setattr(chroma.Collection, "upsert", real)
    assert Journal(saves / "test" / JOURNAL).read().records[-1]["step"]["number"] == 3  # every step saved
    assert check(saves, "test").ok and agrees(saves, "test") == 3


def test_a_chroma_call_that_does_not_answer_is_one_line(game_env, saves, seed_path, capsys, monkeypatch):
    import threading

    import chromadb.api.models.Collection as chroma

    assert run(capsys, "write", "--story", str(seed_path), "--slot", "slow", "--steps", "1")[0] == 0
    release = threading.Event()
    monkeypatch.setenv("RECURRENT_MEMORY_TIMEOUT", "0.5")
    monkeypatch.setattr(chroma.Collection, "count", lambda self: release.wait(60))
    try:
        code, out, err = run(capsys, "saves", "show", "slow")
    finally:
        release.set()
    assert code == 1 and err == "recurrent: long-term memory did not answer within 0.5 s (count); is the disk full?\n"
