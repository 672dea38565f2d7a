"""`recurrent play --plain`, played through pipes and a pseudo-terminal as a script or a screen
reader's user would, against the stand-in model server; and the verbs every face reads alike."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from game.session.verbs import NoVerb, Verb, verb_of

pytestmark = pytest.mark.slow  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)

ROOT = Path(__file__).resolve().parents[1]
# Escape sequences and other control characters but newline; box drawing, blocks, braille patterns.
FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u2500-\u259f\u2800-\u28ff]")


def env_for(server, saves: Path, tmp_path: Path, **more) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "dumb", "OPENAI_BASE_URL": server.url,
            "OPENAI_API_KEY": "sk-test-not-a-real-key", "RECURRENT_MODEL": "standin",
            "RECURRENT_SAVES_DIR": str(saves), "HOME": str(tmp_path), **more}


def play(server, saves, tmp_path, lines: list[str], *args: str) -> subprocess.CompletedProcess:
    """A plain game with stdin a pipe and TERM=dumb: no terminal at all, no --plain either."""
    return subprocess.run([sys.executable, "-m", "game", "play", *args], input="\n".join(lines) + "\n",
                          capture_output=True, text=True, env=env_for(server, saves, tmp_path), cwd=tmp_path,
                          timeout=120)


def steps_of(saves: Path, slot: str) -> list[tuple[str, str]]:
    from game.session import Shelf

    return [(str(step.number), step.action) for step in Shelf(saves).read(slot)[0].steps[1:]]


def asked(server) -> list[str]:
    """The action each narration request asked the model to answer (its last line says it)."""
    return [request["messages"][-1]["content"].rsplit("The reader's action: ", 1)[-1]
            for request in server.narrations()]


def test_a_pipe_plays_undoes_and_resumes(game_env, saves, seed_path, tmp_path):
    server = game_env
    done = play(server, saves, tmp_path, ["1", "Climb the lamp housing.", "undo", "Wind the clockwork.", "status",
                                          "quit"], "--story", str(seed_path), "--slot", "pipe")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    assert not FORBIDDEN.search(out), repr(FORBIDDEN.search(out))
    assert "1. Read the logbook.\n2. Check the lamp.\n3. Go back down the stairs.\n> " in out
    assert "The narrator is writing..." in out
    assert re.search(r"^The Lighthouse at Skerry Point, slot pipe, step 2, [\d,]+ words, model standin", out, re.M)
    assert steps_of(saves, "pipe") == [("1", "Read the logbook."), ("2", "Wind the clockwork.")]
    from game.core.text import sentences
    from game.session import Shelf

    told_lines = out.splitlines()
    for step in Shelf(saves).read("pipe")[0].steps:  # each paragraph printed a whole sentence a line, as saved
        assert all(sentence in told_lines for sentence in sentences(step.version.paragraph)), step.version.paragraph
    assert "(as saved:)" not in out
    # Both kept actions reached the model (and the undone one, before it was undone), in turn.
    assert asked(server) == ["Read the logbook.", "Climb the lamp housing.", "Wind the clockwork."]

    again = play(server, saves, tmp_path, ["read", "quit"], "--slot", "pipe")
    assert again.returncode == 0, again.stderr
    assert "Resuming at step 2." in again.stdout

    last = Shelf(saves).read("pipe")[0].steps[-1].version.paragraph
    first_sentence = last.split(". ")[0]
    assert again.stdout.count(first_sentence) == 2  # read back on opening, and by `read`
    assert not FORBIDDEN.search(again.stdout)
    assert "The narrator is writing..." not in again.stdout  # nothing told: it was read back


def test_a_step_the_server_fails_says_so_once_and_keeps_the_line(game_env, saves, seed_path, tmp_path):
    game_env.fail(*["500"] * 6)
    done = subprocess.run([sys.executable, "-m", "game", "play", "--story", str(seed_path), "--slot", "down"],
                          input="Climb the lamp housing.\nquit\n", capture_output=True, text=True, cwd=tmp_path,
                          env=env_for(game_env, saves, tmp_path, RECURRENT_RETRY_ATTEMPTS="2"), timeout=120)
    assert done.returncode == 0, done.stderr
    [line] = [line for line in done.stdout.splitlines() if "could not go on" in line]
    assert line.startswith("The story could not go on: ") and line.count("could not go on") == 1, line
    assert "Enter alone sends your action again: Climb the lamp housing." in done.stdout
    assert not (saves / "down").exists()  # nothing half-told was saved (a game left before its first step leaves no slot)


def test_a_notice_at_the_end_of_the_stream_comes_after_the_paragraphs_last_sentence(game_env, saves, seed_path,
                                                                                     tmp_path):
    game_env.finishes.append("length")
    game_env.say("The gull lifts off the rail and wheels away over the black water, crying once. Below the gallery "
                 "the sea heaves against the rocks, and spray climbs the tower as high as the first window. The lamp "
                 "turns once, twice.")
    done = play(game_env, saves, tmp_path, ["Watch the lamp.", "quit"], "--story", str(seed_path), "--slot", "cut")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    limit = next(n for n, line in enumerate(lines) if "reached its length limit" in line)
    assert lines.index("The lamp turns once, twice.") < limit, lines  # the sentence it waited for, then the notice


def test_end_of_input_quits_with_every_step_saved(game_env, saves, seed_path, tmp_path):
    done = play(game_env, saves, tmp_path, ["2", ""], "--story", str(seed_path), "--slot", "eof")
    assert done.returncode == 0, done.stderr
    assert "Every step is saved" in done.stdout
    assert [n for n, _ in steps_of(saves, "eof")] == ["1", "2"]


def test_verbs_as_a_player_types_them(game_env, saves, seed_path, tmp_path):
    from game.session import Shelf

    done = play(game_env, saves, tmp_path, ["/undo", "undo the knot", "/dance", "4", "g", "save spare", "save verbs", "recap",
                                            "transcript on", "retry", "restore", "load spare", "status", "restart",
                                            "status", "q"], "--story", str(seed_path), "--slot", "verbs")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "nothing to undo: this is the opening" in out  # /undo was the verb
    assert "/dance is no verb: type help for the verbs" in out
    assert "there is no option 4: 1-3 pick an option" in out  # a slip, not a step (the steps below)
    assert "Saved a copy as spare" in out
    assert f"slot verbs already exists in {saves}\n" in out  # its own slot: no other game is making it
    assert "Transcript on:" in out and (tmp_path / "verbs-transcript.md").exists()
    assert "The slots: " in out and "spare" in out.split("The slots: ")[1].split("\n")[0]
    assert re.search(r"^The Lighthouse at Skerry Point, slot spare, step 2", out, re.M)  # undo the knot, and g
    assert "Restarted in a new slot" in out
    assert re.search(r"^The Lighthouse at Skerry Point, slot [\w-]+, step 0,", out, re.M)
    steps = steps_of(saves, "verbs")
    assert steps == [("1", "undo the knot"), ("2", "undo the knot")]  # a sentence is an action; g did it again
    assert len(Shelf(saves).read("verbs")[0].steps[2].alternatives) == 1  # retry told step 2 again
    assert "> **Step 2:** undo the knot" in (tmp_path / "verbs-transcript.md").read_text()
    assert "Traceback" not in done.stderr


def test_memory_is_read_pinned_unpinned_and_searched_in_plain_lines(game_env, saves, seed_path, tmp_path):
    """The memory panel's plain form: `memory` reads it, `/pin` and `/unpin` edit the pinned notes,
    `/search` lists long-term memory; "search the desk" alone is the story's."""
    from game.session import Shelf

    done = play(game_env, saves, tmp_path, ["search the desk", "/pin The keeper kept a cat named Smut.", "memory",
                                            "/unpin 1", "/unpin 5", "/search desk", "quit"],
                "--story", str(seed_path), "--slot", "mem")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert steps_of(saves, "mem") == [("1", "search the desk")]  # a story action, not the verb
    assert "Pinned as note 2: the narrator reads it every step." in out  # the seed pins one
    notes = out.split("Pinned notes (")[1]
    assert "  1. The storm lasts three days.\n  2. The keeper kept a cat named Smut.\n" in notes
    assert "Step 1 recalled from long-term memory:" in notes
    assert "Unpinned: The storm lasts three days." in out and "There is no pinned note 5: they are 1-1" in out
    assert Shelf(saves).read("mem")[0].pinned == ["The keeper kept a cat named Smut."]
    found = out.split("Long-term memory, best match first, for desk:\n")[1].splitlines()
    assert found[0].startswith("  step 1, ") and "desk" in found[0]  # the step that searched it, found by its words
    assert not FORBIDDEN.search(out)


