"""Settings: backend profile, base URL, model, temperature, and how the story is told.

The API key is read from OPENAI_API_KEY and shown masked; it is never saved (Settings has no
key field). Environment variables win over the settings file, as the player would expect.
"""
from __future__ import annotations

import os

from dataclasses import dataclass, field

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Select, Static

from game.core.settings import PROFILES
from game.ui.widgets.fields import Field

CHOICES = [("auto-detect", "auto"), ("OpenAI", "openai"), ("Ollama", "ollama"), ("LM Studio", "lmstudio"),
           ("vLLM", "vllm"), ("llama.cpp server", "llamacpp"), ("KoboldCpp", "koboldcpp"),
           ("local (offline demo model)", "local")]

PERSONS = [("second person, present tense (you ...)", "second"), ("third person, past tense (she ...)", "third")]


def masked(key: str) -> str:
    if not key:
        return "not set (export OPENAI_API_KEY=... before starting; local servers need none)"
    return f"{key[:3]}…{key[-4:]}" if len(key) > 10 else "•" * len(key)


@dataclass
class ModelsListed(Message):
    where: str = ""
    names: list[str] = field(default_factory=list)
    error: str = ""


class SettingsScreen(Screen):
    BINDINGS = [Binding("escape", "back", "Back", id="back"), Binding("ctrl+s", "save", "Save", id="save")]

    def compose(self) -> ComposeResult:
        settings = self.app.settings
        with VerticalScroll(id="settings-box"):
            yield Static("Settings", classes="heading")
            yield Static("Backend", classes="label")
            yield Select(CHOICES, value=settings.backend, allow_blank=False, id="backend", compact=True)
            yield Static("Base URL (empty: the profile's, or OPENAI_BASE_URL)", classes="label")
            yield Field(settings.base_url or "", id="base-url", placeholder=os.environ.get("OPENAI_BASE_URL", ""))
            yield Static("Model", classes="label")
            yield Field(settings.model or "", id="model", placeholder="e.g. gpt-4o-mini, llama3.2")
            yield Select([], prompt="the server's models (asking…)", id="models", compact=True)
            yield Static("", id="models-status", classes="hint", markup=False)
            yield Static("Temperature (0-2)", classes="label")
            yield Field(str(settings.temperature), id="temperature", type="number")
            yield Static("Paragraph length in words (40-1000)", classes="label")
            yield Field(str(settings.paragraph_words), id="paragraph-words", type="integer")
            yield Static("Told in the", classes="label")
            yield Select(PERSONS, value=settings.person, allow_blank=False, id="person", compact=True)
            yield Static("Tone (a few words the narrator keeps to, e.g. wry and warm)", classes="label")
            yield Field(settings.tone, id="tone", placeholder="the story's own")
            yield Static("API key (from the environment; never saved)", classes="label")
            yield Static(masked(os.environ.get("OPENAI_API_KEY", "")), id="api-key", markup=False)
            yield Static("", id="settings-problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Save (Ctrl+S)", id="save", variant="primary", compact=True)
                yield Button("Back", id="back", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.shown = self.on_screen()  # what the screen showed: only what the player changes is saved
        self.query_one("#backend").focus()
        self.ask_models()

    # -- the server's models, offered as a list ---------------------------------------------
    def ask_models(self) -> None:
        from game.core.settings import Settings

        now = self.on_screen()
        asked = Settings.model_construct(**{**self.app.settings.model_dump(), "backend": now["backend"],
                                            "base_url": now["base_url"]})
        self.query_one("#models-status", Static).update("asking the server for its models…")
        self.list_models(asked)

    @work(thread=True, exclusive=True, group="models")
    def list_models(self, asked) -> None:
        from game.core.errors import one_line
        from game.session.checks import models_for

        try:
            where, names = models_for(asked)
        except Exception as error:  # noqa: BLE001 - a server that cannot list is said, not fatal
            self.post_message(ModelsListed(error=one_line(error)))
            return
        self.post_message(ModelsListed(where, names))

    @on(Input.Submitted, "#base-url")
    def base_url_given(self) -> None:
        self.ask_models()

    def on_models_listed(self, message: "ModelsListed") -> None:
        models = self.query_one("#models", Select)
        status = self.query_one("#models-status", Static)
        if message.error:
            models.set_options([])
            models.prompt = "no list: type the model's name above"
            status.update(message.error)
            return
        models.set_options([(name, name) for name in message.names])
        count = len(message.names)
        models.prompt = ("the server lists no models" if not count else
                         "choose its one model" if count == 1 else f"choose one of {count} models")
        status.update(f"{count} model{'s' if count != 1 else ''} at {message.where}")

    @on(Select.Changed, "#models")
    def model_chosen(self, event: Select.Changed) -> None:
        if event.value is not Select.BLANK and isinstance(event.value, str):
            self.query_one("#model", Field).value = event.value

    def on_screen(self) -> dict:
        """Each setting as the screen holds it now (text as typed)."""

        def text(field: str) -> str:
            return self.query_one(f"#{field}", Field).value.strip()

        return {
            "backend": self.query_one("#backend", Select).value,
            "base_url": text("base-url") or None,
            "model": text("model") or None,
            "temperature": text("temperature") or "0.8",
            "paragraph_words": text("paragraph-words") or "180",
            "person": self.query_one("#person", Select).value,
            "tone": text("tone"),
        }

    @on(Select.Changed, "#backend")
    def profile_changed(self, event: Select.Changed) -> None:
        url = PROFILES.get(str(event.value), "")
        self.query_one("#base-url", Field).placeholder = url or os.environ.get("OPENAI_BASE_URL", "")
        if hasattr(self, "shown"):
            self.ask_models()

    def action_save(self) -> None:
        from pydantic import ValidationError

        from game.core.errors import one_line
        from game.core.settings import Settings, SettingsError, describe, save_choices

        now = self.on_screen()
        # Only what the player changed here: a value shown from the environment (RECURRENT_MODEL...)
        # or from the file, left as it was, is not copied into the file.
        changes = {key: value for key, value in now.items() if value != self.shown.get(key)}
        try:
            settings = Settings(**{**self.app.settings.model_dump(), **changes})  # validates; env cannot override
            chosen = {key: getattr(settings, key) for key in changes}
            path = save_choices(chosen)
        except ValidationError as error:
            self.problem(describe(error), error.errors()[0]["loc"])
            return
        except (ValueError, SettingsError, OSError) as error:
            self.problem(one_line(error)[:200])
            return
        self.app.apply_settings(settings)
        self.notify(f"Settings saved to {path}", timeout=3)
        self.dismiss(True)

    def problem(self, text: str, loc: tuple = ()) -> None:
        """Said twice: on the screen's problem line (may be below the fold) and as a toast (always seen)."""
        self.query_one("#settings-problem", Static).update(text)
        self.notify(text, title="Not saved", severity="error", timeout=8)
        if loc and (fields := self.query(f"#{str(loc[0]).replace('_', '-')}")):
            fields.first().focus()

    @on(Button.Pressed, "#save")
    def save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        self.dismiss(False)
