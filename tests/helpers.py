"""Helpers for tests that drive the engine in-process against the stand-in server."""
from __future__ import annotations

from pathlib import Path

from game.engine.narrator import EngineSettings, Narrator
from game.llm.base import RetryPolicy
from game.llm.openai_backend import OpenAIBackend
from game.saves.slot import Slot
from game.stories.loader import load_seed


def backend_for(server, **policy) -> OpenAIBackend:
    settings = {"base": 0.01, "timeout": 2.0, **policy}
    return OpenAIBackend(base_url=server.url, api_key="sk-test", model="standin", policy=RetryPolicy(**settings))


async def new_game(server, saves: Path, seed_path: Path, name: str = "test", **policy) -> Narrator:
    slot = Slot.create(saves, name, load_seed(seed_path))
    narrator = Narrator(slot, backend_for(server, **policy), EngineSettings())
    await narrator.begin()
    return narrator


async def end_game(narrator: Narrator) -> None:
    narrator.slot.close()
    await narrator.backend.close()
