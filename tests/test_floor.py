"""A weak model's output through the whole engine: cleaned before it is saved, said quietly, and
the bars of issue 16 held over a headless story told by the stand-in with a small model's habits."""
from __future__ import annotations

import json
import logging

import pytest

from bench.quality import degenerate, paragraphs_of, repeats_sentence
from game.cli import main
from game.core.models import GENERIC_OPTIONS
from game.engine import guards
from tests.heard import Heard
from tests.standin import StandIn, WeakBrain

pytestmark = pytest.mark.slow  # whole stories told through the guards, a weak model's every habit

LONG = ("The lamp room smells of paraffin and wet wool. Rain streams down the great panes, and the lens turns "
        "slowly above you, throwing its beam out over the black water and sweeping it back again, while the "
        "logbook lies open on the desk at a page of shaking handwriting.")


def notes(options, note="The keeper's logbook was found open."):
    return json.dumps({"options": options, "note": note})


async def test_an_echoing_paragraph_is_saved_clean_and_said_quietly(server, saves, seed_path, end_game, new_game, caplog):
    game = await new_game(server, saves, seed_path)
    server.say(f"## The next paragraph\nThe reader's action: Read the logbook.\n{LONG}\n(the reader chose: Read the logbook.)")
    heard = Heard()
    with caplog.at_level(logging.INFO, logger="recurrent.guards"):
        step = await game.step("Read the logbook.", heard)
    assert step.version.paragraph == LONG
    remarks = [n for n in heard.notices if n.quiet]
    assert remarks and remarks[-1].restart and "echoed prompt line" in remarks[-1].text
    assert heard.text[-1] == LONG  # what streamed is replaced by what is kept
    assert any(r.name == "recurrent.guards" and "echoed prompt line" in r.getMessage() for r in caplog.records)
    await end_game(game)