def test_ctrl_c_while_the_narrator_writes_keeps_the_steps_and_the_line(game_env, saves, seed_path, tmp_path):
    import fcntl
    import pty
    import termios

    server = game_env
    master, slave = pty.openpty()

    def own_terminal() -> None:  # the pseudo-terminal is the game's own, so Ctrl+C there is its SIGINT
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen([sys.executable, "-m", "game", "play", "--plain", "--story", str(seed_path),
                                "--slot", "stop"], stdin=slave, stdout=slave, stderr=slave, preexec_fn=own_terminal,
                               env=env_for(server, saves, tmp_path, TERM="xterm"), cwd=tmp_path)
    os.close(slave)
    seen = bytearray()

    def until(done, what: str) -> None:
        deadline = time.monotonic() + 60
        while not done():
            assert time.monotonic() < deadline, f"waited for {what}: {bytes(seen)!r}"
            try:
                seen.extend(os.read(master, 65536))
            except OSError:  # the terminal closed: the game has ended
                return

    def prompts(count: int) -> None:
        until(lambda: seen.count(b"> ") >= count, f"prompt {count}")

    try:
        prompts(1)
        server.fail("ok", "ok", "hold")  # step 1's narration and notes go through; step 2's narration waits
        os.write(master, b"1\n")
        prompts(2)
        os.write(master, b"Climb the lamp housing.\n")
        assert server.holding.wait(60)
        os.write(master, b"\x03")  # Ctrl+C, as the terminal sends it
        until(lambda: b"Enter alone sends your action again: Climb the lamp housing." in seen, "the kept line")
        server.release.set()
        os.write(master, b"\n")  # Enter alone: the kept line, told this time
        prompts(4)
        os.write(master, b"\x03")
        until(lambda: b"Ctrl+C again" in seen, "the first Ctrl+C at the prompt")
        os.write(master, b"\x03")
        assert process.wait(60) == 0, bytes(seen)
        until(lambda: False, "the end")
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    text = bytes(seen).decode(errors="replace")
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert "Stopped: nothing of this step was saved." in text
    assert steps_of(saves, "stop") == [("1", "Read the logbook."), ("2", "Climb the lamp housing.")]
    assert asked(server) == ["Read the logbook.", "Climb the lamp housing.", "Climb the lamp housing."]  # stopped, then sent again


