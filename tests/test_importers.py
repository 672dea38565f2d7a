"""Importing lore: AI Dungeon story cards, Character Card V2 (JSON and PNG), lorebooks."""
from __future__ import annotations

import base64
import json
import struct
import zlib
from pathlib import Path

import pytest

from game.cli import main

from game.stories.importers import MAX_JSON, CardError, import_cards
from game.stories.loader import load_seed

STORY_CARDS = [
    {"keys": "Mira, the smith ,mira", "value": "Mira is the village smith.", "type": "character",
     "title": "Mira", "description": "author's notes, not lore", "useForCharacterCreation": False},
    {"keys": "old mill", "entry": "The old mill burned down ten years ago.", "title": ""},
    {"keys": "", "value": "", "title": "Blank card"},
    {"keys": "", "value": "A card without keys.", "title": "Lonely"},
    {"keys": "x", "value": "Bad ${thing} here.", "title": "Dollar"},
]

CHARACTER = {
    "spec": "chara_card_v2",
    "spec_version": "2.0",
    "data": {
        "name": "Seraphine",
        "description": "{{char}} maps dreams. She owes {{user}} a favour.",
        "personality": "curious, dry",
        "scenario": "{{user}} wakes in {{char}}'s map room.",
        "first_mes": "*{{char}} looks up.* \"You're awake, {{user}}.\"",
        "mes_example": "",
        "creator": "someone",
        "tags": ["fantasy", "dreams"],
        "character_book": {
            "entries": [
                {"keys": ["map room", "maps"], "content": "The map room is round.", "enabled": True,
                 "insertion_order": 0, "name": "Map room", "constant": False},
                {"keys": ["ink"], "content": "Dream ink.", "enabled": False, "insertion_order": 1},
                {"keys": [], "content": "It is always dusk.", "enabled": True, "insertion_order": 2,
                 "constant": True, "comment": "Dusk"},
            ]
        },
    },
}

SEED = """\
# The author's comment must survive an import.
title = "The Quiet Mill"
genre = "mystery"
premise = "A miller has vanished."

[protagonist]
name = "Ada"

[[world]]
name = "Mira"
keys = ["Mira"]
text = "Already here."
"""


def write(tmp_path: Path, name: str, data) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def run(*argv: str) -> int:
    """`recurrent ...` through the real command line."""
    return main(list(argv))


# -- AI Dungeon ------------------------------------------------------------------------------


def test_story_cards(tmp_path):
    got = import_cards(write(tmp_path, "cards.json", STORY_CARDS))
    assert got.seed is None
    names = [e.name for e in got.entries]
    assert names == ["Mira", "old mill", "Lonely", "Dollar"]
    mira = got.entries[0]
    assert mira.keys == ["Mira", "the smith"]  # split, trimmed, duplicates dropped
    assert mira.text == "Mira is the village smith."
    assert got.entries[1].text.startswith("The old mill")  # the older "entry" field
    assert got.entries[2].keys == ["Lonely"]  # no keys: its name is the trigger
    assert "${" not in got.entries[3].text
    assert any("Blank card" in w and "no text" in w for w in got.warnings)


def test_scenario_export_with_story_cards(tmp_path):
    got = import_cards(write(tmp_path, "scenario.json", {"title": "x", "storyCards": STORY_CARDS[:1]}))
    assert [e.name for e in got.entries] == ["Mira"]


def test_overlong_card_is_cut_at_a_sentence(tmp_path):
    text = "A sentence of lore. " * 400
    got = import_cards(write(tmp_path, "long.json", [{"keys": "a", "value": text, "title": "Long"}]))
    assert len(got.entries[0].text) <= 4000 and got.entries[0].text.endswith(".")
    assert any("cut" in w for w in got.warnings)


# -- character cards -------------------------------------------------------------------------


def test_character_card_v2_entries(tmp_path):
    got = import_cards(write(tmp_path, "card.json", CHARACTER))
    assert got.format == "character card"
    assert [e.name for e in got.entries] == ["Map room", "Dusk"]
    assert got.entries[0].keys == ["map room", "maps"] and not got.entries[0].always
    assert got.entries[1].always and got.entries[1].keys == []
    assert any("disabled" in w for w in got.warnings)


