"""Memory follows the branch: a fact told on the parent after the fork is never recalled on the
branch, a fact told before it is recalled on both; a telling not chosen is never recalled."""
from __future__ import annotations

import pytest

from game.engine.narrator import EngineSettings, Narrator
from game.engine.prompts import chapter_start
from game.saves.branch import branch_at
from game.saves.slot import Slot
from game.engine import edits

pytestmark = pytest.mark.slow  # stories told and branched with long-term memory

# (step on the parent, the action that plants it, a probe asking for it, a word only the fact holds)
FACTS = [
    (2, "Hide the brass compass inside the violet teapot.", "Where did I hide the brass compass?", "teapot"),
    (4, "Bury the silver locket under the crooked juniper.", "Dig up the silver locket again.", "juniper"),
    (6, "Give the sealed letter to the ferryman Oswin.", "Who has the sealed letter now?", "oswin"),
    (8, "Scratch the number 4471 into the cellar door.", "What number did I scratch into the cellar door?", "4471"),
    (10, "Tuck the iron key behind the loose hearthstone.", "Fetch the iron key from where I put it.", "hearthstone"),
    (12, "Drop the glass vial into the rain barrel.", "Where did the glass vial go?", "barrel"),
    (15, "Lend the spyglass to the widow Marguerite.", "Ask for the spyglass back from whoever has it.", "marguerite"),
    (18, "Paint the word VESPERTINE on the boathouse wall.", "What word did I paint on the boathouse wall?", "vespertine"),
    (21, "Pin the river map under the chapel pew.", "Find the river map I pinned somewhere.", "pew"),
    (24, "Sink the pocket watch in the mill pond.", "Where is the pocket watch now?", "pond"),
    (27, "Sew the gold coin into the blue coat lining.", "Take out the gold coin I sewed away.", "lining"),
]
FORK = 10
# What makes a told paragraph long enough for the guards (30 words), with no fact of its own.
LONGER = ("The lid creaks on its hinges and the lamp throws long shadows across the boards, while the wind "
          "worries at the shutters and somewhere below a door bangs twice and is still.")
SMALL = 1500  # a small prompt budget: chapters close every few steps, so recall does the remembering


def filler(n: int) -> str:
    return f"Walk the gallery, round {n}, and count the gulls on the rail."


def prompt_of(server) -> str:
    return "\n".join(m["content"] for m in server.narrations()[-1]["messages"]).lower()


def recalled_words(step) -> str:
    return " ".join(r.text for r in step.version.recalled).lower()


async def test_a_branch_recalls_what_came_before_its_fork_and_nothing_after(server, saves, seed_path, new_game,
                                                                              end_game, backend_for):
    parent = await new_game(server, saves, seed_path, "parent")
    parent.settings.prompt_tokens = SMALL
    planted = {step: fact for step, *fact in FACTS}
    for n in range(1, 31):
        await parent.step(planted[n][0] if n in planted else filler(n))
    # The parent itself recalls a late fact (so the probes below could fail).
    late_probe = FACTS[-3]
    step = await parent.step(late_probe[2])
    assert late_probe[3] in recalled_words(step)
    await end_game(parent)

    made = branch_at(saves, "parent", FORK, "branch")
    before = len(server.chat_requests())
    slot = Slot.open(saves, made)
    branch = Narrator(slot, backend_for(server), EngineSettings(prompt_tokens=SMALL))
    assert all(e.step <= FORK for e in slot.story.entries())
    probes = {11 + 2 * i: fact for i, fact in enumerate(FACTS)}  # every fact asked about once, steps 11..31
    recalled_early = 0
    for n in range(11, 36):
        fact = probes.get(n)
        step = await branch.step(fact[2] if fact else filler(n))
        if fact is None:
            continue
        told_at, _plant, _probe, word = fact
        prompt = prompt_of(server)
        if told_at <= FORK:
            assert word in prompt, f"step {n}: the fact of step {told_at} did not reach the narrator"
            if told_at < chapter_start(slot.story, n):  # out of the chapter's own turns: it came back by recall
                assert word in recalled_words(step), f"step {n}: the fact of step {told_at} was not recalled"
                recalled_early += 1
        else:
            assert word not in prompt and word not in recalled_words(step), f"step {n}: the parent's step {told_at} leaked"
    assert recalled_early >= 3  # most early facts were beyond the chapter in play, so recall was tested
    sent = "\n".join(m["content"] for r in server.chat_requests()[before:] for m in r["messages"]).lower()
    for told_at, _plant, _probe, word in FACTS:
        assert (word in sent) == (told_at <= FORK), f"the fact of step {told_at} in the branch's requests"
    # Nothing after the fork is in the branch's memory at all, and every probe of a late fact found nothing of it.
    stored = " ".join(slot.memory.collection.get(include=["documents"])["documents"]).lower()
    for told_at, _plant, _probe, word in FACTS:
        assert (word in stored) == (told_at <= FORK)
    slot.close()
    await branch.backend.close()


async def test_a_telling_not_chosen_is_never_recalled(server, saves, seed_path, new_game, end_game):
    game = await new_game(server, saves, seed_path)
    game.settings.prompt_tokens = SMALL
    server.say("You open the chest. Inside lies a map drawn on sealskin, marked with a heron. " + LONGER)
    await game.step("Open the sea chest.")
    server.say("You open the chest. It is empty but for sand and a smell of tar. " + LONGER)
    await game.retry()  # the second telling is the story now; the heron map is only an alternative
    for n in range(2, 14):
        await game.step(filler(n))
    step = await game.step("Look again at what was in the sea chest, the map with the heron.")
    assert "heron" not in recalled_words(step).replace("the map with the heron", "")
    assert not any("sealskin" in r.text.lower() for r in step.version.recalled)
    stored = " ".join(game.store.memory.collection.get(include=["documents"])["documents"]).lower()
    assert "sealskin" not in stored and "sand and a smell of tar" in stored
    # Flipped back to, the first telling is remembered, and the second forgotten.
    await edits.flip(game.store, 1, 0)
    step = await game.step("Think about the sea chest and what lay inside it.")
    assert any("sealskin" in r.text.lower() for r in step.version.recalled)
    stored = " ".join(game.store.memory.collection.get(include=["documents"])["documents"]).lower()
    assert "sealskin" in stored and "smell of tar" not in stored
    # A branch made now has both tellings, and remembers only the one chosen.
    await end_game(game)
    with Slot.open(saves, branch_at(saves, "test", 1, "side")) as side:
        assert len(side.story.steps[1].alternatives) == 1
        stored = " ".join(side.memory.collection.get(include=["documents"])["documents"]).lower()
        assert "sealskin" in stored and "smell of tar" not in stored
