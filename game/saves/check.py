"""Checking a slot (does long-term memory agree with the journal?) and repairing it.

What a crash can leave behind (a torn last journal line, an index one record
behind) is what opening a slot recovers from anyway; `check` does that recovery
and says so. Anything else is damage: `check` names it and changes nothing, and
`repair` rebuilds what the journal allows, moving damaged files aside, never
deleting them.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from game.core.errors import one_line
from game.saves.branch import make_branch
from game.saves.journal import Journal, Reading, encode
from game.saves.salvage import remembered, salvage
from game.saves.names import SlotError
from game.saves.disk import read_only_disk
from game.saves.slot import JOURNAL, LOCK, MARKER, MEMORY, SCHEMA, MemoryConfig, Slot, SlotInUse, cut_short, replay, slot_folder
from game.saves import header as headers
from game.saves.header import HEADER, HeaderProblem


@dataclass
class Report:
    slot: str
    problems: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # a crash's leftovers, which opening the slot recovers

    @property
    def ok(self) -> bool:
        return not self.problems


def _marker_seq(path: Path) -> int | None:
    """The record the index marker says memory was level with; None when absent or garbage."""
    try:
        data = json.loads((path / MARKER).read_text())
        seq = data.get("seq") if isinstance(data, dict) else None
        return seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    except (OSError, ValueError, RecursionError):
        return None


def _header_problem(path: Path) -> str | None:
    """None when header.json is fine or simply missing (a crash before it was first written)."""
    try:
        header = headers.read(path)
    except HeaderProblem as problem:
        return str(problem)
    if header is not None and header.save_format is not None and header.save_format > SCHEMA:
        return f"header.json is from a newer version of Recurrent (save format {header.save_format})"
    return None


def _foreign_collections(root: Path, name: str, config: MemoryConfig) -> list[str]:
    """Collections in the slot's folder made by an embedder other than ours, when ours is absent."""
    try:
        return Slot(root, name, config).foreign_collections()
    except Exception:
        return []  # an unreadable folder is reported by the full check below


def check(root: Path, name: str, config: MemoryConfig | None = None) -> Report:
    """What is wrong with the slot, writing nothing to it: the check runs on a copy taken under
    the slot's lock (a game playing it is not read half-way), so Chroma's own housekeeping on
    opening, and the recovery of a crash's leftovers (a torn last line, an index behind), touch
    only the copy; what they would do is said, and opening the slot to play does it. (After a
    full disk, a check that opened the real memory compacted it and broke it.) Long-term memory
    that holds records past the journal's end is evidence of a journal cut short, reported."""
    path = slot_folder(root, name)
    if not (path / JOURNAL).exists():
        raise SlotError(f"no slot named {name} in {root}")
    config = config or MemoryConfig()
    if config.host:  # memory on a Chroma server cannot be copied aside: it is read where it is
        return _check(root, name, config)
    holder = Slot(root, name, config)
    try:
        holder.take_lock()
    except SlotInUse:
        raise
    except SlotError:
        if not read_only_disk(path):
            raise
        # A read-only disk: no game can be writing the slot, so it is copied as it stands.
    try:
        with tempfile.TemporaryDirectory(prefix="recurrent-check-") as folder:
            try:
                shutil.copytree(path, Path(folder) / path.name, ignore=shutil.ignore_patterns(LOCK, "*.tmp"))
            except (OSError, shutil.Error) as error:
                raise SlotError(f"slot {name}: cannot read it to check ({one_line(error)})") from None
            holder.close()  # the copy is taken: a game may play the slot while it is checked
            return _check(Path(folder), name, config)
    finally:
        holder.close()


def _check(root: Path, name: str, config: MemoryConfig) -> Report:
    report = Report(name)
    path = slot_folder(root, name)
    reading = Journal(path / JOURNAL).read()
    if reading.damaged_line is not None:
        what = ("does not follow the record before it (a line lost or moved)"
                if reading.damaged_line == reading.out_of_order else "is damaged")
        report.problems.append(f"journal line {reading.damaged_line} {what}; `recurrent saves repair {name}` keeps "
                               "every record that still fits the story")
        return report
    if reading.mended:
        report.problems.append(f"journal line{'s' if len(reading.mended) > 1 else ''} "
                               f"{', '.join(map(str, reading.mended))} had one damaged byte, read as it was written; "
                               f"`recurrent saves repair {name}` writes {'them' if len(reading.mended) > 1 else 'it'} back whole")
    try:
        story = replay(reading, name)
    except SlotError as error:
        report.problems.append(str(error).split(": ", 1)[-1])
        return report
    marker = _marker_seq(path)
    if reading.torn_tail and marker is not None and marker > story.seq:
        # A crash mid-append tears a record before long-term memory hears of it; an index that
        # holds the torn record means the journal lost a record it once had whole.
        report.problems.append(f"the journal's last record (record {story.seq + 1}) is cut short, and long-term memory still holds it")
        return report
    header_problem = _header_problem(path)
    if header_problem:
        report.problems.append(header_problem)
        return report
    config = config or MemoryConfig()
    if not config.host and not (path / MEMORY).is_dir():
        if story.entries():
            report.problems.append("the long-term memory folder is missing")
            return report
    if not config.host and (path / MEMORY).is_dir():
        foreign = _foreign_collections(root, name, config)
        if foreign:
            report.problems.append(f"long-term memory was made by another embedder ({', '.join(foreign)})")
            return report
    behind = marker is None or marker < story.seq
    try:
        with Slot.open(root, name, config, memory=False) as slot:
            slot.open_memory(level=False)
            ahead = slot.memory_ahead()
            if ahead:  # the only copy of the lost steps' text: not a thing to level away
                report.problems.append(cut_short(story.seq, ahead))
                return report
            if slot.level_journal():
                report.recovered.append("a torn last journal record (a crash mid-step) is dropped")
            if not (path / HEADER).exists():
                slot.write_header()
                report.recovered.append("the missing header.json is written from the journal")
            missing, extra, changed = slot.compare()
            if missing or extra or changed:
                if behind and not changed:
                    added, removed = slot.reindex()
                    report.recovered.append(f"long-term memory catches up with the journal (+{added} −{removed})")
                else:
                    report.problems.append(
                        f"long-term memory disagrees with the journal: {len(missing)} missing, {len(extra)} extra, {len(changed)} changed"
                    )
            elif behind:
                slot.memory.attach(slot.story.entries())
                slot.mark_level()
    except SlotError as error:
        report.problems.append(str(error).split(": ", 1)[-1] if str(error).startswith(f"slot {name}") else str(error))
    except Exception as error:  # Chroma could not read its folder
        text = one_line(error)
        report.problems.append(text if text.startswith("long-term memory") else f"long-term memory cannot be read ({text})")
    return report


