"""The saves folder as a whole: which slots it holds, each one's header (or one rebuilt from its
journal), and deleting a slot with everything that belongs to it."""
from __future__ import annotations

from pathlib import Path

from game.core.paths import forget_kv
from game.saves.journal import Journal
from game.saves.names import SlotError
from game.saves import header as headers
from game.saves.header import Header, HeaderProblem
from game.saves.slot import JOURNAL, Slot, replay, slot_folder


def read_header(root: Path, name: str) -> dict:
    """The slot's header as a listing shows it, or one rebuilt from its journal when the header is
    missing, damaged or of the wrong shape. Its "slot" is always the folder's name (a copied
    folder keeps the other's)."""
    path = slot_folder(root, name)
    try:
        header = headers.read(path)
    except HeaderProblem:
        header = None
    if header is None:
        story = replay(Journal(path / JOURNAL).read(), name)
        header = Header(title=story.seed.title, genre=story.seed.genre, steps=story.taken, words=story.words())
    return header.listing(name)


def origin_of(listing: dict) -> dict:
    """The parent, fork step and parent's identity a listing names ({} for a story's first slot);
    `read_header` keeps them only when parent and fork step are both sound."""
    return {key: listing[key] for key in ("parent", "fork_step", "parent_id") if key in listing}


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
    slot.remove()
    forget_kv(root, name)  # the local model's saved cache of this story goes with it
