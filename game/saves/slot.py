"""A save slot: `saves/<slot>/` with a header, the journal and the Chroma folder.

A change is committed in this order: the record is appended to the journal and
fsynced (from then on it is saved), long-term memory is updated, and a small
marker notes the last record the index holds. A crash between any two of these
leaves a slot whose journal is complete; opening it brings the index level again.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from game.engine.models import Entry, Preferences
from game.engine.story import RecordError, Story
from game.saves.journal import Journal, Reading
from game.saves.names import SlotError, check_name
from game.stories.seed import Seed

SCHEMA = 1
HEADER = "header.json"
JOURNAL = "journal.jsonl"
MEMORY = "memory"
MARKER = "index.json"


@dataclass
class MemoryConfig:
    embedder: str = "wordllama"
    host: str | None = None  # a Chroma server instead of the slot's own folder
    port: int = 8000


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_atomic(path: Path, text: str, sync: bool = True) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def sync_folder(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the journal itself is synced


def schema_of(record: dict) -> int:
    """The save format a journal was written in (saves from before the field was added are 1)."""
    schema = record.get("schema", 1)
    return schema if isinstance(schema, int) and not isinstance(schema, bool) else -1


def replay(reading: Reading, name: str) -> Story:
    if not reading.records:
        raise SlotError(f"slot {name}: the journal is empty")
    schema = schema_of(reading.records[0])
    if schema > SCHEMA:
        raise SlotError(
            f"slot {name}: saved by a newer version of Recurrent (save format {schema}; this version reads "
            f"format {SCHEMA} and older): update Recurrent to open it"
        )
    if schema < 1:
        raise SlotError(f"slot {name}: the journal's save format {reading.records[0].get('schema')!r} is not one Recurrent knows")
    try:
        story = Story.begin(reading.records[0])
        for record in reading.records[1:]:
            story.apply(record)
    except (RecordError, KeyError, ValueError) as error:
        raise SlotError(f"slot {name}: journal does not replay ({str(error).splitlines()[0]})") from None
    return story


class Slot:
    def __init__(self, root: Path, name: str, config: MemoryConfig | None = None) -> None:
        self.name = check_name(name)
        self.root = Path(root)
        self.path = self.root / name
        self.config = config or MemoryConfig()
        self.journal = Journal(self.path / JOURNAL)
        self.story: Story | None = None
        self.memory = None
        self.index_stale = False
        self._lock: FileLock | None = None

    # -- opening and closing ----------------------------------------------------------
    def _take_lock(self) -> None:
        self._lock = FileLock(str(self.path / "lock"), timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            self._lock = None
            raise SlotError(f"slot {self.name} is in use by another game") from None
        except OSError as error:  # a read-only or full disk, a folder we may not write to
            self._lock = None
            raise SlotError(f"slot {self.name}: cannot open it for writing ({error.strerror or error})") from None

    def close(self) -> None:
        if self.memory is not None:
            try:
                self.memory.close()  # finish the last background write (marker, header) before letting go
            except Exception:
                pass  # the marker was not written, so the next open re-checks the index
            self.memory = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "Slot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def create(cls, root: Path, name: str, seed: Seed, prefs: Preferences | None = None, config: MemoryConfig | None = None) -> "Slot":
        slot = cls(root, name, config)
        if (slot.path / JOURNAL).exists():
            raise SlotError(f"slot {name} already exists in {slot.root}")
        try:
            slot.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SlotError(f"slot {name}: cannot make its folder in {slot.root} ({error.strerror or error})") from None
        slot._take_lock()
        try:
            record = {"seq": 0, "kind": "begin", "schema": SCHEMA, "created": _now(),
                      "seed": seed.model_dump(mode="json"), "prefs": (prefs or Preferences()).model_dump(mode="json")}
            try:
                slot.journal.append(record)
            except OSError as error:
                raise SlotError(f"slot {name}: could not save ({error.strerror or error})") from None
            sync_folder(slot.path)  # the new journal's name is on disk too, not only its bytes
            slot.story = Story.begin(record)
            slot._write_header()
            slot._open_memory()
        except BaseException:
            slot.close()
            raise
        return slot

    @classmethod
    def open(cls, root: Path, name: str, config: MemoryConfig | None = None, memory: bool = True) -> "Slot":
        slot = cls(root, name, config)
        if not (slot.path / JOURNAL).exists():
            raise SlotError(f"no slot named {name} in {slot.root}")
        slot._take_lock()
        try:
            reading = slot.journal.read()
            if reading.damaged_line is not None:
                raise SlotError(
                    f"slot {name}: journal line {reading.damaged_line} is damaged; "
                    f"`recurrent saves repair {name}` keeps the steps before it"
                )
            if reading.torn_tail:
                slot.journal.cut_to(reading.good_bytes)  # a crash mid-append: that record never counted
            slot.story = replay(reading, name)
            slot._refresh_header()
            if memory:
                slot._open_memory()
        except BaseException:
            slot.close()
            raise
        return slot

    def memory_client(self):
        """The Chroma client of this slot, the embedder and the collection name to use."""
        from game.memory.embedders import make_embedder
        from game.memory.longterm import collection_name, embedded_client, server_client

        embedder = make_embedder(self.config.embedder)
        if self.config.host:
            return server_client(self.config.host, self.config.port), embedder, collection_name(embedder.key, self.name)
        return embedded_client(self.path / MEMORY), embedder, collection_name(embedder.key)

    def _open_memory_only(self) -> None:
        from game.memory.longterm import LongTermMemory

        client, embedder, name = self.memory_client()
        self.memory = LongTermMemory(client, embedder, name)

    def _open_memory(self) -> None:
        self._open_memory_only()
        entries = self.story.entries()
        # The marker says the index was level at this record; the count catches a Chroma folder
        # that was deleted or replaced since (it costs a millisecond).
        if self._marker() == self.story.seq and self.memory.count() == len(entries):
            self.memory.attach(entries)
        else:
            self.reindex()

    def _marker(self) -> int | None:
        try:
            data = json.loads((self.path / MARKER).read_text())
            if data.get("collection") == self.memory.name:
                return int(data["seq"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def _write_marker(self, seq: int | None = None) -> None:
        # Not fsynced: if it is lost, the next open simply checks the index again.
        seq = self.story.seq if seq is None else seq
        write_atomic(self.path / MARKER, json.dumps({"seq": seq, "collection": self.memory.name}), sync=False)

    def reindex(self) -> tuple[int, int]:
        """Bring long-term memory level with the journal; returns (added, removed)."""
        changes = self.memory.sync(self.story.entries())
        self._write_marker()
        self.index_stale = False
        return changes

    # -- committing ---------------------------------------------------------------------
    def commit(self, record: dict) -> dict:
        """Append one record; when this returns, the change is saved."""
        story = self.story
        record = {"seq": story.seq + 1, **record}
        before = self._touched(record)
        story.apply(record)  # raises RecordError before changing anything when the record does not fit
        try:
            self.journal.append(record)
        except OSError as error:
            self.story = replay(self.journal.read(), self.name)  # back to what the disk holds
            raise SlotError(f"slot {self.name}: could not save ({error.strerror or error}); nothing was lost, try again") from None
        except (ValueError, TypeError) as error:  # text that cannot be written as UTF-8 JSON
            self.story = replay(self.journal.read(), self.name)
            raise SlotError(f"slot {self.name}: could not save ({type(error).__name__}); nothing was lost") from None
        self._update_index(record, before)
        return record

    def _touched(self, record: dict) -> list[Entry]:
        kind, story = record["kind"], self.story
        if kind in ("redo", "undo") and story.steps:
            return story.entries_of(story.steps[-1])
        if kind in ("edit", "flip") and 0 <= record.get("number", -1) < len(story.steps):
            return story.entries_of(story.steps[record["number"]])
        return []

    def _update_index(self, record: dict, before: list[Entry]) -> None:
        header = self._header()
        if self.memory is None:
            self._write_header(header)
            return
        kind, story = record["kind"], self.story
        after: list[Entry] = []
        if kind in ("step", "redo"):
            after = story.entries_of(story.steps[-1])
        elif kind in ("edit", "flip"):
            after = story.entries_of(story.steps[record["number"]])
        elif kind in ("forget", "amend"):
            before = [e for e in self.memory.known.values() if e.id == record["id"]]
            after = [e.model_copy(update={"text": record["text"]}) for e in before] if kind == "amend" else []
        old = {e.id: e.text for e in before}
        try:
            self.memory.flush()
        except Exception:
            self.index_stale = True  # the last background write failed
        if self.memory.write_failed:
            self.index_stale = True  # ... and recall already met that failure
        try:
            if self.index_stale:
                self.reindex()
                self._write_header(header)
                return
            kept = {e.id for e in after}
            self.memory.change(
                remove=[i for i in old if i not in kept],
                add=[e for e in after if old.get(e.id) != e.text],
                then=lambda seq=self.story.seq: (self._write_marker(seq), self._write_header(header)),
            )
        except Exception:
            # The journal already holds the change; the index catches up on the next commit or open.
            self.index_stale = True
            self._write_header(header)

    # -- the header ---------------------------------------------------------------------
    def _refresh_header(self) -> None:
        """After a crash the header (written last, for listings) can lag the journal: level it."""
        try:
            header = json.loads((self.path / HEADER).read_text(encoding="utf-8"))
            current = isinstance(header, dict) and header.get("steps") == self.story.taken and header.get("schema") == SCHEMA
        except (OSError, ValueError):
            current = False
        if not current:
            self._write_header()

    def _header(self) -> dict:
        story = self.story
        return {
            "schema": SCHEMA,
            "slot": self.name,
            "title": story.seed.title,
            "genre": story.seed.genre,
            "steps": story.taken,
            "words": story.words(),
            "updated": _now(),
            "embedder": self.config.embedder,
        }

    def _write_header(self, header: dict | None = None) -> None:
        # Written after the index in the background: listings may lag one step behind for a
        # moment; the journal is the truth and `read_header` falls back to it.
        header = header or self._header()
        try:
            write_atomic(self.path / HEADER, json.dumps(header, indent=1), sync=False)
        except OSError:
            pass  # the header is a convenience for listings; the journal is the truth


def read_header(root: Path, name: str) -> dict:
    """The slot's header, or one rebuilt from its journal when the header is missing or garbage."""
    path = Path(root) / name
    try:
        header = json.loads((path / HEADER).read_text(encoding="utf-8"))
        if isinstance(header, dict) and {"title", "steps"} <= set(header):
            return header
    except (OSError, ValueError):
        pass
    reading = Journal(path / JOURNAL).read()
    story = replay(reading, name)
    return {"schema": SCHEMA, "slot": name, "title": story.seed.title, "genre": story.seed.genre,
            "steps": story.taken, "words": story.words(), "updated": None}


def list_slots(root: Path) -> list[str]:
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / JOURNAL).is_file())


def delete_slot(root: Path, name: str) -> None:
    check_name(name)
    slot = Slot(root, name)
    if not (slot.path / JOURNAL).exists():
        raise SlotError(f"no slot named {name} in {slot.root}")
    slot._take_lock()
    try:
        shutil.rmtree(slot.path)
    except OSError as error:
        slot.close()
        raise SlotError(f"slot {name}: could not delete it all ({error.strerror or error})") from None
    finally:
        slot._lock = None


def copy_slot(root: Path, source: str, target: str, config: MemoryConfig | None = None) -> None:
    """"Save as": a new slot with the same journal; its long-term memory is rebuilt from it,
    so the copy never shares or half-copies a Chroma folder that is in use."""
    check_name(target)
    src = Path(root) / check_name(source)
    dst = Path(root) / target
    if not (src / JOURNAL).exists():
        raise SlotError(f"no slot named {source} in {root}")
    if dst.exists():
        raise SlotError(f"slot {target} already exists in {root}")
    reading = Journal(src / JOURNAL).read()
    replay(reading, source)  # refuse to copy a story that does not replay
    dst.mkdir(parents=True)
    tmp = dst / (JOURNAL + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write((src / JOURNAL).read_bytes()[: reading.good_bytes])
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, dst / JOURNAL)
    Slot.open(root, target, config).close()  # opening writes the header and rebuilds the index
