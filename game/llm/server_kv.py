"""A llama.cpp server the player runs on this machine: the story's KV cache saved and restored there
too, where the server can, exactly as for the game's own local model (kvcache.py).

The game asks, once, before the story's first request:

1. Is the server on this machine (a loopback address) and llama.cpp's own? Its `GET /props` names
   `total_slots` and the `model_path` it loaded; that file, read here, is the model's identity
   (with the server's `build_info`), as for the local model.
2. Can it save slots? `POST /slots/0?action=erase` answers 501 ("start it with
   `--slot-save-path`") when it cannot. Erasing slot 0 costs nothing: the story's first request
   is about to be read into it anyway.
3. Does it save them where the game can see them? The erased slot is saved as a tiny probe file,
   and the game looks for it in its own cache folder. Only there can it check a file's SHA-256,
   keep the folder under its cap and delete a story's cache with its save; so the player starts
   the server with `--slot-save-path` the game's cache folder (`recurrent doctor` names it).
   A server that keeps them elsewhere is left alone (one log line says what to do), and so is one
   that serves more than one slot (a request could land in another slot than the one saved).

Where any answer is no, nothing changes: the story is told as with any other server.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import AsyncIterator, TypeVar

from pydantic import BaseModel

from game.core.calls import Listener, Message, Reply
from game.core.hosts import is_loopback
from game.llm import kvcache
from game.llm.openai_backend import OpenAIBackend

T = TypeVar("T", bound=BaseModel)
log = logging.getLogger("recurrent.kvcache")
PROBE_TIMEOUT = 5.0


def on_this_machine(base_url: str) -> bool:
    return is_loopback(urllib.parse.urlsplit(base_url).hostname or "")


def root_of(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


class KeptServerBackend(OpenAIBackend):
    """An OpenAI-compatible backend that, on a llama.cpp server of this machine which can save
    its slot into the game's cache folder, keeps the story's cache across games."""

    def __init__(self, *, kv_dir: Path, kv_cap: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self._folder = kvcache.KvFolder(kv_dir, kv_cap) if kv_cap else None
        self._key = kwargs.get("api_key", "")
        self.kv: kvcache.StoryCache | None = None  # once the server is found able (`_able`)
        self._asked = False
        self._opened: tuple[Path, str] | None = None
        self._identity = ""

    # -- can this server keep it? ----------------------------------------------------------------
    def _able(self) -> kvcache.StoryCache | None:
        """Blocking. The story cache, if this server can keep it where the game sees it; else None
        and, for a llama.cpp server of this machine, one log line saying why not."""
        if self._folder is None or not on_this_machine(self.base_url):
            return None
        root = root_of(self.base_url)
        try:
            props = self._get(f"{root}/props")
        except (OSError, ValueError):
            return None  # not llama.cpp's server (Ollama, LM Studio...): nothing to say
        if not isinstance(props, dict) or "total_slots" not in props or not props.get("model_path"):
            return None
        if props.get("total_slots") != 1:
            return self._no(f"it serves {props.get('total_slots')} slots (start it with --parallel 1)")
        model = Path(str(props["model_path"]))
        try:
            self._identity = kvcache.model_identity(model, str(props.get("build_info", "")))
        except OSError:
            return self._no(f"its model file {model} cannot be read here")
        try:
            self._act("erase", "")
        except kvcache.SlotRefused as error:
            if error.status == 501:
                return self._no(f"it was started without --slot-save-path (use {self._folder.root})")
            return self._no(str(error))
        except (OSError, ValueError) as error:
            return self._no(str(error))
        probe = f"recurrent-probe-{secrets.token_hex(4)}.part"
        try:
            self._folder.root.mkdir(parents=True, exist_ok=True)
            self._act("save", probe)
            seen = self._folder.path(probe[: -len(".part")], ".part")
            if not seen.exists():
                return self._no(f"it saves slots in a folder of its own; start it with --slot-save-path {self._folder.root}")
            seen.unlink()
        except (OSError, ValueError) as error:
            return self._no(str(error))
        log.info("kv cache: the server at %s saves its slot in %s: stories' caches are kept", self.base_url, self._folder.root)
        return kvcache.StoryCache(self._folder, self._act, lambda: self._identity)

    def _no(self, why: str) -> None:
        log.info("kv cache: the llama.cpp server at %s cannot keep stories' caches: %s", self.base_url, why)
        return None

    def _get(self, url: str):
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=PROBE_TIMEOUT) as answer:
            return json.loads(answer.read(2_000_000) or b"null")

    def _act(self, action: str, filename: str) -> dict:
        return kvcache.slot_action_at(root_of(self.base_url), self._key, action, filename)

    # -- the story ----------------------------------------------------------------------------------
    def open_story(self, saves: Path, name: str) -> None:
        """The story in slot `name` of `saves` is told from now on. Quick: the server is asked
        nothing until the story's first request."""
        self._opened = (Path(saves), name)
        if self.kv is not None and not self.kv.open(saves, name):
            self.kv = None

    async def keep_story(self) -> None:
        """Save the story's cache (the game closes, or a chapter began): best-effort, never raises."""
        if self.kv is not None:
            await self.kv.save()

    async def _before(self, messages: list[Message]) -> None:
        if not self._asked and self._opened is not None:
            self._asked = True
            self.kv = await asyncio.to_thread(self._able)
            if self.kv is not None and not self.kv.open(*self._opened):
                self.kv = None
        if self.kv is not None:
            await self.kv.before(messages)

    @property
    def opened(self) -> tuple[int, int] | None:
        return self.kv.opened if self.kv is not None else None

    # -- the Backend interface, with the cache around it -------------------------------------------
    def stream(self, messages: list[Message], *, max_tokens: int, temperature: float,
               on_notice: Listener | None = None) -> Reply:
        return Reply(lambda reply: self._kept_stream(reply, messages, max_tokens, temperature, on_notice))

    async def _kept_stream(self, reply: Reply, messages, max_tokens, temperature, on_notice) -> AsyncIterator[str]:
        await self._before(messages)
        told = super().stream(messages, max_tokens=max_tokens, temperature=temperature, on_notice=on_notice)
        try:
            async for piece in told:
                yield piece
        finally:
            await told.aclose()
        reply.end(told.finish, told.usage)  # the server's own ending, passed on
        if self.kv is not None:
            self.kv.heard(messages, told.usage.read, told.usage.reused, on_notice)

    async def structured(self, messages: list[Message], schema: type[T], *, max_tokens: int, temperature: float,
                         on_notice: Listener | None = None, on_text=None) -> T:
        await self._before(messages)
        return await super().structured(messages, schema, max_tokens=max_tokens, temperature=temperature,
                                        on_notice=on_notice, on_text=on_text)
