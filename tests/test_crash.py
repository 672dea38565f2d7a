"""Crash at any instant, and two processes on one slot.

The soak kills `python -m game write` with SIGKILL at random moments (delays from a seeded
RNG) and, after every kill, checks that no acknowledged step was lost, that `saves check`
passes, and that the slot opens at its last complete step with journal and long-term memory
agreeing. bench/soak.py runs the same soak with 50+ kills.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.soak import report, soak
from tests.standin import HOSTILE
from game.cli import main
from game.saves.check import check
from game.saves.names import SlotError
from game.saves.slot import Slot

pytestmark = pytest.mark.slow  # real processes killed at random moments, 10 and more of them

ROOT = Path(__file__).resolve().parents[1]


def test_sigkill_at_random_moments_loses_no_acknowledged_step(tmp_path):
    """Also bench/soak.py's smoke run: the section it would write is made from this soak (merged
    here so that the suite pays for one soak, not two)."""
    result = soak(kills=10, seed=11, work=tmp_path, log=None)
    assert result.kills >= 10
    assert result.acknowledged > 0 and result.steps >= result.acknowledged
    assert len(result.check_seconds) >= result.kills  # a check after every kill (verify raises on any failure)
    section = report(result, 10, 11)
    assert f"| kills | **{result.kills}** " in section and f"(of {result.acknowledged} acknowledged)" in section
    assert re.search(r"\| check after a kill, median \| \d+ ms \|", section), section


def test_sigkill_with_a_hostile_server_loses_no_acknowledged_step(tmp_path):
    """The same soak with a hostile server mixed in (bench/soak.py --hostile): runs the server ends
    end in one plain line (checked by the soak), and no acknowledged step is lost."""
    # Stalls counted after 0.4 s, not the bench's 1 s: the same faults, met sooner.
    result = soak(kills=2, seed=5, work=tmp_path, steps_per_run=10, log=None, hostile=True, stall=0.4)
    assert result.kills >= 2 and result.steps >= result.acknowledged > 0
    assert len(set(result.faults) & set(HOSTILE)) >= 4, result.faults  # the hostile answers were really sent


def _write(capsys, *args):
    code = main(["write", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_second_process_on_a_slot_gets_one_line(game_env, saves, seed_path, capsys):
    assert _write(capsys, "--story", str(seed_path), "--slot", "busy", "--steps", "1")[0] == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    game_env.fail("hold")  # the other game's next model call waits until released
    other = subprocess.Popen([sys.executable, "-m", "game", "write", "--slot", "busy", "--steps", "2"],
                             env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert game_env.holding.wait(60), "the other game never asked the model"
        journal = (saves / "busy" / "journal.jsonl").read_bytes()
        code, out, err = _write(capsys, "--slot", "busy", "--steps", "1")
        assert code == 1 and err == "recurrent: slot busy is in use by another game\n"
        with pytest.raises(SlotError, match="in use"):
            Slot.open(saves, "busy")
        assert (saves / "busy" / "journal.jsonl").read_bytes() == journal  # the refused game wrote nothing
    finally:
        game_env.release.set()
        _, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    assert check(saves, "busy").ok
    with Slot.open(saves, "busy", memory=False) as slot:
        assert slot.story.taken == 3


def _holder(saves, name: str) -> subprocess.Popen:
    """Another process holding slot `name` open (its lock taken) until its stdin closes."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from game.saves.slot import Slot; s = Slot.open(sys.argv[1], sys.argv[2], memory=False); "
         "print('locked', flush=True); sys.stdin.read()", str(saves), name],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_a_lock_left_by_a_killed_process_does_not_block(game_env, saves, seed_path, capsys):
    assert _write(capsys, "--story", str(seed_path), "--slot", "stale", "--steps", "1")[0] == 0
    holder = _holder(saves, "stale")
    try:
        with pytest.raises(SlotError, match="in use"):
            Slot.open(saves, "stale", memory=False)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert (saves / "stale" / "lock").exists()  # the lock file stays behind; the lock itself died with its holder
    with Slot.open(saves, "stale") as slot:
        assert slot.story.taken == 1
    code, out, err = _write(capsys, "--slot", "stale", "--steps", "1")
    assert code == 0, err


def test_a_slot_in_use_is_shown_from_its_journal(game_env, saves, seed_path, capsys):
    """`saves show` of a slot a game is playing reads its journal (as export does) rather than
    refuse; only long-term memory, which the game holds open, is not counted."""
    assert _write(capsys, "--story", str(seed_path), "--slot", "held", "--steps", "2")[0] == 0
    holder = _holder(saves, "held")
    try:
        code = main(["saves", "show", "held", "--json"])
        out, err = capsys.readouterr()
    finally:
        holder.communicate("", timeout=30)
    assert code == 0 and err == "slot held is in use by a game: shown from its journal, long-term memory not counted\n"
    info = json.loads(out)
    assert info["steps"] == 2 and info["memories"] is None and info["title"] == "The Lighthouse at Skerry Point"
