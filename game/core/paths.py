"""Where the game keeps what is not a save: settings, logs (XDG base directories)."""
from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """$XDG_STATE_HOME/recurrent: logs, never saves."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "recurrent"
