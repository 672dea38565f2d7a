"""The shelf of saves: the slots of one saves folder, as the title screen, the story map and
`recurrent saves` see them (list, show, delete, check, repair, branch, export, tree).

A slot in use by a game is read from its journal here, as a reader would, and never opened:
the game playing it holds its lock and its long-term memory.
"""
from __future__ import annotations

from pathlib import Path

from game.core.errors import one_line
from game.core.settings import Settings, load_settings
from game.saves import check as checks
from game.saves.branch import branch_at, branch_name, free_slot
from game.saves.export import FORMATS, check_out, format_of, markdown, named_format, render, write_transcript
from game.saves.journal import Journal
from game.saves.names import SlotError, check_name, slug, unique_slot
from game.saves.disk import read_only_disk
from game.saves.slot import JOURNAL, Slot, SlotInUse, replay, slot_folder
from game.saves.folder import delete_slot, list_slots, origin_of, read_header
from game.saves.tree import Node, describe, forest, tree_lines, tree_of
from game.session.settings import memory_config

__all__ = ["FORMATS", "Node", "Shelf", "SlotError", "check_name", "check_out", "describe", "format_of", "markdown",
           "named_format", "slug", "tree_lines"]


class Shelf:
    def __init__(self, root: Path, settings: Settings | None = None) -> None:
        self.root = Path(root)
        self.settings = settings

    def _config(self):
        return memory_config(self.settings or load_settings())

    # -- what is on it ------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list_slots(self.root)

    def has(self, name: str) -> bool:
        """A slot of that name (a good name, with a journal) is on the shelf."""
        return (slot_folder(self.root, name) / JOURNAL).exists()

    def headers(self) -> list[dict]:
        """Every slot's header; one that cannot be read is {"slot", "error"}, a line of the
        listing rather than its end."""
        rows = []
        for name in self.names():
            try:
                rows.append(read_header(self.root, name))
            except Exception as error:  # noqa: BLE001 - a damaged slot is listed, not fatal
                rows.append({"slot": name, "error": one_line(error)})
        return rows

    def header(self, name: str) -> dict:
        return read_header(self.root, name)

    def read(self, name: str):
        """(story, header, journal path) read without opening the slot: no lock, no long-term memory."""
        path = slot_folder(self.root, name) / JOURNAL
        if not path.exists():
            raise SlotError(f"no slot named {name} in {self.root}")
        return replay(Journal(path).read(), name), read_header(self.root, name), path

    def show(self, name: str) -> tuple[dict, bool]:
        """What `saves show` prints of slot `name`, and whether a game is playing it (then it is
        read from its journal, and long-term memory, which the game holds open, is not counted)."""
        check_name(name)
        try:
            with Slot.open(self.root, name, self._config()) as slot:
                return _about(slot.name, slot.story, slot.memory.count(), slot.path / JOURNAL, slot.origin), False
        except SlotInUse:
            story, header, path = self.read(name)
            return _about(name, story, None, path, origin_of(header)), True
        except SlotError:
            if not read_only_disk(slot_folder(self.root, name)):
                raise
            story, header, path = self.read(name)  # a read-only disk: read from its journal, as a reader would
            return _about(name, story, None, path, origin_of(header)), False

    def trees(self, name: str | None = None) -> list[Node]:
        """The stories as trees of branches; only the one that holds `name`, when given."""
        if name is None:
            return forest(self.root)
        check_name(name)
        tree = tree_of(self.root, name)
        return [tree] if tree is not None else []

    # -- names for new slots ------------------------------------------------------------------
    def unique(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`... whichever is free."""
        return unique_slot(self.root, base)

    def unique_for(self, title: str) -> str:
        """A free slot name made from a story's title."""
        return unique_slot(self.root, slug(title))

    def branch_name(self, name: str, step: int) -> str:
        return branch_name(self.root, name, step)

    def free(self, name: str) -> None:
        """Nothing, for a good name that no slot has; a one-line SlotError otherwise."""
        free_slot(self.root, name)

    # -- changes ------------------------------------------------------------------------------
    def delete(self, name: str) -> None:
        delete_slot(self.root, name)

    def check(self, name: str):
        return checks.check(self.root, name, self._config())

    def repair(self, name: str) -> list[str]:
        return checks.repair(self.root, name, self._config())

    def branch(self, name: str, step: int, new: str | None = None) -> str:
        return branch_at(self.root, name, step, new, self._config())

    def export(self, name: str, fmt: str | None, out: str | None) -> Path | bytes:
        """Slot `name` as `fmt`: written to `out` (its path returned), else its bytes."""
        story, header, _path = self.read(name)
        if out:
            return write_transcript(story, out, name, fmt, header, saves=self.root)
        return render(story, fmt or "md", name, header)


def _about(name: str, story, memories: int | None, journal: Path, origin: dict) -> dict:
    return {"slot": name, "title": story.seed.title, "genre": story.seed.genre, "steps": story.taken,
            "words": story.words(), "memories": memories, "journal_bytes": journal.stat().st_size,
            "memory": story.memory, "pinned": story.pinned, "options": story.options,
            "parent": origin.get("parent"), "fork_step": origin.get("fork_step")}
