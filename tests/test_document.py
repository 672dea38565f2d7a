"""Writing a seed back (the studio): only what changed is rewritten; the author's comments,
order and layout stay; world entries keep their tables."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from game.stories.document import SeedFile, entries_with_origin
from game.stories.loader import SeedError, load_seed

STORIES = Path(__file__).resolve().parent.parent / "stories"

SEED = """\
# The Quiet Mill: a comment the author wants kept.
title = "The Quiet Mill"  # working title
genre = "mystery"
premise = \"\"\"
The miller of Ashby has vanished, \\
and the wheel turns backwards.\"\"\"
protagonist = { name = "Ada", description = "a retired sergeant" }

[placeholders.horse]
prompt = "Your horse"
default = "Bess"

# the miller
[[world]]
name = "Tom Hale"
keys = ["Tom", "Hale"]  # his names
text = "Fifty, widowed."

# the place
[[world]]
name = "The mill"
keys = ["mill"]
text = \"\"\"
Three storeys \\
of stone.\"\"\"
"""


def editable(seed_file: SeedFile) -> dict:
    return {**seed_file.data, "world": entries_with_origin(seed_file.data)}


def test_unchanged_data_writes_the_file_as_it_was():
    for path in sorted(STORIES.glob("*.toml")):
        seed_file = SeedFile.open(path)
        assert seed_file.render(editable(seed_file)) == path.read_text(encoding="utf-8"), path


def test_a_changed_title_changes_one_line(tmp_path):
    path = tmp_path / "mill.toml"
    path.write_text(SEED)
    seed_file = SeedFile.open(path)
    data = editable(seed_file)
    data["title"] = "The Loud Mill"
    seed_file.save(data)
    assert path.read_text() == SEED.replace('"The Quiet Mill"  # working', '"The Loud Mill"  # working')
    assert load_seed(path).title == "The Loud Mill" and len(load_seed(path).world) == 2


def test_entries_keep_their_tables_and_new_ones_get_their_own(tmp_path):
    seed_file = SeedFile(SEED, tmp_path / "mill.toml")
    data = editable(seed_file)
    data["world"][0]["text"] = "Fifty, widowed, afraid of water."
    data["world"].append({"name": "The wheel", "keys": ["wheel"], "secondary_keys": ["night"], "text": "It turns.\nBackwards."})
    data["authors_note"] = "Keep it cold."
    data["protagonist"] = {"name": "Ada Lorne", "description": "a retired sergeant"}
    text = seed_file.render(data)
    assert '# the miller\n[[world]]\nname = "Tom Hale"\nkeys = ["Tom", "Hale"]  # his names\ntext = "Fifty, widowed, afraid' in text
    assert '# the place\n[[world]]\nname = "The mill"' in text and "Three storeys \\\nof stone." in text
    assert text.startswith("# The Quiet Mill: a comment the author wants kept.")
    assert 'protagonist = { name = "Ada Lorne", description = "a retired sergeant" }' in text
    assert '"""\n\n[[world]]\nname = "The wheel"\nkeys = ["wheel"]\nsecondary_keys = ["night"]' in text
    seed = seed_file.check(data)[0]
    assert [e.name for e in seed.world] == ["Tom Hale", "The mill", "The wheel"]
    assert seed.world[2].text == "It turns.\nBackwards." and seed.world[2].secondary_keys == ["night"]
    assert seed.authors_note == "Keep it cold."


def test_deleting_entries_and_blanks(tmp_path):
    seed_file = SeedFile(SEED)
    data = editable(seed_file)
    data["placeholders"] = {}
    assert "placeholders" not in seed_file.render(data) and "Bess" not in seed_file.render(data)
    data["world"] = [data["world"][1]]
    text = seed_file.render(data)
    assert "Tom Hale" not in text and tomllib.loads(text)["world"][0]["name"] == "The mill"
    data["world"] = []
    assert "[[world]]" not in seed_file.render(data)


def test_every_problem_is_found_at_its_field():
    seed_file = SeedFile(SEED, Path("mill.toml"))
    data = editable(seed_file)
    data["title"] = ""
    data["world"][1]["keys"] = []
    seed, problems = seed_file.check(data)
    assert seed is None
    assert [(p.field, p.problem) for p in problems] == [("title", "is empty"),
                                                        ("world[1]", "needs trigger keys or always = true")]
    assert str(problems[0]) == "mill.toml:2: title: is empty"


def test_a_new_seed_and_a_file_that_is_not_toml(tmp_path):
    blank = SeedFile.blank()
    assert blank.path is None and blank.check(blank.data)[0] is None
    data = {**blank.data, "title": "New", "genre": "g", "premise": "p", "protagonist": {"name": "N"}}
    target = blank.save(data, tmp_path / "stories" / "new.toml")
    assert load_seed(target).title == "New" and blank.path == target
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "x\n')
    with pytest.raises(SeedError) as caught:
        SeedFile.open(bad)
    assert str(caught.value).startswith(f"{bad}:1: invalid TOML")


def test_changing_the_data_in_place_is_a_change_to_write():
    seed_file = SeedFile(SEED)
    data = seed_file.data
    data["protagonist"]["name"] = "Ada Lorne"  # the data is the caller's own: the file's stays as read
    data["placeholders"]["horse"]["default"] = "Dobbin"
    text = seed_file.render(data)
    assert tomllib.loads(text)["protagonist"]["name"] == "Ada Lorne"
    assert tomllib.loads(text)["placeholders"]["horse"]["default"] == "Dobbin"
    assert seed_file.data["protagonist"]["name"] == "Ada"


def test_what_the_studio_cannot_show_stays_for_validation_to_name():
    text = 'title = "t"\ngenre = "g"\npremise = "p"\nprotagonist = "Ada"\nplaceholders = "x"\nworld = "w"\n'
    seed_file = SeedFile(text)
    data = {**seed_file.data, "world": entries_with_origin(seed_file.data)}
    data["title"] = "T"
    assert seed_file.render(data) == text.replace('"t"', '"T"')
    assert [p.field for p in seed_file.check(data)[1]] == ["protagonist", "placeholders", "world"]
    data["protagonist"] = {"name": "Bo"}  # the author fills in the fields: now it is a table
    assert tomllib.loads(seed_file.render(data))["protagonist"] == {"name": "Bo"}
