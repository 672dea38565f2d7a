"""`recurrent stories lint` and `stories preview`: warnings a valid seed deserves, one line each,
naming file, line and field; exit 1 only when a seed is invalid."""
from __future__ import annotations

import json
import random
from pathlib import Path

from game.cli import main
from game.stories.lint import lint
from game.stories.loader import parse_seed

STORIES = Path(__file__).resolve().parent.parent / "stories"

CLEAN = """\
title = "The Quiet Mill"
genre = "mystery"
premise = "The miller of Ashby has vanished, and the mill wheel turns backwards."
opening = "You reach the mill at dusk. The wheel turns the wrong way, and Tom Hale's door stands open."
options = ["Knock on the door.", "Look at the wheel.", "Go back to the inn."]

[protagonist]
name = "Ada"

[[world]]
name = "Tom Hale"
keys = ["Tom", "Hale", "miller"]
text = "Fifty, widowed, feared the water."
"""

MESSY = """\
title = "The Loud Mill"
genre = "mystery"
premise = "The miller has vanished; ${hero} must find him."
opening = "${hero} reaches the mill."

[protagonist]
name = "${hero}"

[placeholders.hero]
prompt = "Your name"
default = "Ada"

[placeholders.horse]
prompt = "Your horse's name"
default = "Bess"

[[world]]
name = "The mill"
keys = ["the", "mill"]
text = "An old watermill."

[[world]]
name = "Dashes"
keys = ["--"]
text = "Nothing can say this."

[[world]]
name = "The ferry"
keys = ["ferry", "boat"]
text = "Nobody mentions it."

[[world]]
name = "The mill"
keys = ["wheel"]
text = "Turns backwards."
"""


def run(*argv: str) -> int:
    return main(list(argv))


def test_a_clean_seed_has_nothing_to_say():
    assert lint(parse_seed(CLEAN)) == []


def test_each_kind_of_trouble_is_named_at_its_field():
    found = {(f.where, f.level): f.message for f in lint(parse_seed(MESSY))}
    assert "commonest words" in found[("world[0].keys", "warning")] and "'the'" in found[("world[0].keys", "warning")]
    assert "no letter or digit" in found[("world[1].keys", "warning")]
    assert "none of the keys of 'The ferry' ('ferry', 'boat') occurs" in found[("world[2].keys", "note")]
    assert "declared but the seed never uses it" in found[("placeholders.horse", "warning")]
    assert ("placeholders.hero", "warning") not in found
    assert "fewer than three" in found[("options", "warning")]
    assert "another world entry is also named 'The mill'" in found[("world[0].name", "warning")]
    assert all(f.level == "warning" for f in lint(parse_seed(MESSY))[:6])  # warnings before notes


def test_a_key_in_every_paragraph_means_nothing():
    text = CLEAN.replace('keys = ["Tom", "Hale", "miller"]', 'keys = ["mill"]').replace(
        'opening = "You reach', 'opening = "The mill.\\n\\nThe mill again.\\n\\nThe mill, and you reach').replace(
        "Fifty, widowed", "The mill's owner, fifty, widowed")
    text += '\n[[world]]\nname = "Dam"\nkeys = ["dam"]\ntext = "The mill pond."\n'
    found = {f.where: f.message for f in lint(parse_seed(text))}
    assert "in every paragraph of the seed's own text" in found["world[0].keys"]


def test_an_opening_far_longer_than_a_paragraph():
    long = "word " * 400
    seed = parse_seed(CLEAN.replace('opening = "You reach the mill at dusk.', f'opening = "{long}You reach the mill.'))
    found = {f.where: f.message for f in lint(seed, paragraph_words=180)}
    assert "is 416 words, far longer than a paragraph" in found["opening"]
    assert lint(seed, paragraph_words=300) == []


def test_cli_lint_prints_warnings_and_exits_0(tmp_path, capsys):
    path = tmp_path / "messy.toml"
    path.write_text(MESSY)
    assert run("stories", "lint", str(path)) == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert any(line.startswith(f"{path}:19: warning: world[0].keys: key 'the'") for line in lines), lines
    assert any(line.startswith(f"{path}:13: warning: placeholders.horse:") for line in lines)
    assert lines[-1].startswith(f"{path}:34: note: world[3].keys: none of the keys of 'The mill' ('wheel')")
    assert "1 seed file: 6 warnings, 2 notes" in out.err


