"""`recurrent write` and `recurrent saves`, run as a player would run them."""
from __future__ import annotations

import json
import re

import pytest

from game.cli import main


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_fifty_steps_headless(game_env, saves, seed_path, tmp_path, capsys):
    actions = tmp_path / "actions.txt"
    actions.write_text("2\n\nClimb the lamp housing and look for the keeper.\n3\n", encoding="utf-8")
    out_md = tmp_path / "story.md"
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "long", "--steps", "50",
                         "--actions", str(actions), "--out", str(out_md))
    assert code == 0, err
    text = out_md.read_text()
    assert text.startswith("# The Lighthouse at Skerry Point")
    assert len(re.findall(r"^> \*\*Step \d+:\*\*", text, flags=re.M)) == 50
    assert "> **Step 1:** Check the lamp." in text  # "2" picked the seed's second option
    assert "> **Step 2:** Read the logbook." not in text and "> **Step 2:** " in text  # empty line picks option 1 of step 1
    assert "> **Step 3:** Climb the lamp housing and look for the keeper." in text
    assert "step 50/50" in err
    code, out, err = run(capsys, "saves", "show", "long", "--json")
    info = json.loads(out)
    assert info["steps"] == 50 and info["memories"] > 100
    code, out, err = run(capsys, "saves", "check", "long")
    assert code == 0 and "ok" in out
    # Every step costs two calls, narration and bookkeeping; the seed's own opening and options cost none.
    assert len(game_env.chat_requests()) == 2 * 50


def test_an_actions_file_with_a_digit_that_picks_no_option_is_one_line_before_any_step(game_env, saves, seed_path,
                                                                                       tmp_path, capsys):
    actions = tmp_path / "actions.txt"
    actions.write_text("2\nClimb the stair.\n5\n", encoding="utf-8")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "slip", "--steps", "3",
                         "--actions", str(actions))
    assert code == 1 and err == f"recurrent: {actions} line 3: there is no option 5: 1, 2 or 3 picks an option\n"
    assert not game_env.chat_requests()  # refused before the model was asked anything


def test_the_saves_folder_is_taken_before_or_after_the_saves_command(game_env, saves, seed_path, tmp_path, capsys):
    other = tmp_path / "elsewhere"
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "away", "--steps", "1", "--saves-dir", str(other))[0] == 0
    for args in (["saves", "list", "--saves-dir", str(other), "--json"], ["saves", "--saves-dir", str(other), "list", "--json"]):
        code, out, err = run(capsys, *args)
        assert code == 0 and [row["slot"] for row in json.loads(out)] == ["away"], (args, err)
    code, out, err = run(capsys, "saves", "check", "away", "--saves-dir", str(other))
    assert code == 0 and "ok" in out
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "near", "--steps", "1", "--saves-dir", str(other))[0] == 0
    (other / "near" / "journal.jsonl").write_bytes(b"not a journal\n")
    code, out, err = run(capsys, "saves", "check", "--saves-dir", str(other))  # no name: every slot
    assert code == 1 and out.splitlines() == ["away: ok"] and err.startswith("near: "), (out, err)
    assert json.loads(run(capsys, "saves", "list", "--json")[1]) == []  # the default folder (RECURRENT_SAVES_DIR) holds none


def test_continue_a_slot_and_list_export_delete(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "tale", "--steps", "2")[0] == 0
    code, out, err = run(capsys, "write", "--slot", "tale", "--steps", "3")
    assert code == 0 and len(re.findall(r"^> \*\*Step \d+:\*\*", out, flags=re.M)) == 5
    code, out, _ = run(capsys, "saves", "list", "--json")
    rows = json.loads(out)
    assert [(r["slot"], r["steps"]) for r in rows] == [("tale", 5)]
    code, out, _ = run(capsys, "saves", "export", "tale", "--format", "md")
    assert out.startswith("# The Lighthouse") and "> **Step 5:**" in out
    assert run(capsys, "saves", "delete", "tale")[0] == 0
    assert not (saves / "tale").exists()


@pytest.mark.parametrize("args, words", [
    (["write", "--story", "missing.toml", "--slot", "a", "--steps", "1"], "missing.toml"),
    (["write", "--slot", "nosuch", "--steps", "1"], "no slot named nosuch"),
    (["write", "--story", "{seed}", "--slot", "../evil", "--steps", "1"], "bad slot name"),
    (["saves", "show", "nosuch"], "no slot named nosuch"),
    (["saves", "check", "a/b"], "bad slot name"),
    (["saves", "delete", "con"], "reserved"),
])
def test_bad_input_is_one_line(game_env, seed_path, capsys, args, words):
    args = [a.replace("{seed}", str(seed_path)) for a in args]
    code, out, err = run(capsys, *args)
    assert code != 0
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_malformed_story_file_is_one_line(game_env, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x"\ngenre = [1, 2\n', encoding="utf-8")
    code, out, err = run(capsys, "write", "--story", str(bad), "--slot", "a", "--steps", "1")
    assert code == 1 and "bad.toml" in err and err.count("\n") == 1


def test_server_down_costs_nothing(game_env, saves, seed_path, capsys, monkeypatch):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "kept", "--steps", "2")[0] == 0
    journal = (saves / "kept" / "journal.jsonl").read_bytes()
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    code, out, err = run(capsys, "write", "--slot", "kept", "--steps", "1")
    assert code == 1 and "cannot reach the model server" in err and "Traceback" not in err
    assert (saves / "kept" / "journal.jsonl").read_bytes() == journal


