"""Prompt assembly: every part has a ceiling, so the prompt cannot grow with the story."""
from __future__ import annotations

from game.core.models import Recalled, Step, Version
from game.engine.prompts import Budget, narration_messages
from game.core.story import Story
from game.core.text import pieces, safe, tokens
from game.core.world import triggered
from game.core.seed import Seed, WorldEntry


def story_with(paragraph: str, memory: str, steps: int = 3) -> Story:
    seed = Seed(title="T", genre="g", premise="p", protagonist={"name": "Ada"},
                world=[WorldEntry(name=f"Card {i}", keys=[f"key{i}"], text="lore " * 300) for i in range(20)])
    story = Story(seed=seed)
    for n in range(steps):
        story.steps.append(Step(number=n, action="a " * 500 if n else "", version=Version(
            seq=n, paragraph=paragraph, memory=memory, options=["x", "y", "z"])))
    return story


def test_every_part_is_clipped_to_the_budget():
    budget = Budget(2000)
    huge = "word " * 20000
    story = story_with(huge, huge)
    recalled = [Recalled(step=1, text=huge, score=1.0, why="w")] * 5
    lore = triggered(story.seed.world, " ".join(f"key{i}" for i in range(20)))
    assert len(lore) == 20
    messages = narration_messages(story, 3, huge, recalled, lore, budget)
    total = sum(tokens(m["content"]) for m in messages)
    assert total <= budget.total * 1.05
    assert messages[-1]["content"].splitlines()[-1].startswith("The reader's action:")


def test_small_story_keeps_everything():
    story = story_with("The gull cries.", "Ada came to the lighthouse.")
    messages = narration_messages(story, 3, "Wave at the gull.", [Recalled(step=0, text="A gull nests on the rail.", score=1, why="w")], [], Budget())
    told = " ".join(m["content"] for m in messages[1:])
    for part in ("Ada came to the lighthouse.", "A gull nests on the rail.", "The gull cries.", "Wave at the gull."):
        assert part in told


def test_world_keys_are_whole_words_any_case():
    cards = [WorldEntry(name="Ash", keys=["Ash"], text="A grey cat."), WorldEntry(name="Sun", keys=["sun"], text="x", always=True)]
    assert [c.name for c in triggered(cards, "You pet ASH.")] == ["Ash"]
    assert triggered(cards, "The crash of waves.") == []  # 'ash' inside 'crash' does not count; always-on cards are in the prefix


def test_pieces_keep_each_fact_in_its_own_sentence():
    text = "The rain falls. The brass key is under the third step of the cellar stair. Ok. Nobody saw you take it."
    parts = pieces(text)
    holding = [p for p in parts if "The brass key is under the third step of the cellar stair." in p]
    assert len(holding) == 1 and len(holding[0].split()) < 20  # with at most a short neighbour, not the paragraph
    assert " ".join(parts).split() == text.split()


def test_safe_strips_terminal_sequences():
    assert safe("a\x1b]0;title\x07b\x1b[2Jc\x07d\x00e\n\tf") == "abcde\n\tf"


def test_one_long_passage_does_not_crowd_out_the_others():
    story = story_with("The gull cries.", "Ada came to the lighthouse.")
    recalled = [Recalled(step=1, text="word " * 3000, score=1, why="w"), Recalled(step=2, text="The key is under the mat.", score=1, why="w")]
    user = narration_messages(story, 3, "Look.", recalled, [], Budget())[-1]["content"]
    assert "The key is under the mat." in user and "(step 1) word word" in user