def repair(root: Path, name: str, config: MemoryConfig | None = None) -> list[str]:
    """Rebuild what the journal allows; returns what was done, one line each."""
    try:
        return _repair(root, name, config)
    except OSError as error:  # a read-only or full disk
        raise SlotError(f"slot {name}: cannot repair ({error.strerror or error})") from None


def _repair(root: Path, name: str, config: MemoryConfig | None = None) -> list[str]:
    path = slot_folder(root, name)
    if not (path / JOURNAL).exists():
        raise SlotError(f"no slot named {name} in {root}")
    config = config or MemoryConfig()
    done: list[str] = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    slot = Slot(root, name, config)
    slot.take_lock()  # held to the end: no game plays the slot while it is rebuilt
    try:
        reading = slot.journal.read()
        if not reading.records:
            raise SlotError(f"slot {name}: the journal's first record is damaged, so there is no story to rebuild from "
                            "(nothing was changed)")
        replay(Reading(records=reading.records[:1]), name)  # a newer save format is refused, changing nothing
        memory, readable = _remembered(slot)
        last = reading.records[-1]["seq"]
        if reading.damaged or reading.out_of_order is not None or reading.mended or any(seq > last for seq in memory):
            done += _put_back(slot, reading, memory, stamp)
        elif reading.torn_tail or reading.open_end:
            slot.journal.level(reading)
            if reading.torn_tail:
                done.append("dropped a torn last journal record (a crash mid-step)")
        slot.story = replay(slot.journal.read(), name)
        if not readable:
            shutil.move(str(path / MEMORY), str(path / f"memory.damaged-{stamp}"))
            done.append(f"moved the unreadable long-term memory aside (memory.damaged-{stamp})")
        (path / MARKER).unlink(missing_ok=True)
        slot.open_memory(level=False)
        added, removed = slot.reindex()
        slot.write_header()
        done.append(f"rebuilt long-term memory from the journal (+{added} −{removed})")
    finally:
        slot.close()
    return done


def _remembered(slot: Slot) -> tuple[dict, bool]:
    """What long-term memory holds, by the record that wrote it, and whether it could be read."""
    from game.memory.longterm import LongTermMemory

    if not slot.config.host and not (slot.path / MEMORY).is_dir():
        return {}, True
    memory = None
    try:
        client, embedder, collection = slot.memory_client()
        memory = LongTermMemory(client, embedder, collection, slot.config.seconds)
        return remembered(memory.stored()), True
    except Exception:
        return {}, False
    finally:
        if memory is not None:
            memory.close()


def _put_back(slot: Slot, reading: Reading, memory: dict, stamp: str) -> list[str]:
    """Write the journal that salvage makes (the original kept aside), and a branch slot for
    what cannot go back into the story; what was done, one line each."""
    result = salvage(reading, memory, slot.name)
    path = slot.path
    shutil.copy2(path / JOURNAL, path / f"journal.damaged-{stamp}")
    tmp = path / (JOURNAL + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(b"".join(encode(record) for record in result.records))
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path / JOURNAL)
    intact = len(reading.records) + len(reading.after)
    done = [f"kept {result.kept + 1} of {intact} intact journal records (every one that still fits the story), "
            f"rebuilt {result.rebuilt} step(s) from long-term memory and kept the place of {result.lost} lost "
            f"record(s); the original journal is kept as journal.damaged-{stamp}"]
    if result.branch:
        branch = _free_name(slot.root, f"{slot.name}-recovered")
        make_branch(slot.root, branch, result.branch, slot.name, result.fork_step, slot.config, headers.ident(path))
        done.append(f"{result.left} record(s) after the damage could not follow the story: they are in the new slot "
                    f"{branch}, which branches off after step {result.fork_step}")
    return done


def _free_name(root: Path, wanted: str) -> str:
    for n in range(1, 1000):
        suffix = "" if n == 1 else f"-{n}"
        name = wanted[: 64 - len(suffix)].rstrip(" .") + suffix
        if not slot_folder(root, name).exists():
            return name
    raise SlotError(f"no free slot name for {wanted}")