def test_existing_slot_is_not_overwritten(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "mine", "--steps", "1")[0] == 0
    journal = (saves / "mine" / "journal.jsonl").read_bytes()
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "mine", "--steps", "1")
    assert code == 1 and err == ("recurrent: slot mine already holds this story, 1 step in: continue it with --slot mine "
                                 "and no --story, or choose another --slot to start afresh\n")
    assert (saves / "mine" / "journal.jsonl").read_bytes() == journal


def test_no_backend_is_explained(saves, seed_path, capsys, monkeypatch):
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    monkeypatch.setenv("RECURRENT_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "1")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "x", "--steps", "1")
    assert code == 1 and err.startswith("recurrent: ") and err.count("\n") == 1


def test_server_down_at_the_start_leaves_no_empty_slot(saves, seed_path, capsys, monkeypatch):
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("RECURRENT_MODEL", "m")
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "1")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "x", "--steps", "1")
    assert code == 1 and "cannot reach" in err
    assert not (saves / "x").exists()


def test_a_bundled_story_is_named_without_its_path(game_env, saves, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # not the checkout: the name alone must find the library
    code, out, err = run(capsys, "write", "--story", "night-ferry-to-kestrel", "--slot", "ferry", "--steps", "2")
    assert code == 0, err
    assert out.startswith("# Night Ferry to Kestrel") and (saves / "ferry" / "journal.jsonl").is_file()
    code, out, err = run(capsys, "write", "--story", "night-ferry-to-kestel", "--slot", "ferry-2", "--steps", "1")
    assert code == 1 and "did you mean night-ferry-to-kestrel" in err and err.count("\n") == 1
    assert not (saves / "ferry-2").exists()


@pytest.mark.slow
def test_a_terminal_gets_a_progress_bar_with_the_time_left(game_env, saves, seed_path, tmp_path):
    import os
    import pty
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-m", "game", "write", "--story", str(seed_path), "--slot", "bar",
                                "--steps", "3", "--out", str(tmp_path / "bar.md")],
                               stderr=slave, stdout=subprocess.DEVNULL, env=env, cwd=tmp_path)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closed: the game has ended
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert process.wait(30) == 0, seen.decode(errors="replace")
    text = seen.decode(errors="replace")
    assert "3/3" in text and "left" in text and "elapsed" in text
    assert "step 1/3\n" not in text  # the plain lines are for logs and pipes


def test_write_begins_with_the_opening_asked_for(game_env, saves, seed_path, tmp_path, capsys):
    text = seed_path.read_text().replace('pinned = [', 'openings = ["You row out to the rock at dusk."]\npinned = [')
    seed = tmp_path / "two.toml"
    seed.write_text(text)
    code, out, err = run(capsys, "write", "--story", str(seed), "--slot", "second", "--steps", "1", "--opening", "2")
    assert code == 0, err
    assert "You row out to the rock at dusk." in out and "You climb the last stair." not in out
    code, out, err = run(capsys, "write", "--story", str(seed), "--slot", "third", "--steps", "1", "--opening", "3")
    assert code == 1 and err.strip() == f"recurrent: {seed}: --opening 3: the story has 2 openings"
    assert not (saves / "third").exists()


def test_no_steps_on_a_new_slot_says_the_slot_is_not_kept(game_env, saves, seed_path, capsys):
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "peek", "--steps", "0")
    assert code == 0 and out.startswith("# The Lighthouse at Skerry Point")  # the opening, as a transcript
    assert err == "no step was played, so the new slot peek is not kept: --steps 1 or more keeps it\n"
    assert not (saves / "peek").exists()
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "kept", "--steps", "1")[0] == 0
    code, out, err = run(capsys, "write", "--slot", "kept", "--steps", "0")  # an old slot: just its transcript
    assert code == 0 and err == "" and "**Step 1:**" in out and (saves / "kept").exists()


def test_a_delete_typed_at_a_terminal_is_asked_first(game_env, saves, seed_path, capsys, monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert run(capsys, "write", "--story", str(seed_path), "--slot", "dear", "--steps", "1")[0] == 0
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    code, out, err = run(capsys, "saves", "delete", "dear")
    assert code == 0 and "delete slot dear (The Lighthouse at Skerry Point, 1 step," in out and out.endswith("kept dear\n")
    assert (saves / "dear").exists()
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    code, out, err = run(capsys, "saves", "delete", "dear")
    assert code == 0 and out.endswith("deleted dear\n") and not (saves / "dear").exists()
