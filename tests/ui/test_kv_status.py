"""The status line says what the first step after opening a story read fresh and took from the
server's saved cache (a stand-in llama.cpp server that saves its slot into the game's cache folder)."""
from __future__ import annotations

from game.core.paths import kv_cache_dir
from game.stories.loader import load_seed
from tests.ui.pilot import idle, type_text, until


async def test_the_status_line_shows_fresh_and_reused_tokens_for_the_first_step_after_opening(ui_env, saves, seed_path,
                                                                                             app_for, tmp_path):
    server = ui_env
    server.slot_dir = kv_cache_dir()
    server.slot_dir.mkdir(parents=True)
    server.model_file = tmp_path / "model.gguf"
    server.model_file.write_bytes(b"GGUF" + bytes(4096))
    app = app_for(saves, story=load_seed(seed_path), slot="kept")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await type_text(pilot, "Read the logbook", "enter")
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 1)
    assert len(list(kv_cache_dir().glob("*.kv"))) == 1  # saved as the game closed
    assert not [p for p in saves.rglob("*") if p.suffix in (".kv", ".part")]

    app = app_for(saves, slot="kept")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await type_text(pilot, "Check the lamp", "enter")
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 2)
        status = str(app.screen.query_one("#status-state").render())
    assert "resumed:" in status and "reused from the cache" in status and "read fresh" in status, status
    reused = int(status.split("resumed: ", 1)[1].split(" ", 1)[0].replace(",", ""))
    assert reused > 0, status
