"""Which slot names are allowed (where saves live is game.core.paths)."""
from __future__ import annotations

import re
from pathlib import Path

from game.core.errors import PlayerError

# Letters, digits, space, dot, dash, underscore; must start with a letter or digit.
# No separators and no "..", so a slot name can never leave the saves folder.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}")
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


class SlotError(PlayerError):
    """A problem with a save slot, in one line that names the slot."""

    hint = "Nothing saved was lost; choose another slot, or see `recurrent saves check`."


def check_name(name: str) -> str:
    # fullmatch: `$` would match before a final newline, and "abc\n" would make the folder "abc⏎"
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name or name.endswith((".", " ")):
        raise SlotError(
            f"bad slot name {name!r}: use 1-64 letters, digits, spaces, '.', '-' or '_', starting with a letter or digit"
        )
    if name.split(".")[0].strip().lower() in _RESERVED:
        raise SlotError(f"bad slot name {name!r}: that name is reserved on some systems")
    return name


def slug(text: str) -> str:
    """A slot name made from a title: 'The Salt Road!' -> 'the-salt-road'."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48]
    return cleaned or "story"


def unique_slot(saves: Path, base: str) -> str:
    """`base`, or `base-2`, `base-3`... whichever is not taken yet."""
    name, n = base, 1
    while (Path(saves) / name).exists():
        n += 1
        name = f"{base[:60]}-{n}"
    return name
