"""The API key never lands in a file the game writes: saves, settings, exports, logs."""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from game.cli import main
from game.saves.branch import copy_slot
from game.core.settings import load_settings, save_settings

pytestmark = pytest.mark.slow  # a real process writes a slot with the debug log on

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_api_key_is_in_no_written_file(game_env, saves, seed_path, tmp_path, capsys, monkeypatch):
    key = f"sk-canary-{secrets.token_hex(16)}"
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("OPENAI_API_KEY", key)
    for name, value in (("HOME", home), ("XDG_CONFIG_HOME", home / ".config"), ("XDG_DATA_HOME", home / ".local/share"),
                        ("XDG_CACHE_HOME", home / ".cache"), ("XDG_STATE_HOME", home / ".local/state")):
        monkeypatch.setenv(name, str(value))
    seen = []
    for args in (
        ("write", "--story", str(seed_path), "--slot", "canary", "--steps", "3", "--out", str(tmp_path / "story.md")),
        ("write", "--slot", "canary", "--steps", "1"),
        ("saves", "export", "canary", "--format", "md", "--out", str(tmp_path / "export.md")),
        ("saves", "show", "canary", "--json"),
        ("saves", "list", "--json"),
        ("saves", "check", "canary"),
        ("saves", "repair", "canary"),
    ):
        code, out, err = run(capsys, *args)
        assert code == 0, (args, err)
        seen += [out, err]
    copy_slot(saves, "canary", "canary-copy")
    save_settings(load_settings(model="standin", temperature=0.7))  # the settings file the UI writes
    # The same game as its own process, so anything it might write at exit (logs, caches) is caught too.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "game", "--debug", "write", "--slot", "canary", "--steps", "1",
                           "--out", str(tmp_path / "again.md")], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen += [done.stdout, done.stderr]

    assert key in game_env.api_keys  # the key really was in use
    # The debug log was written, and holds the last request the game sent, word for word.
    log = home / ".local/state" / "recurrent" / "recurrent.log"
    last = game_env.chat_requests()[-1]["messages"][-1]["content"]
    assert log.is_file() and json.dumps(last, ensure_ascii=False) in log.read_text(encoding="utf-8")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) > 10 and (tmp_path / "settings.toml").exists()
    needle = key.encode()
    leaked = [str(p) for p in files if needle in p.read_bytes() or needle in p.read_bytes().replace(b"\x00", b"")]
    assert leaked == []
    assert not any(key in text for text in seen)  # nor on the screen
