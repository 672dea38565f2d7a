"""The stories a player can start: the library that ships with the game, and their own.

The library is read-only (it lives inside the installed package); stories the player
drafts or imports go to their own folder (game.core.paths.own_stories_dir) and are listed
beside the library's. A story is named on the command line by its file name without
`.toml` (`--story night-ferry-to-kestrel`), or by a path.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from game.core.paths import library_dir, own_stories_dir
from game.core.seed import Seed
from game.stories.loader import SeedError, list_seeds, load_seed


@dataclass
class Shelved:
    path: Path
    seed: Seed | SeedError
    own: bool  # the player's own story, not the library's

    @property
    def name(self) -> str:
        return self.path.stem


def folders() -> list[tuple[str, Path]]:
    """(what it is, folder), the library first."""
    return [("library", library_dir()), ("yours", own_stories_dir())]


def shelf() -> list[Shelved]:
    """Every story a new game can start from: the library's, then the player's own."""
    found: list[Shelved] = []
    for kind, folder in folders():
        found += [Shelved(path, seed, kind == "yours") for path, seed in list_seeds(folder)]
    return found


def find_story(given: str | Path) -> Path:
    """The seed file `given` names: a path, or the name of a story on the shelf (the player's
    own first, so a story of theirs can stand in for the library's of the same name)."""
    path = Path(given).expanduser()
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path  # a path: load_seed says plainly if it is not there
    name = str(given)
    for _kind, folder in reversed(folders()):
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    known = sorted({shelved.name for shelved in shelf()})
    close = difflib.get_close_matches(name.lower(), known, n=1) or [n for n in known if name.lower() in n]
    hint = f"; did you mean {close[0]}?" if close else ""
    raise SeedError(name, f"no story of that name, and no such file{hint} (`recurrent stories list` names them all)")


def load_story(given: str | Path, opening: int = 1) -> Seed:
    """The story named or at a path, begun with its `opening` (1 is the seed's own)."""
    return load_seed(find_story(given), opening)