def test_character_card_v2_as_a_seed(tmp_path):
    seed = import_cards(write(tmp_path, "card.json", CHARACTER)).seed
    assert seed.title == "Seraphine" and seed.author == "someone" and seed.genre == "fantasy"
    assert seed.protagonist.name == "${hero_name}" and "hero_name" in seed.placeholders
    assert seed.premise == "${hero_name} wakes in Seraphine's map room."
    assert seed.opening == "Seraphine looks up. \"You're awake, ${hero_name}.\""
    character = seed.world[0]
    assert character.name == "Seraphine" and character.always and "Personality: curious, dry" in character.text
    filled = seed.filled({"hero_name": "Ada"})
    assert filled.opening.endswith("awake, Ada.\"")


def test_character_card_from_png(tmp_path):
    payload = base64.b64encode(json.dumps(CHARACTER).encode())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
           + chunk(b"tEXt", b"chara\0" + payload) + chunk(b"IEND", b""))
    path = tmp_path / "card.png"
    path.write_bytes(png)
    got = import_cards(path)
    assert got.seed.title == "Seraphine" and len(got.entries) == 2


def test_png_without_card(tmp_path):
    path = tmp_path / "plain.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 0) + b"IEND" + b"\0\0\0\0")
    with pytest.raises(CardError, match="plain.png: a PNG without character card data"):
        import_cards(path)


def test_sillytavern_lorebook(tmp_path):
    book = {"entries": {"0": {"key": ["harbour"], "content": "Fog every morning.", "comment": "Harbour",
                              "constant": False, "disable": False},
                        "1": {"key": ["off"], "content": "Disabled.", "disable": True}}}
    got = import_cards(write(tmp_path, "book.json", book))
    assert [(e.name, e.keys) for e in got.entries] == [("Harbour", ["harbour"])]


# -- bad input -------------------------------------------------------------------------------

BAD = [
    ("notjson.json", "this is not json", ["not valid JSON", "line 1"]),
    ("number.json", "42", ["expected a JSON list", "not a number"]),
    ("odd.json", {"foo": 1}, ["not a format I know"]),
    ("cardnum.json", [1, 2], ["card 0", "JSON object"]),
    ("badkeys.json", [{"keys": 5, "value": "v", "title": "t"}], ["entry 0", "keys"]),
    ("badbook.json", {"spec": "chara_card_v2", "data": {"name": "x", "character_book": "lore"}}, ["character_book"]),
    ("entries.json", {"entries": "nope"}, ["entries should be a list"]),
    ("empty.json", "   ", ["file is empty"]),
]


@pytest.mark.parametrize("name,data,words", BAD, ids=[b[0] for b in BAD])
def test_bad_card_is_one_line(tmp_path, name, data, words):
    with pytest.raises(CardError) as caught:
        import_cards(write(tmp_path, name, data))
    message = str(caught.value)
    assert "\n" not in message and name in message
    for word in words:
        assert word in message, message


def test_missing_and_huge_card(tmp_path):
    with pytest.raises(CardError, match="nothing.json: no such file"):
        import_cards(tmp_path / "nothing.json")
    huge = tmp_path / "huge.json"
    huge.write_text("[" + " " * (MAX_JSON + 10) + "]")
    with pytest.raises(CardError, match="huge.json: file is .* KiB; the limit is"):
        import_cards(huge)


