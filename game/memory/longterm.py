"""Long-term memory: every action and sentence-sized piece of prose, in Chroma.

The journal is the source of truth; this is an index of it. Ids are derived from
journal records, so writing the same entry twice is harmless and the index can be
checked against the journal and rebuilt from it at any time.

On a full disk Chroma's upsert was seen to wait for ever inside its native code, at 0%
CPU and holding Python's lock (so no other thread of the game could run either). It
does that after earlier writes have failed: a write that fails once (the disk is full)
leaves Chroma unable to finish the next. So after one failed write this memory asks
Chroma nothing more (`broken`); the story goes on from its journal, and the index is
rebuilt from the journal when the slot is next opened. Every call is also bounded in
time (`bounded`), for a hang that lets Python run: it is left behind in a daemon
thread, which cannot keep the game from ending.
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from game.core.errors import PlayerError
from game.core.models import Entry
from game.memory.lexicon import Lexicon
from game.memory.stems import detect

RRF_K = 20  # reciprocal-rank fusion constant; small so the top of each list counts
# The reader's earlier actions match a new action's wording (the same "ask about ..." phrasing)
# but rarely hold the answer; the narration does. Their scores count for less.
KIND_WEIGHT = {"paragraph": 1.0, "action": 0.4}
NEWEST_MARGIN = 48  # extra vector hits to ask for, to make up for the newest steps left out
# An embedder's vectors are only as good as the languages it learnt; in a story told in another,
# its ranking is mostly noise, and keywords (stemmed in that language) lead the fusion.
FOREIGN_MEANING = 0.25
CALL_SECONDS = 30.0  # the most one Chroma call may take (a batch of 256 entries takes well under a second)
WRITES = ("write", "delete")  # the calls after whose failure Chroma is asked nothing more


class MemoryStoreError(PlayerError):
    """Long-term memory cannot be opened or written; one line."""

    hint = "The story is safe in its journal; `recurrent saves repair` rebuilds long-term memory from it."


class EmbedderError(MemoryStoreError):
    """The embedder could not be loaded or used; one line."""


class MemoryHung(MemoryStoreError):
    """A Chroma call did not return in time; this memory is not used again in this process."""


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())[:160]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def bounded(what: str, call, *args, seconds: float | None = None, **kwargs):
    """`call(*args, **kwargs)`, given at most `seconds` (CALL_SECONDS); any failure is one line.
    MemoryHung when it does not return: the call is left running in a daemon thread, which
    cannot keep the game from ending."""
    seconds = CALL_SECONDS if seconds is None else seconds
    outcome: dict = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call(*args, **kwargs)
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name=f"chroma-{what.split()[0]}", daemon=True).start()
    if not done.wait(seconds):
        raise MemoryHung(f"long-term memory did not answer within {seconds:g} s ({what}); is the disk full?")
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, MemoryStoreError):
            raise error
        raise MemoryStoreError(f"long-term memory could not {what} ({_reason(error)})") from error
    return outcome.get("value")


@dataclass
class Hit:
    entry: Entry
    score: float
    why: str


def collection_name(embedder_key: str, slot: str | None = None) -> str:
    """Embedded: one folder per slot, so the name only says which embedder made the vectors.
    Server: one collection per slot on a shared server, so the slot is in the name too."""
    name = f"story-{embedder_key}" if slot is None else f"recurrent-{slot}-{embedder_key}"
    return re.sub(r"[^a-zA-Z0-9._-]", "-", name)[:512]


def chroma_settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def embedded_client(folder: Path, seconds: float | None = None):
    import chromadb

    try:
        return bounded("open", chromadb.PersistentClient, path=str(folder), settings=chroma_settings(), seconds=seconds)
    except MemoryHung:
        raise
    except MemoryStoreError as error:
        _forget_system(str(folder))
        raise MemoryStoreError(f"cannot open long-term memory in {folder}: {error.__cause__ or error}") from None


def _forget_system(identifier: str) -> None:
    """Chroma caches a folder's system before starting it; one that failed to start (a full or
    read-only disk) would otherwise stay broken in this process, and a retry after freeing space
    would fail too."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(identifier, None)
    except Exception:
        pass


def server_client(host: str, port: int, seconds: float | None = None):
    import chromadb

    def connect():
        client = chromadb.HttpClient(host=host, port=port, settings=chroma_settings())
        client.heartbeat()
        return client

    try:
        return bounded("connect", connect, seconds=seconds)
    except MemoryStoreError as error:
        raise MemoryStoreError(f"cannot reach the Chroma server at {host}:{port}: {error.__cause__ or error}") from None


