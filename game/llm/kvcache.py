"""The local model's KV cache, saved beside the story so a reopened story is not read again.

llama.cpp's server (the xllamacpp child, started with `--slot-save-path`) writes slot 0's cache
to a file and reads it back: `POST /slots/0?action=save|restore` with `{"filename": ...}`. A
restored slot holds the tokens it was saved with and their KV entries, and the server reuses
only the longest common token prefix of those tokens and the next prompt: the rest of the
prompt is read as usual. So a restored cache only ever saves time; the narrator reads exactly
the prompt the game sent (tests/test_kvcache_local.py checks it, and bench/kvcache.py times it).

What the game adds, since a cache from the wrong place would still be believed by llama.cpp:

- one file per story slot, `<slot key>.kv`, with `<slot key>.json` beside it that names the
  model (its path, size, modification time, first MiB, and the engine's version), the file's
  SHA-256 and size, and a hash of each leading message of the request the cache holds;
- a file is used only if all of that matches and at least its first message (the rules and
  the seed) is the new request's: otherwise it is ignored, logged and deleted (another model,
  an edited pin or preference, a damaged file);
- the server writes `<key>.part`; only once it is whole is it renamed and its sidecar written,
  atomically, so a game killed while saving leaves the old pair, or a pair that does not match;
- the folder is $XDG_CACHE_HOME/recurrent/kv (game.core.paths), never in the saves, and is
  trimmed to its cap (the `kv_cache_mib` setting), least recently used first.

Everything here is best-effort: any failure is a log line and a cold start.

`StoryCache` is one story's cache for a backend that can save its server's slot: the local model,
and a llama.cpp server the player runs on this machine that saves into this folder (server_kv.py).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from game.core.calls import Listener, Message, Notice
from game.core.paths import kv_slot_key as slot_key  # noqa: F401 (the key lives in core: saves delete uses it)

log = logging.getLogger("recurrent.kvcache")

VERSION = 1
HEADER_BYTES = 1 << 20  # the model file's first MiB: its GGUF header and metadata
HTTP_TIMEOUT = 120.0  # writing or reading a large model's cache of a long prompt
SUFFIXES = (".kv", ".json", ".part", ".json.tmp")

before_commit = None  # tests: called between the server's write and the rename (a kill lands here)


def model_identity(path: Path | str, engine_version: str = "") -> str:
    """Who wrote a cache: the model file (path, size, modification time, first MiB) and the
    llama.cpp that read it (its state format changes between versions)."""
    path = Path(path).resolve()
    stat = path.stat()
    digest = hashlib.sha256(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0{engine_version}".encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(HEADER_BYTES))
    return digest.hexdigest()


def prefix_hashes(messages: list[Message]) -> list[str]:
    """One hash per leading run of messages: entry i stands for messages[0..i], roles and all."""
    out, running = [], hashlib.sha256()
    for message in messages:
        running.update(f"{message.get('role', '')}\0{message.get('content', '')}\0".encode())
        out.append(running.copy().hexdigest())
    return out


def common(saved: list[str], messages: list[Message]) -> int:
    """How many leading messages of `messages` the saved cache holds."""
    count = 0
    for old, new in zip(saved, prefix_hashes(messages)):
        if old != new:
            break
        count += 1
    return count


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class KvFolder:
    """The folder of saved caches, capped at `cap` bytes."""

    def __init__(self, root: Path | str, cap: int) -> None:
        self.root = Path(root)
        self.cap = cap

    def path(self, key: str, suffix: str) -> Path:
        return self.root / f"{key}{suffix}"

    def forget(self, key: str, why: str = "") -> None:
        """Delete slot `key`'s cache (a log line says `why`, when given)."""
        if why:
            log.info("kv cache %s ignored and deleted: %s", key, why)
        for suffix in SUFFIXES:
            try:
                self.path(key, suffix).unlink()
            except FileNotFoundError:
                pass
            except OSError as error:
                log.info("kv cache %s: cannot delete %s (%s)", key, suffix, error)

    def check(self, key: str, model: str, messages: list[Message]) -> dict | None:
        """Slot `key`'s sidecar, if its cache was written by `model`, is whole, and holds at least
        the first message of `messages`; else None (and a file that does not match is deleted)."""
        self._drop_part(key)
        side, data = self.path(key, ".json"), self.path(key, ".kv")
        if not side.exists() and not data.exists():
            return None
        try:
            meta = json.loads(side.read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("version") != VERSION:
                raise ValueError("an unknown sidecar")
            if meta.get("model") != model:
                return self._refuse(key, "written by another model or another llama.cpp")
            if data.stat().st_size != meta.get("size") or _file_hash(data) != meta.get("sha256"):
                return self._refuse(key, "the file is damaged (its size or SHA-256 differs)")
            if common(list(meta.get("prefix") or []), messages) == 0:
                return self._refuse(key, "it holds another prompt (an edited pin, preference or seed)")
        except (OSError, ValueError, TypeError, AttributeError) as error:
            return self._refuse(key, f"cannot be read ({error})")
        now = time.time()
        for path in (side, data):  # used: the last to go when the folder is trimmed
            try:
                os.utime(path, (now, now))
            except OSError:
                pass
        return meta

    def _refuse(self, key: str, why: str) -> None:
        self.forget(key, why)
        return None

    def _drop_part(self, key: str) -> None:
        try:
            self.path(key, ".part").unlink()  # a save that never finished (the game was killed)
        except OSError:
            pass

    def commit(self, key: str, model: str, messages: list[Message], tokens: int) -> int:
        """The server has written `<key>.part`: make it slot `key`'s cache. Returns its size."""
        part, data, side = self.path(key, ".part"), self.path(key, ".kv"), self.path(key, ".json")
        size = part.stat().st_size
        if size > self.cap:
            self.forget(key, f"{size:,} bytes is more than the cache's cap of {self.cap:,}")
            return 0
        meta = {"version": VERSION, "model": model, "size": size, "sha256": _file_hash(part),
                "prefix": prefix_hashes(messages), "tokens": tokens, "saved": time.time()}
        if before_commit is not None:
            before_commit()
        os.replace(part, data)
        temporary = side.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(temporary, side)
        self.trim(keep=key)
        return size

    def entries(self) -> dict[str, tuple[float, int]]:
        """{key: (last used, bytes)} for every cache in the folder."""
        found: dict[str, tuple[float, int]] = {}
        try:
            listing = list(self.root.iterdir())
        except OSError:
            return found
        for path in listing:
            name = path.name
            key = name.split(".", 1)[0]
            try:
                stat = path.stat()
            except OSError:
                continue
            used, size = found.get(key, (0.0, 0))
            found[key] = (max(used, stat.st_mtime), size + stat.st_size)
        return found

    def size(self) -> int:
        return sum(size for _used, size in self.entries().values())

    def trim(self, keep: str = "") -> None:
        """Delete the least recently used caches until the folder is under its cap (`keep`, the
        one just written, goes last)."""
        entries = self.entries()
        total = sum(size for _used, size in entries.values())
        for key, (_used, size) in sorted(entries.items(), key=lambda item: (item[0] == keep, item[1][0])):
            if total <= self.cap:
                break
            self.forget(key)
            log.info("kv cache %s deleted: the folder was over its cap of %s bytes", key, f"{self.cap:,}")
            total -= size


# -- the child's slot actions --------------------------------------------------------------------
def slot_action(port: int, key: str, action: str, filename: str) -> dict:
    """`POST /slots/0?action=...` to the child on `port`; its answer, or OSError/ValueError."""
    return slot_action_at(f"http://127.0.0.1:{port}", key, action, filename)


def slot_action_at(base: str, key: str, action: str, filename: str) -> dict:
    """`POST /slots/0?action=...` to the llama.cpp server at `base` (no /v1)."""
    request = urllib.request.Request(
        f"{base.rstrip('/')}/slots/0?action={action}", data=json.dumps({"filename": filename}).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:
            return json.loads(answer.read(100_000))
    except urllib.error.HTTPError as error:
        body = error.read(300).decode("utf-8", "replace")
        raise SlotRefused(error.code, f"the server answered {error.code}: {body}") from None


class SlotRefused(OSError):
    """A slot action the server answered with an error status (501: it cannot save slots at all)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status


# -- one story's cache, for a backend that can save and restore its server's slot ----------------
class StoryCache:
    """The story being told, and its saved cache: restored before its first request, saved when
    the game closes or a chapter begins, and what the first request read fresh and reused said
    once. `act(action, filename)` is the server's slot action; `identity()` names the model and
    the llama.cpp that hold the cache. Every step is best-effort: a failure is a log line."""

    def __init__(self, folder: KvFolder, act, identity) -> None:
        self.folder = folder
        self.act = act
        self.identity = identity
        self.story: str | None = None  # the slot key of the story being told
        self._resume = False  # restore the story's cache before its first request
        self._report = False  # say what the first request after opening read and reused
        self.held: list[Message] | None = None  # the last request: what the slot's cache begins with
        self._kept: list[Message] | None = None  # the request whose cache was saved last
        self.opened: tuple[int, int] | None = None  # (read, reused) by the first narration after opening
        self.saved: tuple[int, int, float] | None = None  # (tokens, bytes, seconds) of the last save
        self._saving: asyncio.Future | None = None  # a save under way: the next request waits for it

    # -- what a backend calls, on its event loop ----------------------------------------------------
    async def before(self, messages: list[Message]) -> None:
        """Before a request: a save under way finishes (so a cache holds the request it is
        labelled with); the first request after opening restores the story's cache."""
        await self.settle()
        await asyncio.to_thread(self.restore, messages)
        self.sending(messages)

    async def save(self) -> None:
        """Save the story's cache, in a thread (the game closes, or a chapter began). Never raises."""
        await self.settle()
        self._saving = asyncio.ensure_future(asyncio.to_thread(self.keep))
        await self._saving

    async def settle(self) -> None:
        saving = self._saving
        if saving is not None and not saving.done() and saving.get_loop() is asyncio.get_running_loop():
            await asyncio.shield(saving)

    def heard(self, messages: list[Message], read: int | None, reused: int | None, on_notice: Listener | None) -> None:
        """A narration was answered: for the first after opening, the status line says what its
        prompt read fresh and took from the cache."""
        text = self.said(messages, read, reused)
        if text and on_notice:
            on_notice(Notice(text, quiet=True))

    def open(self, saves: Path, name: str) -> bool:
        """Slot `name` of `saves` is told from now on. False (and no caches from now on) when the
        cache folder is inside the saves folder: a save stays small and portable."""
        if Path(os.path.realpath(self.folder.root)).is_relative_to(os.path.realpath(saves)):
            log.info("no saved caches: the cache folder %s is inside the saves folder", self.folder.root)
            return False
        key = slot_key(saves, name)
        if key != self.story:
            self.story, self._resume, self._report, self.held = key, True, True, None
        return True

    def restore(self, messages: list[Message]) -> None:
        """Blocking. Before the first request of a story opened again: its saved cache, if it matches."""
        if not self._resume:
            return
        self._resume = False
        key = self.story
        if key is None:
            return
        try:
            if self.folder.check(key, self.identity(), messages) is None:
                return
            answer = self.act("restore", f"{key}.kv")
            log.info("kv cache %s restored: %s tokens", key, answer.get("n_restored"))
        except Exception as error:  # noqa: BLE001 - a cache: the prompt is read cold instead
            self.folder.forget(key, f"the server could not restore it ({error})")

    def keep(self) -> None:
        """Blocking. Save the story's cache, unless nothing was asked since the last save."""
        key, held = self.story, self.held
        if key is None or held is None or held is self._kept:
            return
        self._kept = held
        try:
            began = time.monotonic()
            answer = self.act("save", f"{key}.part")
            tokens = int(answer.get("n_saved") or 0)
            size = self.folder.commit(key, self.identity(), held, tokens)
            took = time.monotonic() - began
            self.saved = (tokens, size, took)
            log.info("kv cache %s saved: %s tokens, %s bytes in %.3f s", key, tokens, f"{size:,}", took)
        except Exception as error:  # noqa: BLE001 - a cache: the story is in its journal already
            log.info("kv cache %s not saved (%s)", key, error)
            self.folder.forget(key)

    def sending(self, messages: list[Message]) -> None:
        self.held = messages  # the slot's cache begins with it from now on, answered or not

    def said(self, messages: list[Message], read: int | None, reused: int | None) -> str | None:
        """The request `messages` was answered, having read `read` prompt tokens and reused
        `reused`: for the first after opening, the line that says so (else None)."""
        self.held = messages
        if not self._report:
            return None
        self._report = False
        if read is None or reused is None:
            return None
        self.opened = (read, reused)
        text = f"resumed: {reused:,} prompt tokens reused from the cache, {read:,} read fresh"
        log.info("kv cache %s: %s", self.story, text)
        return text
