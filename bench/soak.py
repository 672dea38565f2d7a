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

With --hostile the stand-in plays a hostile server on a share of its answers, mixed with the
everyday faults: keep-alive comments for ever, answers that never end, JSON nested 200,000 deep,
answers of megabytes, 300,000 `{`, an error echoing the Authorization header, a stream cut short
but "finished", a 0xff byte in an event line, a web page labelled JSON. A run the server ends
(an answer past the deadline, a web page) must end in one plain line; nothing acknowledged may
be lost, and the longest step is reported.

Run: python bench/soak.py [--kills 60] [--seed 1] [--hostile]   (writes the "Crash soak" or
"Hostile soak" section of bench/RESULTS.md). tests/test_crash.py runs the same soaks with fewer kills.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from tests.standin import EVERYDAY, HOSTILE, StandIn  # noqa: E402

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
    step_seconds: list[float] = field(default_factory=list)  # between one progress line and the next
    ended_by_server: int = 0  # runs a hostile server ended, each in one line
    faults: dict[str, int] = field(default_factory=dict)  # what the stand-in sent, by kind


def environment(server_url: str, saves: Path, work: Path, hostile: bool = False, stall: float = 1.0) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RECURRENT_"))}
    env.update(OPENAI_BASE_URL=server_url, OPENAI_API_KEY="sk-soak", RECURRENT_MODEL="standin",
               RECURRENT_SAVES_DIR=str(saves), RECURRENT_RETRY_BASE="0.01", RECURRENT_TIMEOUT="10",
               RECURRENT_CONFIG=str(work / "no-settings.toml"), PYTHONPATH=str(ROOT))
    if hostile:  # a stall counts after `stall` s of keep-alives or silence (1 s), an endless answer after three times that
        env.update(RECURRENT_TIMEOUT=str(stall), RECURRENT_DEADLINE=str(3 * stall))
    return env