def test_cli_lint_exits_1_on_an_invalid_seed(tmp_path, capsys):
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(CLEAN)
    bad.write_text(CLEAN.replace('genre = "mystery"', 'genre = 3'))
    assert run("stories", "lint", str(good), str(bad)) == 1
    out = capsys.readouterr()
    assert f"ok  {good}" in out.out and f"{bad}:2: genre: should be text in quotes, not a number" in out.out
    assert "1 invalid" in out.err


def test_the_bundled_stories_lint_clean_of_warnings(capsys):
    assert run("stories", "lint", str(STORIES)) == 0
    out = capsys.readouterr()
    assert ": warning:" not in out.out and "0 warnings" in out.err


def test_always_on_lore_of_3000_words_is_named_and_said_to_be_clipped(tmp_path, capsys):
    rng = random.Random(3)
    vocab = "stone river lantern market guild salt tower bridge harbour winter archive ledger".split()
    text = CLEAN
    for i in range(6):  # six always-on entries of 500 words each (an entry holds 4,000 characters)
        text += f'\n[[world]]\nname = "Law {i + 1}"\nalways = true\ntext = "{" ".join(rng.choice(vocab) for _ in range(500))}."\n'
    path = tmp_path / "heavy.toml"
    path.write_text(text)
    assert run("stories", "lint", str(path)) == 0
    lines = capsys.readouterr().out.splitlines()
    law1 = next(line for line in lines if "'Law 1'" in line)
    assert law1.startswith(f"{path}:15: warning: world[1]: always-on world entry 'Law 1' will be clipped")
    assert all(any(f"'Law {i}' will be clipped" in line for line in lines) for i in range(1, 7))
    # with a budget that has room, nothing is clipped
    assert run("stories", "lint", str(path), "--tokens", "40000") == 0
    assert "clipped" not in capsys.readouterr().out


def test_cli_preview_prints_the_parts_with_token_counts(seed_path, capsys):
    assert run("stories", "preview", str(seed_path)) == 0
    out = capsys.readouterr().out
    assert "Budget: 3,000 tokens" in out
    assert "message 1: system" in out and "--- message 1: system ---" in out
    parts = [line for line in out.splitlines() if line.startswith("  ") and line.strip()[:1].isdigit()]
    assert any(line.split()[1:3] == ["world", "entry"] or "'Skerry Point'" in line for line in parts)
    assert any("premise" in line for line in parts) and any("the reader's action" in line for line in parts)
    assert "World entries the opening triggers: 'The logbook'." in out
    assert "The reader's action: Read the logbook." in out  # the first option, as a reader would pick it


def test_cli_preview_json_is_the_request(seed_path, capsys):
    assert run("stories", "preview", str(seed_path), "--json", "--action", "Check the lamp.", "--tokens", "2000") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["budget"] == 2000 and data["messages"][-1]["content"].endswith("The reader's action: Check the lamp.")
    assert sum(p["tokens"] for p in data["parts"] if p["message"] == 1) >= data["parts"][0]["tokens"]


def test_cli_preview_of_a_bad_seed_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("title = [\n")
    assert run("stories", "preview", str(path)) == 1
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"{path}:") and "invalid TOML" in out and "\n" not in out


def test_the_word_index_finds_a_key_exactly_where_a_key_triggers():
    from game.core.world import occurs
    from game.stories.lint import Texts

    texts = ["The mill's wheel.", "Kestrel's Wake sails.", "cabin 6 is empty; cabin 61 is not", "Café au lait",
             "crash", "the Lower  Wards", "MAB and the ferry-boat"]
    keys = ["mill", "Kestrel's Wake", "cabin 6", "café", "ash", "Lower Wards", "Lower  Wards", "mab", "ferry", "boat",
            "ferry-boat", "cabin"]
    index = Texts(texts)
    for key in keys:
        assert index.holding(key) == {i for i, text in enumerate(texts) if occurs(key, text)}, key


def test_a_bundled_story_is_linted_and_previewed_by_its_name(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the checkout: the name alone must find the library's seed
    assert run("stories", "lint", "night-ferry-to-kestrel") == 0
    out = capsys.readouterr()
    assert "night-ferry-to-kestrel.toml" in out.out + out.err and "1 seed file" in out.err
    assert run("stories", "preview", "night-ferry-to-kestel") == 1
    assert "did you mean night-ferry-to-kestrel" in capsys.readouterr().out
