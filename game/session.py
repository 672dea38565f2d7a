"""What the command line and the UI share: settings, the saves folder, memory config."""
from __future__ import annotations

from pathlib import Path

from game.engine.models import Preferences
from game.saves.names import default_saves_dir
from game.saves.slot import MemoryConfig
from game.settings import Settings, load_settings


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
    return MemoryConfig(host=settings.chroma_host, port=settings.chroma_port)


def prefs_from(settings: Settings, seed) -> Preferences:
    """A new game's reader preferences: the player's settings, the seed's content rating."""
    return Preferences(person=settings.person, tone=settings.tone, paragraph_words=settings.paragraph_words, rating=seed.rating)


def engine_settings(settings: Settings):
    """The engine's share of the player's settings (the CLI and the UI both use this)."""
    from game.engine.narrator import EngineSettings

    return EngineSettings(settings.temperature, settings.memory_words, settings.prompt_tokens)
