"""Branches: `saves branch` makes a playable slot of a story's first steps, the parent untouched;
its long-term memory holds exactly those steps; the story map shows how slots relate."""
from __future__ import annotations

import json

import pytest

from game.core.story import replay
from game.saves.branch import branch_at, make_branch, records_upto
from game.saves.journal import Journal
from game.saves.names import SlotError
from game.saves.branch import copy_slot
from game.saves.slot import JOURNAL, Slot
from game.saves.folder import read_header
from game.saves.tree import forest, tree_lines, tree_of
from game.engine import edits
from tests.test_write import run


def told(story, upto):
    """What a reader sees of steps 0..upto: actions, paragraphs, recaps, options, chapter marks."""
    return [(s.number, s.action, s.version.paragraph, s.version.memory, s.version.options, s.version.chapter)
            for s in story.steps[:upto + 1]]


@pytest.mark.slow
def test_saves_branch_makes_a_playable_slot_and_leaves_the_parent_alone(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "trunk", "--steps", "6")[0] == 0
    journal = (saves / "trunk" / JOURNAL).read_bytes()
    header = (saves / "trunk" / "header.json").read_bytes()
    code, out, err = run(capsys, "saves", "branch", "trunk", "--at", "3", "--as", "other-door")
    assert code == 0, err
    assert "branched trunk at step 3 as other-door" in out
    assert (saves / "trunk" / JOURNAL).read_bytes() == journal and (saves / "trunk" / "header.json").read_bytes() == header
    info = json.loads(run(capsys, "saves", "show", "other-door", "--json")[1])
    assert info["parent"] == "trunk" and info["fork_step"] == 3 and info["steps"] == 3
    assert json.loads(run(capsys, "saves", "show", "trunk", "--json")[1])["parent"] is None
    with Slot.open(saves, "trunk", memory=False) as trunk, Slot.open(saves, "other-door") as branch:
        assert told(branch.story, 3) == told(trunk.story, 3) and branch.story.taken == 3
        assert branch.memory.stored_ids() == {e.id for e in branch.story.entries()}  # rebuilt, level with its journal
    assert run(capsys, "saves", "check", "other-door")[0] == 0
    # It plays on like any slot, and its header keeps its origin, with the choice that started it.
    assert run(capsys, "write", "--slot", "other-door", "--steps", "2")[0] == 0
    header = read_header(saves, "other-door")
    assert (header["parent"], header["fork_step"], header["steps"]) == ("trunk", 3, 5) and header["choice"]
    code, out, _ = run(capsys, "saves", "show", "other-door")
    assert "parent: trunk" in out and "fork_step: 3" in out
    # Without --as, a free name is made from the parent's and the step.
    code, out, _ = run(capsys, "saves", "branch", "trunk", "--at", "0")
    assert code == 0 and "as trunk-at-0" in out and read_header(saves, "trunk-at-0")["steps"] == 0


@pytest.mark.parametrize("args, words", [
    (["saves", "branch", "trunk", "--at", "9"], "slot trunk has steps 0 to 2: a branch starts at one of them, not at 9"),
    (["saves", "branch", "trunk", "--at", "-1"], "not at -1"),
    (["saves", "branch", "trunk", "--at", "1", "--as", "trunk"], "slot trunk already exists"),
    (["saves", "branch", "trunk", "--at", "1", "--as", "../up"], "bad slot name"),
    (["saves", "branch", "nosuch", "--at", "1"], "no slot named nosuch"),
    (["saves", "tree", "nosuch"], "no slot named nosuch"),
])
def test_bad_branches_are_one_line_and_make_nothing(game_env, saves, seed_path, capsys, args, words):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "trunk", "--steps", "2")[0] == 0
    before = sorted(p.name for p in saves.iterdir())
    code, out, err = run(capsys, *args)
    assert code == 1 and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in saves.iterdir()) == before


def test_make_branch_refuses_records_that_make_no_story(saves, seed_path, tmp_path):
    from game.stories.loader import load_seed

    with Slot.create(saves, "trunk", load_seed(seed_path)) as slot:
        raw = Journal(slot.path / JOURNAL).read().records
    with pytest.raises(SlotError, match="slot broken: the branch's records do not make a story"):
        make_branch(saves, "broken", [raw[0], {**raw[0], "seq": 1}], parent="trunk", fork_step=0)
    with pytest.raises(SlotError, match="needs at least the story's first record"):
        make_branch(saves, "empty", [], parent="trunk", fork_step=0)
    assert not (saves / "broken").exists() and not (saves / "empty").exists()
    make_branch(saves, "same", raw, parent="trunk", fork_step=0)
    assert Journal(saves / "same" / JOURNAL).read().records == raw  # exactly the records given
    header = read_header(saves, "same")
    assert header["parent"] == "trunk" and header["fork_step"] == 0


