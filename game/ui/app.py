"""The Textual app: one factory (`make_app`) used by `recurrent play` and by the tests.

The app owns what outlives a screen: settings, the saves folder, the stories folder
and the model backend (made lazily, so the title screen never imports openai).
Screens own their own state; workers only post messages.
"""
from __future__ import annotations

import threading
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from game.core.settings import Settings, load_settings
from game.saves.names import unique_slot  # noqa: F401 (the screens name slots with it)
from game.ui.commands import GameCommands

CSS = Path(__file__).with_name("app.tcss")


class RecurrentApp(App):
    CSS_PATH = str(CSS)
    TITLE = "Recurrent"
    COMMANDS = App.COMMANDS | {GameCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False, id="help-alt"),
    ]

    def __init__(self, settings: Settings, saves: Path, stories: Path | None = None,
                 story=None, slot: str | None = None, blink: bool = True, edit=None) -> None:
        super().__init__()
        self.settings = settings
        self.saves = Path(saves)
        self.stories = stories
        self.start_seed = story  # a Seed to start a new game from (recurrent play --story)
        self.start_slot = slot
        self.start_edit = edit  # a SeedFile to open in the studio (recurrent stories edit)
        self.blink = blink
        self.game = None  # the playthrough on the play screen (a game.session.Game)
        self._games_closing: set = set()  # games being closed in their workers
        self._backend = None
        self._backend_lock = threading.Lock()

    # -- the model backend, made when a game first needs it -------------------------------
    def backend(self):
        """The backend for the current settings; raises NoBackend/ModelError with a how-to."""
        with self._backend_lock:
            if self._backend is None:
                from game.llm import from_settings

                self._backend = from_settings(settings=self.settings)
            return self._backend

    def prepare_backend(self) -> None:
        """Make the backend in a thread while the player reads: importing the client and
        probing for Ollama take a moment that should not freeze the screen. Errors are
        shown later, when a step needs the backend."""

        def make() -> None:
            try:
                backend = self.backend()
                warm = getattr(backend, "start", None)
                if warm is not None:
                    warm()  # the local model's child process starts while the player reads
            except Exception:
                pass

        self.run_worker(make, thread=True, exclusive=False, group="backend")

    @property
    def model_name(self) -> str:
        return getattr(self._backend, "model", "") or self.settings.model or "no model"

    @property
    def tokens_used(self) -> int:
        return self._backend.usage.total if self._backend is not None else 0

    async def reset_backend(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None:
            await backend.close()

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self.run_worker(self.reset_backend(), exclusive=False)

    # -- screens --------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.settings.keys:
            self.set_keymap(self.settings.keys)  # the player's own keys, by binding id (F1 lists them)
        if self.settings.theme:
            if self.settings.theme in self.available_themes:
                self.theme = self.settings.theme
            else:
                self.notify(f"theme {self.settings.theme!r} is not one Textual knows; choose one with Ctrl+P",
                            title="Settings", severity="warning", timeout=6)
        self.theme_changed_signal.subscribe(self, self._theme_chosen)
        if self.start_edit is not None:
            from game.core.paths import own_stories_dir
            from game.ui.screens.studio import StudioScreen

            self.push_screen(StudioScreen(self.start_edit, self.stories or own_stories_dir(), standalone=True))
            return
        from game.ui.screens.title import TitleScreen

        self.push_screen(TitleScreen())
        if self.start_seed is not None or self.start_slot:
            self.open_game(self.start_slot, self.start_seed)

    def _theme_chosen(self, theme) -> None:
        """A theme chosen from the palette is the player's setting from now on: saved to the file."""
        if theme.name == self.settings.theme or (self.settings.theme is None and theme.name == "textual-dark"):
            return
        self.settings = self.settings.model_copy(update={"theme": theme.name})

        def save() -> None:
            from game.core.settings import save_choices

            try:
                save_choices({"theme": theme.name})
            except Exception as error:  # a read-only settings folder: the theme holds for this game
                from game.core.errors import one_line

                self.call_from_thread(self.notify, f"the theme could not be saved ({one_line(error)})",
                                      severity="warning")

        self.run_worker(save, thread=True, exclusive=False, group="settings")

    def open_game(self, name: str | None, seed=None) -> None:
        """The play screen for slot `name` (new from `seed` when one is given), over the title."""
        from game.saves.names import slug
        from game.ui.screens.play import PlayScreen

        if seed is not None and not name:
            name = unique_slot(self.saves, slug(seed.title))
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.push_screen(PlayScreen(name, seed))

    async def action_quit(self) -> None:
        """Quit; a studio with unsaved changes, anywhere on the stack (a playtest over it), asks first."""
        studio = next((screen for screen in self.screen_stack if getattr(screen, "unsaved", False)), None)
        if studio is None:
            self.exit()
        elif not any(type(screen).__name__ == "ConfirmScreen" for screen in self.screen_stack):
            studio.leave(self.exit)

    def action_help(self) -> None:
        from game.ui.screens.dialogs import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def close_game(self, game) -> None:
        """Close a playthrough in a worker (a slot's last memory write and its lock)."""
        if game is self.game:
            self.game = None
        if game in self._games_closing:
            return
        self._games_closing.add(game)

        async def close() -> None:
            await game.close()
            self._games_closing.discard(game)  # not when cancelled (the app ending): on_unmount closes it

        self.run_worker(close(), group="closing", exclusive=False)

    async def on_unmount(self) -> None:
        for game in [*self._games_closing, *([self.game] if self.game is not None else [])]:
            try:
                await game.close()  # closing twice is harmless; a worker may not finish now
            except Exception:
                pass
        await self.reset_backend()


def make_app(settings: Settings | None = None, saves: Path | str | None = None, stories: Path | str | None = None,
             story=None, slot: str | None = None, blink: bool = True, edit=None) -> RecurrentApp:
    """The game. `story` is a Seed to start straight into play; `slot` a slot to resume or name;
    `edit` a SeedFile to open in the studio instead of the title screen."""
    from game.core.paths import default_saves_dir

    settings = settings or load_settings()
    if saves is None:
        saves = Path(settings.saves_dir).expanduser() if settings.saves_dir else default_saves_dir()
    return RecurrentApp(settings, Path(saves), Path(stories) if stories else None, story, slot, blink, edit)
