"""Backends behind one small interface; `from_settings` picks one."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from game.core.calls import InvalidOutput, ModelError, Notice, Usage
from game.llm.base import RetryPolicy
from game.llm.detect import HOW_TO, NoBackend

if TYPE_CHECKING:  # for the annotation only: each backend is imported when it is chosen
    from game.llm.local import LocalBackend
    from game.llm.openai_backend import OpenAIBackend

__all__ = ["InvalidOutput", "ModelError", "Notice", "RetryPolicy", "Usage", "from_settings", "NoBackend"]

# A penalty on what the paragraph has already said curbs a weak model's loops. OpenAI and vLLM
# count only the tokens of the answer being written; llama.cpp-based servers (Ollama, LM Studio,
# llama.cpp, the bundled model) count the prompt's last tokens too, and on the bundled model a
# frequency penalty made paragraphs longer and loopier, not shorter (bench/RESULTS.md, "Prose
# quality"), so those keep their own repeat penalty and get none.
FREQUENCY_PENALTY = 0.3


def prose_sampling(settings, base_url: str) -> dict:
    """What prose requests add for this server, to curb repetition."""
    if settings.backend == "vllm" or base_url.startswith("https://api.openai.com"):
        return {"frequency_penalty": FREQUENCY_PENALTY}
    return {}


def policy_from(settings) -> RetryPolicy:
    return RetryPolicy(attempts=settings.retry_attempts, base=settings.retry_base, timeout=settings.timeout,
                       deadline=settings.deadline)


def from_settings(model: str | None = None, base_url: str | None = None, backend: str | None = None, settings=None) -> OpenAIBackend | LocalBackend:
    """The backend the player asked for, or the first that auto-detection finds."""
    from game.llm.detect import choose
    from game.core.settings import load_settings

    settings = settings or load_settings(model=model, base_url=base_url, backend=backend)
    choice = choose(settings)
    if choice.kind == "local":
        from game.llm.local import LocalBackend

        return LocalBackend(gguf=choice.gguf, policy=policy_from(settings), kv_cap=settings.kv_cache_mib << 20)
    from game.llm.openai_backend import OpenAIBackend

    talk = dict(base_url=choice.base_url, api_key=os.environ.get("OPENAI_API_KEY", ""), model=choice.model,
                policy=policy_from(settings), prose_body=prose_sampling(settings, choice.base_url))
    from game.llm.server_kv import KeptServerBackend, on_this_machine

    if on_this_machine(choice.base_url):  # a llama.cpp server here may keep the story's cache (server_kv.py)
        from game.core.paths import kv_cache_dir

        return KeptServerBackend(kv_dir=kv_cache_dir(), kv_cap=settings.kv_cache_mib << 20, **talk)
    return OpenAIBackend(**talk)
