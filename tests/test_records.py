"""Typed journal records: each kind reads back as itself, `Story.apply` takes them in order only,
and says what long-term memory must change."""
from __future__ import annotations

import pytest

from game.core import records as r
from game.core.models import Step, Version
from game.core.records import RecordError, parse
from game.core.seed import Seed
from game.core.story import Story, replay

SEED = Seed(title="The Well", genre="fantasy", premise="A knight looks for a well.", protagonist={"name": "Wren"})


def told(number: int, paragraph: str, action: str = "Walk on.") -> r.Told:
    return r.Told(step=Step(number=number, action=action if number else "",
                            version=Version(seq=-1, paragraph=paragraph, memory=f"m{number}", options=["a", "b", "c"])))


def story_of(*records: r.Record) -> Story:
    story = Story.begin(r.Begin(seq=0, seed=SEED))
    for record in records:
        story.apply(record.stamped(story.seq + 1))
    return story


@pytest.mark.parametrize("record", [
    r.Begin(seq=0, seed=SEED), told(0, "You stand at the edge of the forest."), r.Undone(), r.Edited(number=1, paragraph="x"),
    r.Flipped(number=1, index=0), r.MemoryEdited(text="m"), r.Pinned(notes=["a"]), r.Forgotten(id="v1-0"),
    r.Amended(id="v1-0", text="t"), r.PrefsSet(prefs={"person": "third"}),
], ids=lambda rec: rec.kind)
def test_every_kind_reads_back_as_itself(record):
    stamped = record.stamped(7)
    assert parse(stamped.line()) == stamped


def test_a_record_out_of_order_is_refused_and_changes_nothing():
    story = story_of(told(0, "You stand at the edge of the forest. Water drips into stone somewhere."))
    before = story.model_dump()
    with pytest.raises(RecordError, match="record 5: expected record 2 next"):
        story.apply(told(1, "You walk on.").stamped(5))
    with pytest.raises(RecordError, match="does not follow"):
        story.apply(told(3, "You walk on.").stamped(2))
    assert story.model_dump() == before


def test_an_unknown_kind_is_one_line():
    with pytest.raises(RecordError, match="^record 3: ") as caught:
        parse({"seq": 3, "kind": "illustration", "png": "..."})
    assert "\n" not in str(caught.value)


def test_apply_says_what_long_term_memory_must_change():
    story = story_of(told(0, "You stand at the edge of the old forest. Somewhere ahead, water drips into stone."))
    change = story.apply(told(1, "You walk into the forest. A heron lifts from the reeds beside a well.").stamped(2))
    added = {e.id for e in change.add}
    assert added == {e.id for e in story.entries_of(story.steps[1])} and "v2-a" in added and not change.drop
    change = story.apply(r.Edited(number=1, paragraph="You walk into the forest and find nothing at all there.").stamped(3))
    # An edit is a new version: every entry of the step gets the edit's ids, the old ones go.
    assert set(change.drop) == {"v2-0", "v2-a"} and {e.id for e in change.add} == {"v3-0", "v3-a"}
    assert story.apply(r.Forgotten(id="v3-0").stamped(4)).drop == ["v3-0"]
    amended = story.apply(r.Amended(id="v3-a", text="Wren walks in.").stamped(5))
    assert [(e.id, e.text) for e in amended.add] == [("v3-a", "Wren walks in.")]
    undone = story.apply(r.Undone().stamped(6))
    assert set(undone.drop) == {"v3-a"} and not undone.add
    assert story.apply(r.Pinned(notes=["x"]).stamped(7)).empty


def test_a_journal_replays_into_the_same_story():
    story = story_of(told(0, "You stand at the edge of the forest."), told(1, "You walk into the trees."),
                     r.MemoryEdited(text="Wren is in the forest."), r.PrefsSet(prefs={"paragraph_words": 90}))
    lines = [r.Begin(seq=0, seed=SEED).line()]
    lines += [told(0, "You stand at the edge of the forest.").stamped(1).line(), told(1, "You walk into the trees.").stamped(2).line(),
              r.MemoryEdited(text="Wren is in the forest.").stamped(3).line(),
              r.PrefsSet(prefs={"paragraph_words": 90}).stamped(4).line()]
    again = replay(lines)
    assert again.memory == story.memory == "Wren is in the forest." and again.prefs.paragraph_words == 90
    assert [s.version.paragraph for s in again.steps] == [s.version.paragraph for s in story.steps]