def test_not_utf8_card(tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes(b'[{"keys": "caf\xe9"}]')
    with pytest.raises(CardError, match="latin.json: not UTF-8 text: byte 0xe9"):
        import_cards(path)


# -- the import command ----------------------------------------------------------------------


def test_cli_import_into_seed_keeps_comments(tmp_path, capsys):
    seed = tmp_path / "mill.toml"
    seed.write_text(SEED)
    cards = write(tmp_path, "cards.json", STORY_CARDS)
    assert run("stories", "import", str(cards), "--into", str(seed)) == 0
    out = capsys.readouterr().out
    assert "added 3 world entries" in out and "1 already there" in out
    text = seed.read_text()
    assert text.startswith("# The author's comment must survive an import.")
    assert 'keys = ["Mira", "the smith"]' not in text  # the seed's own Mira was kept
    loaded = load_seed(seed)
    assert [e.name for e in loaded.world] == ["Mira", "old mill", "Lonely", "Dollar"]
    assert loaded.world[0].text == "Already here."
    # Importing again adds nothing and leaves the file alone.
    assert run("stories", "import", str(cards), "--into", str(seed)) == 0
    assert "nothing to add" in capsys.readouterr().out and seed.read_text() == text


def test_cli_import_with_out_leaves_the_seed_alone(tmp_path, capsys):
    seed = tmp_path / "mill.toml"
    seed.write_text(SEED)
    out = tmp_path / "bigger.toml"
    assert run("stories", "import", str(write(tmp_path, "card.json", CHARACTER)), "--into", str(seed), "--out", str(out)) == 0
    assert seed.read_text() == SEED
    assert [e.name for e in load_seed(out).world] == ["Mira", "Map room", "Dusk"]
    assert run("stories", "import", str(tmp_path / "card.json"), "--into", str(seed), "--out", str(out)) == 1
    assert "already exists" in capsys.readouterr().out


def test_cli_import_into_inline_world_rewrites_the_seed(tmp_path):
    seed = tmp_path / "inline.toml"
    seed.write_text('title = "T"\ngenre = "g"\npremise = "p"\nworld = [{name = "A", keys = ["a"], text = "x"}]\n'
                    '[protagonist]\nname = "N"\n')
    assert run("stories", "import", str(write(tmp_path, "cards.json", STORY_CARDS[:1])), "--into", str(seed)) == 0
    assert [e.name for e in load_seed(seed).world] == ["A", "Mira"]


def test_cli_import_into_invalid_seed(tmp_path, capsys):
    seed = tmp_path / "broken.toml"
    seed.write_text("title = 3\n")
    assert run("stories", "import", str(write(tmp_path, "cards.json", STORY_CARDS)), "--into", str(seed)) == 1
    assert "broken.toml:1: title:" in capsys.readouterr().out
    assert seed.read_text() == "title = 3\n"


def test_cli_import_character_as_new_seed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(tmp_path / "stories"))
    card = write(tmp_path, "card.json", CHARACTER)
    assert run("stories", "import", str(card)) == 0
    made = tmp_path / "stories" / "seraphine.toml"
    assert load_seed(made).title == "Seraphine"
    assert run("stories", "import", str(card)) == 0  # a second import never overwrites the first
    assert (tmp_path / "stories" / "seraphine-2.toml").exists()


def test_cli_import_story_cards_need_a_seed(tmp_path, capsys):
    assert run("stories", "import", str(write(tmp_path, "cards.json", STORY_CARDS))) == 1
    assert "--into" in capsys.readouterr().out


def test_cli_import_bad_card(tmp_path, capsys):
    assert run("stories", "import", str(write(tmp_path, "x.json", "{oops")), "--into", str(tmp_path / "s.toml")) == 1
    out = capsys.readouterr().out.strip()
    assert "x.json: not valid JSON" in out and "\n" not in out


# -- imports keep what they can ------------------------------------------------------------------

HELD_OUT = Path(__file__).resolve().parent / "data" / "held-out-card.json"


def test_a_held_out_card_with_alternate_greetings_gives_openings_that_validate(tmp_path, capsys):
    out = tmp_path / "mara.toml"
    assert run("stories", "import", str(HELD_OUT), "--out", str(out)) == 0
    assert "3 alternative openings" in capsys.readouterr().out
    assert run("stories", "validate", str(out)) == 0
    seed = load_seed(out)
    assert seed.opening.startswith("Captain Mara Voss leans over the rail")  # the first greeting, asterisks gone
    assert [o[:22] for o in seed.openings] == ["The cargo net snaps. \"", "\"Wake up.\" Captain Mar", "The Kestrel's Wake dri"]
    assert "${hero_name}! Grab that line" in seed.openings[0]
    filled = seed.opened_with(2).filled({"hero_name": "Wren"})
    assert filled.opening.startswith("\"Wake up.\"") and filled.options == []
    # the system prompt (without the front end's {{original}}) and the post-history instructions
    assert seed.instructions == ("Write Captain Mara Voss as a capable, tired captain; the sky is always more dangerous "
                                 "than the people.")
    assert seed.authors_note == "Keep the storm close; ${hero_name} decides what ${hero_name} does."
    guild = next(e for e in seed.world if e.name == "Guild of Lanterns")
    assert guild.keys == ["Guild", "Lanterns"] and guild.secondary_keys == ["cutter", "debt", "license"]
    lane = next(e for e in seed.world if e.name == "Cinder Lane")
    assert lane.secondary_keys == []  # the card does not use them (selective is off)


