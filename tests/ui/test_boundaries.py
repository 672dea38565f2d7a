"""The UI stays on its side: the core never imports it, and the title screen needs no heavy imports."""
from __future__ import annotations

import subprocess
import sys




def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_core_does_not_import_textual_or_the_ui():
    modules = "game.engine.narrator, game.llm, game.memory.longterm, game.saves.slot, game.saves.export, game.cli.headless"
    out = run(f"import sys, importlib\nfor m in '{modules}'.split(', '): importlib.import_module(m)\n"
              "print(sorted(n for n in sys.modules if n.startswith(('textual', 'game.ui'))))")
    assert out == "[]"


def test_cli_imports_textual_lazily():
    assert run("import sys, game.cli; game.cli.build_parser(); print('textual' in sys.modules)") == "False"


async def test_title_screen_without_openai_or_chromadb(ui_env, saves):
    code = (
        "import asyncio, sys\n"
        "from game.ui.app import make_app\n"
        f"app = make_app(saves={str(saves)!r})\n"
        "async def main():\n"
        "    async with app.run_test() as pilot:\n"
        "        await pilot.pause()\n"
        "        print(type(app.screen).__name__, 'openai' in sys.modules, 'chromadb' in sys.modules)\n"
        "asyncio.run(main())\n"
    )
    assert run(code) == "TitleScreen False False"


async def test_help_and_palette_list_the_keys(ui_env, saves, app_for):
    app = app_for(saves)
    async with app.run_test() as pilot:
        await pilot.press("f1")
        text = str(app.screen.query_one("#help-keys Static").render())
        assert "New game" in text and "Settings" in text and "Quit" in text
        await pilot.press("escape")
        from game.ui.commands import GameCommands

        provider = GameCommands(app.screen)
        names = [hit.text for hit in [h async for h in provider.discover()]]
        assert {"New game", "Continue", "Load", "Delete", "Settings"} <= set(names)
