"""Finding the JSON object in what a model said.

Servers that do not enforce the schema often wrap the object in prose or a
markdown code fence. We look for the first decodable JSON object anywhere in
the text instead of parsing section markers with regular expressions.

A hostile answer must not cost more than a fair one: only a `{` that can open an
object (a key or `}` follows it) is tried, at most `MAX_TRIES` of them (each failed
try costs a pass over the text, so 300,000 `{` would otherwise be quadratic), and an
object nested past Python's recursion limit is not an object.
"""
from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_decoder = json.JSONDecoder()
_OPENING = re.compile(r'\{\s*["}]')  # where an object can start: a key, or nothing
MAX_TRIES = 50  # places to try decoding; a fair answer has its object in the first few


def json_objects(text: str):
    """Every decodable JSON object in `text`, in order (nested ones are not repeated)."""
    position = 0
    for _ in range(MAX_TRIES):
        found = _OPENING.search(text, position)
        if found is None:
            return
        start = found.start()
        try:
            value, end = _decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            position = start + 1
            continue
        yield value  # always a dict: it starts with "{"
        position = end


def first_json_object(text: str) -> dict | None:
    return next(json_objects(text), None)


def parse_as(text: str, schema: type[T]) -> T | None:
    """The first object in `text` that validates as `schema` (a preamble may quote another)."""
    for value in json_objects(text):
        try:
            return schema.model_validate(value)
        except ValidationError:
            continue
    return None


def response_format(schema: type[BaseModel], lengths: bool = True) -> dict:
    """The OpenAI structured-output request for a pydantic model. Length ceilings keep a small
    model's JSON within its token limit on servers that turn the schema into a grammar (llama.cpp,
    Ollama); OpenAI's strict mode refuses them, so they are left out for it (`lengths=False`)."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": schema.__name__,
            "schema": strict_schema(schema.model_json_schema(), lengths=lengths),
            "strict": True,
        },
    }


def strict_schema(schema: dict, lengths: bool = True) -> dict:
    """OpenAI's strict mode wants every object closed and every property required; without
    `lengths`, string length ceilings (meant for grammars) are left out."""
    schema = json.loads(json.dumps(schema))

    def close(node):
        if isinstance(node, dict):
            if not lengths and node.get("type") == "string":
                node.pop("maxLength", None)
                node.pop("minLength", None)
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
                node["required"] = list(node["properties"])
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema
