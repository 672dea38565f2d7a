"""A llama.cpp server the player runs on this machine keeps the story's cache across games, as the
local model does, when it was started with `--slot-save-path` the game's cache folder; any other
server (no slot saving, another folder, not llama.cpp) is told the story as before. The servers
serve the tiny model of tests/tiny_model.py: what is kept matters here, not what is said."""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from game.core.events import Notice
from game.core.models import Preferences
from game.core.paths import kv_cache_dir, kv_slot_key
from game.core.settings import Settings
from game.saves.slot import Slot
from game.session import Game, Model
from game.stories.loader import load_seed
from tests.llama_server import LlamaServer, available
from tests.local_model import seed_file

# a real llama.cpp server, seconds a test (pytest -m 'not slow' leaves it out)
needs_server = [pytest.mark.slow, pytest.mark.skipif(not available(), reason="xllamacpp is not installed")]


def _new_story(tmp_path: Path) -> Path:
    saves = tmp_path / "saves"
    Slot.create(saves, "well", load_seed(seed_file(tmp_path)).filled(), Preferences(paragraph_words=40)).close()
    return saves


async def _play(url: str, saves: Path, action: str):
    """One step of slot `well` against the server at `url`, as the game makes its backend: (the
    notices heard, the backend)."""
    settings = Settings(backend="llamacpp", base_url=url, model="local", memory_words=50, retry_base=0.01,
                        timeout=300)
    model = Model(settings)
    game = await Game.open(settings, saves, "well", model=model)
    notices: list[str] = []
    try:
        await game.tell(action, lambda event: notices.append(event.text) if isinstance(event, Notice) else None)
        backend = await model.ready()
    finally:
        await game.close()
        await model.close()
    return notices, backend


@needs_server[0]
@needs_server[1]
def test_a_llama_server_saving_into_the_cache_folder_keeps_the_story_across_restarts(tmp_path, caplog, tiny_gguf):
    """A file that does not match (a flipped byte, another model) is refused by the same StoryCache
    check before any server is asked to restore it: tests/test_kvcache_local.py plays that on the
    game's own child, so a third server here would prove nothing more."""
    from game.llm.server_kv import KeptServerBackend

    caplog.set_level(logging.INFO, logger="recurrent.kvcache")
    saves = _new_story(tmp_path)
    options = ("--slot-save-path", str(kv_cache_dir()))
    kv_cache_dir().mkdir(parents=True, exist_ok=True)
    with LlamaServer(tiny_gguf, n_ctx=4096, extra=options) as server:
        notices, backend = asyncio.run(_play(server.url, saves, "Walk into the forest."))
    assert isinstance(backend, KeptServerBackend) and backend.kv is not None, caplog.text
    key = kv_slot_key(saves, "well")
    assert sorted(p.name for p in kv_cache_dir().iterdir()) == [f"{key}.json", f"{key}.kv"]  # the probe is gone
    assert not [p for p in saves.rglob("*") if p.suffix in (".kv", ".part")]

    with LlamaServer(tiny_gguf, n_ctx=4096, extra=options) as server:  # a new server: nothing in its memory
        notices, backend = asyncio.run(_play(server.url, saves, "Look for the well."))
    read, reused = backend.opened
    assert reused > read, (read, reused)
    assert any("reused from the cache" in text for text in notices), notices



@needs_server[0]
@needs_server[1]
@pytest.mark.parametrize("where", ["none", "elsewhere"])
def test_a_llama_server_that_cannot_keep_it_where_the_game_sees_it_is_told_the_story_as_before(tmp_path, caplog, where,
                                                                                               tiny_gguf):

    caplog.set_level(logging.INFO, logger="recurrent.kvcache")
    saves = _new_story(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    options = ("--slot-save-path", str(elsewhere)) if where == "elsewhere" else ()
    with LlamaServer(tiny_gguf, n_ctx=4096, extra=options) as server:
        notices, backend = asyncio.run(_play(server.url, saves, "Walk into the forest."))
    assert backend.kv is None and backend.opened is None
    assert not any("reused from the cache" in text for text in notices)
    said = {"none": "started without --slot-save-path", "elsewhere": "saves slots in a folder of its own"}[where]
    assert said in caplog.text and str(kv_cache_dir()) in caplog.text  # says which folder to give it
    assert not kv_cache_dir().exists() or not list(kv_cache_dir().iterdir())
    # Elsewhere: only the probe (an empty slot, a few bytes), never the story.
    left = list(elsewhere.iterdir())
    assert all(p.name.startswith("recurrent-probe-") and p.stat().st_size < 4096 for p in left), left
    with Slot.open(saves, "well") as slot:
        assert [step.number for step in slot.story.steps] == [0, 1]


def test_a_server_that_is_not_llama_cpp_is_asked_nothing_more(server, saves, seed_path, caplog):
    """The stand-in (an OpenAI-compatible server on loopback, not llama.cpp): no slot action, no log line."""
    caplog.set_level(logging.INFO, logger="recurrent.kvcache")
    Slot.create(saves, "well", load_seed(seed_path).filled(), Preferences()).close()
    notices, backend = asyncio.run(_play(server.url, saves, "Check the lamp."))
    assert backend.kv is None and "kv cache" not in caplog.text
    assert not [body for body in server.requests if "filename" in body]