class LongTermMemory:
    def __init__(self, client, embedder, name: str, seconds: float | None = None) -> None:
        self.client = client
        self.embedder = embedder
        self.name = name
        self.seconds = seconds  # the most one Chroma call may take (None: CALL_SECONDS)
        self.broken = ""  # why Chroma is not asked again (a write failed, or a call did not return)
        try:
            self.collection = bounded("open its collection", client.get_or_create_collection, seconds=seconds,
                                      name=name, embedding_function=embedder, configuration={"hnsw": {"space": "cosine"}})
        except MemoryHung:
            raise
        except MemoryStoreError as error:
            raise MemoryStoreError(f"cannot open collection {name}: {error.__cause__ or error}") from None
        self.known: dict[str, Entry] = {}
        self.lexicon = Lexicon()
        self._writer: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self._pending_low: int | None = None  # the oldest step the pending write touches
        self.stale = False  # a write or a search failed: the store rebuilds the index at its next commit

    # -- keeping in step with the journal ----------------------------------------
    def attach(self, entries: list[Entry]) -> None:
        """Tell memory what the journal holds, so keyword scores and step filters work."""
        self.known = {entry.id: entry for entry in entries}
        # The story's language (for keyword stems) is read from its first paragraphs.
        opening = " ".join(entry.text for entry in entries[:40])
        self.lexicon = Lexicon(detect(opening)) if opening.strip() else Lexicon()
        for entry in entries:
            self.lexicon.add(entry.id, entry.text)

    def _chroma(self, what: str, call, *args, **kwargs):
        """One Chroma call, bounded; after a write that failed or a call that hung, none is made."""
        if self.broken:
            raise MemoryStoreError(f"long-term memory is off until the slot is opened again ({self.broken}); "
                                   "the journal holds the story")
        try:
            return bounded(what, call, *args, seconds=self.seconds, **kwargs)
        except MemoryHung as error:
            self.broken = str(error)
            raise
        except MemoryStoreError as error:
            if what in WRITES:
                self.broken = f"it could not {what}: {_reason(error.__cause__ or error)}"
            raise

    def warm(self) -> None:
        """Load the embedder and the vector index now, while the slot opens (in a thread): the
        first of each holds Python's lock for tens of milliseconds, which would otherwise land in
        the player's first step as a frozen screen."""
        self.embedder(["warm"])
        if self.known:
            self._chroma("search", self.collection.query, query_texts=["warm"], n_results=1, include=[])

    def stored_ids(self) -> set[str]:
        self.flush()
        return set(self._chroma("read", self.collection.get, include=[])["ids"])

    def count(self) -> int:
        self.flush()
        return self._chroma("count", self.collection.count)

    # -- writing behind the story --------------------------------------------------------
    # A Chroma write costs tens of milliseconds here, most of it a disk sync. The step is
    # already saved in the journal by then, so the write runs in one background thread while
    # the story goes on. Recall never needs the newest step (it is in the prompt verbatim);
    # writes stay in order because each waits for the one before.
    def change(self, remove: list[str], add: list[Entry], then=None) -> None:
        """Remove and add entries: keyword index now, Chroma in the background, then `then()`."""
        self.flush()
        touched = [e.step for e in add] + [self.known[i].step for i in remove if i in self.known]
        self._pending_low = min(touched, default=None)
        self._note(remove, add)
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memory-writer")
        self._pending = self._writer.submit(self._write, list(remove), list(add), then)

    def _note(self, remove: list[str], add: list[Entry]) -> None:
        """The in-memory side: what the journal holds and the keyword index."""
        for entry_id in remove:
            self.known.pop(entry_id, None)
            self.lexicon.remove(entry_id)
        if add:
            self.lexicon.decide(" ".join(entry.text for entry in add[:40]))  # a new story: its opening
        for entry in add:
            self.known[entry.id] = entry
            self.lexicon.add(entry.id, entry.text)

    def _store(self, remove: list[str], add: list[Entry]) -> None:
        """The Chroma side, in batches a rebuild of a long story can afford."""
        if remove:
            self._chroma("delete", self.collection.delete, ids=list(remove))
        for start in range(0, len(add), 256):
            batch = add[start:start + 256]
            self._chroma(
                "write", self.collection.upsert,
                ids=[e.id for e in batch],
                documents=[e.text for e in batch],
                metadatas=[{"step": e.step, "kind": e.kind, "paragraph": e.paragraph} for e in batch],
            )

    def _write(self, remove: list[str], add: list[Entry], then) -> None:
        self._store(remove, add)
        if then is not None:
            then()

    def flush(self) -> None:
        """Wait for the background write; re-raise its failure once."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)  # its calls are bounded, so this wait is too
                self._writer = None
            if self.broken:  # a broken Chroma could hang its own close: let it go, and make the next open afresh
                _forget_system(getattr(self.client, "_identifier", ""))
            else:
                close_client(self.client, self.seconds)
            self.client = None

    def delete(self, ids: list[str]) -> None:
        """Remove entries at once, from Chroma and the keyword index."""
        self.flush()
        self._store(ids, [])
        self._note(ids, [])

    def sync(self, expected: list[Entry]) -> tuple[int, int]:
        """Make the collection hold exactly `expected`; returns (added, removed)."""
        try:
            self.flush()
        except Exception:
            pass  # a failed background write is exactly what this repairs
        self.stale = False
        missing, extra, changed = self.compare(expected)
        # Missing, or stored with other text (an amend whose write was lost keeps its id).
        self._store(extra, missing + changed)
        self.attach(expected)
        return len(missing) + len(changed), len(extra)

    def stored(self) -> list[Entry]:
        """Every entry the collection holds, as it holds it (repair rebuilds lost steps from these)."""
        self.flush()
        got = self._chroma("read", self.collection.get, include=["documents", "metadatas"])
        found = []
        for entry_id, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            meta = meta or {}
            step, kind = meta.get("step"), meta.get("kind")
            if isinstance(step, int) and kind in ("action", "paragraph") and isinstance(doc, str):
                found.append(Entry(id=entry_id, step=step, kind=kind, text=doc, paragraph=str(meta.get("paragraph") or "")))
        return found

    def compare(self, expected: list[Entry]) -> tuple[list[Entry], list[str], list[Entry]]:
        """How the collection differs from `expected`: entries missing, ids extra, entries changed."""
        self.flush()
        got = self._chroma("read", self.collection.get, include=["documents", "metadatas"])
        stored = {i: (doc, (meta or {}).get("step")) for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])}
        wanted = {entry.id: entry for entry in expected}
        extra = sorted(set(stored) - set(wanted))
        missing = [e for i, e in wanted.items() if i not in stored]
        changed = [e for i, e in wanted.items() if i in stored and stored[i] != (e.text, e.step)]
        return missing, extra, changed

    # -- recall ---------------------------------------------------------------------
    def search(self, query: str, limit: int, before_step: int) -> list[Hit]:
        """Entries from steps before `before_step`, best first: meaning and keywords fused.
        MemoryStoreError when Chroma fails; the store then rebuilds the index at its next commit."""
        if not query.strip() or not self.known:
            return []
        if self._pending is not None and self._pending_low is not None and self._pending_low < before_step:
            try:
                self.flush()  # an edit of an older step: wait for it, or its new vector would be missed
            except Exception:
                self.stale = True
        try:
            vector_hits = self._by_meaning(query, limit * 3, before_step)
        except Exception as error:
            self.stale = True
            raise MemoryStoreError(f"long-term memory could not be searched ({type(error).__name__})") from None
        word_hits = self.lexicon.search(query, limit * 3, allowed=lambda i: i in self.known and self.known[i].step < before_step)
        fused: dict[str, float] = {}
        why: dict[str, list[str]] = {}
        meaning = self._meaning_weight()
        for rank, (entry_id, similarity) in enumerate(vector_hits):
            fused[entry_id] = fused.get(entry_id, 0.0) + meaning / (RRF_K + rank)
            why.setdefault(entry_id, []).append(f"meaning {similarity:.2f}")
        said: dict[str, str] = {}  # each stem, as the query said it: "mary", not the stem "mari"
        for word in query.split():
            for term in self.lexicon.terms(word):
                said.setdefault(term, word.strip(".,;:!?\"'()").lower() or term)
        for rank, (entry_id, _score) in enumerate(word_hits):
            fused[entry_id] = fused.get(entry_id, 0.0) + 1.0 / (RRF_K + rank)
            shared = sorted(said[term] for term in set(said) & set(self.lexicon.docs.get(entry_id, {})))
            why.setdefault(entry_id, []).append("words: " + ", ".join(shared[:5]))
        for entry_id in fused:
            fused[entry_id] *= KIND_WEIGHT.get(self.known[entry_id].kind, 1.0) if entry_id in self.known else 0.0
        ranked = sorted(fused.items(), key=lambda item: -item[1])[:limit]
        return [Hit(self.known[i], score, "; ".join(why[i])) for i, score in ranked if i in self.known]

    def _meaning_weight(self) -> float:
        languages = getattr(self.embedder, "languages", None)
        language = self.lexicon.language
        return FOREIGN_MEANING if languages and language and language not in languages else 1.0

    def _by_meaning(self, query: str, limit: int, before_step: int) -> list[tuple[str, float]]:
        available = len(self.known)
        if available == 0:
            return []
        # Filtering by step inside Chroma makes it scan every entry (about 30 ms at 10,000
        # entries, against under 1 ms without). The steps to leave out are the newest one or
        # two, a dozen entries, so ask for that many more and filter here.
        result = self._chroma("search", self.collection.query, query_texts=[query],
                              n_results=min(limit + NEWEST_MARGIN, available), include=["distances"])
        ids = result["ids"][0] if result["ids"] else []
        distances = result["distances"][0] if result.get("distances") else [1.0] * len(ids)
        found = [(i, 1.0 - d) for i, d in zip(ids, distances) if i in self.known and self.known[i].step < before_step]
        return found[:limit]


def collection_names(client, seconds: float | None = None) -> list[str]:
    return [getattr(c, "name", c) for c in bounded("list its collections", client.list_collections, seconds=seconds)]


def close_client(client, seconds: float | None = None) -> None:
    """Release Chroma's shared system for this folder; otherwise a slot deleted and made
    again under the same name in one process would reuse a stale, read-only database."""
    if client is not None and hasattr(client, "close"):
        try:
            bounded("close", client.close, seconds=seconds)
        except MemoryStoreError:
            pass