def test_plain_play_and_write_ask_the_model_the_same(game_env, saves, seed_path, tmp_path, capsys):
    """Same story, same actions: the model is asked the same, word for word. Each face has a
    fresh stand-in of its own, since the stand-in's prose follows from what it was asked before."""
    from game.cli import main
    from tests.standin import StandIn

    (tmp_path / "actions.txt").write_text("2\nClimb the lamp housing.\n\n3\n")
    assert main(["write", "--story", str(seed_path), "--slot", "written", "--steps", "4",
                 "--actions", str(tmp_path / "actions.txt")]) == 0
    capsys.readouterr()
    written = [r["messages"] for r in game_env.chat_requests()]
    with StandIn() as fresh:
        # `write` takes option 1 for an empty line, where play continues: play names the option.
        done = play(fresh, saves, tmp_path, ["2", "Climb the lamp housing.", "1", "3", "quit"],
                    "--story", str(seed_path), "--slot", "played")
        assert done.returncode == 0, done.stderr
        played = [r["messages"] for r in fresh.chat_requests()]
    assert len(played) == len(written) == 8
    assert played == written


@pytest.mark.parametrize("line, verb", [
    ("undo", Verb("undo")), ("UNDO", Verb("undo")), ("  g ", Verb("again")), ("/again", Verb("again")),
    ("save", Verb("save")), ("save spare", Verb("save", "spare")), ("load spare", Verb("restore", "spare")),
    ("transcript on", Verb("transcript", "on")), ("script off", Verb("transcript", "off")),
    ("r", Verb("read")), ("quit.", Verb("quit")), ("/undo", Verb("undo")),
    ("I undo the knot", None), ("undo the knot", None), ("save the keeper", None), ("read the logbook", None),
    ("transcript the runes", None), ("1", None), ("", None), ("go north", None),
    ("memory", Verb("memory")), ("/pin The storm lasts three days.", Verb("pin", "The storm lasts three days.")),
    ("/unpin 2", Verb("unpin", "2")), ("/search", Verb("search")), ("/search lamp oil", Verb("search", "lamp oil")),
    ("search", None), ("search the desk", None), ("pin the map to the wall", None), ("the memory of her", None),
])
def test_a_verb_is_a_verb_alone_and_a_sentence_is_an_action(line, verb):
    assert verb_of(line) == verb


