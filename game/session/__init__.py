"""The door: the faces of the game (the TUI, the command line) reach a story only through here.

`Game` is one playthrough with every verb a face uses on it; `Shelf` is the saves folder as
the title screen and `recurrent saves` see it; `Model` is the one owner of the model backend.
The faces import this package, `game.core` and `game.stories`, never the engine, the saves,
memory or the backends (a forbidden contract in pyproject.toml holds that).
"""
from __future__ import annotations

from game.engine.narrator import CONTINUE, NoOption, pick
from game.session.game import Game, close_all
from game.session.model import Model, NoModel, make_backend
from game.session.settings import engine_settings, memory_config, prefs_from, saves_root, settings_from
from game.session.shelf import (FORMATS, Node, Shelf, SlotError, check_name, check_out, describe, markdown, named_format,
                                slug, tree_lines)

__all__ = ["CONTINUE", "FORMATS", "Game", "Model", "NoModel", "NoOption", "Node", "Shelf", "SlotError", "check_name", "check_out",
           "close_all", "describe", "engine_settings", "make_backend", "markdown", "memory_config", "named_format", "pick",
           "prefs_from", "saves_root", "settings_from", "slug", "tree_lines"]
