"""A recurrence the server can cache: each request repeats the one before and adds a little;
chapters close before the prompt outgrows its budget; retry, undo and edits keep the layout."""
from __future__ import annotations

import json

import pytest

from game.core.events import Options
from game.core.text import tokens
from game.engine import edits
from tests.heard import Heard


def _chars(messages: list[dict]) -> str:
    """The request as a chat template lays it out (ChatML), which is what a KV cache holds."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def _shared(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


async def test_each_request_repeats_the_one_before(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    for action in ("Read the logbook.", "Check the lamp.", "Go down the stairs."):
        await game.step(action)
    requests = server.chat_requests()
    narrate, notes, narrate_next = requests[-4], requests[-3], requests[-2]
    assert "response_format" not in narrate and notes["response_format"]["type"] == "json_schema"
    # The notes continue the narration's conversation: all of it, then the paragraph, then the ask.
    assert notes["messages"][:len(narrate["messages"])] == narrate["messages"]
    assert [m["role"] for m in notes["messages"][-2:]] == ["assistant", "user"]
    # The next narration repeats the notes request up to the paragraph, then the reader's new turn.
    shared = _shared(_chars(notes["messages"]), _chars(narrate_next["messages"]))
    assert shared >= len(_chars(narrate["messages"])) + len(notes["messages"][-2]["content"])
    await end_game(game)


@pytest.mark.slow
async def test_a_chapter_closes_with_a_recap_and_the_prompt_stays_bounded(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    game.settings.prompt_tokens = 1500  # a small window: chapters close every few steps
    sizes = []
    for i in range(40):
        await game.step(f"Walk the gallery, round {i}, and count the gulls on the rail.")
        sizes.append(sum(tokens(m["content"]) for m in server.narrations()[-1]["messages"]))
    closed = [step for step in game.story.steps if step.version.chapter]
    assert len(closed) >= 3
    first = closed[0]
    assert first.version.memory.strip() and first.version.memory != game.story.steps[first.number - 1].version.memory
    # The step after a chapter's close opens with its recap and its own paragraph, nothing older.
    after = server.narrations()[first.number]["messages"]
    assert after[1]["content"].startswith(f"The story so far: {first.version.memory[:40]}")
    assert after[2]["content"] == first.version.paragraph and len(after) == 4
    # The notes asked at the close carried the recap; the others did not.
    asked = [json.dumps(r["response_format"]) for r in server.chat_requests() if r.get("response_format")]
    assert sum('"memory"' in a for a in asked) == len(closed)
    assert max(sizes[20:]) <= 1.25 * max(sizes[:20]) and max(sizes) <= 1500
    await end_game(game)


async def test_retry_sends_the_same_request_and_undo_drops_the_turn(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    await game.step("Read the logbook.")
    await game.step("Check the lamp.")
    told = server.narrations()[-1]
    await game.retry()
    assert server.narrations()[-1]["messages"] == told["messages"]  # a full cache hit
    await edits.undo(game.store)
    await game.step("Check the lamp.")
    again = server.narrations()[-1]["messages"]
    assert again == told["messages"]  # the undone turn is gone from the conversation
    await edits.edit(game.store, 1, "You read the logbook. One page is torn out, and the ink on the next is still wet.")
    await game.step("Look at the torn page.")
    edited = server.narrations()[-1]["messages"]
    assert any(m["content"].startswith("You read the logbook. One page is torn out") for m in edited)
    await end_game(game)


async def test_the_options_arrive_before_the_notes_are_done(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    server.chunk_words = 1  # the notes stream a word at a time
    seen: list[tuple[list[str], int]] = []
    pieces: list[str] = []

    def on_options(event):
        if isinstance(event, Options):
            seen.append((list(event.options), len(server.requests)))

    real = game.backend.structured

    async def structured(*args, on_text=None, **kwargs):
        def hear(piece):
            pieces.append(piece)
            on_text(piece)
        return await real(*args, on_text=hear, **kwargs)

    game.backend.structured = structured
    step = await game.step("Read the logbook.", on_options)
    assert len(seen) == 1 and seen[0][0] == step.version.options
    text = "".join(pieces)
    # Heard once their list closed, before the note that follows them had streamed.
    assert text.index('"note"') > text.index("]") and step.version.note
    await end_game(game)


async def test_a_paragraph_cut_at_its_limit_is_reported_and_loses_its_half_sentence(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    server.finishes.append("length")
    whole = ("The gull lifts off the rail and wheels away over the black water, crying once. Below the gallery the "
             "sea heaves against the rocks, and spray climbs the tower as high as the first window.")
    server.say(f"{whole} The lamp turns once, twice, and then the")
    heard = Heard()
    step = await game.step("Watch the lamp.", heard)
    assert step.version.paragraph == whole
    assert any("reached its length limit" in n.text for n in heard.notices)
    await end_game(game)


async def test_the_budget_fits_the_servers_window(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    server.window = 2048
    heard = Heard()
    await game.step("Read the logbook.", heard)
    assert game.window == 2048
    budget = await game.budget()
    assert budget.total <= 2048 - 360 - 700 and any("too small for a good story" in n.text for n in heard.notices)
    await end_game(game)


async def test_a_window_the_server_does_not_report_comes_from_the_settings(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    game.settings.context = 2500  # the stand-in says nothing of its window
    await game.step("Read the logbook.")
    assert game.window == 2500 and (await game.budget()).total <= 2500 - 360 - 700
    await end_game(game)
