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
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from game.core import records as r
from game.core.models import Preferences
from game.core.records import SCHEMA, Change, RecordError, save_format
from game.core.seed import Seed
from game.core.story import Story
from game.core.story import replay as replay_records
from game.saves import header as headers
from game.saves.disk import disk_full, stop_here, sync_folder, write_atomic
from game.saves.header import HEADER, Header, HeaderProblem
from game.saves.journal import Journal, Reading, encode
from game.saves.names import SlotError, check_name

JOURNAL = "journal.jsonl"
MEMORY = "memory"
MARKER = "index.json"
LOCK = "lock"


class SlotExists(SlotError):
    """A new slot was asked for under a name that holds a story already."""


class SlotInUse(SlotError):
    """Another game holds the slot's lock: it may be read (its journal), not opened."""


@dataclass
class MemoryConfig:
    embedder: str = "wordllama"
    host: str | None = None  # a Chroma server instead of the slot's own folder
    port: int = 8000
    seconds: float | None = None  # the most one Chroma call may take (None: longterm.CALL_SECONDS)


def slot_folder(root: Path, name: str) -> Path:
    """`root/name`, refused when it is not a folder of the saves folder's own: a symbolic link
    planted there (`saves/etc -> /etc`) must not make the game write into /etc, nor a link in
    place of one of the slot's files (journal.jsonl -> ~/.bashrc) make it append there."""
    check_name(name)
    root = Path(root)
    path = root / name
    if path.is_symlink():
        raise SlotError(f"slot {name} is a symbolic link; a slot must be a folder inside {root}")
    if not path.exists():
        return path
    try:
        inside = path.resolve().parent == root.resolve()
    except (OSError, RuntimeError):
        inside = False
    if not inside or not path.is_dir():
        raise SlotError(f"slot {name}: {path} is not a folder inside {root}")
    for part in (JOURNAL, HEADER, MARKER, LOCK, MEMORY):
        if (path / part).is_symlink():
            raise SlotError(f"slot {name}: its {part} is a symbolic link; a slot's files must be its own")
    journal = path / JOURNAL
    if journal.exists() and not journal.is_file():
        raise SlotError(f"slot {name}: its {JOURNAL} is not a file (a folder stands in its place)")
    return path


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def replay(reading: Reading, name: str) -> Story:
    if not reading.records:
        raise SlotError(f"slot {name}: the journal is empty")
    schema = save_format(reading.records[0])
    if schema > SCHEMA:
        raise SlotError(
            f"slot {name}: saved by a newer version of Recurrent (save format {schema}; this version reads "
            f"format {SCHEMA} and older): update Recurrent to open it"
        )
    if schema < 1:
        raise SlotError(f"slot {name}: the journal's save format {reading.records[0].get('schema')!r} is not one Recurrent knows")
    try:
        story = replay_records(reading.records)
    except (RecordError, KeyError, ValueError) as error:
        raise SlotError(f"slot {name}: journal does not replay ({str(error).splitlines()[0]})") from None
    return story


