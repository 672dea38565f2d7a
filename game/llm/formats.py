"""How structured output is asked of a server, decided from what the server says.

Servers that call themselves OpenAI-compatible differ here more than anywhere:

- OpenAI, vLLM, Ollama, LM Studio and llama.cpp's `llama-server` take
  `response_format: {"type": "json_schema", "json_schema": {...}}`;
- llama-cpp-python's server refuses that type (with a 500 and a validation error, "Input
  should be 'text' or 'json_object'") and takes `{"type": "json_object", "schema": {...}}`;
- some take only plain `{"type": "json_object"}`, and some no `response_format` at all
  (then the prompt's "answer with JSON only" and the tolerant parser do the work).

So the ladder is tried from the top, and a refusal that names the format, whatever its status
code, moves down it: straight to the rung the server says it takes, past the rungs it rules
out. The rung a server takes is remembered for the session, per server, so a backend made
again (new settings, `doctor`) does not ask wrongly first.
"""
from __future__ import annotations

import re
import threading

JSON_SCHEMA = "json_schema"
JSON_OBJECT_SCHEMA = "json_object+schema"  # llama-cpp-python's form
JSON_OBJECT = "json_object"
GRAMMAR = "grammar"  # a GBNF grammar in the request: llama.cpp's own way, for servers known to take it

LADDER: tuple[str | None, ...] = (JSON_SCHEMA, JSON_OBJECT_SCHEMA, JSON_OBJECT, None)

# An error names the way we asked when it speaks of response_format or a schema type.
_NAMES = re.compile(r"response_format|json_schema|json_object", re.IGNORECASE)
# "Input should be 'text' or 'json_object'", "must be one of: text, json_object", "expected ... json_object"
_TAKES_OBJECT = re.compile(r"(should be|must be|one of|expected|allowed|supported)[^.\n]{0,80}json_object", re.IGNORECASE)

_decided: dict[tuple[str, tuple], str | None] = {}
_lock = threading.Lock()


def names_format(said: str) -> bool:
    """Whether a server's error is about the way structured output was asked for."""
    return bool(_NAMES.search(said or ""))


def after_refusal(ladder: tuple[str | None, ...], refused: str | None, said: str) -> str | None | bool:
    """The rung to ask next after `refused` was refused with `said`; False when none is left."""
    if refused not in ladder:
        return False
    below = list(ladder[ladder.index(refused) + 1:])
    if not below:
        return False
    if refused == JSON_SCHEMA and JSON_OBJECT_SCHEMA in below and _TAKES_OBJECT.search(said):
        return JSON_OBJECT_SCHEMA  # the server named the type it takes
    if refused in (JSON_OBJECT_SCHEMA, JSON_OBJECT) and re.search(r"json_object", said, re.IGNORECASE) \
            and not re.search(r"schema", said, re.IGNORECASE):
        below = [rung for rung in below if rung not in (JSON_OBJECT_SCHEMA, JSON_OBJECT)]  # no JSON mode at all
    return below[0] if below else False


def remembered(base_url: str, ladder: tuple[str | None, ...]) -> str | None:
    """The rung this server took earlier in the session, else the top of the ladder."""
    with _lock:
        return _decided.get((base_url, ladder), ladder[0])


def remember(base_url: str, ladder: tuple[str | None, ...], rung: str | None) -> None:
    with _lock:
        _decided[(base_url, ladder)] = rung


def forget_all() -> None:
    """For tests: a fresh session."""
    with _lock:
        _decided.clear()


def described(rung: str | None) -> str:
    return {JSON_SCHEMA: "JSON-schema output", JSON_OBJECT_SCHEMA: "JSON output with a schema",
            JSON_OBJECT: "JSON output", GRAMMAR: "grammar-constrained output", None: "JSON in the text"}[rung]
