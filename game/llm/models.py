"""The models a server offers, asked the standard way (`GET /v1/models` through the openai
client) for every profile, so the settings screen can offer them as a list and `doctor` can
print them. Blocking, with a short timeout: call it in a thread from an event loop."""
from __future__ import annotations

import os

from game.core.errors import PlayerError, one_line
from game.core.settings import PROFILES, Settings
from game.llm.calllog import note

TIMEOUT = 5.0


OLLAMA_DEFAULT = "http://localhost:11434"
# Model families that only embed; Ollama lists them with the chat models.
EMBEDDING_FAMILIES = {"bert", "nomic-bert", "jina-bert", "xlm-roberta", "bge", "clip"}


def ollama_root() -> str:
    """Ollama's address: OLLAMA_HOST as Ollama itself reads it ("host", "host:port" or a URL)."""
    value = (os.environ.get("OLLAMA_HOST") or "").strip().rstrip("/")
    if not value:
        return OLLAMA_DEFAULT
    if "://" not in value:
        value = "http://" + value
    scheme, rest = value.split("://", 1)
    host = rest.split("/", 1)[0]
    if ":" not in host.rsplit("]", 1)[-1]:
        rest = rest.replace(host, f"{host}:11434", 1)
    return f"{scheme}://{rest}"


def is_embedding_model(entry: dict) -> bool:
    name = str(entry.get("name") or entry.get("model") or "").lower()
    details = entry.get("details") or {}
    families = {str(f).lower() for f in (details.get("families") or [])} | {str(details.get("family") or "").lower()}
    return "embed" in name or "minilm" in name or bool(families & EMBEDDING_FAMILIES)


class ModelsUnknown(PlayerError):
    """The server did not say which models it has; one line."""

    hint = "Type the model's name instead; `recurrent doctor` shows what the server answers."


def server_for(settings: Settings) -> str | None:
    """The base URL the settings point at, without probing anything (None: the local model)."""
    if settings.backend == "local" or (settings.backend == "auto" and settings.gguf):
        return None
    if settings.base_url:
        return settings.base_url.rstrip("/")
    env_url = os.environ.get("OPENAI_BASE_URL")
    if settings.backend == "ollama":
        return f"{ollama_root()}/v1"
    if settings.backend in PROFILES:
        return (env_url if settings.backend == "openai" and env_url else PROFILES[settings.backend]).rstrip("/")
    if env_url:
        return env_url.rstrip("/")
    if os.environ.get("OPENAI_API_KEY"):
        return PROFILES["openai"]
    return f"{ollama_root()}/v1"  # auto-detection looks there next


def list_models(base_url: str, api_key: str | None = None, timeout: float = TIMEOUT) -> list[str]:
    """The chat models the server at `base_url` lists, sorted; ModelsUnknown in one line if it
    cannot say (down, no /models, not an OpenAI-compatible API)."""
    import openai

    key = os.environ.get("OPENAI_API_KEY", "") if api_key is None else api_key
    client = openai.OpenAI(base_url=base_url, api_key=key or "not-needed", max_retries=0, timeout=timeout)
    try:
        names = sorted({model.id for model in client.models.list() if getattr(model, "id", None)})
    except openai.APIStatusError as error:
        raise ModelsUnknown(f"{base_url} did not list its models (it answered {error.status_code})") from None
    except openai.APIConnectionError:
        raise ModelsUnknown(f"cannot reach {base_url} to list its models") from None
    except Exception as error:  # a web page, a garbled answer: say so, do not crash a screen
        raise ModelsUnknown(f"{base_url} did not list its models ({one_line(error) or type(error).__name__})") from None
    finally:
        client.close()
    chat = [name for name in names if not is_embedding_model({"name": name})]
    note("%s lists %d models: %s", base_url, len(chat), ", ".join(chat[:20]))
    return chat


def models_for(settings: Settings) -> tuple[str, list[str]]:
    """(where, models) for the settings: the server's list, or the local model's own name."""
    url = server_for(settings)
    if url is None:
        from game.llm.local import BUNDLED_NAME

        return "the local backend", [os.path.basename(settings.gguf) if settings.gguf else BUNDLED_NAME]
    return url, list_models(url)
