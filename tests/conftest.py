"""Shared fixtures: the stand-in model server, a story seed, and a clean environment."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.standin import StandIn, free_port

SEED = '''
title = "The Lighthouse at Skerry Point"
genre = "mystery"
premise = "The keeper of a remote lighthouse has vanished on a storm night, and you are sent to find out why."
style = "Quiet, salt-stained, precise."
protagonist = { name = "Ada Lorne", description = "a relief keeper with a good memory for faces" }
opening = "You climb the last stair. The lamp room is empty, the logbook open at a page of shaking handwriting, and the great lens turns for no one."
options = ["Read the logbook.", "Check the lamp.", "Go back down the stairs."]
pinned = ["The storm lasts three days."]

[[world]]
name = "The logbook"
keys = ["logbook", "log"]
text = "The keeper's logbook records every passing ship since 1890."

[[world]]
name = "Skerry Point"
keys = ["Skerry"]
text = "A rock of black basalt, two miles from the mainland, reached only at low tide."
always = true
'''


@pytest.fixture
def server():
    with StandIn() as standin:
        yield standin


@pytest.fixture
def seed_path(tmp_path: Path) -> Path:
    path = tmp_path / "lighthouse.toml"
    path.write_text(SEED, encoding="utf-8")
    return path


@pytest.fixture
def saves(tmp_path: Path) -> Path:
    path = tmp_path / "saves"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory) -> Path:
    """The tiny model of tests/tiny_model.py, made once for the run: the workers of pytest-xdist
    share one file (the first to finish links it in place; a file is never replaced, so a model's
    identity does not change under a test that is using it)."""
    import os

    from game.llm.local import bundled_gguf
    from tests.tiny_model import build

    source = bundled_gguf()
    if source is None:
        pytest.skip("the tiny model borrows the bundled model's tokenizer: the [local] extra is not installed")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's folder, above each worker's own
    path = shared / "tiny-test-model.gguf"
    if not path.exists():
        made = build(source, tmp_path_factory.mktemp("tiny") / "model.gguf")
        try:
            os.link(made, path)
        except FileExistsError:  # another worker finished first: its file is the same model
            pass
    return path


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path: Path):
    """No test sees the developer's keys, servers or settings file."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "RECURRENT_MODEL", "RECURRENT_BACKEND", "RECURRENT_CHROMA_HOST",
                 "RECURRENT_CHROMA_PORT", "RECURRENT_BASE_URL", "RECURRENT_GGUF", "RECURRENT_RETRY_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECURRENT_CONFIG", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(tmp_path / "saves"))  # never the checkout's saves/
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # logs, such as the local model's
    monkeypatch.setenv("RECURRENT_CACHE_DIR", str(tmp_path / "cache"))  # the local model's saved caches
    # Nothing listens here, so an Ollama running on this machine never changes a test's outcome.
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("RECURRENT_RETRY_BASE", "0.01")
    monkeypatch.setenv("RECURRENT_TIMEOUT", "5")


@pytest.fixture(autouse=True)
def fresh_formats():
    """Each test is a fresh session: no server's way of taking structured output is remembered."""
    from game.llm import formats

    formats.forget_all()
    yield
    formats.forget_all()


@pytest.fixture(autouse=True)
def no_llama_in_this_process():
    """llama.cpp runs only in the game's child process: loaded here, a build for another CPU
    would kill pytest itself with SIGILL (and it would break the game's own promise)."""
    yield
    for name in ("llama_cpp", "xllamacpp"):
        assert name not in sys.modules, f"a test loaded llama.cpp ({name}) into pytest's own process"


@pytest.fixture(autouse=True)
def log_as_it_was():
    """A command run in-process configures the debug log (a file, and no propagation to the
    root logger); the next test must find the "recurrent" logger as it was, or caplog hears nothing."""
    import logging

    log = logging.getLogger("recurrent")
    before = (list(log.handlers), log.level, log.propagate)
    yield
    for handler in log.handlers:
        if handler not in before[0]:
            handler.close()
    log.handlers[:], log.level, log.propagate = before


@pytest.fixture
def game_env(monkeypatch, server, saves):
    """Environment for a game against the stand-in server."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("RECURRENT_MODEL", "standin")
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(saves))
    return server


# -- the engine in this process, against the stand-in ------------------------------------------
@pytest.fixture
def backend_for():
    """`backend_for(server, **policy)`: the real OpenAI-compatible backend pointed at a stand-in."""
    from game.llm.base import RetryPolicy
    from game.llm.openai_backend import OpenAIBackend

    def make(server, **policy) -> OpenAIBackend:
        settings = {"base": 0.01, "timeout": 2.0, **policy}
        return OpenAIBackend(base_url=server.url, api_key="sk-test", model="standin", policy=RetryPolicy(**settings))

    return make


@pytest.fixture
def new_game(backend_for):
    """`await new_game(server, saves, seed_path, name="test", **policy)`: a narrator with its opening told."""
    from game.engine.narrator import EngineSettings, Narrator
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    async def make(server, saves: Path, seed_path: Path, name: str = "test", **policy) -> Narrator:
        slot = Slot.create(saves, name, load_seed(seed_path))
        narrator = Narrator(slot, backend_for(server, **policy), EngineSettings())
        await narrator.begin()
        return narrator

    return make


@pytest.fixture
def end_game():
    """`await end_game(narrator)`: its slot closed and its backend let go."""

    async def end(narrator) -> None:
        narrator.store.close()
        await narrator.backend.close()

    return end


@pytest.hookimpl(trylast=True)  # after tests/ui/conftest.py has marked its tests
def pytest_collection_modifyitems(items):
    """The slow tests first (in their own order): on 2 workers (pytest-xdist) the long ones then
    run beside the many short ones, rather than one of them starting last and running alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
