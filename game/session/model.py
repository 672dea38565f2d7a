"""The model backend's one owner: made off the event loop when a game first needs it.

Making a backend can take seconds (a probe for Ollama, the local model's child process), so a
face never makes one on its own thread: `ready` makes it in a thread, `get` is for threads.
The TUI keeps one `Model` for the whole app and hands it to every game; `recurrent write`
and the tests let a game make its own, which the game closes with itself.
"""
from __future__ import annotations

import asyncio
import threading

from game.core.errors import PlayerError
from game.core.settings import Settings
from game.engine.protocols import Backend


class NoModel(PlayerError):
    """No backend could be made with these settings (none set up, a wrong model file...): trying
    again will not help until the settings change. The message and hint are the backend's own."""


class Model:
    def __init__(self, settings: Settings, backend: Backend | None = None) -> None:
        self.settings = settings
        self._backend = backend  # a backend given ready-made (the tests, `write`) is used as it is
        self._lock = threading.Lock()

    @property
    def made(self):
        """The backend if it has been made, else None (never makes one)."""
        return self._backend

    def get(self) -> Backend:
        """The backend for the current settings, made on first use. Blocking: call it in a thread."""
        with self._lock:
            if self._backend is None:
                from game.llm import from_settings

                try:
                    self._backend = from_settings(settings=self.settings)
                except PlayerError as error:
                    raise NoModel(str(error), error.hint) from None
            return self._backend

    async def ready(self) -> Backend:
        """The backend, made in a thread so the event loop never waits on a probe."""
        if self._backend is not None:
            return self._backend
        return await asyncio.to_thread(self.get)

    def warm(self) -> None:
        """Make the backend and start what it runs (the local model's child process), in a
        thread while the player reads. A failure is said later, when a step needs the model."""
        try:
            self.get().start()  # the local model's child process; a server elsewhere has nothing to start
        except Exception:  # noqa: BLE001 - said when a step asks for the model
            pass

    @property
    def name(self) -> str:
        return (self._backend.model if self._backend is not None else "") or self.settings.model or "no model"

    @property
    def tokens_used(self) -> int:
        return self._backend.usage.total if self._backend is not None else 0

    async def use(self, settings: Settings) -> None:
        """New settings: the backend made for the old ones is closed; the next use makes one anew."""
        self.settings = settings
        await self.close()

    async def close(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.close()


def make_backend(settings: Settings | None = None, **chosen):
    """A backend of its own for a one-off job (drafting a seed from the command line). Blocking."""
    from game.llm import from_settings

    return from_settings(settings=settings, **chosen)
