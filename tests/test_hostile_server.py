"""A hostile or broken model server (issue 12, F1 F5 F6 F7 F9 F16): every answer it can give ends
in a good step or in one plain line, costs nothing that was saved, and never shows the key."""
from __future__ import annotations

import json
import secrets

import pytest

from game.cli import main
from game.core.models import Notes
from game.core.redact import redact
from game.llm import jsonout
from game.llm.base import ModelError
from game.saves.journal import Journal
from game.saves.slot import JOURNAL, Slot
from tests.heard import Heard
from tests.standin import Brain, StandIn

pytestmark = pytest.mark.slow  # each waits out a hostile server's pings, deadlines or 30 MB answers

MESSAGES = [{"role": "user", "content": "The reader's action: look"}]


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, err):
    assert code == 1 and err.startswith("recurrent: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


async def _stream(backend, notices):
    return "".join([p async for p in backend.stream(MESSAGES, max_tokens=100, temperature=0.5, on_notice=notices.append)])


# -- F1: nested past reason, not UTF-8, a web page labelled JSON ------------------------------------
@pytest.mark.parametrize("fault", ["deep", "deep-body", "xff"])
@pytest.mark.parametrize("streamed", [True, False], ids=["streamed notes", "whole notes"])
async def test_answers_nested_past_reason_or_not_utf8_are_asked_again(server, backend_for, fault, streamed):
    backend = backend_for(server)
    server.fail(fault)
    notices = []
    notes = await backend.structured(MESSAGES, Notes, max_tokens=200, temperature=0.2, on_notice=notices.append,
                                     on_text=(lambda piece: None) if streamed else None)
    assert len(notes.options) == 3 and server.faults_sent == [fault]
    if fault != "xff" or streamed:  # a 0xff byte can only be in an event line
        assert len(notices) == 1 and ("garbled" in notices[0].text or "not valid JSON" in notices[0].text)
    await backend.close()


@pytest.mark.parametrize("fault", ["deep-body", "xff"])
async def test_a_stream_event_nested_past_reason_or_not_utf8_is_garbled_and_told_again(server, backend_for, fault):
    backend = backend_for(server)
    server.fail(fault)
    notices = []
    text = await _stream(backend, notices)
    assert text.rstrip().endswith("quiet.")
    assert [n.text.split(";")[0] for n in notices] == ["the model server sent a garbled answer"]
    await backend.close()


@pytest.mark.parametrize("streamed", [True, False])
async def test_a_web_page_served_as_json_is_one_line(server, backend_for, streamed):
    backend = backend_for(server)
    server.fail("html-json")
    with pytest.raises(ModelError, match="did not answer like an OpenAI-compatible API") as caught:
        if streamed:
            await _stream(backend, [])
        else:
            await backend.structured(MESSAGES, Notes, max_tokens=200, temperature=0.2)
    assert "\n" not in str(caught.value)
    await backend.close()


def test_nested_json_in_prose_is_no_object():
    assert jsonout.first_json_object('{"memory": ' + "[" * 200_000 + "]" * 200_000 + "}") is None
    assert jsonout.first_json_object("[" * 5000 + ' {"memory": "m"}') == {"memory": "m"}


# -- F6: 300,000 "{" --------------------------------------------------------------------------------
def test_finding_json_tries_a_bounded_number_of_places(monkeypatch):
    """Each failed decode costs a pass over the text, so the number of tries is what keeps 300,000
    `{` from being quadratic: `{` that cannot open an object are not tried at all, and the rest at
    most MAX_TRIES times."""
    tries = []
    real = jsonout._decoder.raw_decode

    def counted(text, start):
        tries.append(start)
        return real(text, start)

    monkeypatch.setattr(jsonout._decoder, "raw_decode", counted)
    assert jsonout.first_json_object("{" * 300_000) is None
    assert tries == []
    assert jsonout.first_json_object('{"a" ' * 100_000) is None
    assert len(tries) == jsonout.MAX_TRIES
    tries.clear()
    assert jsonout.first_json_object('{"a" ' * 10 + ' {"memory": "m"}') == {"memory": "m"}
    assert len(tries) == 11


def test_content_of_300000_braces_is_a_step_not_a_hang(game_env, saves, seed_path, capsys):
    game_env.fail("ok", "braces", "braces", "braces")  # the paragraph, then three answers of braces
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "b", "--steps", "2")
    assert code == 0, err
    assert "wrote 2 steps to slot b; the notes of 1 step was not valid JSON" in err  # the braces step kept its paragraph
    with Slot.open(saves, "b") as slot:
        assert slot.story.taken == 2 and slot.story.steps[1].version.fallback


