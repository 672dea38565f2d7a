"""The play screen's reader: all of the story, its search, its branches and the story map."""
from __future__ import annotations

from textual import on, work
from textual.screen import Screen
from textual.widgets import Input

from game.ui.messages import Branched
from game.ui.widgets.search import SearchBar
from game.ui.widgets.story_log import StoryLog, find


class PlayReader(Screen):
    """Reading back through the story and branching from a step of it, for PlayScreen."""

    def action_read(self, direction: int) -> None:
        log = self.query_one(StoryLog)
        if direction < 0:
            log.scroll_page_up(animate=False)
        else:
            log.scroll_page_down(animate=False)

    def action_first_step(self) -> None:
        self.query_one(StoryLog).action_first()

    def action_newest_step(self) -> None:
        self.query_one(StoryLog).action_last()

    def action_search(self) -> None:
        self.query_one(SearchBar).open()

    @on(Input.Submitted, "#search-box")
    def search_submitted(self) -> None:
        self.search(-1)

    @on(SearchBar.Move)
    def search_moved(self, message: SearchBar.Move) -> None:
        self.search(message.direction)

    def search(self, direction: int) -> None:
        """The next step back (-1) or forward (+1) from the selected one whose text has the words."""
        bar, log = self.query_one(SearchBar), self.query_one(StoryLog)
        if self.slot is None or self.busy:
            return
        words = " ".join(bar.words.split())
        found = find(self.slot.story, words)
        if not found:
            bar.said("no match" if words else "")
            return
        here = log.selected if log.selected is not None else len(self.slot.story.steps)
        if direction < 0:
            target = max([n for n in found if n < here], default=found[-1])  # past the first: round to the newest
        else:
            target = min([n for n in found if n > here], default=found[0])
        log.highlight = words
        log.jump(target)
        bar.said(f"{found.index(target) + 1} of {len(found)} · step {target}")

    @on(SearchBar.Close)
    def search_closed(self) -> None:
        bar, log = self.query_one(SearchBar), self.query_one(StoryLog)
        bar.display = False
        if log.highlight:
            log.highlight = ""
            log.relight()
        self.query_one("#action", Input).focus()

    @on(StoryLog.Selected)
    def step_selected(self, message: StoryLog.Selected) -> None:
        if not self.busy:
            self.show_status(f"step {message.number} · Ctrl+B branches here")

    def action_branch(self) -> None:
        from game.ui.screens.dialogs import AskScreen

        story = self.slot.story
        selected = self.query_one(StoryLog).selected
        step = selected if selected is not None else story.taken
        name, shelf = self.slot.name, self.app.shelf
        question = (f"Branch from step {step}: a new slot whose story is steps 0 to {step} of {name}, to play on "
                    f"another way ({name} stays as it is). Name it")
        self.app.push_screen(AskScreen(question, shelf.branch_name(name, step), check=shelf.free),
                             lambda new: new and self.branch_worker(step, new))

    @work(group="saves", exit_on_error=False)
    async def branch_worker(self, step: int, new: str) -> None:
        source = self.slot.name
        made = await self.game.branch(step, new)  # a failure: PlayScreen.worker_failed says it
        self.post_message(Branched(made, source, step))

    @on(Branched)
    def branched(self, message: Branched) -> None:
        self.app.notify(f"you are playing {message.slot}, a branch of {message.parent} from step {message.step}; "
                        f"{message.parent} is kept as it was (F3: the story map)", timeout=8)
        self.app.open_game(message.slot)

    def action_map(self) -> None:
        self.app.go("map", self.slot.name, playing=self.slot.name)
