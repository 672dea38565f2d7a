"""The command line read through a pipe that closes early, and listings a player copies from."""
from __future__ import annotations

import pytest

import os
import subprocess
import sys
from pathlib import Path

from game.cli import main

pytestmark = pytest.mark.slow  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)

ROOT = Path(__file__).resolve().parents[1]


def test_a_pipe_closed_early_ends_the_command_quietly(tmp_path):
    """`recurrent stories preview ... | head -1`: the reader has what it wanted and closed the pipe;
    here it is closed before the first write, so every write meets it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "game", "stories", "preview", "night-ferry-to-kestrel"],
                              stdout=write, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, timeout=120)
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 0


def test_stories_list_shows_each_name_whole(tmp_path, monkeypatch, capsys):
    own = tmp_path / "data" / "recurrent" / "stories"
    own.mkdir(parents=True)
    seed = (ROOT / "stories" / "night-ferry-to-kestrel.toml").read_text(encoding="utf-8")
    (own / "night-ferry-to-kestrel-revisited-by-the-harbour-master.toml").write_text(seed, encoding="utf-8")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["stories", "list"]) == 0
    out = capsys.readouterr().out
    assert "night-ferry-to-kestrel-revisited-by-the-harbour-master *" in out
