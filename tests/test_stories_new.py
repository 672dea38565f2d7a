"""`recurrent stories new`: a premise becomes a valid seed through the real backend and stand-in."""
from __future__ import annotations

import json

from game.cli import main
from game.stories.loader import load_seed


def test_a_premise_becomes_a_valid_seed(game_env, tmp_path, capsys):
    out = tmp_path / "mine.toml"
    code = main(["stories", "new", "A beekeeper finds a door in the hive", "--genre", "fantasy", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    seed = load_seed(out)
    assert seed.title and seed.opening and seed.protagonist.name
    assert len(seed.options) == 3
    request = game_env.chat_requests()[-1]
    assert request["response_format"]["type"] == "json_schema"
    assert "A beekeeper finds a door in the hive" in json.dumps(request["messages"])
    # The new seed plays: the headless writer accepts it.
    assert main(["write", "--story", str(out), "--slot", "bees", "--steps", "2"]) == 0


def test_a_model_that_never_returns_a_seed_is_one_line(game_env, tmp_path, capsys):
    game_env.fail("invalid", "invalid", "invalid")
    code = main(["stories", "new", "A heist on a glacier", "--out", str(tmp_path / "x.toml")])
    _, err = capsys.readouterr()
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.toml").exists()
