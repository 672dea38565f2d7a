"""How many real tokens the game's estimate (game.core.text.tokens) stands for, on this server.

Tokenizers differ by model and by language: the estimate may be a third too high for one
and twice too low for another. The prompt's budget is in real tokens (it must fit the
server's window), so each backend learns the ratio from what the server counts: the
`usage.prompt_tokens` it reports, or, when it reports none, its own tokenizer: llama.cpp's
server answers `POST /tokenize`, llama-cpp-python's (which reports no usage when streaming)
`POST /extras/tokenize/count`. The model never loads in this process.
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


def _llama_server(answer: dict) -> int | None:
    tokens = answer.get("tokens")
    return len(tokens) if isinstance(tokens, list) else None


def _llama_cpp_python(answer: dict) -> int | None:
    return answer.get("count")


# Where each kind of server counts, what it is sent, and how its answer is read.
TOKENIZERS = (("/tokenize", "content", _llama_server), ("/extras/tokenize/count", "input", _llama_cpp_python))
_found: dict[str, int] = {}  # server -> the tokenizer that answered it


def count_tokens(base_url: str, text: str, api_key: str = "") -> int | None:
    """The server's own token count for `text`, or None when it has no tokenizer endpoint that
    answers. Its API key, if any, is sent as for any call. Blocking: call it in a thread."""
    base = base_url.rstrip("/")
    root = base[: -len("/v1")] if base.endswith("/v1") else base
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {api_key}"} if api_key else {})
    known = _found.get(root, 0)
    for index in sorted(range(len(TOKENIZERS)), key=lambda index: index != known):  # the one that answered first
        path, field, read = TOKENIZERS[index]
        request = urllib.request.Request(f"{root}{path}", data=json.dumps({field: text}).encode(), headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                answer = json.loads(response.read(5_000_000))
            count = read(answer) if isinstance(answer, dict) else None
        except (OSError, ValueError, AttributeError, urllib.error.URLError):
            continue
        if isinstance(count, int) and not isinstance(count, bool) and count > 0:
            _found[root] = index
            return count
    return None
