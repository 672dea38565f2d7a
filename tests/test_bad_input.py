"""Bad input everywhere gets one line and no traceback, and loses nothing; control and escape
sequences from the model never reach the terminal, the save or an export."""
from __future__ import annotations

import json
import re

import pytest

from game.cli import main
from game.engine.narrator import StepError
from game.core.text import safe
from game.saves.journal import Journal
from game.saves.slot import JOURNAL, Slot



def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err):
    assert code != 0
    said = (out + err).strip()
    assert said and "\n" not in said, said
    assert "Traceback" not in out + err


# -- story files ---------------------------------------------------------------------------------
STORIES = {
    "garbage toml": b'title = "x"\ngenre = [1, 2\n',
    "binary": bytes(range(256)) * 8,
    "not utf-8": b'title = "caf\xe9"\n',
    "wrong types": b'title = 5\ngenre = "mystery"\npremise = ["a"]\n',
    "empty": b"",
    "enormous": b'title = "big"\n' + b"# " + b"x" * 2_000_000 + b"\n",
    "nul bytes": b'title = "a\x00b"\n',
}


@pytest.mark.parametrize("kind", list(STORIES))
def test_bad_story_files(game_env, saves, tmp_path, capsys, kind):
    story = tmp_path / "story.toml"
    story.write_bytes(STORIES[kind])
    code, out, err = run(capsys, "write", "--story", str(story), "--slot", "s", "--steps", "1")
    one_line_error(code, out, err)
    assert "story.toml" in err
    assert not (saves / "s").exists()


def test_a_folder_as_a_story_file(game_env, saves, tmp_path, capsys):
    one_line_error(*run(capsys, "write", "--story", str(tmp_path), "--slot", "s", "--steps", "1"))


# -- imported cards --------------------------------------------------------------------------------
CARDS = {
    "cards.json": b"{ this is not json",
    "binary.json": bytes(range(256)) * 8,
    "wrong shape.json": b'{"cards": "not a list", "entries": 5}',
    "card.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
}


@pytest.mark.parametrize("name", list(CARDS))
def test_bad_cards(seed_path, tmp_path, capsys, name):
    card = tmp_path / name
    card.write_bytes(CARDS[name])
    before = seed_path.read_bytes()
    one_line_error(*run(capsys, "stories", "import", str(card), "--into", str(seed_path)))
    assert seed_path.read_bytes() == before


def test_an_enormous_card_is_refused_or_cut_down(seed_path, tmp_path, capsys):
    card = tmp_path / "enormous.json"
    card.write_bytes(b'[{"keys": "lamp", "value": "' + b"x " * 1_500_000 + b'"}]')
    code, out, err = run(capsys, "stories", "import", str(card), "--into", str(seed_path))
    assert "Traceback" not in out + err
    if code:
        one_line_error(code, out, err)
    from game.stories.loader import load_seed

    assert seed_path.stat().st_size < 256 * 1024 and load_seed(seed_path)  # the seed stays a usable seed


# -- slot names --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["..", "../outside", "a/b", "a\\b", "/etc", "con", "LPT1.txt", "", " x",
                                  "\x1b[2Jx", "a\x00b", "é" * 3, "x" * 200, "a..b", "."])
def test_bad_slot_names(game_env, saves, seed_path, tmp_path, capsys, name):
    before = sorted(p.name for p in tmp_path.iterdir())
    for args in (("write", "--story", str(seed_path), "--slot", name, "--steps", "1"),
                 ("saves", "show", name), ("saves", "delete", name), ("saves", "repair", name)):
        code, out, err = run(capsys, *args)
        one_line_error(code, out, err)
        assert "slot name" in err and "\x1b" not in err and "\x00" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before and list(saves.iterdir()) == []


# -- settings files --------------------------------------------------------------------------------
SETTINGS = {
    "garbage": (b"temperature = = 3\n[[[", "not a valid settings file"),
    "binary": (bytes(range(256)), "not a valid settings file"),
    "wrong type": (b'temperature = "hot"\n', "temperature"),
    "out of range": (b"temperature = 9.5\n", "temperature"),
    "unknown field": (b'colour = "blue"\n', "colour"),
    "wrong backend": (b'backend = "skynet"\n', "backend"),
}


