"""The player's settings as every face reads them, and the shares of them the parts get."""
from __future__ import annotations

from pathlib import Path

from game.core.models import Preferences
from game.core.paths import default_saves_dir
from game.core.settings import Settings, load_settings
from game.engine.narrator import EngineSettings
from game.saves.slot import MemoryConfig


def settings_from(args) -> Settings:
    return load_settings(
        model=getattr(args, "model", None),
        backend=getattr(args, "backend", None),
        base_url=getattr(args, "base_url", None),
        gguf=getattr(args, "gguf", None),
        saves_dir=getattr(args, "saves_dir", None),
    )


def saves_root(args, settings: Settings) -> Path:
    explicit = getattr(args, "saves_dir", None) or settings.saves_dir
    return Path(explicit).expanduser() if explicit else default_saves_dir()


def memory_config(settings: Settings) -> MemoryConfig:
    return MemoryConfig(host=settings.chroma_host, port=settings.chroma_port, seconds=settings.memory_timeout)


def prefs_from(settings: Settings, seed, current: Preferences | None = None) -> Preferences:
    """The reader's preferences: the player's settings, the seed's content rating (kept from
    `current`, the story's own, when there is one)."""
    rating = current.rating if current is not None else seed.rating
    return Preferences(person=settings.person, tone=settings.tone, paragraph_words=settings.paragraph_words, rating=rating)


def engine_settings(settings: Settings) -> EngineSettings:
    """The engine's share of the player's settings."""
    # A ceiling the player did not set is the engine's to fit to the server (Narrator.budget).
    ceiling = settings.prompt_tokens if "prompt_tokens" in settings.model_fields_set else None
    return EngineSettings(settings.temperature, settings.memory_words, ceiling, settings.context)
