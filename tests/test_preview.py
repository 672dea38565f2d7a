"""What the narrator reads: the studio's preview is the very request a game sends; the author's
note is in every turn, the same each time; what the prefix's ceiling clips is named."""
from __future__ import annotations

import random

from game.core.models import Preferences
from game.core.seed import Seed, WorldEntry
from game.core.world import triggered
from game.engine.narrator import EngineSettings, Narrator
from game.engine.preview import first_request
from game.engine.prompts import Budget, system_prompt
from game.saves.slot import Slot

NOTE = "Keep the storm rising; the keeper is alive."


def _seed(**changes) -> Seed:
    base = dict(title="The Lighthouse", genre="mystery", premise="A keeper has vanished.", protagonist={"name": "Ada"},
                opening="You climb the last stair. The logbook lies open and the lamp turns for no one.",
                options=["Read the logbook.", "Check the lamp.", "Go back down."],
                world=[WorldEntry(name="The logbook", keys=["logbook"], text="Every ship since 1890."),
                       WorldEntry(name="Skerry Point", keys=["Skerry"], text="Black basalt.", always=True)])
    return Seed(**{**base, **changes})


async def _game(server, saves, seed, backend_for, name="t") -> Narrator:
    slot = Slot.create(saves, name, seed, Preferences(rating=seed.rating))
    return Narrator(slot, backend_for(server), EngineSettings())


async def test_the_preview_is_the_first_request_the_game_sends(server, saves, backend_for, end_game):
    seed = _seed(authors_note=NOTE, instructions="Never let the reader meet the keeper before nightfall.")
    game = await _game(server, saves, seed, backend_for)
    await game.begin()  # the author's opening and options: no model call
    assert server.narrations() == []
    await game.step("Read the logbook.")
    sent = server.narrations()[0]["messages"]
    preview = first_request(seed, game.story.prefs, Budget(EngineSettings().prompt_tokens), "Read the logbook.")
    assert preview.messages == sent
    assert [e.name for e in preview.triggered] == ["The logbook"]  # the opening and the action name it
    assert "The author's instructions: Never let the reader" in sent[0]["content"]
    await end_game(game)


async def test_the_preview_of_a_seed_without_an_opening_is_the_request_to_begin(server, saves, backend_for, end_game):
    seed = _seed(opening="", options=[], authors_note=NOTE)
    game = await _game(server, saves, seed, backend_for)
    await game.begin()
    preview = first_request(seed, game.story.prefs, Budget())
    assert preview.number == 0 and preview.messages == server.narrations()[0]["messages"]
    assert preview.messages[-1]["content"] == f"Author's note: {NOTE}\n\nThe reader's action: Begin the story."
    await end_game(game)


async def test_the_authors_note_is_in_every_turn_and_each_request_repeats_the_last(server, saves, backend_for, end_game):
    game = await _game(server, saves, _seed(opening="", options=[], authors_note=NOTE), backend_for)
    await game.begin()
    for action in ("Read the logbook.", "Check the lamp.", "Go down the stairs."):
        await game.step(action)
    requests = [r["messages"] for r in server.narrations()]
    assert len(requests) == 4
    for before, after in zip(requests, requests[1:]):
        assert after[: len(before)] == before  # byte for byte: the server's cache holds all of it
    turns = [m["content"] for m in requests[-1] if m["role"] == "user"]
    assert len(turns) == 4
    for turn in turns:  # just before the action, every time
        assert f"Author's note: {NOTE}\n\nThe reader's action: " in turn
    await end_game(game)


def test_a_seed_without_a_note_or_instructions_sends_what_it_always_sent():
    seed = _seed()
    preview = first_request(seed)
    system = preview.messages[0]["content"]
    assert "Author's note" not in "".join(m["content"] for m in preview.messages)
    assert "instructions" not in system
    assert system.endswith("\n\nWorld:\n- Skerry Point: Black basalt.") and "\n\nTitle: The Lighthouse\nGenre: mystery" in system


def _heavy(entries: int = 6, words: int = 500) -> Seed:
    rng = random.Random(1)
    vocab = "stone river lantern market guild salt tower bridge harbour winter archive ledger".split()
    lore = [WorldEntry(name=f"Law {i + 1}", always=True, text=" ".join(rng.choice(vocab) for _ in range(words)) + ".")
            for i in range(entries)]
    return _seed(world=lore)