# -- F5: an answer of tens of megabytes ---------------------------------------------------------------
def test_an_answer_of_30_mb_is_read_only_as_far_as_it_can_matter(game_env, saves, seed_path, capsys):
    game_env.fail("ok", "huge")  # the paragraph, then notes of 30 MB: cut at the ceiling, so asked again
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "h", "--steps", "2")
    assert code == 0, err
    assert (saves / "h" / JOURNAL).stat().st_size < 50_000  # not 94 MB
    with Slot.open(saves, "h") as slot:
        assert slot.story.taken == 2
        assert all(len(option) < 600 for step in slot.story.steps for option in step.version.options)


def test_options_of_one_enormous_word_are_clipped_and_still_playable(game_env, saves, seed_path, tmp_path, capsys):
    notes = json.dumps({"options": ["a" * 5000, "b" * 5000, "Wait."], "note": "n" * 9000})
    game_env.say("The lamp gutters and goes out.", notes)
    actions = tmp_path / "actions.txt"
    actions.write_text("1\n1\n", encoding="utf-8")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "w", "--steps", "2",
                         "--actions", str(actions))
    assert code == 0, err  # option 1 of step 1 is a fair action for step 2
    with Slot.open(saves, "w") as slot:
        first = slot.story.steps[1].version
        assert all(len(option) <= 40 * 12 + 2 for option in first.options)
        assert len(first.note) <= 60 * 12 + 2
        assert slot.story.steps[2].action == first.options[0]


# -- F7: keep-alives for ever, an answer that never ends --------------------------------------------
def test_keep_alive_comments_do_not_hold_a_step(game_env, saves, seed_path, capsys, monkeypatch):
    monkeypatch.setenv("RECURRENT_TIMEOUT", "1")
    game_env.fail("ping")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "p", "--steps", "1")
    assert code == 0, err
    assert "the model server sent nothing for 1 s (keep-alives at most); trying again" in err


def test_a_server_that_only_pings_ends_in_one_line_and_costs_nothing(game_env, saves, seed_path, capsys, monkeypatch):
    assert run(capsys, "write", "--story", str(seed_path), "--slot", "p", "--steps", "1")[0] == 0
    journal = (saves / "p" / JOURNAL).read_bytes()
    monkeypatch.setenv("RECURRENT_TIMEOUT", "1")
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")
    game_env.fail("ping", "ping")
    code, out, err = run(capsys, "write", "--slot", "p", "--steps", "1")
    assert err.splitlines()[-1] == "recurrent: the story could not go on: the model server sent nothing for 1 s (keep-alives at most)"
    assert code == 1 and "Traceback" not in err
    assert (saves / "p" / JOURNAL).read_bytes() == journal


@pytest.mark.parametrize("streamed", [True, False])
async def test_an_answer_that_never_ends_meets_the_deadline(server, backend_for, streamed):
    """Words every 0.2 s for ever (or, unstreamed, a body of spaces): the read timeout never fires,
    the total deadline does, and it is not tried again (the next try would be the same)."""
    backend = backend_for(server, timeout=5.0, deadline=1.0)
    server.fail("endless")
    with pytest.raises(ModelError, match="took longer than 1 s, the most one call may take"):
        if streamed:
            await _stream(backend, [])
        else:
            await backend.structured(MESSAGES, Notes, max_tokens=200, temperature=0.2)
    assert server.faults_sent == ["endless"]
    await backend.close()


