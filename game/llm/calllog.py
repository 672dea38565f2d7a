"""What a model call leaves in the debug log (game/core/logs.py): the request's messages, how
long it took, what it cost, and the server's errors. Never a header, so never a key."""
from __future__ import annotations

import itertools
import json
import logging
import time

from game.core.logs import logger

log = logger("llm")
_numbers = itertools.count(1)


class Call:
    """One request, from its sending to its answer or its failure."""

    def __init__(self, base_url: str, model: str, kind: str, messages: list, asked: str | None) -> None:
        self.number = next(_numbers)
        self.started = time.perf_counter()
        self.first: float | None = None
        if log.isEnabledFor(logging.INFO):
            log.info("request %d: %s to %s, model %s, %d messages, structured output: %s\n%s", self.number, kind,
                     base_url, model, len(messages), asked or "none", json.dumps(messages, ensure_ascii=False))

    def heard(self) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.started

    def done(self, prompt_tokens: int, completion_tokens: int, finish: str, text: str) -> None:
        seconds = time.perf_counter() - self.started
        first = f", first text after {self.first:.2f} s" if self.first is not None else ""
        log.info("answer %d: %s in %.2f s%s; %d prompt and %d answer tokens", self.number, finish or "no finish",
                 seconds, first, prompt_tokens, completion_tokens)
        log.debug("answer %d text: %s", self.number, text)

    def failed(self, error: BaseException) -> None:
        status = getattr(error, "status_code", None)
        body = getattr(error, "body", None)
        said = json.dumps(body, ensure_ascii=False)[:2000] if body is not None else str(error)[:2000]
        log.warning("request %d failed after %.2f s: %s%s: %s", self.number, time.perf_counter() - self.started,
                    type(error).__name__, f" {status}" if status else "", said)


def note(message: str, *args) -> None:
    """Something worth keeping about the backend: a format decision, a window, a calibration."""
    log.info(message, *args)
