"""Held-out variants of the red team's findings (issue 26): each ends in one plain line or the
right behaviour, never a traceback or a hang."""
from __future__ import annotations

import pytest

from game.cli import main
from game.stories.importers import CardError, import_cards
from game.stories.shelf import shelf


def _deep_seed(depth: int, style: str) -> str:
    head = 'title = "Deep"\ngenre = "mystery"\npremise = "A door below a door."\n'
    if style == "header":
        return head + "[" + ".".join(["room"] * depth) + "]\nlamp = 1\n"
    return head + "world = " + "[" * depth + "]" * depth + "\n"  # arrays nested inline


@pytest.mark.parametrize("style", ["header", "inline"])
def test_a_deeply_nested_seed_among_the_players_stories_is_one_line(tmp_path, monkeypatch, capsys, style):
    own = tmp_path / "own"
    own.mkdir()
    (own / "deep.toml").write_text(_deep_seed(20_000 if style == "header" else 900, style), encoding="utf-8")
    monkeypatch.setenv("RECURRENT_STORIES_DIR", str(own))
    listed = {s.name: s.seed for s in shelf()}  # what the title screen's New game lists
    assert "deep" in listed and "nested" in str(listed["deep"]) and "\n" not in str(listed["deep"])
    assert main(["stories", "list"]) == 0
    assert main(["stories", "validate", str(own / "deep.toml")]) != 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "RecursionError" not in out + err
    assert "deep.toml: " in out + err and "nested" in out + err


def test_a_card_with_a_huge_number_is_one_line(tmp_path):
    card = tmp_path / "card.json"
    card.write_text('[{"keys": "lamp", "value": "The lamp.", "weight": ' + "7" * 5_000 + "}]", encoding="utf-8")
    with pytest.raises(CardError) as caught:
        import_cards(card)
    assert str(caught.value).startswith(str(card)) and "\n" not in str(caught.value)


def test_a_card_nested_deeply_is_one_line(tmp_path):
    card = tmp_path / "card.json"
    card.write_text('{"entries": ' + "[" * 500 + "]" * 500 + "}", encoding="utf-8")
    with pytest.raises(CardError) as caught:
        import_cards(card)
    assert "nests more than" in str(caught.value)


def test_options_naming_different_people_are_different_choices():
    from game.engine import guards

    offered = ["Ask Mara about the ledger.", "Ask Tobin about the ledger.", "Ask Mara about the ledger again."]
    assert guards.options(offered) == offered[:2]  # a name makes a choice; "again" does not
    assert guards.options(["Search the hold for the crate.", "Search the deck for the crate.",
                           "Searching the hold for the crates."]) == ["Search the hold for the crate.",
                                                                      "Search the deck for the crate."]
