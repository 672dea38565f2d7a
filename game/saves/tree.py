"""The story map: the slots of a saves folder as trees of branches, read from their headers.

A slot whose header names no parent (or a parent that is gone) is the root of a tree; each
branch hangs under its parent at its fork step. The same nodes are printed by
`recurrent saves tree` and drawn by the TUI's story map.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from game.core.text import last_played, safe
from game.saves.names import SlotError
from game.saves.folder import list_slots, origin_of, read_header


@dataclass
class Node:
    slot: str
    title: str = "?"
    steps: int | str = "?"
    updated: str | None = None
    parent: str | None = None
    fork_step: int | None = None
    parent_id: str | None = None  # the parent's identity, when the branch's header holds it
    id: str | None = None  # this slot's identity
    choice: str = ""  # the first action after the fork: what started this branch
    error: str = ""  # the slot cannot be read
    children: list["Node"] = field(default_factory=list)
    orphan: bool = False  # its parent slot is gone

    @property
    def played(self) -> str:
        return last_played(self.updated)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


def _node(root: Path, name: str) -> Node:
    try:
        header = read_header(root, name)
    except SlotError as error:
        return Node(name, error=str(error))
    steps = header.get("steps")
    return Node(name, title=safe(str(header.get("title", "?"))), steps=steps if isinstance(steps, int) else "?",
                updated=header.get("updated") if isinstance(header.get("updated"), str) else None,
                choice=safe(str(header.get("choice") or "")), id=header.get("id"), **origin_of(header))


def forest(root: Path) -> list[Node]:
    """Every tree in the saves folder, the most recently played first."""
    nodes = {name: _node(Path(root), name) for name in list_slots(root)}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.parent) if node.parent else None
        if parent is not None and node.parent_id and parent.id != node.parent_id:
            parent = None  # its parent was deleted, and this is another slot of the same name
        if parent is None or _loops(node, nodes):
            node.orphan = node.parent is not None
            roots.append(node)
        else:
            parent.children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.fork_step if n.fork_step is not None else 0, n.slot))
    roots.sort(key=lambda n: max((m.updated or "" for m in n.walk()), default=""), reverse=True)
    return roots


def _loops(node: Node, nodes: dict[str, Node]) -> bool:
    """A chain of parents that comes back to `node` (headers edited by hand): it stands alone."""
    seen, current = {node.slot}, node
    while current.parent and current.parent in nodes:
        if current.parent in seen:
            return True
        seen.add(current.parent)
        current = nodes[current.parent]
    return False


def tree_of(root: Path, name: str) -> Node | None:
    """The tree that holds slot `name` (from its oldest known ancestor), or None."""
    for tree in forest(root):
        if any(node.slot == name for node in tree.walk()):
            return tree
    return None


CHOICE_CHARS = 40  # a branch's first action, cut so its steps and its time still fit a map's line


def describe(node: Node) -> str:
    """One line for a slot on the map: where it forks, what started it, how long, when played."""
    if node.error:
        return f"{node.slot}  ({node.error})"
    parts = [node.slot]
    if node.fork_step is not None and not node.orphan:
        fork = f"from step {node.fork_step}"
        choice = node.choice if len(node.choice or "") <= CHOICE_CHARS else node.choice[:CHOICE_CHARS - 1] + "…"
        parts.append(f"{fork}: {choice}" if choice else f"{fork} (not played on yet)")
    elif node.orphan:
        parts.append(f"a branch of {node.parent} (deleted) from step {node.fork_step}")
    parts += [f"{node.steps} step" if node.steps == 1 else f"{node.steps} steps", f"last played {node.played}"]
    return " · ".join(parts)


def tree_lines(tree: Node) -> list[str]:
    """The tree as text: the story's title, then each slot with box-drawing lines to its branches."""
    lines = [tree.title if not tree.error else tree.slot, describe(tree)]

    def below(node: Node, prefix: str) -> None:
        for i, child in enumerate(node.children):
            last = i == len(node.children) - 1
            lines.append(f"{prefix}{'└── ' if last else '├── '}{describe(child)}")
            below(child, prefix + ("    " if last else "│   "))

    below(tree, "")
    return lines
