"""The local model dies; the game does not. A native crash in llama.cpp's child process ends the
step in one line, keeps every saved step, and the next step starts a fresh child. The child
never outlives the game, however the game ends. The model is the tiny one of tests/tiny_model.py:
these tests are about the process, not what the model says."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from game.cli import main
from game.core.events import Text
from game.core.models import Preferences
from game.engine.narrator import EngineSettings, Narrator, StepError
from game.saves.slot import Slot
from game.stories.loader import load_seed

from tests.local_model import needs_llama, seed_file
from tests.processes import cpu_ticks, model_children, running, wait_for

ILLEGAL = "the local model crashed (illegal CPU instruction)"
pytestmark = [pytest.mark.slow, needs_llama]  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)


@pytest.fixture(autouse=True)
def short_steps(monkeypatch):
    # Short paragraphs and notes keep each real step to a few seconds on 2 cores.
    monkeypatch.setenv("RECURRENT_MEMORY_WORDS", "50")
    monkeypatch.setenv("RECURRENT_PARAGRAPH_WORDS", "40")
    monkeypatch.setenv("RECURRENT_TIMEOUT", "120")  # a CPU on a busy machine can take a while to read a prompt


def _slot(saves: Path, folder: Path, name: str) -> None:
    seed = load_seed(seed_file(folder)).filled()
    Slot.create(saves, name, seed, Preferences(paragraph_words=40)).close()


def test_sigill_mid_step_ends_the_step_and_the_next_starts_a_fresh_child(tmp_path, tiny_gguf):
    from game.llm.local import LocalBackend

    saves = tmp_path / "saves"
    _slot(saves, tmp_path, "well")

    async def go():
        backend = LocalBackend(gguf=str(tiny_gguf))
        slot = Slot.open(saves, "well")
        narrator = Narrator(slot, backend, EngineSettings(memory_words=50))
        try:
            await asyncio.to_thread(backend.start)  # the child, loaded: a step before this one would prove nothing more
            first = backend.child.pid
            killed = []

            def on_text(event) -> None:
                if isinstance(event, Text) and not killed:  # the paragraph is streaming: the model is mid-step
                    killed.append(first)
                    os.kill(first, signal.SIGILL)

            with pytest.raises(StepError) as caught:
                await narrator.step("Call out to whoever is there.", on_text)
            assert killed and len(slot.story.steps) == 1  # the opening, kept
            again = await narrator.step("Look for tracks on the path.")
            assert backend.child.pid != first and again.number == 1
            return str(caught.value)
        finally:
            slot.close()
            await backend.close()

    message = asyncio.run(go())
    assert ILLEGAL in message and "\n" not in message and "README" in message
    assert main(["saves", "--saves-dir", str(saves), "check", "well"]) == 0
    assert "llama_cpp" not in sys.modules  # llama.cpp never loaded into the game's own process


def _write(saves: Path, name: str, steps: int, gguf: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "game", "write", "--backend", "local", "--gguf", str(gguf), "--slot", name,
               "--steps", str(steps), "--saves-dir", str(saves)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).parents[1])


def _journal_steps(saves: Path, name: str) -> int:
    from game.saves.journal import Journal

    return len(Journal(saves / name / "journal.jsonl").read().records)


def test_sigill_from_the_command_line_is_one_line_and_every_saved_step_stays(tmp_path, tiny_gguf):
    saves = tmp_path / "saves"
    _slot(saves, tmp_path, "cli")
    game = _write(saves, "cli", 50, tiny_gguf)  # more steps than it can tell before the kill
    try:
        # Wait for a step to be saved, then for the child to work on the next (its CPU time
        # climbs only while it reads a prompt or writes): that is the middle of a step.
        assert wait_for(lambda: _journal_steps(saves, "cli") >= 3, timeout=120), game.stderr
        saved = _journal_steps(saves, "cli")
        child = model_children(game.pid)[0]
        idle = cpu_ticks(child)
        assert wait_for(lambda: cpu_ticks(child) >= idle + 5, timeout=60)
        os.kill(child, signal.SIGILL)
        err = game.communicate(timeout=60)[1]
    finally:
        if game.poll() is None:
            game.kill()
    lines = [line for line in err.splitlines() if line.startswith("recurrent:")]
    assert game.returncode == 1 and len(lines) == 1, err
    assert ILLEGAL in lines[0] and "Traceback" not in err
    assert _journal_steps(saves, "cli") >= saved  # nothing acknowledged was lost
    assert main(["saves", "--saves-dir", str(saves), "check", "cli"]) == 0


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, None])
def test_the_child_ends_with_the_game(tmp_path, how, tiny_gguf):
    saves = tmp_path / "saves"
    _slot(saves, tmp_path, "end")
    game = _write(saves, "end", 1 if how is None else 50, tiny_gguf)
    try:
        assert wait_for(lambda: bool(model_children(game.pid)), timeout=60)
        child = model_children(game.pid)[0]
        if how is None:
            assert game.wait(timeout=180) == 0  # the game finished and closed its model
        else:
            # Killed while its model child runs (loading, reading or writing): whenever the game
            # dies, the child must follow, so no step need be told first.
            assert wait_for(lambda: cpu_ticks(child) > 0, timeout=120)
            game.send_signal(how)
            game.wait(timeout=30)
    finally:
        if game.poll() is None:
            game.kill()
    assert wait_for(lambda: not running(child), timeout=15), f"the model's process {child} outlived the game"


def test_the_doctor_reports_the_cpu_build(capsys):
    assert main(["doctor", "--backend", "local"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("llama.cpp"))
    assert "in a child process" in line and "CPU build:" in line
    assert "llama_cpp" not in sys.modules


def test_a_model_that_crashes_on_load_is_one_doctor_line(tmp_path, monkeypatch, capsys):
    # A Python that dies of SIGILL as it starts: what a llama.cpp built for another CPU does.
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nkill -ILL $$\n")
    fake.chmod(0o755)
    monkeypatch.setattr("game.llm.local_process.sys.executable", str(fake))
    assert main(["doctor", "--backend", "local"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("llama.cpp"))
    assert f"PROBLEM: {ILLEGAL} while loading" in line and "README" in line
