"""The errors a player can cause or meet, each shown as one line, never a traceback."""
from __future__ import annotations

from game.engine.narrator import StepError
from game.engine.text import safe
from game.llm.base import ModelError
from game.memory.longterm import MemoryStoreError  # EmbedderError is one of these
from game.saves.names import SlotError
from game.settings import SettingsError
from game.stories.loader import SeedError

PLAYER_ERRORS = (StepError, ModelError, SlotError, SettingsError, SeedError, MemoryStoreError)


def one_line(error: BaseException) -> str:
    text = " ".join(safe(str(error)).split())  # an error may quote a file or a server: no escape codes
    return text or type(error).__name__
