"""The play screen's copies of the story: save as (a new slot) and export (a file, or a download
in a browser). Their workers raise on failure, said by PlayScreen.worker_failed."""
from __future__ import annotations

from textual import on, work
from textual.screen import Screen

from game.ui.messages import Said


class PlayCopies(Screen):
    """Save as and export, for PlayScreen."""

    def action_save_as(self) -> None:
        from game.ui.screens.dialogs import AskScreen

        shelf = self.app.shelf
        self.app.push_screen(AskScreen("Save a copy of this story as (a new slot)", shelf.unique(self.slot.name),
                                       check=shelf.free), self.save_copy)

    def save_copy(self, name: str | None) -> None:
        if name:
            self.copy_worker(name)

    @work(group="saves", exit_on_error=False)
    async def copy_worker(self, name: str) -> None:
        source = self.slot.name
        await self.game.save_as(name)
        self.post_message(Said(f"saved a copy as {name}; you are still playing {source}"))

    @on(Said)
    def said(self, message: Said) -> None:
        self.notify(message.text)

    def action_export(self) -> None:
        from pathlib import Path

        # In a browser the file downloads there: its name only, no folder of the server's.
        self.app.go("export", Path("") if self.app.is_web else Path.home(), self.slot.name, then=self.export)

    def export(self, choice: tuple[str, str] | None) -> None:
        if choice:
            self.export_worker(*choice)

    @work(group="saves", exit_on_error=False)
    async def export_worker(self, fmt: str, path: str) -> None:
        """An e-book of a long story takes a moment: written in a thread, the screen goes on."""
        if self.app.is_web:
            from game.ui.delivery import deliver_export

            self.post_message(Said(f"{await deliver_export(self.app, self.game, fmt, path)}: downloading to your browser"))
            return
        target = await self.game.export(fmt, path)
        self.post_message(Said(f"transcript written to {target}"))
