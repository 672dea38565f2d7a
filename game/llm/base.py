"""What every backend shares: the call vocabulary (from core) and the retry policy."""
from __future__ import annotations

from dataclasses import dataclass

from game.core.calls import CallUsage, InvalidOutput, Listener, Message, ModelError, Notice, Reply, Usage

__all__ = ["CallUsage", "InvalidOutput", "Listener", "Message", "ModelError", "Notice", "Reply", "RetryPolicy", "Usage"]


@dataclass
class RetryPolicy:
    attempts: int = 5  # tries in all, for one call
    base: float = 0.5  # seconds before the first retry; doubles each time
    cap: float = 8.0
    invalid_attempts: int = 3  # tries when the answer is not valid JSON for the schema
    timeout: float = 120.0  # seconds without a byte (a stream: without an event) before a try counts as failed
    deadline: float = 600.0  # the most one try of a call may take, however busy the server keeps the connection

    hint_cap: float = 60.0  # the longest wait a server's Retry-After can ask of us

    def delay(self, attempt: int, hint: float | None = None) -> float:
        wait = min(self.cap, self.base * (2 ** attempt))
        if hint is not None:
            wait = min(self.hint_cap, max(wait, hint))  # the server knows best, within reason
        return wait
