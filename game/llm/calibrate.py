"""How many real tokens the game's estimate (game.core.text.tokens) stands for, on this server.

Tokenizers differ by model and by language: the estimate may be a third too high for one
and twice too low for another. The prompt's budget is in real tokens (it must fit the
server's window), so each backend learns the ratio from what the server counts: the
`usage.prompt_tokens` it reports, or, when it reports none (llama-cpp-python's server, when
streaming), its own tokenizer at /extras/tokenize/count. The model never loads in this process.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

from game.llm.calllog import note

MIN_ESTIMATE = 40  # a prompt this small says more about the chat template than the tokenizer
SAMPLES = 8  # calls measured at first; then one in EVERY
EVERY = 16
TIMEOUT = 1.5


class Calibration:
    def __init__(self) -> None:
        self.real = 0
        self.estimated = 0
        self.samples = 0
        self.calls = 0

    @property
    def scale(self) -> float:
        """Real tokens per estimated token (1 until the server has counted)."""
        if not self.samples:
            return 1.0
        return min(4.0, max(0.25, self.real / self.estimated))

    def wanted(self) -> bool:
        """Whether this call should be measured (counting with a tokenizer costs a request)."""
        self.calls += 1
        return self.samples < SAMPLES or self.calls % EVERY == 0

    def add(self, estimated: int, real: int | None) -> None:
        if real is None or real <= 0 or estimated < MIN_ESTIMATE:
            return
        self.real += real
        self.estimated += estimated
        self.samples += 1
        if self.samples in (1, SAMPLES):
            note("token estimate calibrated: %.2f real tokens per estimated token (%d calls)", self.scale, self.samples)


def count_tokens(base_url: str, text: str) -> int | None:
    """The server's own token count for `text` (llama-cpp-python's /extras/tokenize/count), or
    None when it has no such endpoint. Blocking: call it in a thread."""
    base = base_url.rstrip("/")
    root = base[: -len("/v1")] if base.endswith("/v1") else base
    request = urllib.request.Request(f"{root}/extras/tokenize/count", data=json.dumps({"input": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            count = json.loads(response.read(100_000)).get("count")
    except (OSError, ValueError, AttributeError, urllib.error.URLError):
        return None
    return count if isinstance(count, int) and count > 0 else None
