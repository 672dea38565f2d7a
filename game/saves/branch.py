"""Branches: a new slot whose story is another slot's, up to a point, and then its own.

`make_branch` is the one way a branch slot is made: by `saves repair`, when the steps after
a damaged record cannot go back into the story, and by `saves branch`. The new slot's
journal holds exactly the records it is given; its header names the slot it came from and
the step it leaves it at; its long-term memory is built from its own journal, never copied.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from game.saves.journal import Journal, Reading, encode
from game.saves.slot import HEADER, JOURNAL, MemoryConfig, Slot, SlotExists, replay, slot_folder, sync_folder


def make_branch(root: Path, name: str, records: list[dict], parent: str, fork_step: int,
                config: MemoryConfig | None = None) -> None:
    """Slot `name` in `root`, its journal exactly `records` (raw journal records, the first one
    the Begin record), its header.json with "parent" and "fork_step". SlotExists if `name` holds
    a story already; SlotError, with nothing written, if the records do not make one."""
    path = slot_folder(root, name)
    if Journal(path / JOURNAL).read().records:
        raise SlotExists(f"slot {name} already exists in {root}")
    story = replay(Reading(records=list(records)), name)  # refuse, before writing, what does not replay
    path.mkdir(parents=True, exist_ok=True)
    tmp = path / (JOURNAL + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(b"".join(encode(record) for record in records))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path / JOURNAL)
    sync_folder(path)
    # Where it came from, for listings; opening the slot keeps these in every header it writes.
    header = {"slot": name, "title": story.seed.title, "steps": story.taken, "parent": parent, "fork_step": fork_step}
    (path / HEADER).write_text(json.dumps(header, indent=1), encoding="utf-8")
    slot = Slot.open(root, name, config, memory=False)
    try:
        slot.open_memory(evidence=False)  # a new slot: whatever a Chroma server holds under its name is not its own
        slot.level_journal()
    finally:
        slot.close()
