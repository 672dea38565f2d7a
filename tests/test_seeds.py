"""Seed files: the shipped library, every way a seed can be wrong, placeholders, the CLI."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from game.cli import main

from game.llm.base import InvalidOutput, ModelError
from game.core.paths import library_dir, own_stories_dir
from game.stories.loader import MAX_BYTES, SeedError, list_seeds, load_seed, parse_seed
from game.stories.shelf import find_story, shelf
from game.core.seed import Seed
from game.stories.writer import DraftEntry, SeedDraft, draft_to_seed, seed_to_toml, slugify, write_seed

STORIES = Path(__file__).resolve().parent.parent / "stories"

GOOD = """\
title = "The Quiet Mill"
genre = "mystery"
premise = "A miller has vanished."

[protagonist]
name = "Ada"

[[world]]
name = "The mill"
keys = ["mill"]
text = "An old watermill."
"""


# -- the shipped library ---------------------------------------------------------------------


def shipped() -> list[tuple[Path, Seed | SeedError]]:
    return list_seeds(STORIES)


def test_the_library_is_the_checkout_folder_and_own_stories_are_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("RECURRENT_STORIES_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert library_dir().resolve() == STORIES
    assert own_stories_dir() == tmp_path / "data" / "recurrent" / "stories"
    monkeypatch.setenv("RECURRENT_STORIES_DIR", "/somewhere/else")
    assert own_stories_dir() == Path("/somewhere/else")


def test_a_story_is_found_by_its_name_the_players_own_first(monkeypatch, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(mine))
    assert find_story("the-time-lock") == library_dir() / "the-time-lock.toml"
    (mine / "the-time-lock.toml").write_text(GOOD)
    (mine / "quiet-mill.toml").write_text(GOOD)
    assert find_story("the-time-lock") == mine / "the-time-lock.toml"
    assert find_story("quiet-mill") == mine / "quiet-mill.toml"
    assert find_story(str(STORIES / "lane-seven.toml")) == STORIES / "lane-seven.toml"
    found = shelf()
    assert [s.name for s in found if not s.own] == sorted(p.stem for p in STORIES.glob("*.toml"))
    assert [s.name for s in found if s.own] == ["quiet-mill", "the-time-lock"]
    with pytest.raises(SeedError) as caught:
        find_story("the-time-lok")
    assert "no story of that name" in str(caught.value) and "did you mean the-time-lock" in str(caught.value)


def test_cli_list_shows_the_library_and_the_players_own(monkeypatch, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "quiet-mill.toml").write_text(GOOD)
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(mine))
    assert run("stories", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    named = [line.split()[0] for line in lines[1:] if line and not line.startswith(("*", "start"))]
    assert named == sorted(p.stem for p in STORIES.glob("*.toml")) + ["quiet-mill"]
    assert any(line.startswith("quiet-mill *") for line in lines)
    assert f"* your own, in {mine}" in lines


def test_every_shipped_seed_validates():
    found = shipped()
    assert len(found) >= 8
    bad = [str(seed) for _, seed in found if isinstance(seed, SeedError)]
    assert bad == []


def test_the_library_covers_the_genres():
    genres = {seed.genre for _, seed in shipped()}
    for genre in ("fantasy", "mystery", "science fiction", "horror", "romance", "historical", "comedy", "puzzle"):
        assert genre in genres


@pytest.mark.parametrize("path", sorted(STORIES.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_seed_is_complete(path):
    seed = load_seed(path)
    assert seed.author == "Recurrent"
    assert seed.tags and seed.style and seed.premise
    assert 150 <= len(seed.opening.split()) <= 250
    assert 2 <= len(seed.pinned) <= 4
    assert 5 <= len(seed.world) <= 10
    assert any(entry.always for entry in seed.world)
    assert all(entry.keys for entry in seed.world if not entry.always)
    assert len(seed.options) == 3
    filled = seed.filled()
    assert "${" not in filled.model_dump_json()


def test_at_least_two_shipped_seeds_have_placeholders():
    assert sum(1 for _, seed in shipped() if seed.placeholders) >= 2


def test_shipped_seeds_round_trip_through_toml():
    for path, seed in shipped():
        assert parse_seed(seed_to_toml(seed), path) == seed


# -- malformed seeds -------------------------------------------------------------------------


def swap(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


MALFORMED = [
    # (case, file text, expected line or None, words that must appear)
    ("typo", swap("title =", "tittle ="), 1, ["tittle", "did you mean 'title'"]),
    ("table-typo", swap('name = "Ada"', 'nmae = "Ada"'), 6, ["protagonist.nmae", "did you mean 'name'"]),
    ("world-typo", swap('keys = ["mill"]', 'kyes = ["mill"]'), 10, ["world[0].kyes", "did you mean 'keys'"]),
    ("keys-string", swap('keys = ["mill"]', 'keys = "mill, wheel"'), 10, ["world[0].keys", "list", "comma"]),
    ("wrong-type", swap('genre = "mystery"', "genre = 7"), 2, ["genre", "text", "number"]),
    ("bool", GOOD + "always = 3\n", 12, ["world[0].always", "true or false"]),
    ("missing", swap('premise = "A miller has vanished."\n', ""), None, ["premise", "required"]),
    ("no-trigger", swap('keys = ["mill"]\n', ""), 8, ["world[0]", "trigger keys", "always"]),
    ("too-long", swap('title = "The Quiet Mill"', f'title = "{"x" * 250}"'), 1, ["title", "250 characters", "limit is 200"]),
    ("too-many", swap("[protagonist]", "tags = [" + ", ".join(f'"t{i}"' for i in range(25)) + "]\n[protagonist]"), 5,
     ["tags", "25 items", "limit is 20"]),
    ("rating", swap('genre = "mystery"', 'genre = "mystery"\nrating = "mature!"'), 3, ["rating", "everyone", "mature"]),
    ("two-options", swap("[protagonist]", 'options = ["a", "b"]\n[protagonist]'), 5, ["options", "exactly 3"]),
    ("undeclared", swap("A miller has vanished.", "${miller} has vanished."), 3, ["premise", "${miller}", "not declared"]),
    ("undeclared-near", swap("A miller has vanished.", "${miler} has vanished.")
     + '\n[placeholders.miller]\nprompt = "Name?"\ndefault = "Bo"\n', 3, ["${miler}", "did you mean ${miller}"]),
    ("undeclared-in-world", swap("An old watermill.", "Owned by ${owner}."), 11, ["world[0].text", "${owner}"]),
    ("bad-blank-name", swap("A miller has vanished.", "${The Miller} has vanished."), 3,
     ["premise", "${The Miller}", "bad name"]),
    ("bad-placeholder-name", GOOD + '\n[placeholders.Miller]\nprompt = "a"\ndefault = "b"\n', 13,
     ["placeholders.Miller", "lowercase"]),
    ("placeholder-no-default", GOOD + '\n[placeholders.miller]\nprompt = "a"\n', 13,
     ["placeholders.miller.default", "required"]),
    ("unknown-table", GOOD + '\n[protagonistt]\nname = "x"\n', 13, ["protagonistt", "did you mean 'protagonist'"]),
    ("bad-toml", swap('title = "The Quiet Mill"', 'title = "The Quiet Mill'), 1, ["invalid TOML"]),
    ("bad-toml-later", GOOD + "name = \n", 12, ["invalid TOML"]),
    ("duplicate-key", GOOD + 'name = "again"\n', 12, ["invalid TOML"]),
    ("comments-only", "# nothing here yet\n", None, ["no fields", "title"]),
]


@pytest.mark.parametrize("case,text,line,words", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_seed_gives_one_line(tmp_path, case, text, line, words):
    path = tmp_path / f"{case}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    message = str(caught.value)
    assert "\n" not in message
    assert f"{case}.toml" in message
    for word in words:
        assert word in message, message
    assert caught.value.line == line, message
    if line:
        assert f"{case}.toml:{line}:" in message


def test_missing_file(tmp_path):
    with pytest.raises(SeedError, match=r"nowhere\.toml: no such file"):
        load_seed(tmp_path / "nowhere.toml")


def test_directory(tmp_path):
    (tmp_path / "folder.toml").mkdir()
    with pytest.raises(SeedError, match="folder.toml: is a folder"):
        load_seed(tmp_path / "folder.toml")


def test_empty_file(tmp_path):
    path = tmp_path / "blank.toml"
    path.write_text("  \n\n")
    with pytest.raises(SeedError, match="blank.toml: file is empty"):
        load_seed(path)


def test_not_utf8_names_byte_and_line(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'title = "ok"\ngenre = "caf\xe9"\n')
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    message = str(caught.value)
    assert "latin.toml:2:" in message and "UTF-8" in message and "0xe9" in message and "offset 25" in message


def test_byte_order_mark_is_tolerated(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_seed(path).title == "The Quiet Mill"


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.toml"
    path.write_text('title = "' + "x" * (MAX_BYTES + 10) + '"\n')
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert "huge.toml" in str(caught.value) and "256 KiB" in str(caught.value)


def test_deep_nesting_is_one_line(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SeedError) as caught:
        load_seed(path)
    assert "deep.toml" in str(caught.value) and "\n" not in str(caught.value)


def test_first_problem_is_reported_with_a_count(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text(swap('genre = "mystery"', "genre = 1").replace('text = "An old watermill."', "text = 2"))
    message = str(pytest.raises(SeedError, load_seed, path).value)
    assert message.startswith(f"{path}:2: genre:") and "1 more problem" in message


def test_line_found_for_inline_and_dotted_tables(tmp_path):
    path = tmp_path / "inline.toml"
    path.write_text('title = "t"\ngenre = "g"\npremise = "p"\nprotagonist = { nam = "x" }\n')
    assert pytest.raises(SeedError, load_seed, path).value.line == 4
    path.write_text('title = "t"\ngenre = "g"\npremise = "p"\nprotagonist.name = 3\n')
    error = pytest.raises(SeedError, load_seed, path).value
    assert error.line == 4 and error.field == "protagonist.name"


def test_multiline_string_is_not_mistaken_for_a_header(tmp_path):
    path = tmp_path / "multi.toml"
    path.write_text(GOOD.replace('premise = "A miller has vanished."', 'premise = """\n[[world]]\nkeys = 1\n"""')
                    + "always = 4\n")
    error = pytest.raises(SeedError, load_seed, path).value
    assert error.field == "world[0].always" and error.line == 15


# -- placeholders ----------------------------------------------------------------------------

BLANKS = GOOD.replace('name = "Ada"', 'name = "${hero}"').replace(
    "A miller has vanished.", "${hero} is looking for ${miller}."
) + '\n[placeholders.hero]\nprompt = "Your name"\ndefault = "Ada"\n[placeholders.miller]\nprompt = "The miller"\ndefault = "Old Bo"\n'


def test_placeholders_take_defaults():
    seed = parse_seed(BLANKS).filled()
    assert seed.premise == "Ada is looking for Old Bo."
    assert seed.protagonist.name == "Ada"
    assert seed.placeholders == {}


def test_placeholders_take_given_values_and_blank_means_default():
    seed = parse_seed(BLANKS).filled({"hero": "  Mirela ", "miller": "   "})
    assert seed.premise == "Mirela is looking for Old Bo."
    assert seed.protagonist.name == "Mirela"


def test_protagonist_rename_wins():
    seed = parse_seed(BLANKS).filled({"hero": "Mirela"}, protagonist="Tomas")
    assert seed.protagonist.name == "Tomas"
    assert seed.premise == "Tomas is looking for Old Bo."  # one name for the hero, everywhere


def test_protagonist_rename_fills_the_name_blank():
    seed = parse_seed(BLANKS).filled({}, protagonist="Tomas")
    assert seed.protagonist.name == "Tomas"
    assert seed.premise == "Tomas is looking for Old Bo."


def test_a_readers_value_cannot_smuggle_in_a_blank():
    seed = parse_seed(BLANKS).filled({"hero": "${miller}"})
    assert "${" not in seed.model_dump_json()


def test_a_long_answer_in_a_long_field_is_cut_not_fatal():
    text = BLANKS.replace("An old watermill.", "${miller} " * 30)
    seed = parse_seed(text).filled({"miller": "M" * 500})
    assert len(seed.world[0].text) == 4000 and len(seed.premise) <= 600


def test_shipped_placeholders_fill_keys_and_names():
    seed = load_seed(STORIES / "snowbound-on-the-2340.toml").filled({"beloved_name": "Noor"})
    entry = next(e for e in seed.world if e.name == "Noor")
    assert "Noor" in entry.keys


# -- list and the CLI ------------------------------------------------------------------------


def run(*argv: str) -> int:
    """`recurrent ...` through the real command line."""
    return main(list(argv))


def test_list_seeds_mixes_good_and_bad(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text("title = 3\n")
    (tmp_path / "notes.txt").write_text("ignored")
    found = list_seeds(tmp_path)
    assert [p.name for p, _ in found] == ["a.toml", "b.toml"]
    assert isinstance(found[0][1], Seed) and isinstance(found[1][1], SeedError)
    assert list_seeds(tmp_path / "absent") == []


def test_cli_list(tmp_path, capsys):
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text("title = 3\n")
    assert run("stories", "list", "--dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "The Quiet Mill" in out and "mystery" in out and "A miller has vanished." in out
    assert "\nb " in out and "invalid: line 1: title:" in out


def test_cli_list_shows_placeholder_defaults(capsys):
    assert run("stories", "list", "--dir", str(STORIES)) == 0
    out = capsys.readouterr().out
    assert "${" not in out and "Temp Work at the Tower" in out


def test_cli_validate(tmp_path, capsys):
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD)
    bad.write_text(swap("title =", "titel ="))
    assert run("stories", "validate", str(good)) == 0
    assert capsys.readouterr().out.strip().startswith("ok  ")
    assert run("stories", "validate", str(tmp_path)) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert "bad.toml:1: titel: unknown field 'titel'; did you mean 'title'?" in lines[0]
    assert lines[1].startswith("ok  ") and lines[1].endswith("good.toml")


def test_cli_validate_defaults_to_the_stories_folder(monkeypatch, capsys):
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(STORIES))
    assert run("stories", "validate") == 0
    assert capsys.readouterr().out.count("ok  ") >= 8


def test_cli_validate_empty_folder_fails(tmp_path, capsys):
    assert run("stories", "validate", str(tmp_path)) == 1
    assert "no seed files" in capsys.readouterr().out


# -- writing seeds with a model --------------------------------------------------------------

DRAFT = SeedDraft(
    title="The Salt Road",
    genre="adventure",
    tags=["Desert", "caravan"],
    premise="A caravan guard must cross the salt flats before the rains.",
    style="Second person, present tense. Sparse.",
    rating="teen",
    protagonist_name="Idris",
    protagonist_description="A caravan guard with a limp.",
    opening="The salt glitters. " * 20,
    pinned=["The rains come in five days."],
    world=[
        DraftEntry(name="The salt flats", keys=["salt", "flats"], text="White and endless.", always=True),
        DraftEntry(name="Oasis", keys=[], text="A well ${nobody} knows.", always=False),
        DraftEntry(name="Empty", keys=["x"], text="  ", always=False),
    ],
    options=["Check the water.", "Scout ahead.", "Talk to the merchant.", "A fourth idea."],
)


class FixedBackend:
    """Stands in for a backend: answers `structured` with a fixed draft and records the call."""

    model = "fixed-test-model"

    def __init__(self, draft=DRAFT, error: Exception | None = None):
        self.draft, self.error, self.calls, self.closed = draft, error, [], False

    async def structured(self, messages, schema, *, max_tokens, temperature, on_notice=None, on_text=None):
        self.calls.append((messages, schema, max_tokens, temperature))
        if self.error:
            raise self.error
        return self.draft

    async def close(self):
        self.closed = True


def test_write_seed_converts_the_draft():
    backend = FixedBackend()
    seed = asyncio.run(write_seed(backend, "a caravan crosses salt flats", "adventure"))
    messages, schema, _, _ = backend.calls[0]
    assert schema is SeedDraft
    assert "caravan crosses salt flats" in messages[-1]["content"] and "adventure" in messages[-1]["content"]
    assert seed.title == "The Salt Road" and seed.protagonist.name == "Idris"
    assert seed.options == ["Check the water.", "Scout ahead.", "Talk to the merchant."]
    assert [e.name for e in seed.world] == ["The salt flats", "Oasis"]
    assert seed.world[1].keys == ["Oasis"]  # an entry with no keys is triggered by its name
    assert "${" not in seed.model_dump_json()
    assert seed.tags == ["desert", "caravan"]
    assert "fixed-test-model" in seed.author
    assert parse_seed(seed_to_toml(seed)) == seed


def test_draft_fields_are_cut_to_the_limits():
    draft = DRAFT.model_copy(update={"title": "word " * 100, "premise": "One sentence. " * 100, "options": ["a", "b"]})
    seed = draft_to_seed(draft)
    assert len(seed.title) <= 200 and len(seed.premise) <= 600 and seed.premise.endswith(".")
    assert seed.options == []


def test_draft_that_cannot_be_saved_is_invalid_output():
    # model_copy skips validation: the nearest thing to a server that ignored the schema.
    draft = DRAFT.model_copy(update={"rating": "adults only"})
    with pytest.raises(InvalidOutput) as caught:
        draft_to_seed(draft)
    assert "\n" not in str(caught.value) and "rating" in str(caught.value)


def test_cli_new_writes_without_overwriting(tmp_path, monkeypatch, capsys):
    import game.llm

    backend = FixedBackend()
    monkeypatch.setattr(game.llm, "from_settings", lambda **kw: backend)
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(tmp_path))
    assert run("stories", "new", "a caravan crosses salt flats") == 0
    assert run("stories", "new", "a caravan crosses salt flats") == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["the-salt-road-2.toml", "the-salt-road.toml"]
    assert load_seed(tmp_path / "the-salt-road.toml").title == "The Salt Road"
    assert backend.closed
    out = tmp_path / "mine.toml"
    out.write_text("keep me")
    capsys.readouterr()
    assert run("stories", "new", "x", "--out", str(out)) == 1
    assert "already exists" in capsys.readouterr().out and out.read_text() == "keep me"


def test_cli_new_reports_model_errors_in_one_line(tmp_path, monkeypatch, capsys):
    import game.llm

    monkeypatch.setattr(game.llm, "from_settings", lambda **kw: FixedBackend(error=ModelError("server said no\nreally")))
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(tmp_path))
    assert run("stories", "new", "anything", "--model", "m") == 1
    out = capsys.readouterr().out
    assert out.strip() == "stories new: server said no really"
    assert list(tmp_path.iterdir()) == []


def test_slugify():
    assert slugify("The Glassmaker's Flight!") == "the-glassmaker-s-flight"
    assert slugify("???") == "story"


def test_renaming_the_protagonist_renames_them_in_notes_and_lore():
    seed = Seed(title="T", genre="g", premise="Ruth Calloway boards the ferry.", protagonist={"name": "Ruth Calloway"},
                pinned=["Ruth is afraid of deep water.", "Calloway's knee hurts on ladders."],
                world=[{"name": "Truth", "keys": ["truth"], "text": "Ruthless men and Ruth's own secret."}])
    renamed = seed.filled(protagonist="Mina Hart")
    assert renamed.protagonist.name == "Mina Hart"
    assert renamed.premise == "Mina Hart boards the ferry."
    assert renamed.pinned == ["Mina is afraid of deep water.", "Hart's knee hurts on ladders."]
    assert renamed.world[0].text == "Ruthless men and Mina's own secret."  # whole words only
    assert renamed.world[0].name == "Truth"


# -- the author's note, instructions, alternative openings, secondary keys -------------------------


def test_new_fields_validate_with_one_line_errors(tmp_path):
    base = GOOD.replace('premise = "A miller has vanished."', 'premise = "A miller has vanished."\nopening = "You arrive."')
    seed = parse_seed(base.replace("[protagonist]", 'authors_note = "Keep it cold."\nopenings = ["You wake."]\n'
                                                    'instructions = "No magic."\n\n[protagonist]'))
    assert seed.authors_note == "Keep it cold." and seed.openings == ["You wake."] and seed.instructions == "No magic."
    too_long = base.replace("[protagonist]", f'authors_note = "{"x" * 301}"\n\n[protagonist]')
    with pytest.raises(SeedError) as caught:
        parse_seed(too_long, "s.toml")
    assert str(caught.value) == "s.toml:6: authors_note: is 301 characters; the limit is 300"
    with pytest.raises(SeedError) as caught:
        parse_seed(GOOD.replace("[protagonist]", 'openings = ["You wake."]\n\n[protagonist]'), "s.toml")
    assert "s.toml:5: openings: alternative openings need a main opening first" in str(caught.value)
    with pytest.raises(SeedError) as caught:
        parse_seed(GOOD.replace('keys = ["mill"]', 'keys = ["mill"]\nsecondary_key = ["wheel"]'), "s.toml")
    assert "did you mean 'secondary_keys'?" in str(caught.value)


def test_new_fields_round_trip_through_toml():
    seed = parse_seed(GOOD).model_copy(update={"opening": "A.", "openings": ["B.", "C.\n\nD."], "authors_note": "N.",
                                               "instructions": "I."})
    seed.world[0].secondary_keys.append("wheel")
    assert parse_seed(seed_to_toml(seed)) == seed
