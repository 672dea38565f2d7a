"""The player's settings: environment first, then a TOML file, then defaults.

The API key is deliberately not a field: it is read from OPENAI_API_KEY when a
backend is made and is never written anywhere by the game.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from game.core.tomlread import loads as toml_loads
from game.core.errors import PlayerError
from game.core.files import CannotWrite, Unreadable, read_capped, write_whole

MAX_SETTINGS_BYTES = 1024 * 1024

PROFILES: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://localhost:11434/v1",
    "lmstudio": "http://localhost:1234/v1",
    "vllm": "http://localhost:8000/v1",
    "llamacpp": "http://localhost:8080/v1",
    "koboldcpp": "http://localhost:5001/v1",
}

Profile = Literal["auto", "openai", "ollama", "lmstudio", "vllm", "llamacpp", "koboldcpp", "local"]


class SettingsError(PlayerError):
    """A settings file or value the game cannot use; one line."""

    hint = "Fix the value named, in the settings file, the environment or the command line."


def config_path() -> Path:
    explicit = os.environ.get("RECURRENT_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "recurrent" / "settings.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECURRENT_", extra="forbid")

    backend: Profile = "auto"
    base_url: str | None = None
    model: str | None = None
    gguf: str | None = None
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    paragraph_words: int = Field(180, ge=40, le=1000)
    person: Literal["second", "third"] = "second"  # how new stories are told
    tone: str = Field("", max_length=300)  # e.g. "wry and warm"; added to every prompt
    memory_words: int = Field(200, ge=50, le=1000)
    prompt_tokens: int = Field(3000, ge=800, le=200_000)  # the ceiling; the server's window may make it smaller
    context: int | None = Field(None, ge=512, le=10_000_000)  # the server's context window, when it does not say
    saves_dir: str | None = None
    kv_cache_mib: int = Field(1024, ge=0, le=1_048_576)  # the local model's saved caches (0: none); trimmed to this
    chroma_host: str | None = None
    chroma_port: int = 8000
    memory_timeout: float = Field(30.0, gt=0.0, le=3600.0)  # the most one long-term memory (Chroma) call may take
    retry_base: float = Field(0.5, ge=0.0, le=60.0)
    retry_attempts: int = Field(5, ge=1, le=20)
    timeout: float = Field(120.0, gt=0.0, le=3600.0)
    deadline: float = Field(600.0, gt=0.0, le=86400.0)  # the most one model call may take, in seconds
    keys: dict[str, str] = Field(default_factory=dict)  # binding id -> key, e.g. {undo = "f9"}
    theme: str | None = Field(None, max_length=64)  # a Textual theme ("nord", "gruvbox"); saved when chosen from the palette

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path()))


def load_settings(**overrides) -> Settings:
    """Settings with the given overrides (None values ignored); bad files or values are one line."""
    given = {key: value for key, value in overrides.items() if value is not None}
    path = config_path()
    if path.exists():
        try:  # a regular file of a sensible size: a folder or a pipe in its place is one line, not a hang
            toml_loads(read_capped(path, MAX_SETTINGS_BYTES, "a settings file").decode("utf-8"))
        except Unreadable as error:
            raise SettingsError(f"{path}: {error}") from None
        except OSError as error:
            raise SettingsError(f"{path}: cannot read the settings file ({error.strerror or error})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as error:
            raise SettingsError(f"{path}: not a valid settings file ({error})") from None
    try:
        return Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        # Say where the bad value came from: the command line, the environment, or the file.
        top = str(first["loc"][0]) if first["loc"] else ""
        if top in given:
            where = f"--{top.replace('_', '-')}"
        elif f"RECURRENT_{top.upper()}" in os.environ:
            where = f"RECURRENT_{top.upper()}"
        else:
            where = str(path) if path.exists() else "settings"
        raise SettingsError(f"{where}: {describe(error)}") from None


def describe(error: ValidationError) -> str:
    """A settings ValidationError as one short line: the field and what it allows, never the repr."""
    from annotated_types import Ge, Gt, Le, Lt, MaxLen

    first = error.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "settings"
    field = Settings.model_fields.get(name)
    limits = {type(m): m for m in (field.metadata if field else [])}
    low = limits.get(Ge) or limits.get(Gt)
    high = limits.get(Le) or limits.get(Lt)

    def num(limit) -> str:
        value = next(getattr(limit, a) for a in ("ge", "gt", "le", "lt") if hasattr(limit, a))
        return f"{value:g}" if isinstance(value, float) else str(value)

    label = ".".join(str(part) for part in first["loc"]) or "settings"
    kind = first.get("type", "")
    between = f"between {num(low)} and {num(high)}" if low is not None and high is not None else ""
    if between and kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{label}: must be {between}"
    if kind.startswith(("float_", "int_")):
        number = "a whole number" if kind.startswith("int_") else "a number"
        return f"{label}: must be {number}" + (f" {between}" if between else "")
    if MaxLen in limits and kind == "string_too_long":
        return f"{label}: at most {limits[MaxLen].max_length} characters"
    message = first.get("msg", "not a valid value")
    return f"{label}: {message[:1].lower()}{message[1:]}"


def saved_values() -> dict:
    """What the settings file holds now (so saving writes only the player's own choices)."""
    try:
        return tomllib.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_choices(choices: dict) -> Path:
    """The file as it is, with `choices` set: a value from the environment is never copied in."""
    return save_settings(Settings.model_construct(**{**saved_values(), **choices}))


def save_settings(settings: Settings) -> Path:
    """Write the settings file (never a key: Settings has no key field)."""
    path = config_path()
    data = settings.model_dump(exclude_none=True, exclude_defaults=True)
    try:
        write_whole(path, tomli_w.dumps(data), make_folder=True)
    except CannotWrite as error:
        raise SettingsError(f"{error}; the settings hold for this game only",
                            "Check that the folder can be written, or set RECURRENT_CONFIG.") from None
    return path
