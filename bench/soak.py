"""Crash soak: SIGKILL `python -m game write` at random moments, and check the slot after each kill.

After every kill:
- no acknowledged step is lost: `write` prints "step N/M" on stderr (flushed) only after the
  step's journal record is fsynced, so the slot must hold at least as many steps as were
  acknowledged (and at most one more: a step saved in the instant before its line was printed);
- `saves check` passes (what a crash leaves, a torn last line or an index behind the journal,
  is recovered and reported as such; anything else is a failure);
- the slot opens at its last complete step, and long-term memory holds exactly the entries
  the journal says it should.

The delays before each kill come from a seeded RNG: about a fifth are measured from the start
of the process (so kills land in start-up, in opening the slot and in the recovery it does),
the rest from the first acknowledged step (so kills land inside steps: narration, bookkeeping,
the journal append, the background Chroma write, the marker and header writes).

Run: python bench/soak.py [--kills 60] [--seed 1]   (writes the "Crash soak" section of bench/RESULTS.md)
tests/test_crash.py runs the same soak with fewer kills.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from tests.standin import StandIn  # noqa: E402

SLOT = "soak"
SEED = '''
title = "The Soak"
genre = "mystery"
premise = "A keeper of a lighthouse that is switched off and on again, many times over."
protagonist = { name = "Ada Lorne" }
opening = "The lamp room is cold. The great lens turns for no one, and the logbook lies open on the desk."
options = ["Read the logbook.", "Check the lamp.", "Go back down the stairs."]
'''
PROGRESS = re.compile(r"^step (\d+)/(\d+)", re.M)


class SoakFailure(AssertionError):
    pass


@dataclass
class Soak:
    kills: int = 0
    finished: int = 0  # runs that ended on their own before the kill came
    in_startup: int = 0  # kills before the run acknowledged a step (start-up, open, recovery)
    saved_unacknowledged: int = 0  # a step in the journal whose progress line was never printed
    torn_tails: int = 0  # check dropped a torn last journal line
    index_behind: int = 0  # check caught long-term memory up with the journal
    acknowledged: int = 0  # steps acknowledged over all runs
    steps: int = 0  # steps in the slot at the end
    seconds: float = 0.0
    check_seconds: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def environment(server_url: str, saves: Path, work: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RECURRENT_"))}
    env.update(OPENAI_BASE_URL=server_url, OPENAI_API_KEY="sk-soak", RECURRENT_MODEL="standin",
               RECURRENT_SAVES_DIR=str(saves), RECURRENT_RETRY_BASE="0.01", RECURRENT_TIMEOUT="10",
               RECURRENT_CONFIG=str(work / "no-settings.toml"), PYTHONPATH=str(ROOT))
    return env


def _acknowledged(text: str) -> int:
    return max((int(n) for n, _total in PROGRESS.findall(text)), default=0)


def _wait_for_progress(path: Path, proc: subprocess.Popen, timeout: float) -> bool:
    """Poll the stderr file until the first progress line (or the process ends); bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if PROGRESS.search(path.read_text(errors="replace")):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.01)
    raise SoakFailure(f"no progress line within {timeout:.0f} s: {path.read_text(errors='replace')[-500:]}")


def verify(saves: Path, before: int, acknowledged: int, result: Soak) -> int:
    """Check the slot after a kill; returns the number of steps it holds."""
    from game.saves.check import check
    from game.saves.slot import JOURNAL, Slot

    started = time.perf_counter()
    report = check(saves, SLOT)
    result.check_seconds.append(time.perf_counter() - started)
    if not report.ok:
        raise SoakFailure(f"saves check failed after kill {result.kills}: {report.problems[0]}")
    result.torn_tails += any("torn" in line for line in report.recovered)
    result.index_behind += any("caught up" in line for line in report.recovered)
    with Slot.open(saves, SLOT) as slot:
        taken = slot.story.taken
        stored = slot.memory.stored_ids()
        expected = {entry.id for entry in slot.story.entries()}
        reading = slot.journal.read()
    if reading.torn_tail or reading.damaged_line is not None:
        raise SoakFailure("the journal does not end at a complete record after opening")
    if (saves / SLOT / JOURNAL).stat().st_size != reading.good_bytes:
        raise SoakFailure("the journal holds bytes past its last complete record")
    if stored != expected:
        raise SoakFailure(f"long-term memory disagrees with the journal: {len(expected - stored)} missing, {len(stored - expected)} extra")
    if taken < before + acknowledged:
        raise SoakFailure(f"an acknowledged step was lost: {before} + {acknowledged} acknowledged, {taken} in the slot")
    if taken > before + acknowledged + 1:
        raise SoakFailure(f"more steps than were taken: {before} + {acknowledged} acknowledged, {taken} in the slot")
    result.saved_unacknowledged += taken == before + acknowledged + 1
    return taken


