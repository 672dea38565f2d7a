"""A GBNF grammar made from a pydantic model's JSON schema, for llama.cpp.

llama.cpp constrains sampling with the grammar, so even the 135M demo model can only
answer with JSON of the right shape. Strings get a length ceiling (GBNF's `{m,n}`
repetition), so the JSON always closes before `max_tokens` runs out: llama-cpp-python's
own converter has no such ceiling, and a tiny model that rambles in one string would
never reach the closing brace.
"""
from __future__ import annotations

import json

from pydantic import BaseModel

from game.llm.jsonout import strict_schema

CHAR = r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})'
# A string starts with a letter, a digit or any non-ASCII character: no leading space or
# punctuation, which keeps a tiny model from answering an option with "," or "{".
FIRST = r'[^\x00-\x2F\x3A-\x40\x5B-\x60\x7B-\x7F]'


class _Unsupported(Exception):
    pass


class GrammarMaker:
    """A GBNF grammar for the subset of JSON schema that pydantic models produce.

    Every property is written, in order (what OpenAI's strict mode asks for too).
    Strings without a maxLength get a ceiling: `item_chars` inside arrays (options,
    names), `text_chars` elsewhere (a summary).
    """

    def __init__(self, schema: dict, text_chars: int, item_chars: int) -> None:
        self.defs = {**schema.get("$defs", {}), **schema.get("definitions", {})}
        self.text_chars = text_chars
        self.item_chars = item_chars
        self.rules: dict[str, str] = {}
        self.root = self.value(schema, in_array=False)

    def text(self) -> str:
        lines = [f"root ::= ws {self.root} ws"]
        lines += [f"{name} ::= {body}" for name, body in self.rules.items()]
        lines += [f"char ::= {CHAR}", f"first ::= {FIRST}", "ws ::= [ \\t\\n]{0,2}"]
        return "\n".join(lines) + "\n"

    def rule(self, body: str) -> str:
        for name, existing in self.rules.items():
            if existing == body:
                return name
        name = f"r{len(self.rules)}"
        self.rules[name] = body
        return name

    def value(self, node: dict, in_array: bool) -> str:
        if "$ref" in node:
            key = node["$ref"].split("/")[-1]
            if key not in self.defs:
                raise _Unsupported(node["$ref"])
            return self.value(self.defs[key], in_array)
        if "const" in node:
            return json.dumps(json.dumps(node["const"]))
        if "enum" in node:
            return self.rule(" | ".join(json.dumps(json.dumps(v)) for v in node["enum"]))
        for key in ("anyOf", "oneOf"):
            if key in node:
                return self.rule(" | ".join(self.value(sub, in_array) for sub in node[key]))
        kind = node.get("type")
        if isinstance(kind, list):
            return self.rule(" | ".join(self.value({**node, "type": k}, in_array) for k in kind))
        if kind == "object":
            props = node.get("properties", {})
            if not props:
                raise _Unsupported("an object without properties")
            parts = [f'{json.dumps(json.dumps(k))} ws ":" ws {self.value(v, False)}' for k, v in props.items()]
            return self.rule('"{" ws ' + ' ws "," ws '.join(parts) + ' ws "}"')
        if kind == "array":
            item = self.value(node.get("items", {"type": "string"}), True)
            low = int(node.get("minItems", 0))
            high = node.get("maxItems")
            if high is not None and int(high) == 0:
                return '"[" ws "]"'
            more = f'( ws "," ws {item} )' + (f"{{{max(0, low - 1)},{int(high) - 1}}}" if high is not None else
                                              f"{{{max(0, low - 1)},}}")
            body = f"{item} {more}"
            if low == 0:
                body = f"( {body} )?"
            return self.rule(f'"[" ws {body} ws "]"')
        if kind == "string":
            if "pattern" in node or "format" in node:
                raise _Unsupported("string patterns and formats")
            low = int(node.get("minLength", 1))
            high = max(low, int(node.get("maxLength", self.item_chars if in_array else self.text_chars)))
            if low == 0:
                return self.rule(f'"\\"" char{{0,{high}}} "\\""')
            return self.rule(f'"\\"" first char{{{low - 1},{high - 1}}} "\\""')
        if kind == "integer":
            return self.rule('"-"? [0-9]{1,15}')
        if kind == "number":
            return self.rule('"-"? [0-9]{1,15} ("." [0-9]{1,10})?')
        if kind == "boolean":
            return self.rule('"true" | "false"')
        if kind == "null":
            return '"null"'
        raise _Unsupported(f"type {kind!r}")


ITEM_CHARS = 120


def text_chars(max_tokens: int) -> int:
    return max(120, min(4000, max_tokens * 2))


def grammar_text(schema: type[BaseModel], max_tokens: int) -> str | None:
    """GBNF for the model's schema, or None when the schema uses what GrammarMaker does not know."""
    try:
        return GrammarMaker(strict_schema(schema.model_json_schema()), text_chars(max_tokens), ITEM_CHARS).text()
    except _Unsupported:
        return None


def with_ceilings(schema: dict, max_tokens: int) -> dict:
    """The JSON schema with the grammar's bounds on every string that has none, for a server that
    turns the schema into a grammar itself (llama.cpp's own server): a length ceiling, so the JSON
    closes before `max_tokens` runs out, however a small model rambles; and a floor of one
    character, as our grammar has, so an option or a memory is never an empty string."""
    schema = json.loads(json.dumps(schema))

    def bound(node, in_array: bool) -> None:
        if isinstance(node, list):
            for value in node:
                bound(value, in_array)
        elif isinstance(node, dict):
            if node.get("type") == "string" and "maxLength" not in node:
                node["maxLength"] = ITEM_CHARS if in_array else text_chars(max_tokens)
            if node.get("type") == "string":
                node.setdefault("minLength", 1)
            for key, value in node.items():
                bound(value, key == "items" or (in_array and key in ("anyOf", "oneOf")))

    bound(schema, False)
    return schema