def test_what_the_prefix_clips_is_named_and_measured():
    seed = _heavy()  # 3,000 words of always-on lore
    preview = first_request(seed, budget=Budget(3000))
    assert preview.messages[0]["content"] == system_prompt(preview_story(seed), Budget(3000))
    found = {f.where: f.message for f in preview.findings()}
    assert set(found) == {f"world[{i}]" for i in range(6)}
    assert "always-on world entry 'Law 1' will be clipped (" in found["world[0]"] and "reach the narrator" in found["world[0]"]
    assert "none of its" in found["world[5]"] and "900 tokens (30% of a 3,000-token prompt)" in found["world[5]"]
    kept = sum(p.kept for p in preview.parts if p.message == 0)
    assert abs(kept - Budget(3000).prefix) <= 12  # what is sent of the prefix is its ceiling, no more
    parts = {p.where: p for p in preview.parts}
    assert 0 < parts["world[0]"].kept < parts["world[0]"].tokens and parts["world[5]"].kept == 0
    assert not parts["premise"].clipped
    # a bigger budget has room for it all
    assert first_request(seed, budget=Budget(20000)).findings() == []


def preview_story(seed: Seed):
    from game.core import records as r
    from game.core.story import Story

    return Story.begin(r.Begin(seq=0, seed=seed, prefs=Preferences(rating=seed.rating)))


def test_the_report_lists_every_part_with_its_tokens_and_the_budget():
    preview = first_request(_heavy(), budget=Budget(3000))
    lines = preview.report()
    text = "\n".join(lines)
    assert "Budget: 3,000 tokens" in text and "prefix 900" in text
    assert "message 1: system" in text and "message 4: user" in text
    assert any("always-on world entry 'Law 6'" in line and "<< left out" in line for line in lines)
    assert any("always-on world entry 'Law 1'" in line and "<< clipped to" in line for line in lines)
    assert "Always-on lore:" in text and "World entries the opening triggers: none." in text
    assert f"Total: {preview.total:,} of 3,000 tokens." in text


def test_lore_the_turn_has_no_room_for_waits_for_a_later_turn():
    many = [WorldEntry(name=f"Bell {i}", keys=["bell"], text="A bronze bell that rings under the sea. " * 6) for i in range(5)]
    seed = _seed(opening="You hear the bell again.", world=many)
    preview = first_request(seed, budget=Budget(3000))
    assert len(preview.triggered) == 5 and preview.left_out
    sent = preview.messages[-1]["content"]
    assert all(f"- {e.name}:" not in sent for e in preview.left_out)
    assert all(f"- {e.name}:" in sent for e in preview.triggered if e not in preview.left_out)
    note = [f for f in preview.findings() if f.level == "note"]
    assert len(note) == 1 and "wait for a later turn" in note[0].message


async def test_lore_left_out_can_join_the_next_turn(server, saves, backend_for, end_game):
    many = [WorldEntry(name=f"Bell {i}", keys=["bell"], text="A bronze bell that rings under the sea. " * 6) for i in range(5)]
    game = await _game(server, saves, _seed(opening="You wait.", world=many), backend_for)
    await game.begin()
    await game.step("Ring the bell.")
    await game.step("Ring the bell again.")
    first, second = game.story.steps[1].version.world, game.story.steps[2].version.world
    assert first and second and not set(first) & set(second)  # recorded only what was sent; the rest came next
    await end_game(game)


def test_secondary_keys_need_a_key_and_a_secondary_key():
    court = WorldEntry(name="The court", keys=["Queen"], secondary_keys=["palace", "throne"], text="Whispers.")
    plain = WorldEntry(name="The Queen", keys=["Queen"], text="Old.")
    assert [e.name for e in triggered([court, plain], "The Queen rides out.")] == ["The Queen"]
    assert [e.name for e in triggered([court, plain], "The Queen sits on her THRONE.")] == ["The court", "The Queen"]
    assert triggered([court], "The palace is empty.") == []


def test_alternative_openings_and_the_opening_a_reader_picks():
    seed = _seed(openings=["You wake in the lamp room.", "You row out at dusk."])
    assert seed.all_openings()[1:] == ["You wake in the lamp room.", "You row out at dusk."]
    second = seed.opened_with(2)
    assert second.opening == "You row out at dusk." and second.options == [] and second.openings == []
    assert seed.opened_with(0) is seed
    assert first_request(seed.opened_with(1)).messages[2]["content"] == "You wake in the lamp room."


def test_the_bundled_seeds_preview_without_clipping(tmp_path):
    from game.core.paths import library_dir
    from game.stories.loader import list_seeds

    found = list_seeds(library_dir())
    assert len(found) >= 8
    for path, seed in found:
        preview = first_request(seed)
        assert [f for f in preview.findings() if f.level == "warning"] == [], path
        assert preview.total <= Budget().total