def soak(kills: int, seed: int = 1, work: Path | None = None, steps_per_run: int = 20, log=print) -> Soak:
    """Kill `write` `kills` times at random moments; raises SoakFailure on the first broken promise."""
    rng = random.Random(seed)
    result = Soak()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch, StandIn() as server:
        work = Path(work or scratch)
        saves = work / "saves"
        saves.mkdir(parents=True, exist_ok=True)
        story = work / "soak.toml"
        story.write_text(SEED, encoding="utf-8")
        env = environment(server.url, saves, work)
        command = [sys.executable, "-m", "game", "write", "--slot", SLOT, "--out", os.devnull]

        # Create the slot, then calibrate on an uninterrupted run: how long start-up takes, and the steps.
        first = subprocess.run(command + ["--story", str(story), "--steps", "5"], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=180)
        if first.returncode != 0:
            raise SoakFailure(f"the first run failed: {first.stderr.strip()[-500:]}")
        before = verify(saves, 0, 5, result)
        errors = work / "stderr-0.txt"
        with open(errors, "w") as err:
            t0 = time.monotonic()
            proc = subprocess.Popen(command + ["--steps", str(steps_per_run)], env=env, cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=err)
            _wait_for_progress(errors, proc, timeout=120)
            startup = time.monotonic() - t0
            proc.wait(timeout=120)
            step_window = max(0.2, time.monotonic() - t0 - startup)
        if proc.returncode != 0:
            raise SoakFailure(f"the calibration run failed: {errors.read_text()[-500:]}")
        before = verify(saves, before, steps_per_run, result)
        result.notes.append(f"start-up to the first step {startup:.1f} s; {steps_per_run} steps {step_window:.1f} s")

        runs = 0
        while result.kills < kills:
            runs += 1
            if runs > kills * 3:
                raise SoakFailure(f"only {result.kills} kills landed in {runs - 1} runs")
            errors = work / f"stderr-{runs}.txt"
            with open(errors, "w") as err:
                proc = subprocess.Popen(command + ["--steps", str(steps_per_run)], env=env, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=err)
                try:
                    if rng.random() < 0.2:
                        time.sleep(rng.uniform(0.0, startup + 0.3))  # start-up, opening the slot, recovery
                    elif _wait_for_progress(errors, proc, timeout=120):
                        time.sleep(rng.uniform(0.0, step_window))  # somewhere inside the steps
                    if proc.poll() is None:
                        os.kill(proc.pid, signal.SIGKILL)
                        killed = True
                    else:
                        killed = False
                    proc.wait(timeout=60)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
            text = errors.read_text(errors="replace")
            acknowledged = _acknowledged(text)
            if not killed:
                if proc.returncode != 0:
                    raise SoakFailure(f"run {runs} failed on its own: {text.strip()[-500:]}")
                result.finished += 1
            else:
                result.kills += 1
                result.in_startup += acknowledged == 0
            result.acknowledged += acknowledged
            before = verify(saves, before, acknowledged, result)
            if killed and log:
                log(f"kill {result.kills:>3}: {acknowledged:>2} steps acknowledged, slot at {before} steps")
        # The command a player would run, once at the end.
        final = subprocess.run([sys.executable, "-m", "game", "saves", "check", SLOT], env=env, cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
        if final.returncode != 0:
            raise SoakFailure(f"`recurrent saves check` failed: {final.stderr.strip()}")
        result.steps = before
    result.seconds = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from results import machine, write_section

    result = soak(args.kills, args.seed)
    checks = sorted(result.check_seconds)
    body = f"""Machine: {machine()}. `python bench/soak.py --kills {args.kills} --seed {args.seed}`: `python -m game write --steps 20`
against the stand-in server, SIGKILLed after a random delay (seeded RNG) {result.kills} times; after every kill the slot
is checked (`saves check`), opened, and its journal and long-term memory compared. Every check passed.

| figure | value |
| --- | --- |
| kills | **{result.kills}** (plus {result.finished} runs that finished before their kill came) |
| kills before the run acknowledged a step (start-up, opening, recovery) | {result.in_startup} |
| acknowledged steps lost | **0** (of {result.acknowledged} acknowledged) |
| a step saved but killed before its progress line | {result.saved_unacknowledged} |
| torn last journal line dropped on check | {result.torn_tails} |
| long-term memory behind the journal, caught up on check | {result.index_behind} |
| check or open failures | **0** |
| steps in the slot at the end | {result.steps} |
| check after a kill, median | {checks[len(checks) // 2] * 1000:.0f} ms |
| whole soak | {result.seconds:.0f} s |
"""
    write_section("Crash soak", body)


if __name__ == "__main__":
    main()
