"""The saves folder as a whole: which slots it holds, each one's header (or one rebuilt from its
journal), and deleting a slot with everything that belongs to it."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from game.core.paths import forget_kv
from game.core.text import safe
from game.saves.journal import Journal
from game.saves.names import SlotError
from game.saves.slot import HEADER, JOURNAL, SCHEMA, Slot, replay, slot_folder


def read_header(root: Path, name: str) -> dict:
    """The slot's header, or one rebuilt from its journal when the header is missing, garbage or
    of the wrong shape. Its "slot" is always the folder's name (a copied folder keeps the other's)."""
    path = slot_folder(root, name)
    try:
        header = json.loads((path / HEADER).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        header = None
    if not good_header(header):
        reading = Journal(path / JOURNAL).read()
        story = replay(reading, name)
        header = {"schema": SCHEMA, "title": story.seed.title, "genre": story.seed.genre,
                  "steps": story.taken, "words": story.words(), "updated": None}
    for key in ("title", "genre", "updated", "opened"):  # written by an older version, or by hand: no escapes
        if isinstance(header.get(key), str):
            header[key] = safe(header[key])
    return {**header, "slot": name}


def good_header(header) -> bool:
    def number(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    return (isinstance(header, dict) and isinstance(header.get("title"), str) and number(header.get("steps"))
            and (header.get("words") is None or number(header.get("words")))
            and isinstance(header.get("genre", ""), str) and isinstance(header.get("updated") or "", str))


def list_slots(root: Path) -> list[str]:
    """Every folder of the saves folder with a journal in it (or something in its journal's place)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for path in root.iterdir():
        journal = path / JOURNAL
        try:
            if journal.exists() or journal.is_symlink():
                found.append(path.name)
        except OSError:
            continue
    return sorted(found)


def delete_slot(root: Path, name: str) -> None:
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
    forget_kv(root, name)  # the local model's saved cache of this story goes with it
