"""How many tokens a model server holds: its context window, asked the way each server tells it.

The prompt's budget is fitted to this window: Ollama's OpenAI-compatible endpoint, for one,
silently drops the front of a prompt longer than its window, and the front is where the
narrator's rules are. Each server says it in its own place:

- llama.cpp's `llama-server`: `GET /props` → `default_generation_settings.n_ctx`;
- vLLM: `GET /v1/models` → `max_model_len`;
- KoboldCpp: `GET /api/extra/true_max_context_length`;
- Ollama: `GET /api/ps` (a loaded model's `context_length`), else `POST /api/show` (a
  `num_ctx` parameter), else its documented default;
- LM Studio: `GET /api/v0/models/MODEL` → `loaded_context_length`;
- OpenAI itself: its models' published windows.

Blocking (plain HTTP with short timeouts); the backend calls it once, in a thread.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

TIMEOUT = 1.5
OLLAMA_DEFAULT = 4096  # what Ollama gives a model on a machine without a large GPU, unless told otherwise
OPENAI_WINDOWS = {"gpt-4o": 128_000, "gpt-4.1": 1_000_000, "gpt-4-turbo": 128_000, "gpt-5": 400_000, "o3": 200_000,
                  "o4": 200_000, "gpt-3.5-turbo": 16_385}


def _get(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.loads(response.read(2_000_000) or b"null")


def _number(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else None


def _llamacpp(root: str, base: str, model: str) -> int | None:
    props = _get(f"{root}/props")
    return _number(((props or {}).get("default_generation_settings") or {}).get("n_ctx"))


def _vllm(root: str, base: str, model: str) -> int | None:
    listing = _get(f"{base}/models")
    for entry in (listing or {}).get("data") or []:
        if isinstance(entry, dict) and entry.get("id") == model:
            return _number(entry.get("max_model_len")) or _number((entry.get("meta") or {}).get("n_ctx"))
    return None


def _koboldcpp(root: str, base: str, model: str) -> int | None:
    return _number((_get(f"{root}/api/extra/true_max_context_length") or {}).get("value"))


def _ollama(root: str, base: str, model: str) -> int | None:
    running = _get(f"{root}/api/ps") or {}
    for entry in running.get("models") or []:
        if isinstance(entry, dict) and model in (entry.get("name"), entry.get("model")):
            if _number(entry.get("context_length")):
                return _number(entry.get("context_length"))
    shown = _get(f"{root}/api/show", {"model": model}) or {}
    found = re.search(r"(?m)^\s*num_ctx\s+(\d+)", str(shown.get("parameters") or ""))
    if found:
        return int(found.group(1))
    return OLLAMA_DEFAULT if "modelfile" in shown or "model_info" in shown else None


def _lmstudio(root: str, base: str, model: str) -> int | None:
    info = _get(f"{root}/api/v0/models/{model}") or {}
    return _number(info.get("loaded_context_length")) or _number(info.get("max_context_length"))


def _openai(root: str, base: str, model: str) -> int | None:
    if "api.openai.com" not in root:
        return None
    for prefix, window in sorted(OPENAI_WINDOWS.items(), key=lambda item: -len(item[0])):
        if model.startswith(prefix):
            return window
    return None


PROBES = (_openai, _llamacpp, _vllm, _koboldcpp, _ollama, _lmstudio)


def probe(base_url: str, model: str) -> tuple[int | None, str]:
    """The context window of `model` at the server `base_url` (None when the server does not say),
    and which kind of server said it ("llamacpp", "ollama", ...; "" when none did)."""
    base = base_url.rstrip("/")
    root = base[: -len("/v1")] if base.endswith("/v1") else base
    for ask in PROBES:
        try:
            found = ask(root, base, model)
        except (OSError, ValueError, urllib.error.URLError, AttributeError, TypeError):
            continue
        if found:
            return found, ask.__name__.lstrip("_")
    return None, ""
