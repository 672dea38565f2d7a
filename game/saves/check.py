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
import time
from dataclasses import dataclass, field
from pathlib import Path

from game.saves.journal import Journal, encode
from game.saves.names import SlotError, check_name
from game.saves.slot import HEADER, JOURNAL, MARKER, MEMORY, SCHEMA, MemoryConfig, Slot, replay


@dataclass
class Report:
    slot: str
    problems: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _marker(path: Path) -> dict:
    try:
        data = json.loads((path / MARKER).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _header_problem(path: Path) -> str | None:
    """None when header.json is fine or simply missing (a crash before it was first written)."""
    try:
        raw = (path / HEADER).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"header.json cannot be read ({error.strerror or error})"
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "header.json is damaged (not JSON)"
    if not isinstance(header, dict) or not {"title", "steps"} <= set(header):
        return "header.json is damaged (title or steps missing)"
    if isinstance(header.get("schema"), int) and header["schema"] > SCHEMA:
        return f"header.json is from a newer version of Recurrent (save format {header['schema']})"
    return None


def _foreign_collections(root: Path, name: str, config: MemoryConfig) -> list[str]:
    """Collections in the slot's folder made by an embedder other than ours, when ours is absent."""
    try:
        return Slot(root, name, config).foreign_collections()
    except Exception:
        return []  # an unreadable folder is reported by the full check below


def check(root: Path, name: str, config: MemoryConfig | None = None) -> Report:
    check_name(name)
    report = Report(name)
    path = Path(root) / name
    if not (path / JOURNAL).exists():
        raise SlotError(f"no slot named {name} in {root}")
    reading = Journal(path / JOURNAL).read()
    if reading.damaged_line is not None:
        report.problems.append(f"journal line {reading.damaged_line} is damaged")
        return report
    try:
        story = replay(reading, name)
    except SlotError as error:
        report.problems.append(str(error).split(": ", 1)[-1])
        return report
    marker = _marker(path)
    try:
        ahead = reading.torn_tail and int(marker.get("seq", -1)) > story.seq
    except (TypeError, ValueError):
        ahead = False
    if ahead:
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
    behind = not marker or int(marker.get("seq", -1)) < story.seq
    try:
        with Slot.open(root, name, config, memory=False) as slot:
            if reading.torn_tail:
                report.recovered.append("dropped a torn last journal record (a crash mid-step)")
            if not (path / HEADER).exists():
                slot.write_header()
                report.recovered.append("wrote the missing header.json from the journal")
            slot.open_memory(level=False)
            missing, extra, changed = slot.compare()
            if missing or extra or changed:
                if behind and not changed:
                    added, removed = slot.reindex()
                    report.recovered.append(f"long-term memory caught up with the journal (+{added} −{removed})")
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
        report.problems.append(f"long-term memory cannot be read ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})")
    return report


def repair(root: Path, name: str, config: MemoryConfig | None = None) -> list[str]:
    """Rebuild what the journal allows; returns what was done, one line each."""
    try:
        return _repair(root, name, config)
    except OSError as error:  # a read-only or full disk
        raise SlotError(f"slot {name}: cannot repair ({error.strerror or error})") from None


def _repair(root: Path, name: str, config: MemoryConfig | None = None) -> list[str]:
    check_name(name)
    path = Path(root) / name
    if not (path / JOURNAL).exists():
        raise SlotError(f"no slot named {name} in {root}")
    done: list[str] = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    journal = Journal(path / JOURNAL)
    reading = journal.read()
    if reading.damaged_line is not None or reading.torn_tail:
        kept = reading.records
        if not kept:
            raise SlotError(f"slot {name}: the journal's first record is damaged, so there is no story to rebuild from (nothing was changed)")
        replay(reading, name)  # refuse, changing nothing, when the records before the damage do not make a story
        lines = (path / JOURNAL).read_bytes().count(b"\n")
        shutil.copy2(path / JOURNAL, path / f"journal.damaged-{stamp}")
        tmp = path / (JOURNAL + ".tmp")
        with open(tmp, "wb") as handle:
            handle.write(b"".join(encode(record) for record in kept))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path / JOURNAL)
        lost = max(0, lines - len(kept))
        done.append(f"kept the {len(kept)} journal records before the damage; {lost} later line(s) set aside "
                    f"(the original journal is kept as journal.damaged-{stamp})")
    replay(journal.read(), name)  # raises a one-line SlotError if even the kept records do not make a story
    config = config or MemoryConfig()
    if not config.host and (path / MEMORY).exists():
        try:
            with Slot.open(root, name, config, memory=False) as slot:
                slot.open_memory(level=False)
                slot.memory.count()
        except SlotError:
            raise
        except Exception:
            shutil.move(str(path / MEMORY), str(path / f"memory.damaged-{stamp}"))
            done.append(f"moved the unreadable long-term memory aside (memory.damaged-{stamp})")
    (path / MARKER).unlink(missing_ok=True)
    with Slot.open(root, name, config, memory=False) as slot:
        slot.open_memory(level=False)
        added, removed = slot.reindex()
        slot.write_header()
    done.append(f"rebuilt long-term memory from the journal (+{added} −{removed})")
    return done
