"""The studio's suggestions: the model proposes world entries or options, shown to accept
or reject; an accepted one is a step of the studio's undo history like any change."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from textual import on, work
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Static, TabbedContent

from game.core.errors import PlayerError, with_hint


@dataclass
class Suggested(Message):
    """The model's suggestion for a field (or why there is none)."""

    kind: str  # world or options
    value: list | None = None
    error: str = ""


class StudioSuggestions(Screen):
    """For StudioScreen, which holds the data and shows it (`fill`, `remember`, `show_status`)."""

    @on(Button.Pressed, "#suggest-options")
    def suggest_options(self) -> None:
        self.ask("options")

    @on(Button.Pressed, "#suggest-world")
    def suggest_world(self) -> None:
        self.ask("world")

    def action_suggest(self) -> None:
        tab = self.query_one("#studio-tabs", TabbedContent).active
        self.ask("world" if tab == "world" else "options" if tab == "lists" else "")

    def ask(self, kind: str) -> None:
        if not kind:
            self.notify("the model suggests world entries (World tab, F4) and options (Lists tab, F3)")
            return
        self.query_one("#studio-status", Static).update(f"asking the model for "
                                                        f"{'world entries' if kind == 'world' else 'three options'}…")
        self.suggest(kind, copy.deepcopy(self.data))

    @work(exclusive=True, group="suggest")
    async def suggest(self, kind: str, data: dict) -> None:
        from game.stories.writer import suggest_options, suggest_world

        about = {key: str(data.get(key) or "") for key in ("title", "premise", "opening")}
        try:
            backend = await self.app.model.ready()  # made off the event loop: a probe may take seconds
            if kind == "world":
                taken = [str(e.get("name", "")) for e in data["world"]]
                entries = await suggest_world(backend, genre=str(data.get("genre") or ""), taken=taken, **about)
                value = [e.model_dump() for e in entries]
            else:
                value = await suggest_options(backend, style=str(data.get("style") or ""), **about)
        except PlayerError as error:
            self.post_message(Suggested(kind, error=with_hint(error)))
            return
        self.post_message(Suggested(kind, value))

    @on(Suggested)
    def suggested(self, message: Suggested) -> None:
        self.show_status()  # it said it was asking the model
        if message.error:
            self.notify(message.error, severity="error", timeout=10)
            return

        def answered(accept: bool | None) -> None:
            if accept:
                self.accept(message.kind, message.value)
            else:
                self.notify("suggestion rejected; nothing changed")

        current = self.data.get("options") or [] if message.kind == "options" else []
        self.app.go("suggestion", message.kind, message.value, current, then=answered)

    def accept(self, kind: str, value: list) -> None:
        if kind == "world":
            self.data["world"] += [{k: v for k, v in entry.items() if v not in ([], False)} for entry in value]
            self.entry = len(self.data["world"]) - len(value)
            said = f"added {len(value)} world entr{'y' if len(value) == 1 else 'ies'}"
        else:
            self.data["options"] = list(value)
            said = "the options are the model's now"
        self.remember()
        self.fill()
        self.notify(f"{said} (Ctrl+Z takes it back)")