async def test_a_good_paragraph_and_good_options_pass_without_a_word(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    offered = ["Read the last entry aloud.", "Climb up to the lens.", "Search the desk drawers."]
    server.say(LONG, notes(offered))
    heard = Heard()
    step = await game.step("Read the logbook.", heard)
    assert step.version.paragraph == LONG and step.version.options == offered
    assert not heard.notices and len(server.chat_requests()) == 2  # nothing asked again
    await end_game(game)


async def test_a_short_paragraph_is_told_once_more_and_the_longer_kept(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    server.say("You read it.", "Nothing.")  # short twice: the longer of the two is kept
    heard = Heard()
    step = await game.step("Read the logbook.", heard)
    assert len(server.narrations()) == 2 and step.version.paragraph == "You read it."
    assert any(n.quiet and n.restart and "telling it again" in n.text for n in heard.notices)
    server.say("You read it.")  # short, then the stand-in's own paragraph, which is long enough
    step = await game.step("Read it again, slowly.")
    assert len(server.narrations()) == 4 and step.version.paragraph.startswith("You read it again, slowly.")
    await end_game(game)


async def test_a_paragraph_of_nothing_but_scaffolding_fails_the_step_plainly(server, saves, seed_path, end_game, new_game):
    import pytest

    from game.engine.narrator import StepError

    game = await new_game(server, saves, seed_path)
    server.say("## The next paragraph\nThe reader's action: look", "### Remembered from earlier", "Options:")
    with pytest.raises(StepError, match="no usable paragraph"):
        await game.step("Look around.")
    assert game.story.taken == 0 and len(server.narrations()) == 3  # told three times, then nothing saved
    await end_game(game)


async def test_degenerate_options_are_asked_again_then_made_from_the_story(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    server.say(LONG, notes(["the case of", "the case of the", "the case of the"]),
               notes(["options", "options", "Climb up to the lens."]))
    heard = Heard()
    step = await game.step("Read the logbook.", heard)
    options = step.version.options
    assert len(server.chat_requests()) == 3  # the paragraph, the notes, the notes once more
    assert options[0] == "Climb up to the lens." and len(guards.options(options, LONG, "Read the logbook.")) == 3
    assert not set(options) & set(GENERIC_OPTIONS)  # the story had enough to offer
    assert heard.options == [options]  # the degenerate options never reached the player
    assert any(n.quiet and "made from the story" in n.text for n in heard.notices)
    assert not step.version.fallback  # the memory was the model's own
    await end_game(game)


TOLD = [  # a paragraph of its own for each step: one like the last would be told again
    "The boat shed is dark and smells of tar. An oar lies snapped across the slipway, its blade still wet, and "
    "a trail of small bootprints leads from the water to a locker someone has forced open with a knife.",
    "Up in the keeper's cottage a kettle sits cold on the stove. The bed is made with naval care, yet every "
    "drawer of the dresser hangs open, and a photograph of two sisters has been torn clean in half.",
    "The cellar stair creaks under your weight. At the bottom, crates of lamp oil are stacked to the ceiling, "
    "except for one gap where a crate was dragged away, leaving long pale scars across the flagstones.",
    "Out on the cliff path the wind tears at your coat. Far below, breakers smash against the rocks, and "
    "halfway down a ledge you spot a red scarf snagged on a thorn bush, flapping like a signal flag.",
    "The signal hut's door is swollen shut, and it takes your shoulder to move it. Inside, the telegraph key "
    "has been wrenched from the bench, its wires cut, and the last message on the pad reads only: tonight.",
]


async def test_options_asked_again_in_vain_are_not_asked_again_for_a_while(server, saves, seed_path, end_game,
                                                                           new_game, monkeypatch):
    """A model whose second answer was no better is spared the ask (and the player the wait) for
    ASK_AGAIN_REST steps, then asked again; an ask that rescues the options is asked next time too."""
    from game.engine import narrator

    monkeypatch.setattr(narrator, "ASK_AGAIN_REST", 2)
    game = await new_game(server, saves, seed_path)
    bad = notes(["the case of", "the case of the", "the case of the"])
    good = notes(["Climb up to the lens.", "Search the desk drawers.", "Read the last entry aloud."])
    asked = []  # the requests each step made

    async def step(*answers: str) -> list[str]:
        before = len(server.chat_requests())
        server.say(TOLD[len(asked)], *answers)
        told = await game.step(["Go to the boat shed.", "Climb to the cottage.", "Go down to the cellar.",
                                "Walk the cliff path.", "Open the signal hut."][len(asked)])
        asked.append(len(server.chat_requests()) - before)
        return told.version.options

    await step(bad, bad)  # asked again in vain
    await step(bad)  # resting: options made from the story at once
    await step(bad)
    assert await step(bad, good) == json.loads(good)["options"]  # asked again after the rest, and rescued
    await step(bad, good)  # so asked again at once
    assert asked == [3, 2, 2, 3, 3]
    await end_game(game)


async def test_invalid_notes_fall_back_to_options_of_the_story(server, saves, seed_path, end_game, new_game):
    game = await new_game(server, saves, seed_path)
    server.say(LONG, "not json", "still not json", "{nope")
    step = await game.step("Read the logbook.")
    assert step.version.fallback and len(set(step.version.options)) == 3
    assert "Check the lamp." in step.version.options  # the seed's own, not yet taken
    await end_game(game)


def test_a_weak_model_still_tells_a_readable_story(saves, seed_path, tmp_path, monkeypatch, capsys):
    """Twelve steps of `recurrent write` against the stand-in with a small model's habits (echoes,
    loops, copies, degenerate options, a recap that repeats): in the exported transcript and in
    `saves show`, no paragraph echoes the prompt or repeats a sentence, every paragraph has 30
    words or more, and no option offered (or taken) is degenerate."""
    actions = tmp_path / "actions.txt"
    actions.write_text("1\nAsk the keeper's ghost where he went.\nContinue the story.\n2\n3\n" * 3, encoding="utf-8")
    with StandIn(brain=WeakBrain()) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("RECURRENT_MODEL", "standin")
        monkeypatch.setenv("RECURRENT_PROMPT_TOKENS", "1500")  # chapters close, so the recap is written and guarded
        code = main(["write", "--story", str(seed_path), "--slot", "weak", "--steps", "12", "--actions", str(actions),
                     "--saves-dir", str(saves), "--out", str(tmp_path / "weak.md")])
        err = capsys.readouterr().err
        assert code == 0, err
        assert main(["saves", "--saves-dir", str(saves), "show", "weak", "--json"]) == 0
        shown = json.loads(capsys.readouterr().out)
    paragraphs = paragraphs_of((tmp_path / "weak.md").read_text(encoding="utf-8"))
    assert len(paragraphs) == 12
    for paragraph in paragraphs:
        assert "#" not in paragraph and "reader" not in paragraph.lower(), paragraph
        assert not repeats_sentence(paragraph), paragraph
        assert len(paragraph.split()) >= 30, paragraph
    assert not degenerate(shown["options"])
    from game.saves.slot import Slot

    with Slot.open(saves, "weak") as slot:
        steps = slot.story.steps
        assert all(not degenerate(step.version.options) for step in steps)
        assert all(step.action in steps[step.number - 1].version.options or step.action in actions.read_text()
                   for step in steps[1:])
        recaps = [step.version.memory for step in steps if step.version.chapter]
        assert recaps and all(recap.count("Ruth searches the ferry") == 1 for recap in recaps)
    assert "echoed prompt line" in err and "made from the story" in err  # said, on stderr, not in the story


def test_a_frequency_penalty_goes_with_prose_to_servers_that_count_only_the_answer(game_env, seed_path, capsys):
    """vLLM (and OpenAI) count only the answer's own tokens; llama.cpp-based servers count the
    prompt too, where the bundled model's measurement found it harmful: they get none."""
    code = main(["write", "--backend", "vllm", "--base-url", game_env.url, "--story", str(seed_path), "--slot", "v",
                 "--steps", "1"])
    assert code == 0, capsys.readouterr().err
    narration, notes_request = game_env.narrations()[-1], game_env.chat_requests()[-1]
    assert narration["frequency_penalty"] == 0.3 and "frequency_penalty" not in notes_request
    code = main(["write", "--backend", "llamacpp", "--base-url", game_env.url, "--slot", "v", "--steps", "1"])
    assert code == 0, capsys.readouterr().err
    assert "frequency_penalty" not in game_env.narrations()[-1]
