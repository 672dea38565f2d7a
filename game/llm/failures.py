"""How a call to an OpenAI-compatible server fails, in one plain sentence for the player.

The backend's own failures (a stream cut short, a garbled event, a page that is no API, a stall,
a deadline passed) are named here beside the openai client's, and `describe` says of each what
went wrong, whether trying again may help and what the player can do.
"""
from __future__ import annotations

import openai

from game.core.calls import SETTINGS_HINT
from game.core.redact import redact
from game.core.text import safe
from game.llm.base import RetryPolicy


class StreamCut(Exception):
    """The server closed a stream before saying it was finished."""


class Garbled(Exception):
    """The server sent a stream event that is not JSON."""


class NotOpenAI(Exception):
    """The server answered, but not the way an OpenAI-compatible API does (a web page, say)."""


class Stalled(Exception):
    """The server kept a stream open but sent nothing, keep-alive comments at most, for too long."""


class Overdue(Exception):
    """One call took longer than the most a call may take (the total deadline)."""


def server_says(error: Exception, limit: int = 160) -> str:
    """The server's own reason, short and safe to print."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        body = body.get("error", body)
        body = body.get("message") if isinstance(body, dict) else body
    text = " ".join(redact(safe(str(body or ""))).split())
    return text[:limit]


def retry_hint(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    if response is None:
        return None
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = response.headers.get(header)
        if value:
            try:
                return float(value) * scale
            except ValueError:
                return None
    return None


# What the player can do, by what went wrong (shown under the problem; the UI matches no text).
RUNNING = f"Check that the server is running, or {SETTINGS_HINT[0].lower()}{SETTINGS_HINT[1:]}"
WAIT = "Wait a moment and try again."
KEY = "Set OPENAI_API_KEY before starting the game."
MODEL = "Set the model in Settings, or with --model or RECURRENT_MODEL."


def describe(error: Exception, base_url: str, model: str, policy: RetryPolicy) -> tuple[str, bool, str]:
    """One plain sentence for the player, whether trying again may help, and what they can do."""
    base_url = redact(base_url)  # a password in the URL is a key too
    if isinstance(error, Stalled):
        return f"the model server sent nothing for {policy.timeout:g} s (keep-alives at most)", True, RUNNING
    if isinstance(error, Overdue):
        return (f"the model's answer took longer than {policy.deadline:g} s, the most one call may take", False,
                "Raise the deadline (RECURRENT_DEADLINE, in seconds), or use a faster model or server.")
    if isinstance(error, NotOpenAI):
        return (f"the server at {base_url} did not answer like an OpenAI-compatible API "
                "(check the URL: it usually ends in /v1)"), False, SETTINGS_HINT
    if isinstance(error, openai.RateLimitError):
        if getattr(error, "code", None) == "insufficient_quota" or "quota" in server_says(error).lower():
            return (f"the model server says the account is out of quota or credit ({server_says(error)})", False,
                    "Add credit to the account, or " + SETTINGS_HINT[0].lower() + SETTINGS_HINT[1:])
        return "the model server is rate limiting us", True, WAIT
    if isinstance(error, openai.APITimeoutError):
        return "the model server is slow to answer", True, RUNNING
    if isinstance(error, openai.APIConnectionError):
        return f"cannot reach the model server at {base_url}", True, RUNNING
    if isinstance(error, openai.AuthenticationError):
        return f"the model server at {base_url} refused the API key (check OPENAI_API_KEY)", False, KEY
    if isinstance(error, openai.NotFoundError):
        return f"the model server at {base_url} has no model {model!r} (set --model or RECURRENT_MODEL)", False, MODEL
    if isinstance(error, openai.APIStatusError):
        retry = error.status_code >= 500 or error.status_code in (408, 409)
        reason = server_says(error)
        return f"the model server answered {error.status_code}" + (f": {reason}" if reason else ""), retry, RUNNING
    if isinstance(error, StreamCut):
        return "the model's answer was cut short", True, "Try again."
    if isinstance(error, Garbled):
        return "the model server sent a garbled answer", True, "Try again."
    return f"the model call failed ({type(error).__name__})", False, "Try again."


def cache_counts(timings: dict, usage) -> tuple[int | None, int | None]:
    """(prompt tokens read afresh, prompt tokens reused from the server's cache), where the server
    says: llama.cpp's `timings` (prompt_n, cache_n), else OpenAI's usage.prompt_tokens_details."""
    read, reused = timings.get("prompt_n"), timings.get("cache_n")
    if isinstance(read, int) and isinstance(reused, int):
        return read, reused
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None)
    total = getattr(usage, "prompt_tokens", None)
    if isinstance(cached, int) and isinstance(total, int):
        return total - cached, cached
    return None, None
