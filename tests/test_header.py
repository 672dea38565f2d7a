"""The slot's header: a typed, versioned record read in one place; older headers still open."""
from __future__ import annotations

import json

import pytest

from game.core.models import Preferences
from game.saves import header as headers
from game.saves.branch import copy_slot
from game.saves.check import check
from game.saves.folder import read_header
from game.saves.header import HEADER, HeaderProblem
from game.saves.slot import Slot
from game.stories.loader import load_seed


@pytest.fixture
def slot_with_branch(saves, seed_path):
    Slot.create(saves, "trunk", load_seed(seed_path).filled(), Preferences()).close()
    copy_slot(saves, "trunk", "copy")
    return saves


def test_a_header_is_written_with_its_version_and_read_back_as_it_was(slot_with_branch):
    data = json.loads((slot_with_branch / "copy" / HEADER).read_text())
    assert data["version"] == headers.VERSION and (data["parent"], data["fork_step"]) == ("trunk", 0)
    header = headers.read(slot_with_branch / "copy")
    trunk = headers.ident(slot_with_branch / "trunk")
    assert trunk and header.id and header.id != trunk  # each slot its own identity, and the copy names its parent's
    assert headers.parse(json.loads(header.text())) == header
    assert header.origin == {"parent": "trunk", "fork_step": 0, "parent_id": trunk}


def test_a_header_an_older_version_wrote_opens_and_keeps_the_branch_origin(slot_with_branch):
    """Version 0: the headers written before they carried a version. The slot opens, its origin
    (which only the header holds) is kept, and the next header written is this version's."""
    path = slot_with_branch / "copy" / HEADER
    old = {key: value for key, value in json.loads(path.read_text()).items() if key not in ("version", "id", "parent_id")}
    path.write_text(json.dumps(old))
    assert read_header(slot_with_branch, "copy")["parent"] == "trunk"
    assert check(slot_with_branch, "copy").ok
    with Slot.open(slot_with_branch, "copy", memory=False) as slot:
        assert slot.lineage() == {"parent": "trunk", "fork_step": 0}
        slot.mark_opened()
    assert json.loads(path.read_text())["version"] == headers.VERSION
    assert json.loads(path.read_text())["parent"] == "trunk"


@pytest.mark.parametrize("data, said", [
    ({"version": headers.VERSION + 1, "title": "t", "steps": 1}, "from a newer version of Recurrent"),
    ({"version": "1", "title": "t", "steps": 1}, "a field of the wrong kind"),
    ({"title": "t", "steps": True}, "a field of the wrong kind"),
    ({"title": "t"}, "title or steps missing"),
    ([1, 2], "title or steps missing"),
])
def test_a_header_that_cannot_be_used_is_one_line_and_the_listing_comes_from_the_journal(slot_with_branch, data, said):
    (slot_with_branch / "trunk" / HEADER).write_text(json.dumps(data))
    with pytest.raises(HeaderProblem, match=said):
        headers.read(slot_with_branch / "trunk")
    listed = read_header(slot_with_branch, "trunk")
    assert listed["title"] == "The Lighthouse at Skerry Point" and listed["steps"] == 0
    report = check(slot_with_branch, "trunk")
    assert not report.ok and any(said in problem for problem in report.problems)


def test_an_unsound_origin_is_no_origin_but_the_rest_of_the_header_counts():
    header = headers.parse({"title": "t", "steps": 2, "parent": "p", "fork_step": -1})
    assert header.origin == {} and header.steps == 2
