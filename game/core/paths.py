"""Where the game keeps its files, by the XDG base directories.

- the authored library of stories: inside the installed package (`game/library`, the
  checkout's top-level `stories/` packaged into the wheel), or the checkout's `stories/`;
- the player's own stories: $XDG_DATA_HOME/recurrent/stories (RECURRENT_STORIES_DIR);
- saves: the checkout's `saves/` when run from one, else $XDG_DATA_HOME/recurrent/saves
  (RECURRENT_SAVES_DIR, or `saves_dir` in the settings);
- logs: $XDG_STATE_HOME/recurrent; settings: $XDG_CONFIG_HOME/recurrent (game.core.settings);
- caches, which the game can always do without (the local model's saved KV caches):
  $XDG_CACHE_HOME/recurrent (RECURRENT_CACHE_DIR), never inside the saves.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

# game/core/paths.py: parents[1] is the game package, parents[2] the checkout (or site-packages).
PACKAGE = Path(__file__).resolve().parents[1]
CHECKOUT = PACKAGE.parent


def _xdg(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable) or str(Path.home() / fallback)
    return Path(base) / "recurrent"


def state_dir() -> Path:
    """$XDG_STATE_HOME/recurrent: logs, never saves."""
    return _xdg("XDG_STATE_HOME", ".local/state")


def cache_dir() -> Path:
    """RECURRENT_CACHE_DIR, else $XDG_CACHE_HOME/recurrent: what can be deleted at any time."""
    explicit = os.environ.get("RECURRENT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return _xdg("XDG_CACHE_HOME", ".cache")


def kv_cache_dir() -> Path:
    """The local model's saved KV caches, one file per story slot (game.llm.kvcache)."""
    return cache_dir() / "kv"


def kv_slot_key(saves: Path | str, name: str) -> str:
    """The name of story slot `name`'s (in the saves folder `saves`) files in kv_cache_dir()."""
    where = os.path.realpath(os.fspath(saves))
    return hashlib.sha256(f"{where}\0{name}".encode()).hexdigest()[:32]


def forget_kv(saves: Path | str, name: str) -> None:
    """Delete slot `name`'s saved KV cache, if any: a deleted story leaves nothing in the cache."""
    key = kv_slot_key(saves, name)
    folder = kv_cache_dir()
    for suffix in (".kv", ".json", ".part", ".json.tmp"):
        try:
            (folder / f"{key}{suffix}").unlink()
        except OSError:
            pass  # none there, or it cannot be deleted: a cache, trimmed by size later


def folder_size(folder: Path) -> int:
    """The bytes of the files in `folder` and below (0 when it does not exist)."""
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total


def data_dir() -> Path:
    """$XDG_DATA_HOME/recurrent: the player's saves and stories, when not run from a checkout."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def in_checkout() -> bool:
    """Run from a source checkout (its pyproject.toml beside the package), not an installed wheel."""
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "stories").is_dir()


def library_dir() -> Path:
    """The stories that ship with the game: packaged with it, or the checkout's `stories/`."""
    packaged = PACKAGE / "library"
    if packaged.is_dir():
        return packaged
    return CHECKOUT / "stories"


def own_stories_dir() -> Path:
    """Where the player's own stories go (`stories new`, `stories import`): RECURRENT_STORIES_DIR,
    else $XDG_DATA_HOME/recurrent/stories. Never inside the installed package."""
    explicit = os.environ.get("RECURRENT_STORIES_DIR")
    if explicit:
        return Path(explicit).expanduser()
    return data_dir() / "stories"


def default_saves_dir() -> Path:
    """RECURRENT_SAVES_DIR, else the checkout's saves/ folder, else $XDG_DATA_HOME/recurrent/saves."""
    explicit = os.environ.get("RECURRENT_SAVES_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if in_checkout() and (CHECKOUT / "saves").is_dir():
        return CHECKOUT / "saves"
    return data_dir() / "saves"


def log_file() -> Path:
    """The debug log: $XDG_STATE_HOME/recurrent/recurrent.log."""
    return state_dir() / "recurrent.log"