def test_a_story_in_another_language_has_its_own_verbs_and_the_english_ones():
    assert verb_of("rückgängig", "german") == Verb("undo") == verb_of("undo", "german")
    assert verb_of("/speichern reserve", "german") == Verb("save", "reserve")
    assert verb_of("rückgängig") is None  # an English story: a word of the story
    assert verb_of("Ich mache den Knoten rückgängig", "german") is None


@pytest.mark.parametrize("line", ["/dance", "/undo the knot", "/save my game", "/transcript loudly", "/", "/pin",
                                  "/unpin", "/unpin two", "/unpin 0"])
def test_a_slash_that_is_no_verb_is_one_line(line):
    with pytest.raises(NoVerb):
        verb_of(line)


@pytest.mark.parametrize("args, words", [
    (["play", "--plain", "--slot", "nosuch"], "no slot named nosuch"),
    (["play", "--plain"], "plain play needs a story"),
    (["play", "--plain", "--story", "missing.toml"], "missing.toml"),
    (["play", "--plain", "--slot", "../evil"], "bad slot name"),
])
def test_a_plain_game_that_cannot_start_says_why_in_one_line(game_env, args, words, capsys):
    from game.cli import main

    assert main(args) == 1
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_dumb_terminal_gets_plain_play_unasked(game_env, saves, seed_path, tmp_path):
    """A real terminal (a pseudo-terminal here) that says TERM=dumb: no --plain, and still no
    full-screen drawing, only lines."""
    import pty

    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "game", "play", "--story", str(seed_path), "--slot", "dumb"],
                               stdin=slave, stdout=slave, stderr=slave, env=env_for(game_env, saves, tmp_path),
                               cwd=tmp_path)
    os.close(slave)
    seen = bytearray()
    try:
        deadline = time.monotonic() + 60
        while b"3. Go back down the stairs.\r\n> " not in seen:
            assert time.monotonic() < deadline, bytes(seen)
            seen.extend(os.read(master, 65536))
        os.write(master, b"quit\n")
        assert process.wait(60) == 0, bytes(seen)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    assert b"\x1b" not in seen