async def test_a_branch_keeps_every_telling_the_players_corrections_and_the_notes_of_its_time(
        server, saves, seed_path, new_game, end_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Read the logbook.")
    await game.retry()
    await game.retry()
    first = game.story.steps[1].alternatives[-1]
    await edits.flip(game.store, 1, game.story.steps[1].alternatives.index(first))  # the first telling, chosen again
    await game.step("Check the lamp.")
    await edits.edit(game.store, 2, "You check the lamp. The wick is trimmed, the oil full, and a gull feather lies on the lens.")
    await edits.set_pinned(game.store, ["The storm lasts three days.", "Ada is afraid of heights."])
    pieces = game.story.entries_of(game.story.steps[2])
    await edits.forget(game.store, pieces[-1].id)
    await edits.amend(game.store, pieces[0].id, "Ada checks the lamp; the oil is full.")
    await game.step("Climb to the gallery.")
    await game.step("Look down at the rocks.")
    await edits.set_pinned(game.store, ["The storm lasts three days.", "Ada is afraid of heights.", "The keeper drowned."])  # learnt at step 4
    await game.step("Go back inside.")
    raw = Journal(saves / "test" / JOURNAL).read().records
    await end_game(game)
    story = replay(raw)
    made = branch_at(saves, "test", 3, "branch")
    with Slot.open(saves, made) as slot:
        branch = slot.story
        assert told(branch, 3) == told(story, 3) and branch.taken == 3
        one, theirs = branch.steps[1], story.steps[1]
        assert sorted(v.paragraph for v in one.alternatives) == sorted(v.paragraph for v in theirs.alternatives)
        assert one.version.paragraph == first.paragraph
        # The memory corrections follow their entries into the branch's own numbering.
        assert [(e.step, e.text) for e in branch.entries()] == [(e.step, e.text) for e in story.entries() if e.step <= 3]
        stored = slot.memory.collection.get(include=["documents"])["documents"]
        assert "Ada checks the lamp; the oil is full." in stored and pieces[-1].text not in stored
        # The notes pinned when the story stood at step 3, not the one pinned after step 4 was told.
        assert branch.pinned == ["The storm lasts three days.", "Ada is afraid of heights."]
    assert records_upto(story, story.taken)[1:] and replay(records_upto(story, story.taken)).pinned == story.pinned


@pytest.mark.slow
def test_the_story_map_shows_branches_copies_and_orphans(game_env, saves, seed_path, capsys):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "trunk", "--steps", "4")[0] == 0
    branch_at(saves, "trunk", 2, "left")
    branch_at(saves, "left", 1, "deeper")
    copy_slot(saves, "trunk", "copy")
    assert run(capsys, "write", "--slot", "left", "--steps", "1")[0] == 0
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "alone", "--steps", "1")[0] == 0
    trees = forest(saves)
    assert sorted(t.slot for t in trees) == ["alone", "trunk"]
    trunk = tree_of(saves, "deeper")
    assert trunk.slot == "trunk" and [(c.slot, c.fork_step) for c in trunk.children] == [("left", 2), ("copy", 4)]
    assert [c.slot for c in trunk.children[0].children] == ["deeper"]
    lines = tree_lines(trunk)
    assert lines[0] == "The Lighthouse at Skerry Point" and lines[1].startswith("trunk · 4 steps · last played ")
    left = read_header(saves, "left")
    assert f"├── left · from step 2: {left['choice']} · 3 steps" in lines[2]
    assert lines[3].startswith("│   └── deeper · from step 1 (not played on yet) · 1 step")
    assert lines[4].startswith("└── copy · from step 4 (not played on yet) · 4 steps")
    code, out, _ = run(capsys, "saves", "tree")
    assert code == 0 and "\n".join(lines) in out and "alone · 1 step " in out
    code, out, _ = run(capsys, "saves", "tree", "alone")
    assert code == 0 and "trunk" not in out
    assert run(capsys, "saves", "delete", "trunk")[0] == 0
    lines = tree_lines(tree_of(saves, "left"))
    assert "left · a branch of trunk (deleted) from step 2" in lines[1] and "deeper" in lines[2]


def test_a_long_first_action_is_cut_so_the_branch_keeps_its_steps_on_the_map():
    from game.saves.tree import CHOICE_CHARS, Node, describe

    action = "Follow the ledger down the back stair without a sound, counting the doors as you pass them"
    line = describe(Node(slot="lane-at-2", steps=3, parent="lane", fork_step=2, choice=action))
    assert line.startswith(f"lane-at-2 · from step 2: {action[:CHOICE_CHARS - 1]}… · 3 steps · last played ")
    assert action not in line
