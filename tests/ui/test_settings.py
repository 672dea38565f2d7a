"""Pilot tests of settings (the key masked, never saved) and of a backend that does not answer."""
from __future__ import annotations

import tomllib

from textual.widgets import Input, Select

from game.ui.screens.play import PlayScreen
from game.ui.screens.settings import SettingsScreen
from game.ui.screens.title import TitleScreen

from tests.ui.pilot import idle, type_text, until


async def test_settings_saved_without_the_key(ui_env, saves, tmp_path, app_for):
    app = app_for(saves)
    async with app.run_test() as pilot:
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        screen = app.screen
        shown = str(screen.query_one("#api-key").render())
        assert "sk-test-not-a-real-key" not in shown and shown.startswith("sk-") and shown.endswith("-key")
        screen.query_one("#backend", Select).value = "ollama"
        screen.query_one("#model", Input).value = "llama3.2"
        screen.query_one("#temperature", Input).value = "0.6"
        screen.query_one("#paragraph-words", Input).value = "120"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
    saved = (tmp_path / "settings.toml").read_text()
    data = tomllib.loads(saved)
    assert data == {"backend": "ollama", "model": "llama3.2", "temperature": 0.6, "paragraph_words": 120}
    assert "sk-test" not in saved
    assert app.settings.backend == "ollama" and app.settings.paragraph_words == 120


async def test_bad_setting_is_one_line_and_nothing_saved(ui_env, saves, tmp_path, app_for):
    app = app_for(saves)
    async with app.run_test() as pilot:
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#temperature", Input).value = "7"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SettingsScreen)
        assert "temperature" in str(app.screen.query_one("#settings-problem").render())
    assert not (tmp_path / "settings.toml").exists()


async def test_server_down_is_a_plain_sentence_and_the_action_is_kept(ui_env, saves, seed_path, monkeypatch, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "down", steps=1)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")
    app = app_for(saves, slot="down")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await type_text(pilot, "look out to sea", "enter")
        screen = app.screen
        await until(pilot, lambda: screen.query_one("#problem").display and not screen.busy)
        problem = str(screen.query_one("#problem-text").render())
        assert "cannot reach the model server" in problem and "Settings" in problem
        assert "\n" not in problem.strip() and "Traceback" not in problem
        assert screen.query_one("#action", Input).value == "look out to sea"
        assert screen.slot.story.taken == 1
        assert screen.query_one("#try-again").display


async def test_model_error_then_try_again(ui_env, saves, seed_path, monkeypatch, app_for, prepared_slot):
    server = ui_env
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")
    prepared_slot(saves, seed_path, "flaky", steps=1)
    app = app_for(saves, slot="flaky")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        server.fail("500", "500")
        await type_text(pilot, "wait for the tide", "enter")
        screen = app.screen
        await until(pilot, lambda: screen.query_one("#problem").display and not screen.busy)
        assert "answered 500" in str(screen.query_one("#problem-text").render())
        await pilot.click("#try-again")
        await until(pilot, lambda: idle(app) and screen.slot.story.taken == 2)
        assert screen.slot.story.steps[2].action == "wait for the tide"
        assert not screen.query_one("#problem").display


async def test_no_backend_configured(ui_env, saves, seed_path, monkeypatch, app_for, prepared_slot):
    """The backend is made off the event loop now (in the turn's worker), so the problem is
    waited for rather than read the moment Enter is pressed."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "RECURRENT_MODEL"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("RECURRENT_BACKEND", "vllm")  # a server profile, but no model named
    prepared_slot(saves, seed_path, "none", steps=1)
    app = app_for(saves, slot="none")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await type_text(pilot, "listen", "enter")
        screen = app.screen
        assert isinstance(screen, PlayScreen)
        await until(pilot, lambda: screen.query_one("#problem").display and not screen.busy)
        problem = str(screen.query_one("#problem-text").render())
        assert "no model named" in problem and "RECURRENT_MODEL" in problem and "Settings" in problem
        assert not screen.query_one("#try-again").display
        assert screen.query_one("#action", Input).value == "listen"


async def test_how_the_story_is_told_changes_from_the_next_step(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "told", steps=1)
    app = app_for(saves, slot="told")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        play = app.screen
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#person", Select).value = "third"
        app.screen.query_one("#tone", Input).value = "wry and warm"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is play)
        assert play.slot.story.prefs.person == "third" and play.slot.story.prefs.tone == "wry and warm"
        await type_text(pilot, "look out to sea", "enter")
        await until(pilot, lambda: idle(app) and play.slot.story.taken == 2)
    system = ui_env.narrations()[-1]["messages"][0]["content"]
    assert "third person" in system and "wry and warm" in system


async def test_the_servers_models_are_offered_as_a_list(ui_env, saves, app_for):
    app = app_for(saves)
    async with app.run_test() as pilot:
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        screen = app.screen
        models = screen.query_one("#models", Select)
        await until(pilot, lambda: "1 model at" in str(screen.query_one("#models-status").render()))
        assert ui_env.url in str(screen.query_one("#models-status").render())
        screen.query_one("#model", Input).value = ""
        models.value = "standin"  # chosen from the list
        await until(pilot, lambda: screen.query_one("#model", Input).value == "standin")
        screen.query_one("#base-url", Input).value = "http://127.0.0.1:9/v1"  # nothing there
        screen.query_one("#base-url", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: "cannot reach" in str(screen.query_one("#models-status").render()))


async def test_a_theme_is_a_setting_saved_when_chosen(ui_env, saves, tmp_path, app_for):
    from game.core.settings import load_settings

    (tmp_path / "settings.toml").write_text('theme = "nord"\nmodel = "standin"\n')
    app = app_for(saves, settings=load_settings())
    async with app.run_test() as pilot:
        await until(pilot, lambda: isinstance(app.screen, TitleScreen))
        assert app.theme == "nord"
        app.theme = "gruvbox"  # what the palette's "Change theme" does
        await until(pilot, lambda: 'theme = "gruvbox"' in (tmp_path / "settings.toml").read_text())
    assert tomllib.loads((tmp_path / "settings.toml").read_text()) == {"theme": "gruvbox", "model": "standin"}
