"""The Textual app: one factory (`make_app`) used by `recurrent play` and by the tests.

The app owns what outlives a screen: settings, the saves folder, the stories folder
and the model backend (made lazily, so the title screen never imports openai).
Screens own their own state; workers only post messages.
"""
from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding

from game.core.settings import Settings, load_settings
from game.session import Model, Shelf, close_all
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
        self.model = Model(settings)  # the one model backend, shared by every game and the studio

    @property
    def shelf(self) -> Shelf:
        return Shelf(self.saves, self.settings)

    # -- the model backend, made when a game first needs it -------------------------------
    def backend(self):
        """The backend for the current settings. Blocking: for threads and tests; a screen
        awaits `self.model.ready()` in its worker."""
        return self.model.get()

    def prepare_backend(self) -> None:
        """Make the backend in a thread while the player reads: importing the client and
        probing for Ollama take a moment that should not freeze the screen. Errors are
        shown later, when a step needs the backend."""
        self.run_worker(self.model.warm, thread=True, exclusive=False, group="backend")

    @property
    def model_name(self) -> str:
        return self.model.name

    @property
    def tokens_used(self) -> int:
        return self.model.tokens_used

    async def reset_backend(self) -> None:
        await self.model.use(self.settings)

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
            self.go("studio", self.start_edit, self.stories or own_stories_dir(), standalone=True)
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
        if seed is not None and not name:
            name = self.shelf.unique_for(seed.title)
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.go("play", name, seed)

    def go(self, room: str, *args, replace: bool = False, then=None, **kwargs) -> None:
        """The one way from room to room: a screen names where it goes, and the app makes that
        screen, pushed over it (`then` hears what it is dismissed with) or in its place. Screens
        never import each other, only their own dialogs; called, not posted, so a key pressed
        next lands on the new screen."""
        screen = _room(room)(*args, **kwargs)
        if replace:
            self.switch_screen(screen)
        else:
            self.push_screen(screen, then)

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
        """Close a playthrough in the background (a slot's last memory write and its lock)."""
        if game is self.game:
            self.game = None
        game.abandon()

    async def on_unmount(self) -> None:
        await close_all()  # every game opened, and any still closing, closed
        await self.model.close()


def _room(name: str):
    """The screen class of a room, imported when first visited (the title needs few imports)."""
    if name == "play":
        from game.ui.screens.play import PlayScreen as room
    elif name == "memory":
        from game.ui.screens.memory import MemoryScreen as room
    elif name == "export":
        from game.ui.screens.export import ExportScreen as room
    elif name == "settings":
        from game.ui.screens.settings import SettingsScreen as room
    elif name == "map":
        from game.ui.screens.story_map import StoryMapScreen as room
    elif name == "new":
        from game.ui.screens.new_game import NewGameScreen as room
    elif name == "setup":
        from game.ui.screens.new_game import SetupScreen as room
    elif name == "studio":
        from game.ui.screens.studio import StudioScreen as room
    elif name == "studio-pick":
        from game.ui.screens.suggestion import StudioPickScreen as room
    elif name == "suggestion":
        from game.ui.screens.suggestion import SuggestionScreen as room
    else:
        raise ValueError(f"no room named {name!r}")
    return room


def make_app(settings: Settings | None = None, saves: Path | str | None = None, stories: Path | str | None = None,
             story=None, slot: str | None = None, blink: bool = True, edit=None) -> RecurrentApp:
    """The game. `story` is a Seed to start straight into play; `slot` a slot to resume or name;
    `edit` a SeedFile to open in the studio instead of the title screen."""
    from game.core.paths import default_saves_dir

    settings = settings or load_settings()
    if saves is None:
        saves = Path(settings.saves_dir).expanduser() if settings.saves_dir else default_saves_dir()
    return RecurrentApp(settings, Path(saves), Path(stories) if stories else None, story, slot, blink, edit)
