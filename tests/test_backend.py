"""The OpenAI-compatible backend against the stand-in: every fault kind, and bad JSON."""
from __future__ import annotations

import json

import pytest

from game.core.models import GENERIC_OPTIONS, Bookkeeping, Notes
from game.llm.base import InvalidOutput, ModelError
from game.llm.jsonout import first_json_object, parse_as
from tests.heard import Heard


MESSAGES = [{"role": "user", "content": "The reader's action: look"}]
# A paragraph long enough that the guards keep it as it is (a short one is told again).
GALLERY = ("You step out onto the gallery and the wind takes your breath. Rain drives sideways across the rail, and "
           "far below the sea breaks white on the rocks, over and over, as the great lamp turns above you.")


async def _stream(backend, notices):
    return "".join([piece async for piece in backend.stream(MESSAGES, max_tokens=100, temperature=0.5, on_notice=notices.append)])


@pytest.mark.parametrize("fault", ["429", "500", "slow", "cut", "drop"])
async def test_stream_recovers_from_each_fault(server, fault, backend_for):
    server.slow_seconds = 1.0
    backend = backend_for(server, timeout=0.4)
    server.fail(fault)
    notices = []
    text = await _stream(backend, notices)
    assert text.startswith("You look.") and text.rstrip().endswith("quiet.")
    assert server.faults_sent == [fault]
    assert len(notices) == 1 and "trying again" in notices[0].text
    if fault == "cut":
        assert notices[0].restart  # part of the text had been sent; the consumer must drop it
    await backend.close()


async def test_a_call_returns_its_own_ending_and_cost(server, backend_for):
    """A streamed call's finish and usage are read from its reply, not from the backend: a second
    call made before the first is read leaves the first's ending as it was."""
    backend = backend_for(server)
    server.finishes.append("length")
    first = backend.stream(MESSAGES, max_tokens=100, temperature=0.5)
    with pytest.raises(RuntimeError):
        first.finish  # not ended before it is read to its end
    assert "".join([piece async for piece in first])
    second = backend.stream(MESSAGES + [{"role": "user", "content": "and more " * 50}], max_tokens=100, temperature=0.5)
    assert "".join([piece async for piece in second])
    assert (first.finish, second.finish) == ("length", "stop")
    assert 0 < first.usage.prompt_tokens < second.usage.prompt_tokens and first.usage.completion_tokens > 0
    with pytest.raises(RuntimeError):
        [piece async for piece in first]  # a reply streams once
    await backend.close()


@pytest.mark.parametrize("fault", ["429", "500", "slow", "drop", "invalid"])
async def test_structured_recovers_from_each_fault(server, fault, backend_for):
    server.slow_seconds = 1.0
    backend = backend_for(server, timeout=0.4)
    server.fail(fault)
    notes = await backend.structured(MESSAGES, Bookkeeping, max_tokens=200, temperature=0.2)
    assert len(notes.options) == 3
    await backend.close()


async def test_gives_up_with_one_line_after_the_attempts(server, backend_for):
    backend = backend_for(server, attempts=3)
    server.fail("500", "500", "500")
    with pytest.raises(ModelError) as caught:
        await _stream(backend, [])
    assert "answered 500" in str(caught.value) and "\n" not in str(caught.value)
    await backend.close()


async def test_unreachable_server_is_one_line(backend_for):
    from tests.standin import StandIn

    with StandIn() as gone:
        url = gone.url
    backend = backend_for(type("S", (), {"url": url})(), attempts=2)
    with pytest.raises(ModelError) as caught:
        await _stream(backend, [])
    assert "cannot reach the model server" in str(caught.value)
    await backend.close()


async def test_invalid_json_every_time_raises_invalid_output(server, backend_for):
    backend = backend_for(server)
    server.fail("invalid", "invalid", "invalid")
    with pytest.raises(InvalidOutput):
        await backend.structured(MESSAGES, Bookkeeping, max_tokens=200, temperature=0.2)
    await backend.close()


