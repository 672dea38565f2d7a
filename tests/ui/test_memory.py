"""Pilot tests of the memory panel: short-term memory and pinned notes; recall; search, amend, forget."""
from __future__ import annotations

from textual.widgets import OptionList

from game.ui.screens.memory import MemoryScreen
from game.ui.screens.play import PlayScreen

from tests.ui.pilot import idle, type_text, until


async def test_memory_edit_takes_effect_and_is_saved(ui_env, saves, seed_path, app_for, prepared_slot):
    server = ui_env
    prepared_slot(saves, seed_path, "mem", steps=2)
    app = app_for(saves, slot="mem")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        memory = app.screen
        recalled = str(memory.query_one("#recalled").render())
        assert "meaning 0.62; words: lamp" in recalled and "Skerry Point, The logbook" in recalled
        memory.query_one("#short").text = "Ada suspects the keeper rowed out to the Mary Rose."
        memory.query_one("#pinned").text = "The storm lasts three days.\nThe keeper's name is Tobias."
        await pilot.press("ctrl+s")
        story = memory.slot.story
        assert story.memory == "Ada suspects the keeper rowed out to the Mary Rose."
        assert story.pinned == ["The storm lasts three days.", "The keeper's name is Tobias."]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PlayScreen))
        await pilot.press("1", "enter")
        await until(pilot, lambda: idle(app) and app.screen.slot.story.taken == 3)
        prompt = "\n".join(m["content"] for m in server.chat_requests()[-2]["messages"])
        assert "rowed out to the Mary Rose" in prompt and "Tobias" in prompt


async def test_search_amend_and_forget(ui_env, saves, seed_path, app_for, prepared_slot):
    prepared_slot(saves, seed_path, "search", steps=2)
    app = app_for(saves, slot="search")
    async with app.run_test() as pilot:
        await until(pilot, lambda: idle(app))
        await pilot.press("f2")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        memory = app.screen
        await pilot.press("ctrl+f")
        await type_text(pilot, "Mary Rose", "enter")
        hits = memory.query_one("#hits", OptionList)
        assert hits.option_count >= 1 and "Mary Rose" in str(hits.get_option_at_index(0).prompt)
        assert "words: mary" in str(hits.get_option_at_index(0).prompt)  # why it was found, shown
        hits.focus()
        hits.highlighted = 0
        await pilot.pause()
        entry = memory.chosen
        assert entry is not None and "Mary Rose" in memory.query_one("#entry").text
        memory.query_one("#entry").text = "One name is underlined twice: the Mary Rose, due at dawn with the keeper's brother."
        await pilot.click("#amend")
        assert "brother" in memory.slot.memory.known[entry.id].text
        assert memory.slot.story.amended[entry.id].endswith("brother.")
        hits.highlighted = 0
        await pilot.pause()
        await pilot.click("#forget")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, MemoryScreen))
        assert entry.id in memory.slot.story.forgotten and entry.id not in memory.slot.memory.known