@pytest.mark.parametrize("kind", list(SETTINGS))
def test_bad_settings_files(game_env, tmp_path, seed_path, capsys, kind):
    raw, field = SETTINGS[kind]
    (tmp_path / "settings.toml").write_bytes(raw)
    for args in (("saves", "list"), ("write", "--story", str(seed_path), "--slot", "s", "--steps", "1")):
        code, out, err = run(capsys, *args)
        one_line_error(code, out, err)
        assert str(tmp_path / "settings.toml") in err and field in err, err


# -- the action box ----------------------------------------------------------------------------------
def test_an_enormous_action_is_refused_and_nothing_is_lost(game_env, saves, seed_path, tmp_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "s", "--steps", "2")[0] == 0
    journal = (saves / "s" / JOURNAL).read_bytes()
    actions = tmp_path / "actions.txt"
    actions.write_text("a" * 1_048_576 + "\n", encoding="utf-8")
    code, out, err = run(capsys, "write", "--slot", "s", "--steps", "1", "--actions", str(actions))
    one_line_error(code, out, err)
    assert "an action can be at most 4,000 characters; this one has 1,048,576" in err
    assert (saves / "s" / JOURNAL).read_bytes() == journal


def test_a_binary_actions_file_is_one_line(game_env, saves, seed_path, tmp_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "s", "--steps", "1")[0] == 0
    actions = tmp_path / "actions.bin"
    actions.write_bytes(bytes(range(256)) * 4096)
    one_line_error(*run(capsys, "write", "--slot", "s", "--steps", "1", "--actions", str(actions)))


async def test_binary_and_odd_text_as_an_action(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    with pytest.raises(StepError, match="at most 4,000 characters"):
        await game.step("x" * 1_000_000)
    assert game.story.taken == 0
    odd = "Open the \x00door\x1b[31m \ud800 now\x07 \u202e and \x9b2J look \U0001f600"
    step = await game.step(odd)
    assert step.action == "Open the door  now \u202e and  look \U0001f600"
    await end_game(game)
    with Slot.open(saves, "test") as slot:
        assert slot.story.steps[1].action == step.action
        assert slot.memory.stored_ids() == {e.id for e in slot.story.entries()}


# -- terminal safety: escape sequences in what the model says ----------------------------------------
NASTY = "\x1b]0;pwned\x07The \x1b[2Jlamp \x1b[31mburns\x1b[0m red.\x07 A bell\x9b6n rings \x1bPqdcs\x1b\\twice.\x08\x08\x08\x7f"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_escape_sequences_from_the_model_never_reach_the_terminal_or_the_save(game_env, saves, seed_path, tmp_path, capsys):
    bookkeeping = json.dumps({"memory": f"Memory {NASTY}",
                              "options": [f"Ring {NASTY}", "Wait by the door.", "\x1b[8mHide\x1b[0m under the stairs."]})
    # Step 1's paragraph (streamed), then its notes (the seed's own opening needs no call).
    game_env.say(f"Paragraph one. {NASTY} Then silence falls over the rocks, and the tide draws back from the black "
                 "basalt with a long sigh, leaving the weed and the broken shells to glisten under the turning beam.",
                 bookkeeping)
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "esc", "--steps", "1", "--actions",
                         str(_actions(tmp_path, "2")))
    assert code == 0, err
    assert "The lamp burns red. A bell rings" in out  # the words survive, the sequences do not
    outputs = [out, err]
    outputs.append(run(capsys, "saves", "export", "esc", "--format", "md")[1])
    outputs.append(run(capsys, "saves", "show", "esc")[1])
    outputs.append(run(capsys, "saves", "show", "esc", "--json")[1])
    for text in outputs:
        assert not CONTROL.search(text), repr(CONTROL.search(text))
    records = Journal(saves / "esc" / JOURNAL).read().records
    for text in _strings(records):
        assert not CONTROL.search(text), repr(text)
    with Slot.open(saves, "esc") as slot:
        assert slot.story.steps[1].action == "Check the lamp."  # the opening offers the seed's own options
        assert slot.story.options[0].startswith("Ring The lamp burns red.")


def _actions(tmp_path, *lines):
    path = tmp_path / "actions.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("text", [NASTY, "\x1b[?1049h\x1b[?25l", "\x1b]52;c;cGF5bG9hZA==\x07", "\x9b31m", "\x1bP+q\x1b\\"])
def test_safe_removes_every_sequence(text):
    assert not CONTROL.search(safe(text))
