"""The story map: the slots of a story as a tree of branches (fork points, steps, last played,
the choice that started each branch). Enter opens a branch; Esc goes back."""
from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from game.session import Node, describe
from game.ui.clipping import clip


class StoryMapScreen(Screen):
    BINDINGS = [Binding("escape", "close", "Back", id="close-map")]

    def __init__(self, slot: str | None = None, playing: str | None = None, at: str | None = None) -> None:
        super().__init__()
        self.slot = slot  # the tree of this slot only; None: every story in the saves folder
        self.playing = playing  # the slot on the play screen under this one, if any
        self.at = at or playing or slot  # where the cursor starts
        self.trees: list[Node] | None = None  # None until read

    def compose(self) -> ComposeResult:
        with Vertical(id="map-box"):
            yield Static("Story map", id="map-title", markup=False)
            yield Static("Enter opens the slot under the cursor, Esc goes back. A branch hangs under the slot it "
                         "was made from, at the step it forks from.", classes="hint", markup=False)
            tree: Tree = Tree("stories", id="map")
            tree.show_root = False
            tree.auto_expand = False
            yield tree
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Tree).focus()
        self.read()

    @work(exclusive=True, group="map")
    async def read(self) -> None:
        trees = await asyncio.to_thread(self.app.shelf.trees, self.slot)
        if self.is_attached:
            self.draw(trees)

    def draw(self, trees: list[Node]) -> None:
        self.trees = trees
        tree = self.query_one(Tree)
        tree.clear()
        here = None
        for story in trees:
            top = tree.root.add(Text(story.title, style="bold"), data=None, expand=True)
            for node, branch in self._add(top, story, depth=1, width=tree.size.width or self.app.size.width or 80):
                if node.slot == self.at:
                    here = branch
        title = self.query_one("#map-title", Static)
        count = sum(1 for story in trees for _ in story.walk())
        title.update(f"Story map · {count} slot{'s' if count != 1 else ''}" if trees else "Story map · no saved stories yet")
        if here is not None:
            self.call_after_refresh(lambda: tree.move_cursor(here))

    def _add(self, parent, node: Node, depth: int, width: int):
        playing = "  (playing)" if node.slot == self.playing else ""
        # A line longer than the map is cut by the tree without a mark: cut it here, with "…".
        room = max(24, width - parent.tree.guide_depth * (depth + 1) - 2 - len(playing))
        label = Text(clip(describe(node), room))
        label.stylize("bold", 0, len(node.slot))
        label.append(playing, style="italic")
        branch = parent.add(label, data=node.slot, expand=True, allow_expand=bool(node.children))
        yield node, branch
        for child in node.children:
            yield from self._add(branch, child, depth + 1, width)

    def on_resize(self) -> None:
        if self.trees is not None:  # drawn again to the new width, the cursor where it was
            node = self.query_one(Tree).cursor_node
            self.at = node.data if node is not None and node.data else self.at
            self.draw(self.trees)

    @on(Tree.NodeSelected, "#map")
    def chosen(self, event: Tree.NodeSelected) -> None:
        name = event.node.data
        if not name:
            return
        if name == self.playing:
            self.dismiss()
            return
        self.app.open_game(name)

    def action_close(self) -> None:
        self.dismiss()
