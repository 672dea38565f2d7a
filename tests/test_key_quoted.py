"""A server that quotes the API key back, in an error body or in its answers: the key reaches no
file (the debug log at its default level included), no screen and no story."""
from __future__ import annotations

import logging
import secrets

from game.cli import main
from game.core.logs import configure, logger
from game.llm.held import Held


def test_a_key_split_across_streamed_pieces_is_redacted_whole(monkeypatch):
    key = f"sk-canary-{secrets.token_hex(16)}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    text = f"The clerk reads aloud: {key} and then the ledger closes."
    for size in (1, 3, 7, len(text)):
        held = Held()
        out = "".join(held.add(text[i:i + size]) for i in range(0, len(text), size)) + held.rest()
        assert key not in out and "[redacted]" in out
        assert out.replace("[redacted]", key) == text  # nothing else is changed or lost


def test_every_record_of_the_games_loggers_is_redacted(tmp_path, monkeypatch):
    key = f"canary-{secrets.token_hex(16)}"  # not shaped like an OpenAI key: known only as the one in use
    monkeypatch.setenv("OPENAI_API_KEY", key)
    path = configure(path=tmp_path / "recurrent.log")
    try:
        logger("llm").warning("server said %s", {"authorization": f"Bearer {key}"})
        logger("saves").info(f"a message built with the key inside: {key}")
        try:
            raise ValueError(f"quoted in a traceback: {key}")
        except ValueError:
            logger().exception("failed")
    finally:
        for handler in list(logging.getLogger("recurrent").handlers):
            handler.close()
    written = path.read_text(encoding="utf-8")
    assert written.count("[redacted]") >= 3 and "quoted in a traceback" in written
    assert key not in written


def test_a_server_echoing_the_key_leaves_it_in_no_file(game_env, seed_path, tmp_path, capsys, monkeypatch):
    key = f"sk-canary-{secrets.token_hex(16)}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    # An error that quotes the Authorization header (logged at WARNING, no --debug), then a
    # narration and notes that quote the key in the story's own words.
    game_env.fail("echo-auth")
    game_env.say(f"The stranger writes a long code on the wall of the lamp room: {key}. Then he laughs, wipes "
                 "his hands on his coat and climbs the stair into the dark, and the lamp turns above you.")
    code = main(["write", "--story", str(seed_path), "--slot", "quoted", "--steps", "2",
                 "--out", str(tmp_path / "story.md")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert key in game_env.api_keys
    log = tmp_path / "state" / "recurrent" / "recurrent.log"
    assert log.is_file() and "failed" in log.read_text(encoding="utf-8")  # the echoed error was logged
    assert "[redacted]" in (tmp_path / "story.md").read_text(encoding="utf-8")  # the quoting narration was kept
    leaked = [str(p) for p in tmp_path.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    assert leaked == []
    assert key not in out + err