class Slot:
    def __init__(self, root: Path, name: str, config: MemoryConfig | None = None) -> None:
        self.name = check_name(name)
        self.root = Path(root)
        self.path = slot_folder(self.root, name)
        self.config = config or MemoryConfig()
        self.journal = Journal(self.path / JOURNAL)
        self.story: Story | None = None
        self.memory = None
        self.index_stale = False
        self.origin: dict = {}  # a branch's parent slot (its name and identity) and fork step, kept in its header
        self.ident: str | None = None  # this slot's identity, kept in its header: a later slot of the same name is another
        self.updated: str | None = None  # when its last step was written, as its header says
        self._lock: FileLock | None = None
        self._unlevel = None  # a Reading whose journal does not yet end on a complete line
        self.said = ""  # what opening did that the player should hear of (memory rebuilt), one line

    # -- opening and closing ----------------------------------------------------------
    def take_lock(self) -> None:
        self._lock = FileLock(str(self.path / LOCK), timeout=0)
        try:
            self._lock.acquire()
        except Timeout:
            self._lock = None
            raise SlotInUse(f"slot {self.name} is in use by another game") from None
        except OSError as error:  # a read-only or full disk, a folder we may not write to
            self._lock = None
            raise SlotError(f"slot {self.name}: cannot open it for writing ({error.strerror or error})") from None

    def remove(self) -> None:
        """The slot's folder deleted with everything in it, under its lock: no game plays it meanwhile."""
        self.take_lock()
        try:
            shutil.rmtree(self.path)
        except OSError as error:
            self.close()
            raise SlotError(f"slot {self.name}: could not delete it all ({error.strerror or error})") from None
        finally:
            self._lock = None  # its file went with the folder

    def fill(self, records: list[dict], story: Story, origin: dict) -> None:
        """A new slot (its lock held, its journal empty) made whole from `records`, the raw journal
        records that tell `story`, with `origin` (a branch's parent, fork step and parent's identity).

        Everything but the journal first: the header (with the origin that only it holds), synced,
        and long-term memory built from `story`, with its marker. Then the journal, whose arrival
        (one rename, after its bytes are synced) is what makes the slot exist. Killed at any
        instant, it leaves no slot or a whole one, never a journal whose memory is missing or
        partial. A new slot: whatever a Chroma server holds under its name, or a fill killed
        here before left in its folder, is not its own, so memory is built afresh."""
        self.story, self.origin = story, dict(origin)
        self.write_header(sync=True)
        (self.path / MARKER).unlink(missing_ok=True)
        self.open_memory(evidence=False)  # no marker: made to hold exactly the entries of `story`
        memory, self.memory = self.memory, None
        memory.close()  # its writes are done before the journal says the slot exists
        stop_here("branch-memory")
        tmp = self.path / (JOURNAL + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(b"".join(encode(record) for record in records))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path / JOURNAL)
        sync_folder(self.path)
        stop_here("branch-journal")
        reading = self.journal.read()
        self.story = replay(reading, self.name)
        self._unlevel = reading if reading.torn_tail or reading.open_end else None
        self.open_memory(evidence=False)  # level with the journal now: its marker says so
        self.level_journal()

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
        if Journal(slot.path / JOURNAL).read().records:
            raise SlotExists(f"slot {name} already exists in {slot.root}")
        try:
            slot.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SlotError(f"slot {name}: cannot make its folder in {slot.root} ({error.strerror or error})") from None
        slot.take_lock()
        try:
            reading = slot.journal.read()  # again, now that the slot is ours
            if reading.records:
                raise SlotExists(f"slot {name} already exists in {slot.root}")
            if reading.damaged:
                raise SlotError(f"slot {name}: its journal's first record is damaged; nothing was changed")
            if reading.torn_tail:
                slot.journal.cut_to(0)  # a crash while the slot was being made: its seed never counted
            record = r.Begin(seq=0, created=_now(), seed=seed, prefs=prefs or Preferences())
            try:
                slot.journal.append(record.line())
            except OSError as error:
                raise SlotError(f"slot {name}: could not save ({error.strerror or error})") from None
            sync_folder(slot.path)  # the new journal's name is on disk too, not only its bytes
            slot.story = Story.begin(record)
            slot.write_header()
            slot.open_memory(evidence=False)  # a Chroma server may hold a deleted slot's entries: not ours
        except BaseException:
            slot.close()
            raise
        return slot

    @classmethod
    def open(cls, root: Path, name: str, config: MemoryConfig | None = None, memory: bool = True) -> "Slot":
        slot = cls(root, name, config)
        if not (slot.path / JOURNAL).exists():
            raise SlotError(f"no slot named {name} in {slot.root}")
        slot.take_lock()
        try:
            reading = slot.journal.read()
            if reading.damaged_line is not None:
                raise SlotError(
                    f"slot {name}: journal line {reading.damaged_line} is damaged; "
                    f"`recurrent saves repair {name}` keeps every intact record"
                )
            slot.story = replay(reading, name)
            slot._unlevel = reading if reading.torn_tail or reading.open_end else None
            slot._refresh_header()
            if memory:
                slot.open_memory()  # refuses a journal that long-term memory shows was cut short
                slot.level_journal()  # a crash mid-append: that record never counted
        except BaseException:
            slot.close()
            raise
        return slot

    def level_journal(self) -> bool:
        """Cut off a torn last line (or add a missing final newline) before anything is appended;
        True if there was one to cut. Opening a slot to read it (`saves check`) leaves it be."""
        reading, self._unlevel = self._unlevel, None
        if reading is None:
            return False
        self.journal.level(reading)
        return reading.torn_tail

    def memory_client(self):
        """The Chroma client of this slot, the embedder and the collection name to use."""
        from game.memory.embedders import make_embedder
        from game.memory.longterm import collection_name, embedded_client, server_client

        embedder = make_embedder(self.config.embedder)
        if self.config.host:
            return (server_client(self.config.host, self.config.port, self.config.seconds), embedder,
                    collection_name(embedder.key, self.name))
        return embedded_client(self.path / MEMORY, self.config.seconds), embedder, collection_name(embedder.key)

    def foreign_collections(self) -> list[str]:
        """Collections in this slot's own folder made by another embedder, when ours is absent."""
        from game.memory.longterm import close_client, collection_names

        client = None
        try:
            client, _embedder, ours = self.memory_client()
            names = collection_names(client, self.config.seconds)
        finally:
            close_client(client)
        return [] if ours in names or not names else names

    def open_memory(self, level: bool = True, evidence: bool = True) -> None:
        """Open long-term memory; with `level`, bring it level with the journal first (what a
        game needs). `saves check` opens it without, to compare before anything changes. With
        `evidence`, memory that holds records past the journal's end (the journal was cut short)
        is not levelled but refused: those entries are what repair rebuilds the lost steps from."""
        from game.memory.longterm import LongTermMemory, MemoryStoreError

        try:
            client, embedder, name = self.memory_client()
        except MemoryStoreError as error:  # Chroma cannot read its folder (a full disk mid-write, damage)
            if not level:
                raise
            self.memory = None
            count = self._memory_rebuilt(error)
        else:
            self.memory = LongTermMemory(client, embedder, name, self.config.seconds)
            if not level:
                return
            try:
                count = self.memory.count()
            except Exception as error:  # the folder opens, but its collection cannot be read
                count = self._memory_rebuilt(error)
        entries = self.story.entries()
        # The marker says the index was level at this record; the count catches a Chroma folder
        # that was deleted or replaced since (it costs a millisecond).
        if self.marker() == self.story.seq and count == len(entries):
            self.memory.attach(entries)
        else:
            if evidence:
                ahead = self.memory_ahead()
                if ahead:  # bringing the index level would delete the only copy of those steps
                    raise SlotError(f"slot {self.name}: {cut_short(self.story.seq, ahead)}; "
                                    f"`recurrent saves repair {self.name}` rebuilds the lost steps it can")
            self.reindex()
        try:
            self.memory.warm()
        except Exception:
            pass  # a memory that cannot warm up says so at its first real use

    def _memory_rebuilt(self, error: Exception) -> int:
        """Long-term memory that cannot be read is an index of the journal, so it is rebuilt from
        the journal, as repair does: the unreadable folder is kept aside, never deleted, and
        `self.said` tells the player in one line. A Chroma server's memory is not ours to move."""
        from game.core.errors import one_line
        from game.memory.longterm import LongTermMemory

        if disk_full(self.path, error):  # not damage: the folder is good, the disk has no room to open it
            raise SlotError(f"slot {self.name}: long-term memory cannot be opened, the disk is full "
                            f"({one_line(error)[:160]}); nothing was changed: free some space and try again") from None
        if self.config.host or not (self.path / MEMORY).is_dir():
            if isinstance(error, SlotError) or hasattr(error, "hint"):
                raise error  # already one line for the player (an unreachable Chroma server, say)
            raise SlotError(f"slot {self.name}: long-term memory cannot be read ({one_line(error)[:200]})") from None
        try:
            if self.memory is not None:
                self.memory.close()
        except Exception:
            pass
        aside = f"memory.damaged-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        shutil.move(str(self.path / MEMORY), str(self.path / aside))
        (self.path / MARKER).unlink(missing_ok=True)
        client, embedder, name = self.memory_client()
        self.memory = LongTermMemory(client, embedder, name, self.config.seconds)
        self.said = (f"long-term memory could not be read, so it was rebuilt from the journal "
                     f"(the old folder is kept as {aside})")
        return -1  # never level: it is rebuilt below

    def memory_ahead(self) -> list[str]:
        """Ids in long-term memory written by records after the journal's last: the journal lost
        them (a crash never does that: memory hears of a record only once the journal holds it)."""
        return sorted((i for i in self.memory.stored_ids() if (record_of(i) or -1) > self.story.seq), key=record_of)

    def compare(self):
        """How long-term memory differs from the journal: (missing, extra ids, changed) entries."""
        return self.memory.compare(self.story.entries())

    def marker(self) -> int | None:
        """The last record the index was level with, as its marker says (None: unknown)."""
        try:
            data = json.loads((self.path / MARKER).read_text())
            if data.get("collection") == self.memory.name:
                return int(data["seq"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def mark_level(self, seq: int | None = None) -> None:
        """Note that long-term memory holds everything up to record `seq` (default: the last)."""
        # Not fsynced: if it is lost, the next open simply checks the index again.
        seq = self.story.seq if seq is None else seq
        write_atomic(self.path / MARKER, json.dumps({"seq": seq, "collection": self.memory.name}), sync=False)

    def reindex(self) -> tuple[int, int]:
        """Bring long-term memory level with the journal; returns (added, removed)."""
        changes = self.memory.sync(self.story.entries())
        self.mark_level()
        self.index_stale = False
        return changes

    # -- committing ---------------------------------------------------------------------
    def commit(self, record: r.Record) -> Change:
        """Append one record; when this returns, the change is saved. Blocking (a disk sync):
        the engine calls it in a thread."""
        if self._unlevel is not None:
            try:
                self.level_journal()
            except OSError as error:
                raise SlotError(f"slot {self.name}: could not save ({error.strerror or error}); nothing was lost, try again") from None
        story = self.story
        record = record.stamped(story.seq + 1)
        change = story.apply(record)  # raises RecordError before changing anything when the record does not fit
        try:
            self.journal.append(record.line())
        except OSError as error:
            self.story = replay(self.journal.read(), self.name)  # back to what the disk holds
            raise SlotError(f"slot {self.name}: could not save ({error.strerror or error}); nothing was lost, try again") from None
        except (ValueError, TypeError) as error:  # text that cannot be written as UTF-8 JSON
            self.story = replay(self.journal.read(), self.name)
            raise SlotError(f"slot {self.name}: could not save ({type(error).__name__}); nothing was lost") from None
        self._remember(change)
        return change

    def _remember(self, change: Change) -> None:
        """Hand long-term memory the change the journal now holds (it catches up if it cannot)."""
        header = self.header()
        if self.memory is None:
            self.write_header(header)
            return
        try:
            self.memory.flush()
        except Exception:
            self.index_stale = True  # the last background write failed
        if self.memory.stale:
            self.index_stale = True  # ... or a search met a failure
        try:
            if self.index_stale:
                self.reindex()
                self.write_header(header)
                return
            self.memory.change(
                remove=change.drop, add=change.add,
                then=lambda seq=self.story.seq: (self.mark_level(seq), self.write_header(header)),
            )
        except Exception:
            # The journal already holds the change; the index catches up on the next commit or open.
            self.index_stale = True
            self.write_header(header)

    # -- the header (header.py: the record, read there and nowhere else) -------------------
    def _refresh_header(self) -> None:
        """After a crash the header (written last, for listings) can lag the journal: level it.
        A branch's origin lives only in its header, so it is read first and written on."""
        try:
            header = headers.read(self.path)
        except HeaderProblem:
            header = None
        self.origin = header.origin if header is not None else {}
        # A copied folder (`cp -a saves/A saves/B`) carries A's header: a slot is its folder's name,
        # and its identity is its own (B is no branch of A's, nor A itself).
        self.ident = header.id if header is not None and header.slot == self.name else None
        if (header is not None and header.steps == self.story.taken and header.save_format == SCHEMA
                and header.slot == self.name and header.id is not None):
            self.updated = header.updated
        else:
            self.write_header()

    def header(self, **changed) -> Header:
        """The slot's header as it stands now (its story, its origin), with `changed` fields."""
        story = self.story
        if self.ident is None:
            self.ident = uuid.uuid4().hex  # a new slot's, or one whose header never held one
        fields = dict(save_format=SCHEMA, slot=self.name, id=self.ident, title=story.seed.title, genre=story.seed.genre,
                      steps=story.taken, words=story.words(), updated=_now(), embedder=self.config.embedder)
        return Header(**{**fields, **self.lineage(), **changed})

    def lineage(self) -> dict:
        """Where this slot came from, for the map and for exports: parent, fork step and choice."""
        return {**self.origin, **self._choice()}

    def _choice(self) -> dict:
        """A branch's first action after its fork: the choice that started it (for the story map)."""
        fork = self.origin.get("fork_step")
        if fork is None or fork + 1 >= len(self.story.steps):
            return {}
        return {"choice": self.story.steps[fork + 1].action}

    def mark_opened(self) -> None:
        """Say in the header that a game opened the slot now: Continue goes back to the story last
        opened, even when no step was played in it since."""
        self.write_header(self.header(updated=self.updated, opened=_now()))

    def write_header(self, header: Header | None = None, sync: bool = False) -> None:
        # Written after the index in the background: listings may lag one step behind for a
        # moment; the journal is the truth and `read_header` falls back to it. A branch's header
        # holds its origin, which no journal does: that one is synced (`sync`) and must not fail.
        header = header or self.header()
        self.updated = header.updated
        try:
            write_atomic(self.path / HEADER, header.text(), sync=sync)
        except OSError:
            if sync:
                raise
            # otherwise the header is a convenience for listings; the journal is the truth


def record_of(entry_id: str) -> int | None:
    """The journal record that wrote a long-term memory entry ("v12-3" -> 12)."""
    head = entry_id.split("-", 1)[0]
    return int(head[1:]) if head[:1] == "v" and head[1:].isdigit() else None


def cut_short(last: int, ahead: list[str]) -> str:
    """One line for a journal that long-term memory shows was cut short."""
    records = sorted({record_of(i) for i in ahead})
    return (f"the journal is cut short: it ends at record {last}, but long-term memory holds {len(ahead)} "
            f"entries of {len(records)} later record(s) (up to record {records[-1]})")
