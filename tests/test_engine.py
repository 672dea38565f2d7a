"""The recurrence step in-process: two calls a step, undo, retry, edits, cancellation."""
from __future__ import annotations

import asyncio

import pytest

from game.engine.narrator import CONTINUE, NoOption, StepError, pick
from game.saves.slot import Slot
from game.engine import edits



async def test_a_step_makes_two_calls_and_is_saved(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    before = len(server.chat_requests())
    step = await game.step("Read the logbook by the lamp.")
    calls = server.chat_requests()[before:]
    assert len(calls) == 2
    assert calls[0]["stream"] is True and calls[1]["response_format"]["type"] == "json_schema"
    assert "Read the logbook by the lamp." in calls[0]["messages"][-1]["content"].splitlines()[-1]
    assert len(step.version.options) == 3 and step.version.note  # the recap waits for the chapter's end
    assert not step.version.fallback
    await end_game(game)
    with Slot.open(saves, "test") as slot:
        assert slot.story.taken == 1
        assert slot.story.steps[1].version.paragraph == step.version.paragraph
        assert slot.memory.count() == len(slot.story.entries())


async def test_prompt_has_stable_prefix_first_and_action_last(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    await game.step("Open the logbook.")
    first, second = server.narrations()[-2:]
    assert first["messages"][0] == second["messages"][0]  # the system prefix does not change
    system = second["messages"][0]["content"]
    assert "Skerry Point" in system and "The storm lasts three days." in system
    user = second["messages"][-1]["content"]
    assert user.rstrip().endswith("Open the logbook.")
    assert second["messages"][:len(first["messages"])] == first["messages"]  # it repeats the one before, and adds
    chapter = " ".join(m["content"] for m in second["messages"] if m["role"] == "user")
    assert "The keeper's logbook records" in chapter  # a world entry triggered by its key (once a chapter)
    await end_game(game)


async def test_options_and_empty_input(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    options = game.story.options
    assert options == ["Read the logbook.", "Check the lamp.", "Go back down the stairs."]
    assert pick("2", options) == "Check the lamp."
    assert pick("", options) == CONTINUE
    assert pick("", options, empty="first") == "Read the logbook."
    assert pick("  climb   the rail ", options) == "climb the rail"
    # A digit alone is a pick: one that picks nothing is a slip, refused (told, it would cost a step).
    for slip in ("4", "0", " 7 "):
        with pytest.raises(NoOption, match=f"there is no option {slip.strip()}: 1-3 pick an option"):
            pick(slip, options)
    with pytest.raises(NoOption, match="1 picks the option"):
        pick("2", options[:1])
    assert pick("42", options) == "42" and pick("4 times I knock", options) == "4 times I knock"  # the player's own
    await end_game(game)


async def test_undo_removes_step_and_its_memories(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    count = game.store.memory.count()
    step = await game.step("Search the keeper's cot for letters.")
    assert game.store.memory.count() > count
    undone = await edits.undo(game.store)
    assert undone.number == step.number
    assert game.story.taken == 1
    assert game.store.memory.count() == count
    assert not any(e.step == 2 for e in game.store.memory.known.values())
    await edits.undo(game.store)
    with pytest.raises(StepError):
        await edits.undo(game.store)  # the opening cannot be undone
    await end_game(game)


async def test_retry_keeps_earlier_versions_to_flip(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    first = await game.step("Check the lamp.")
    second = await game.retry()
    assert second.number == first.number and second.action == first.action
    assert second.version.paragraph != first.version.paragraph
    assert [v.paragraph for v in second.alternatives] == [first.version.paragraph]
    ids_now = {e.id for e in game.store.memory.known.values() if e.step == 1}
    await edits.flip(game.store, 1, 0)
    assert game.story.steps[1].version.paragraph == first.version.paragraph
    ids_flipped = {e.id for e in game.store.memory.known.values() if e.step == 1}
    assert ids_now.isdisjoint(ids_flipped) and ids_flipped
    await end_game(game)
    with Slot.open(saves, "test") as slot:
        assert slot.story.steps[1].version.paragraph == first.version.paragraph
        assert len(slot.story.steps[1].alternatives) == 1


async def test_edit_re_embeds_the_paragraph(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    await edits.edit(game.store, 1, "You find a brass compass wedged behind the lens. Its needle points at the village, not north.")
    texts = [e.text for e in game.store.memory.known.values() if e.step == 1]
    assert any("brass compass" in t for t in texts)
    hits = game.store.memory.search("the brass compass", limit=3, before_step=5)
    assert hits and hits[0].entry.step == 1
    await end_game(game)


async def test_memory_pins_forget_and_amend_are_saved(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    await edits.set_memory(game.store, "Ada found the lamp cold.")
    await edits.set_pinned(game.store, ["Ada is afraid of heights."])
    entry = next(e for e in game.store.memory.known.values() if e.kind == "paragraph")
    await edits.amend(game.store, entry.id, "The lamp was sabotaged with sand.")
    other = next(e for e in game.store.memory.known.values() if e.id != entry.id)
    await edits.forget(game.store, other.id)
    await game.step("Look closer at the lamp.")
    request = server.narrations()[-1]
    assert "The story so far: Ada found the lamp cold." in request["messages"][1]["content"]  # the recap opens the chapter
    assert "Ada is afraid of heights." in request["messages"][0]["content"]
    await end_game(game)
    with Slot.open(saves, "test") as slot:
        assert slot.story.pinned == ["Ada is afraid of heights."]
        stored = slot.memory.collection.get(ids=[entry.id, other.id])
        assert stored["ids"] == [entry.id] and stored["documents"] == ["The lamp was sabotaged with sand."]


async def test_cancelling_a_step_leaves_the_story_as_it_was(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Check the lamp.")
    journal = (saves / "test" / "journal.jsonl").read_bytes()
    server.fail("hold")
    task = asyncio.create_task(game.step("Climb onto the gallery."))
    await asyncio.to_thread(server.holding.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    server.release.set()
    assert game.story.taken == 1
    assert (saves / "test" / "journal.jsonl").read_bytes() == journal
    step = await game.step("Climb onto the gallery.")
    assert step.number == 2
    await end_game(game)


@pytest.mark.slow
async def test_recall_brings_back_a_planted_fact(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await edits.edit(game.store, 0, "You climb the stair. The keeper's spare key hangs on a nail behind the barometer, "
                 "wrapped in red twine. The lamp room is empty and the lens turns for no one.")
    for i in range(30):  # long enough for the opening to leave the chapter the narrator reads word for word
        await game.step(f"Walk the gallery and count the gulls, round {i}.")
    assert not any(m["content"].endswith("wrapped in red twine.") for m in server.narrations()[-1]["messages"])
    await game.step("Where is the spare key with the red twine?")
    recalled = game.story.steps[-1].version.recalled
    assert recalled and recalled[0].step == 0 and "barometer" in recalled[0].text
    assert "words:" in recalled[0].why
    user = server.narrations()[-1]["messages"][-1]["content"]
    assert "barometer" in user
    await end_game(game)


async def test_an_opening_the_model_wrote_can_be_retold(server, saves, seed_path, tmp_path, end_game, new_game):
    bare = tmp_path / "bare.toml"
    bare.write_text("\n".join(line for line in seed_path.read_text().splitlines()
                              if not line.startswith(("opening", "options"))), encoding="utf-8")
    game = await new_game(server, saves, bare, name="bare")
    first = game.story.steps[0].version.paragraph
    again = await game.retry()
    assert again.number == 0 and again.version.paragraph != first
    assert [v.paragraph for v in again.alternatives] == [first]
    await end_game(game)
    authored = await new_game(server, saves, seed_path, name="authored")
    with pytest.raises(StepError):
        await authored.retry()  # the author's opening stays
    await end_game(authored)
