"""The engine, backends, memory and saves never import the UI (DESIGN.md section 4)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CORE = ["game.core", "game.core.story", "game.core.records", "game.session", "game.engine", "game.engine.narrator", "game.engine.recall", "game.llm", "game.llm.openai_backend",
        "game.memory", "game.memory.longterm", "game.memory.embedders", "game.saves", "game.saves.slot",
        "game.saves.check", "game.stories", "game.cli.headless", "game.cli"]


@pytest.mark.slow
def test_core_does_not_import_textual():
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE) + (
        "bad = [m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'game.ui'))]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stderr


def test_no_core_module_names_the_ui():
    root = Path(__file__).parents[1] / "game"
    for folder in ("core", "engine", "llm", "memory", "saves", "stories"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "game.ui" not in text and "import textual" not in text and "from textual" not in text, path


def test_the_import_contracts_hold():
    """The arrows of the README's "How the code is laid out", as import-linter checks them."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


def test_no_import_cycles_in_the_game():
    """No module of game/ reaches itself through its imports, lazy ones (inside functions) too,
    as import-linter's grimp reads them (DESIGN.md section 4: the arrows run one way)."""
    import grimp

    graph = grimp.build_graph("game", cache_dir=None)
    found = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("game") and graph.chain_exists(imported, module):
                found.append(f"{module} -> {imported}")
    assert not found, found


def test_the_faces_name_nothing_below_the_door():
    """The UI and the command line import the session, the core and the stories only, even lazily."""
    graph = __import__("grimp").build_graph("game", cache_dir=None)
    faces = [m for m in graph.modules if m.startswith(("game.ui", "game.cli"))]
    below = ("game.engine", "game.saves", "game.memory", "game.llm")
    reached = sorted(f"{face} -> {imported}" for face in faces for imported in graph.find_modules_directly_imported_by(face)
                     if imported.startswith(below))
    assert reached == []
