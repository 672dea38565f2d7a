"""An export in a browser (`recurrent serve`): the file goes to the player's browser as a download,
and nothing is written on the server's disk (whose folders a remote player should not choose)."""
from __future__ import annotations

import io
import re
from pathlib import Path


def download_name(path: str, slot: str, fmt: str) -> str:
    """The name the browser saves under: the name the player typed, in letters a header carries safely."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(path).name).strip(".-")
    return name if name.endswith(f".{fmt}") else f"{slot}.{fmt}"


async def deliver_export(app, game, fmt: str, path: str) -> str:
    """Render the story in `fmt` (in a thread: an e-book takes a moment) and start its download."""
    data = await game.rendered(fmt)
    name = download_name(path, game.slot.name, fmt)
    app.deliver_binary(io.BytesIO(data), save_filename=name)
    return name