def test_the_deadline_is_a_setting(game_env, saves, seed_path, capsys, monkeypatch):
    monkeypatch.setenv("RECURRENT_DEADLINE", "1")
    game_env.fail("endless")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "d", "--steps", "1")
    one_line(code, err)
    assert "took longer than 1 s" in err
    assert not (saves / "d").exists()  # the slot held only its seed, and is gone again


# -- F16: an error that echoes the key ------------------------------------------------------------------
def test_an_error_echoing_the_authorization_header_never_shows_the_key(game_env, saves, seed_path, capsys, monkeypatch):
    key = f"sk-canary-{secrets.token_hex(16)}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")
    game_env.fail("echo-auth", "echo-auth")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "k", "--steps", "1")
    assert key in game_env.api_keys  # it was sent, and the server echoed it
    one_line(code, err.splitlines()[-1] + "\n")
    assert "Authorization: Bearer [redacted]" in err
    assert key not in out + err and key[10:] not in out + err


def test_redact_hides_known_keys_and_credential_shapes():
    from game.core.redact import keep_secret

    keep_secret("a-private-token-9999")
    text = redact("bad token a-private-token-9999; Authorization: Bearer abc.def; url https://me:pw@host/v1; "
                  "sk-" + "x" * 40)
    assert "a-private-token-9999" not in text and "abc.def" not in text and "me:pw" not in text and "x" * 40 not in text
    assert redact("Bearer sk-short") == "Bearer [redacted]" and redact("nothing secret here") == "nothing secret here"


# -- F9: a stream cut short that says it finished -----------------------------------------------------
def test_a_stream_cut_then_ended_with_stop_is_told_again(game_env, saves, seed_path, capsys):
    game_env.fail("cut-stop")
    code, out, err = run(capsys, "write", "--story", str(seed_path), "--slot", "c", "--steps", "1")
    assert code == 0, err
    assert "the paragraph stopped mid-sentence (its stream was cut short); telling it again" in err
    with Slot.open(saves, "c") as slot:
        assert slot.story.steps[1].version.paragraph.endswith("listening quiet.")


async def test_a_paragraph_ending_in_an_echoed_label_is_not_told_again(saves, seed_path, new_game, end_game):
    """"### Remembered from earlier" after a whole paragraph is scaffolding, not a stream cut
    mid-sentence: the label goes, and the paragraph is kept without another call."""
    class Echoing(Brain):
        def narrate(self, messages):
            return super().narrate(messages) + "\n### Remembered from earlier"

    with StandIn(brain=Echoing()) as server:
        game = await new_game(server, saves, seed_path)
        before = len(server.narrations())
        heard = Heard()
        step = await game.step("Check the lamp.", heard)
        told = server.narrations()[before:]
        assert len(told) == 1 and not any("telling it again" in n.text for n in heard.notices)
        assert "Remembered" not in step.version.paragraph and step.version.paragraph.startswith("You check the lamp.")
        await end_game(game)


async def test_a_stream_that_is_always_cut_keeps_only_whole_sentences(server, saves, seed_path, new_game, end_game):
    game = await new_game(server, saves, seed_path)
    server.fail("cut-stop", "cut-stop", "cut-stop")
    heard = Heard()
    step = await game.step("Check the lamp.", heard)
    assert sum("telling it again" in n.text and n.restart for n in heard.notices) == 2
    # The third telling is kept, its cut sentence dropped: only whole sentences (the guards may drop more).
    assert step.version.paragraph.endswith("You check the lamp.") and len(step.version.paragraph.split()) <= 5
    await end_game(game)
    records = Journal(saves / "test" / JOURNAL).read().records
    assert records[-1]["step"]["version"]["paragraph"] == step.version.paragraph
