"""When the model's cache is saved: at the first step of every chapter (in the background, the step
already in the journal), and when the game closes; never at other steps. Against the stand-in."""
from __future__ import annotations

from game.core.settings import Settings
from game.llm.openai_backend import OpenAIBackend
from game.session import Game, Model
from game.stories.loader import load_seed


class Keeping(OpenAIBackend):
    """The stand-in's backend, with a cache it says it saves: the step count at each save."""

    def __init__(self, game_steps, **kwargs) -> None:
        super().__init__(**kwargs)
        self.game_steps = game_steps
        self.kept: list[int] = []

    def open_story(self, saves, name) -> None:
        self.opened = name

    async def keep_story(self) -> None:
        self.kept.append(self.game_steps())


async def test_the_cache_is_saved_as_each_chapter_begins_and_as_the_game_closes(server, saves, seed_path):
    settings = Settings(backend="openai", base_url=server.url, model="standin", retry_base=0.01, prompt_tokens=800)
    games: list[Game] = []
    backend = Keeping(lambda: len(games[0].story.steps) - 1, base_url=server.url, api_key="sk-test", model="standin")
    game = await Game.open(settings, saves, "chapters", load_seed(seed_path).filled(), Model(settings, backend))
    games.append(game)
    began = []
    try:
        await game.begin()
        for number in range(1, 13):
            await game.tell(f"Check lamp {number}.")
            if game.story.steps[number - 1].version.chapter and number > 1:
                began.append(number)
            if game._keeping is not None:
                await game._keeping
        closes = [s.number for s in game.story.steps if s.version.chapter]
        assert len(closes) >= 2, closes  # the small budget closes chapters: the test means something
    finally:
        await game.close()
    assert backend.opened == "chapters"
    assert began and backend.kept == [*began, 12], (closes, backend.kept)  # each chapter's first step, then the close