def test_secondary_key_notes_and_logic(tmp_path):
    book = {"entries": [
        {"keys": ["Queen"], "keysecondary": ["throne"], "selective": True, "selectiveLogic": 2, "content": "x", "comment": "Q"},
        {"keys": ["King"], "keysecondary": ["crown"], "selective": False, "content": "y", "comment": "K"},
    ]}
    got = import_cards(write(tmp_path, "book.json", book))
    assert got.entries[0].secondary_keys == ["throne"] and got.entries[1].secondary_keys == []
    assert any("other than 'and any'" in w for w in got.warnings)
    assert any("selective is off" in w for w in got.warnings)


def test_long_post_history_instructions_join_the_instructions(tmp_path):
    card = json.loads(json.dumps(CHARACTER))
    card["data"]["post_history_instructions"] = "Stay in character. " * 30
    card["data"]["system_prompt"] = "Be vivid."
    got = import_cards(write(tmp_path, "card.json", card))
    assert got.seed.authors_note == "" and got.seed.instructions.startswith("Be vivid.\n\nStay in character.")
    assert any("post_history_instructions" in w for w in got.warnings)


SCENARIO = {
    "title": "The Drowned Bell",
    "description": "A coastal town hears a bell ring under the sea.",
    "prompt": "You are ${What is your name?}, a diver. The mayor says: \"${What is your name?}, go down.\"",
    "memory": "The bell belongs to the sunken church of St Ives.\nThe mayor lies about the storm.",
    "authorsNote": "Keep it eerie and wet.",
    "tags": "horror, sea",
    "storyCards": [{"keys": "bell", "value": "The bell is bronze.", "title": "The bell"}],
}


def test_an_ai_dungeon_scenario_becomes_a_seed(tmp_path, capsys):
    got = import_cards(write(tmp_path, "scenario.json", SCENARIO))
    seed = got.seed
    assert got.format == "AI Dungeon scenario"
    assert seed.pinned == ["The bell belongs to the sunken church of St Ives.", "The mayor lies about the storm."]
    assert seed.authors_note == "Keep it eerie and wet."
    assert seed.opening == "You are ${hero_name}, a diver. The mayor says: \"${hero_name}, go down.\""
    assert seed.placeholders["hero_name"].prompt == "What is your name?" and seed.genre == "horror"
    assert [e.name for e in seed.world] == ["The bell"]
    out = tmp_path / "bell.toml"
    assert run("stories", "import", str(tmp_path / "scenario.json"), "--out", str(out)) == 0
    assert load_seed(out) == seed


def test_plot_essentials_and_the_authors_note_go_into_a_seed(tmp_path, capsys):
    seed = tmp_path / "mill.toml"
    seed.write_text(SEED)
    scenario = write(tmp_path, "scenario.json", {**SCENARIO, "storyCards": STORY_CARDS[:2]})
    assert run("stories", "import", str(scenario), "--into", str(seed)) == 0
    out = capsys.readouterr().out
    assert "added 1 world entry, 2 pinned notes, the author's note from" in out and "(1 already there)" in out
    text = seed.read_text()
    assert text.startswith("# The author's comment must survive an import.")
    loaded = load_seed(seed)
    assert loaded.pinned == ["The bell belongs to the sunken church of St Ives.", "The mayor lies about the storm."]
    assert loaded.authors_note == "Keep it eerie and wet."
    assert [e.name for e in loaded.world] == ["Mira", "old mill"]
    # again: nothing new, the file as it was
    assert run("stories", "import", str(scenario), "--into", str(seed)) == 0
    assert "nothing to add" in capsys.readouterr().out and seed.read_text() == text
    # a seed with a note of its own keeps it
    other = write(tmp_path, "other.json", {**SCENARIO, "authorsNote": "Something else.", "memory": "A new fact."})
    assert run("stories", "import", str(other), "--into", str(seed)) == 0
    captured = capsys.readouterr()
    assert "keeps its own author's note" in captured.err and load_seed(seed).authors_note == "Keep it eerie and wet."
    assert load_seed(seed).pinned[-1] == "A new fact."


def test_long_plot_essentials_are_split_into_notes(tmp_path):
    essentials = "The tide turns at noon. " * 40  # one line of 920 characters: two notes
    got = import_cards(write(tmp_path, "s.json", {"storyCards": [], "memory": essentials}))
    assert got.seed is None and len(got.pinned) == 2 and all(len(p) <= 600 for p in got.pinned)
    assert " ".join(got.pinned).split() == essentials.split()