class Run:
    """`write` in its own process, its stderr copied to a file line by line with the time each
    line came (so kills can wait for progress, and the steps can be timed)."""

    def __init__(self, command: list[str], env: dict, errors: Path) -> None:
        self.errors = errors
        self.times: list[tuple[float, str]] = []
        self.started = time.monotonic()
        self.proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with open(self.errors, "w", encoding="utf-8") as out:
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace")
                self.times.append((time.monotonic(), line))
                out.write(line)
                out.flush()

    def wait(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def text(self) -> str:
        return "".join(line for _at, line in self.times)

    def step_seconds(self) -> list[float]:
        """How long each step took: from one progress line to the next (the first step, whose
        time includes start-up, is not counted)."""
        marks = [at for at, line in self.times if PROGRESS.match(line)]
        return [later - earlier for earlier, later in zip(marks, marks[1:])]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _acknowledged(text: str) -> int:
    return max((int(n) for n, _total in PROGRESS.findall(text)), default=0)


def _wait_for_progress(run: Run, timeout: float) -> bool:
    """Poll the run's stderr until the first progress line (or the process ends); bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if PROGRESS.search(run.text()):
            return True
        if run.proc.poll() is not None:
            return False
        time.sleep(0.01)
    raise SoakFailure(f"no progress line within {timeout:.0f} s: {run.text()[-500:]}")


def _ended_plainly(run: Run, code: int, hostile: bool) -> bool:
    """A run that ended on its own: fine when it finished; with a hostile server, also when the
    server ended it and `write` said so in one plain line. Anything else fails the soak."""
    text = run.text()
    if "Traceback" in text:
        raise SoakFailure(f"a traceback: {text.strip()[-800:]}")
    if code == 0:
        return False
    last = [line for line in text.splitlines() if not PROGRESS.match(line)][-1:]
    if hostile and last and last[0].startswith("recurrent: "):
        return True
    raise SoakFailure(f"a run failed on its own: {text.strip()[-500:]}")


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


def soak(kills: int, seed: int = 1, work: Path | None = None, steps_per_run: int = 20, log=print,
         hostile: bool = False, stall: float = 1.0) -> Soak:
    """Kill `write` `kills` times at random moments; raises SoakFailure on the first broken promise.
    With `hostile`, the stand-in plays a hostile server on a share of its answers; `stall` is how
    long (s) the game waits on a silent server, and scales the stand-in's slow answers with it."""
    rng = random.Random(seed)
    result = Soak()
    started = time.perf_counter()
    server = StandIn(fault_rate=0.25, seed=seed, kinds=EVERYDAY + HOSTILE, slow_seconds=1.5 * stall) if hostile else StandIn()
    server.huge_chars = 3_000_000  # as bad as 30 MB for what is kept (the ceiling is far below both), and quicker
    with tempfile.TemporaryDirectory() as scratch, server:
        work = Path(work or scratch)
        saves = work / "saves"
        saves.mkdir(parents=True, exist_ok=True)
        story = work / "soak.toml"
        story.write_text(SEED, encoding="utf-8")
        env = environment(server.url, saves, work, hostile, stall)
        command = [sys.executable, "-m", "game", "write", "--slot", SLOT, "--out", os.devnull]

        # Create the slot, then calibrate on an uninterrupted run: how long start-up takes, and the steps.
        # A hostile server may end a run (in one line); the slot is made again until it has its steps.
        before = 0
        for _attempt in range(20):
            fresh = not (saves / SLOT).exists()  # a slot a failed first run left with only its seed goes on too
            first = Run(command + (["--story", str(story)] if fresh else []) + ["--steps", str(5 - before)], env,
                        work / "stderr-first.txt")
            result.ended_by_server += _ended_plainly(first, first.wait(timeout=300), hostile)
            result.step_seconds += first.step_seconds()
            if (saves / SLOT).exists():
                before = verify(saves, before, _acknowledged(first.text()), result)
            if before >= 5:
                break
        else:
            raise SoakFailure("the slot never reached 5 steps")
        t0 = time.monotonic()
        calibration = Run(command + ["--steps", str(steps_per_run)], env, work / "stderr-0.txt")
        _wait_for_progress(calibration, timeout=300)
        startup = time.monotonic() - t0
        code = calibration.wait(timeout=600)
        step_window = max(0.2, time.monotonic() - t0 - startup)
        result.ended_by_server += _ended_plainly(calibration, code, hostile)
        result.step_seconds += calibration.step_seconds()
        before = verify(saves, before, _acknowledged(calibration.text()), result)
        result.notes.append(f"start-up to the first step {startup:.1f} s; {steps_per_run} steps {step_window:.1f} s")

        runs = 0
        while result.kills < kills:
            runs += 1
            if runs > kills * 3:
                raise SoakFailure(f"only {result.kills} kills landed in {runs - 1} runs")
            run = Run(command + ["--steps", str(steps_per_run)], env, work / f"stderr-{runs}.txt")
            try:
                if rng.random() < 0.2:
                    time.sleep(rng.uniform(0.0, startup + 0.3))  # start-up, opening the slot, recovery
                elif _wait_for_progress(run, timeout=300):
                    time.sleep(rng.uniform(0.0, step_window))  # somewhere inside the steps
                if run.proc.poll() is None:
                    os.kill(run.proc.pid, signal.SIGKILL)
                    killed = True
                else:
                    killed = False
                code = run.wait(timeout=120)
            finally:
                run.kill()
            acknowledged = _acknowledged(run.text())
            result.step_seconds += run.step_seconds()
            if not killed:
                result.ended_by_server += _ended_plainly(run, code, hostile)
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
        for kind in server.faults_sent:
            result.faults[kind] = result.faults.get(kind, 0) + 1
    result.seconds = time.perf_counter() - started
    return result


def report(result: Soak, kills: int, seed: int, hostile: bool = False) -> str:
    """The section bench/RESULTS.md gets (tests/test_crash.py checks it on its own soak)."""
    checks = sorted(result.check_seconds)
    steps = sorted(result.step_seconds)
    server = "a hostile stand-in (a quarter of its answers a fault, everyday or hostile)" if hostile else "the stand-in server"
    rows = f"""| figure | value |
| --- | --- |
| kills | **{result.kills}** (plus {result.finished} runs that finished before their kill came) |
| kills before the run acknowledged a step (start-up, opening, recovery) | {result.in_startup} |
| acknowledged steps lost | **0** (of {result.acknowledged} acknowledged) |
| a step saved but killed before its progress line | {result.saved_unacknowledged} |
| torn last journal line dropped on check | {result.torn_tails} |
| long-term memory behind the journal, caught up on check | {result.index_behind} |
| check or open failures | **0** |
| steps in the slot at the end | {result.steps} |
| step time, median / longest | {steps[len(steps) // 2]:.2f} s / **{steps[-1]:.1f} s** (over {len(steps)} steps) |
| check after a kill, median | {checks[len(checks) // 2] * 1000:.0f} ms |
| whole soak | {result.seconds:.0f} s |
"""
    if hostile:
        sent = ", ".join(f"{kind} {count}" for kind, count in sorted(result.faults.items(), key=lambda kv: -kv[1]))
        rows += f"| runs the server ended, each in one line | {result.ended_by_server} |\n| faults sent | {sent} |\n"
    flag = " --hostile" if hostile else ""
    from bench.results import machine

    return f"""Machine: {machine()}. `python bench/soak.py --kills {kills} --seed {seed}{flag}`: `python -m game write --steps 20`
against {server}, SIGKILLed after a random delay (seeded RNG) {result.kills} times; after every kill the slot
is checked (`saves check`), opened, and its journal and long-term memory compared. Every check passed.

{rows}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hostile", action="store_true", help="mix a hostile server's answers into the faults")
    parser.add_argument("--quick", action="store_true", help="smoke size: 1 kill in runs of 5 steps, nothing written")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from results import quick_check, write_section

    result = soak(1, args.seed, steps_per_run=5, hostile=args.hostile) if args.quick else \
        soak(args.kills, args.seed, hostile=args.hostile)
    body = report(result, 1 if args.quick else args.kills, args.seed, args.hostile)
    if args.quick:  # soak() itself raises on any broken promise; tests/test_crash.py runs 10 kills
        assert result.kills == 1, result
        print(body)
        quick_check({"kills": result.kills, "acknowledged": result.acknowledged, "steps": result.steps,
                     "seconds": result.seconds, "check ms (median)": statistics.median(result.check_seconds or [0.0]) * 1000})
        return
    write_section("Hostile soak" if args.hostile else "Crash soak", body)


if __name__ == "__main__":
    main()
