"""The errors a player can cause or meet, each shown as one line, never a traceback."""
from __future__ import annotations

from game.engine.narrator import StepError
from game.llm.base import ModelError
from game.saves.names import SlotError
from game.settings import SettingsError


def _collect() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [StepError, ModelError, SlotError, SettingsError]
    try:
        from game.stories.loader import SeedError

        errors.append(SeedError)
    except ImportError:  # pragma: no cover
        pass
    from game.memory.longterm import MemoryStoreError

    errors.append(MemoryStoreError)  # EmbedderError is one of these
    return tuple(errors)


PLAYER_ERRORS = _collect()


def one_line(error: BaseException) -> str:
    from game.engine.text import safe

    text = " ".join(safe(str(error)).split())  # an error may quote a file or a server: no escape codes
    return text or type(error).__name__
