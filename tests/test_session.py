"""The door: a playthrough through `Game` and the saves through `Shelf`, as the faces use them."""
from __future__ import annotations

import asyncio

import pytest

from game.core.events import Notice, Options, Text
from game.core.settings import Settings
from game.session import Game, Model, NoModel, Shelf, close_all
from game.stories.loader import load_seed


def settings_for(server) -> Settings:
    return Settings(backend="openai", base_url=server.url, model="standin", retry_base=0.01)


async def test_a_turn_is_heard_as_typed_events_and_saved(server, saves, seed_path):
    settings = settings_for(server)
    game = await Game.open(settings, saves, "door", load_seed(seed_path).filled())
    heard = []
    try:
        await game.begin()
        step = await game.tell("Read the logbook.", heard.append)
    finally:
        await game.close()
    kinds = [type(event) for event in heard if not isinstance(event, Notice)]
    assert kinds[0] is Text and Options in kinds and kinds.index(Options) > kinds.index(Text)
    told = "".join(event.text for event in heard if isinstance(event, Text))
    assert step.version.paragraph in told or told.strip().startswith(step.version.paragraph[:20])
    assert next(e for e in heard if isinstance(e, Options)).options == tuple(step.version.options)
    assert Shelf(saves).header("door")["steps"] == 1


async def test_the_players_changes_branches_and_copies_go_through_the_game(server, saves, seed_path, tmp_path):
    settings = settings_for(server)
    game = await Game.open(settings, saves, "trunk", load_seed(seed_path).filled())
    try:
        await game.begin()
        await game.tell("Check the lamp.")
        await game.tell("Open the logbook.")
        await game.remember("Ada keeps the lamp.")
        assert game.story.memory == "Ada keeps the lamp."
        await game.pin(["Ada fears heights.", " "])
        assert game.story.pinned == ["Ada fears heights."]
        found = await game.search("lamp", 5)
        assert found and all(why for _entry, why in found)
        assert await game.branch(1, "trunk-at-1") == "trunk-at-1"
        await game.save_as("copy")
        target = await game.export("md", str(tmp_path / "story.md"))
        undone = await game.undo()
        assert undone.number == 2 and game.story.taken == 1
    finally:
        await game.close()
    shelf = Shelf(saves, settings)
    assert set(shelf.names()) == {"trunk", "trunk-at-1", "copy"}
    assert shelf.header("trunk-at-1")["steps"] == 1 and shelf.header("copy")["steps"] == 2
    assert "Open the logbook" in target.read_text()
    info, in_use = shelf.show("trunk")
    assert info["steps"] == 1 and not in_use
    assert [tree.slot for tree in shelf.trees()] == ["trunk"]
    shelf.delete("copy")
    assert "copy" not in shelf.names()


async def test_no_backend_is_said_when_a_step_needs_one_and_the_story_is_kept(saves, seed_path, monkeypatch):
    monkeypatch.setenv("RECURRENT_BACKEND", "vllm")  # a server profile, but no model named
    model = Model(Settings())
    game = await Game.open(Settings(), saves, "none", load_seed(seed_path).filled(), model)
    try:
        with pytest.raises(NoModel, match="no model named"):
            await game.begin()
        assert model.made is None
    finally:
        await game.close()
    assert Shelf(saves).names() == []  # a new slot with nothing but its seed is not kept


async def test_a_game_its_face_left_while_it_opened_is_closed(server, saves, seed_path):
    """Cancelled while the slot opens in its thread: the game is closed once it is open, so its
    lock is let go and the slot can be opened again."""
    settings = settings_for(server)
    seed = load_seed(seed_path).filled()
    first = await Game.open(settings, saves, "left", seed)
    await first.tell("Check the lamp.")  # a slot with a step of its own is kept when closed
    await first.close()
    shown = asyncio.Event()

    async def show(story) -> None:
        shown.set()
        await asyncio.Event().wait()  # the face never finishes showing it: the player leaves

    opening = asyncio.ensure_future(Game.open(settings, saves, "left", shown=show))
    await asyncio.wait([opening, asyncio.ensure_future(shown.wait())], return_when=asyncio.FIRST_COMPLETED)
    assert shown.is_set(), opening.exception()
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    await close_all()  # what a face does as it ends: the abandoned game's close is waited for
    again = await Game.open(settings, saves, "left")
    assert again.story.taken == 1 and again.slot.memory is not None
    await again.close()
