"""Which backend to use: the one named, else the first one found."""
from __future__ import annotations

import os
from dataclasses import dataclass

from game.settings import PROFILES, Settings


@dataclass
class Choice:
    kind: str  # "openai" (any OpenAI-compatible server) or "local"
    base_url: str = ""
    model: str = ""
    gguf: str | None = None
    how: str = ""  # why this one was chosen, for `recurrent doctor`


def _openai_choice(settings: Settings, base_url: str, how: str, default_model: str | None = None) -> Choice:
    from game.llm import NoBackend

    model = settings.model or default_model
    if not model:
        raise NoBackend(f"no model named for {base_url}: pass --model or set RECURRENT_MODEL")
    return Choice("openai", base_url=base_url.rstrip("/"), model=model, how=how)


def choose(settings: Settings) -> Choice:
    from game.llm import HOW_TO, NoBackend

    env_url = os.environ.get("OPENAI_BASE_URL")
    profile = settings.backend
    if profile == "local":
        return Choice("local", gguf=settings.gguf, model=settings.gguf or "SmolLM2-135M-Instruct (demo)", how="named")
    if profile != "auto":
        url = settings.base_url or (env_url if profile == "openai" and env_url else PROFILES[profile])
        default = "gpt-4o-mini" if profile == "openai" else None
        return _openai_choice(settings, url, f"profile {profile}", default)
    if settings.base_url or env_url:
        return _openai_choice(settings, settings.base_url or env_url, "OPENAI_BASE_URL")
    if os.environ.get("OPENAI_API_KEY"):
        return _openai_choice(settings, PROFILES["openai"], "OPENAI_API_KEY", "gpt-4o-mini")
    raise NoBackend(f"no model backend found: {HOW_TO}")