@pytest.mark.slow
async def test_step_falls_back_when_bookkeeping_stays_invalid(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    old_memory = game.story.memory
    # the narration call succeeds; every bookkeeping answer is prose, not JSON
    server.say(GALLERY, *(["**Memory:** no json here"] * 3))
    heard = Heard()
    step = await game.step("Step onto the gallery.", heard)
    assert step.version.paragraph.startswith("You step out onto the gallery")
    assert step.version.fallback and step.version.memory == old_memory
    # Options made from the story (here the seed's own, not yet taken), not the generic lines.
    assert len(set(step.version.options)) == 3 and set(step.version.options) & set(game.story.seed.options)
    assert step.version.options != GENERIC_OPTIONS
    assert any("kept the previous one" in n.text for n in heard.notices)
    assert game.story.taken == 1
    await end_game(game)


async def test_json_in_fences_and_prose_is_found(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    options = ["Climb to the gallery rail.", "Read the logbook again.", "Call out for the keeper."]
    fenced = 'Here you go:\n```json\n{"memory": "Ada is on the gallery.", "options": ' + json.dumps(options) + '}\n```'
    server.say(GALLERY, fenced)
    step = await game.step("Step onto the gallery.")
    assert step.version.options == options and not step.version.fallback
    await end_game(game)


def test_first_json_object_skips_braces_in_prose():
    text = 'The {keeper} said: {"memory": "m", "options": ["x", "y", "z"]} and more {'
    assert first_json_object(text) == {"memory": "m", "options": ["x", "y", "z"]}
    assert parse_as('{"memory": "m", "options": ["x"]}', Bookkeeping) is None  # not three options
    assert first_json_object("no json at all") is None


async def test_a_web_page_instead_of_an_api_is_one_line_not_retried(server, backend_for):
    backend = backend_for(server)
    server.fail("html")
    with pytest.raises(ModelError, match="did not answer like an OpenAI-compatible API"):
        await backend.structured(MESSAGES, Bookkeeping, max_tokens=200, temperature=0.2)
    server.fail("html")
    with pytest.raises(ModelError, match="ends in /v1"):
        await _stream(backend, [])
    assert server.faults_sent == ["html", "html"]  # neither was asked again
    await backend.close()


async def test_a_garbled_stream_event_is_retried(server, backend_for):
    backend = backend_for(server)
    server.fail("garbled")
    notices = []
    text = await _stream(backend, notices)
    assert text.rstrip().endswith("quiet.") and "garbled" in notices[0].text and notices[0].restart
    await backend.close()


async def test_out_of_quota_is_said_plainly_and_not_retried(server, backend_for):
    backend = backend_for(server)
    server.fail("quota", "quota")
    with pytest.raises(ModelError, match="out of quota"):
        await _stream(backend, [])
    assert server.faults_sent == ["quota"]
    await backend.close()


async def test_the_servers_reason_for_a_400_is_shown(server, backend_for):
    backend = backend_for(server)
    server.fail("400")
    with pytest.raises(ModelError, match="answered 400: This model's maximum context length is 2048 tokens"):
        await _stream(backend, [])
    await backend.close()


async def test_a_server_that_refuses_json_schemas_gets_plain_json(server, backend_for):
    backend = backend_for(server)
    server.refuse_schema = True
    notices = []
    server.say('Here: {"memory": "Ada waits.", "options": ["a", "b", "c"]}')
    notes = await backend.structured(MESSAGES, Bookkeeping, max_tokens=200, temperature=0.2, on_notice=notices.append)
    assert notes.memory == "Ada waits."
    formats = [(r.get("response_format") or {}).get("type") for r in server.chat_requests()]
    assert formats == ["json_schema", "json_object", None]
    assert len(notices) == 2
    await backend.close()


def test_a_quoted_object_before_the_answer_is_skipped():
    text = 'The schema says {"type": "object"}. Here you go: {"memory": "m", "options": ["a", "b", "c"]}'
    assert parse_as(text, Bookkeeping).options == ["a", "b", "c"]


def test_retry_after_is_honoured_beyond_the_backoff_cap():
    from game.llm.base import RetryPolicy

    policy = RetryPolicy(base=0.5, cap=8.0)
    assert policy.delay(0, 20.0) == 20.0 and policy.delay(0, 600.0) == 60.0 and policy.delay(10) == 8.0


async def test_a_500_that_names_the_format_moves_to_the_form_the_server_takes(server, backend_for):
    """llama-cpp-python's server: 500 to json_schema, naming the types it takes; json_object with a
    schema works. The decision is kept for the session: a backend made again asks rightly at once."""
    server.like_llama_cpp_python = True
    backend = backend_for(server, attempts=5)
    notices = []
    notes = await backend.structured(MESSAGES, Bookkeeping, max_tokens=200, temperature=0.2, on_notice=notices.append)
    assert len(notes.options) == 3 and notes.memory.startswith("Memory")  # the schema was filled, not {"text": "ok"}
    asked = [r.get("response_format") for r in server.chat_requests()]
    assert [a["type"] for a in asked] == ["json_schema", "json_object"]  # no retries of the refused form
    assert asked[1]["schema"]["properties"].keys() >= {"options", "memory"}
    assert len(notices) == 1 and "JSON output with a schema" in notices[0].text
    await backend.close()
    again = backend_for(server)
    await again.structured(MESSAGES, Bookkeeping, max_tokens=200, temperature=0.2, on_text=lambda piece: None)
    assert server.chat_requests()[-1]["response_format"]["type"] == "json_object"
    assert len(server.chat_requests()) == 3
    await again.close()


def test_the_ladder_follows_what_the_server_says():
    from game.llm.formats import LADDER, after_refusal

    assert after_refusal(LADDER, "json_schema", "Input should be 'text' or 'json_object'") == "json_object+schema"
    assert after_refusal(LADDER, "json_schema", "response_format json_schema is not supported") == "json_object+schema"
    assert after_refusal(LADDER, "json_object+schema", "response_format json_object is not supported") is None
    assert after_refusal(LADDER, "json_object+schema", "response_format: unknown field schema") == "json_object"
    assert after_refusal(LADDER, None, "anything") is False


LONG = [{"role": "user", "content": "The lamp hisses and the shadows lean closer while the wind worries at the shutters. " * 4}]


async def test_the_token_estimate_is_calibrated_by_the_servers_counts(server, backend_for, saves, seed_path):
    from game.core.text import tokens
    from game.engine.narrator import EngineSettings, Narrator
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    backend = backend_for(server)
    assert backend.token_scale == 1.0
    await backend.structured(LONG, Bookkeeping, max_tokens=200, temperature=0.2)
    assert backend.token_scale != 1.0 and backend.usage.prompt_tokens > 0  # usage.prompt_tokens taught it
    # A server that reports no usage but has llama-cpp-python's tokenizer endpoint: its counts teach it.
    server.usage = False
    server.tokenizer = lambda text: 2 * tokens(text)
    counting = backend_for(server)
    reply = counting.stream(LONG, max_tokens=50, temperature=0.5)
    text = "".join([piece async for piece in reply])
    assert text and abs(counting.token_scale - 2.0) < 0.01
    assert reply.usage.prompt_tokens == 2 * tokens(LONG[0]["content"])
    slot = Slot.create(saves, "counted", load_seed(seed_path))
    narrator = Narrator(slot, counting, EngineSettings(prompt_tokens=3000))
    assert (await narrator.budget()).total == 1500  # twice the tokens a word: half the estimated budget
    slot.close()
    await backend.close()
    await counting.close()


async def test_the_client_is_built_and_streams_under_the_installed_openai(server, backend_for):
    """The client is built from openai's own classes only: a release of the HTTP library openai
    talks through (httpx2 2.17 refused an httpx.Timeout) cannot break the first step again."""
    import importlib.metadata
    import sys

    import openai

    from game.llm import openai_backend

    backend = backend_for(server, timeout=2.0)
    assert isinstance(backend._client.timeout, openai.Timeout)
    text = await _stream(backend, [])
    assert text.startswith("You look.")
    # Failures are classified by openai's classes alone, so none of its HTTP library's can be missed.
    for kind in openai_backend.LOST + openai_backend.FAILED:
        assert kind.__module__.split(".")[0] in ("openai", "game"), kind
    assert "httpx" not in sys.modules["game.llm.openai_backend"].__dict__
    print("openai", importlib.metadata.version("openai"))
    await backend.close()


async def test_a_connection_broken_mid_stream_is_openais_connection_error(server, backend_for):
    """A stream cut by the server's side of the socket reaches us as openai's own error (retried
    and told in one line), whatever HTTP library openai uses underneath."""
    backend = backend_for(server, timeout=2.0, attempts=1)
    server.fail("drop")
    with pytest.raises(ModelError) as caught:
        await _stream(backend, [])
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value.__cause__, openai_errors()), type(caught.value.__cause__)
    await backend.close()


def openai_errors():
    import openai

    from game.llm.openai_backend import StreamCut

    return (openai.APIError, StreamCut)


async def test_a_llama_cpp_server_is_asked_for_json_whose_every_string_is_bounded(server, backend_for):
    """A server whose /props is llama.cpp's (found as its window is asked) makes the notes' schema
    its grammar: every string gets the grammar's ceiling, as the game's own child does (a small
    model once wrote one option until the notes ran out of tokens). Another server is sent the
    schema as it was."""
    offered = json.dumps({"options": ["Climb the stair.", "Read the logbook.", "Ring the bell."], "note": "Dark."})

    async def schema_sent() -> dict:
        backend = backend_for(server)
        try:
            await backend.context_window()  # as the narrator asks it, before a step
            server.say(offered)
            await backend.structured([{"role": "user", "content": "Notes."}], Notes, max_tokens=300, temperature=0.5)
        finally:
            await backend.close()
        return server.chat_requests()[-1]["response_format"]["json_schema"]["schema"]

    assert "maxLength" not in (await schema_sent())["properties"]["options"]["items"]
    server.window = 4096  # /props answers as llama.cpp's does
    bounded = await schema_sent()
    assert bounded["properties"]["options"]["items"]["maxLength"] > 0
