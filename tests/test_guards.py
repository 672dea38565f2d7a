"""The guards under the prose: what a weak model writes is cleaned, what a good one writes is not."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from game.core.models import GENERIC_OPTIONS
from game.core.seed import WorldEntry
from game.engine import guards
from game.engine.fallback import names, story_options

STORIES = sorted((Path(__file__).parent.parent / "stories").glob("*.toml"))
GOOD = ("You climb the last stair. The lamp room is empty, the logbook open at a page of shaking handwriting, "
        "and the great lens turns for no one. Rain streams down the glass. Somewhere below, a door bangs in the wind.")


# -- paragraphs -----------------------------------------------------------------------------------
def test_what_the_issue_saw_echoed_is_stripped():
    raw = ("## The next paragraph\nThe story has just begun.\n" + GOOD + "\n(the reader chose: Read the logbook.)\n"
           "### How could I improve this sentence?\n#### Remembered from earlier\n- (step 2) The hat was wet.\n"
           "#### Just before\nThe reader's action: Read the logbook.\n**Options:** 1. Look")
    cleaned = guards.paragraph(raw, [])
    assert cleaned.text == GOOD
    assert cleaned.fired and "echoed prompt line" in cleaned.fired[0]


@pytest.mark.parametrize("line", [
    "The story so far: Ruth searches the ferry.", "Remembered from earlier in the story:", "Lore in play:",
    "The reader's action: Continue the story.", "The reader’s action: Continue.", "**Premise:** 1958. A ferry.",
    "Title: Night Ferry", "Never forget:", "Now the notes for that paragraph, as JSON only", "# Chapter",
    "1. Ask the captain.", "- (step 3) the purser", "Option 2: Go below.", "Memory:",
])
def test_every_label_of_the_prompt_is_scaffolding(line):
    assert guards.paragraph(f"{GOOD}\n{line}", []).text == GOOD


def test_a_label_in_front_of_good_prose_loses_only_the_label():
    assert guards.paragraph(f"Narrator: {GOOD}", []).text == GOOD


def test_a_block_said_four_times_ends_after_the_first():
    cleaned = guards.paragraph(" ".join([GOOD] * 4), [])
    assert cleaned.text == GOOD and cleaned.fired == ["ended it where it began repeating itself"]


def test_one_stray_repeat_is_dropped_and_what_follows_it_is_kept():
    """A sentence said twice, then something new: only the repeat goes. The fact after it is
    the story's (a planted clue was being lost when the paragraph ended at the repeat)."""
    clue = "Before leaving, Oskar whispers that Tobias put the iron key inside the blue chimney."
    first, second = "You think of home for a moment, and of the long road that brought you here.", "Rain needles the shutters."
    cleaned = guards.paragraph(f"{second} {first} {first} {clue}", [])
    assert cleaned.text == f"{second} {first} {clue}"
    assert cleaned.fired == ["dropped 1 sentence said before or about the prompt"]


def test_a_loop_inside_sentences_and_a_stutter_are_cut():
    looping = GOOD + " He looks at you and he looks at you and he looks at you and he looks at you again."
    assert guards.paragraph(looping, []).text == GOOD
    stutter = GOOD + " No, no, no, no, no, she says."
    assert guards.paragraph(stutter, []).text == GOOD


def test_a_paragraph_that_starts_by_copying_the_one_before_is_cut_there():
    before = "The captain turns the hat in his hands and says nothing for a long while."
    assert guards.paragraph(f"{GOOD} {before}", [before]).text == GOOD
    near = "The captain turns the grey hat in his hands and says nothing for a long while."  # one word more
    assert guards.paragraph(f"{GOOD} {near}", [before]).text == GOOD


def test_sentences_about_the_task_are_dropped_and_the_story_kept():
    raw = (f"The next sentence is a continuation of the previous one.\n\n{GOOD} Your protagonist smiles. "
           "You are the narrator of a second-person present-tense story.")
    cleaned = guards.paragraph(raw, [])
    assert cleaned.text == GOOD and "about the prompt" in cleaned.fired[0]


def test_an_unfinished_last_sentence_is_dropped():
    cleaned = guards.paragraph(GOOD + " He takes a step forward and says:", [])
    assert cleaned.text == GOOD and cleaned.fired == ["dropped an unfinished last sentence"]


@pytest.mark.parametrize("path", STORIES, ids=[p.stem for p in STORIES])
def test_authored_prose_passes_untouched(path):
    """Every bundled story's opening (prose by people, dialogue and all) is kept word for word,
    with the paragraph before it being its own premise."""
    seed = tomllib.loads(path.read_text(encoding="utf-8"))
    opening = seed.get("opening", "").strip()
    if not opening:
        pytest.skip("no opening")
    for paragraph in opening.split("\n\n"):
        cleaned = guards.paragraph(paragraph, [seed["premise"]])
        assert cleaned.fired == [], (paragraph, cleaned)
        assert cleaned.text == paragraph.strip()


# -- notes ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("offered", [
    ["the case of", "the case of the", "the case of the"],
    ["options", "options", "options"],
    ["Follow the footprints into the marsh.", "NONE", "note"],
    ["Ask the captain about the hat.", "ask the captain about the hat", "Ask the captain about the hat again."],
    ["Follows the footprints into the marsh.", "This is a summary of the paragraph.",
     "Note': A recap of the whole story so far, this paragraph included."],
    ["What changed in the story tonight.", "Find the next action for the protagonist.", 'Go {"options": [].'],
])
def test_degenerate_options_are_refused(offered):
    assert len(guards.options(offered)) <= 1


def test_usable_options_are_cleaned_not_refused():
    offered = ['1. "Ask the captain who was awake."', "**2.** Search the stern rail for marks.", "Option 3: go below to cabin 14."]
    assert guards.options(offered) == ["Ask the captain who was awake.", "Search the stern rail for marks.",
                                       "Go below to cabin 14."]


def test_an_option_that_is_the_paragraph_or_the_last_action_is_refused():
    assert guards.options(["The lamp room is empty."], paragraph="The lamp room is empty. Rain streams down.") == []
    assert guards.options(["Read the logbook again."], action="Read the logbook again.") == []
    assert guards.options(["Open the door."], paragraph="The door is shut.") == ["Open the door."]


def test_a_memory_that_repeats_itself_keeps_its_distinct_sentences():
    cleaned = guards.distinct("Ruth searches the ferry. The hat is wet. Ruth searches the ferry. The hat is wet.")
    assert cleaned.text == "Ruth searches the ferry. The hat is wet." and cleaned.fired


# -- options made from the story ------------------------------------------------------------------
PARAGRAPH = ('Captain Hale turns the hat over. "Mr Ashby never went near the rail," says Alfie Dobbs. '
             "Rain falls on the Saint Brannoc, and Ruth watches the purser's door.")
LORE = [WorldEntry(name="The sample case", keys=["case"], text="A black leather case with brass corners."),
        WorldEntry(name="Tobias Keel, the purser", keys=["purser"], text="He holds the ship's keys.")]
SEED_OPTIONS = ["Ask the captain to seal Ashby's cabin.", "Find the steward who heard the splash.", "Go to the purser's office."]


def test_the_people_and_places_of_a_paragraph():
    found = dict(names(PARAGRAPH, "Ruth Calloway"))
    assert found == {"Captain Hale": True, "Mr Ashby": True, "Alfie Dobbs": True, "Saint Brannoc": False}


def test_options_made_from_the_story_are_three_distinct_actions_of_it():
    made = story_options([], paragraph=PARAGRAPH, lore=LORE, seed_options=SEED_OPTIONS, taken=[SEED_OPTIONS[0]],
                         protagonist="Ruth Calloway", turn=4)
    assert len(made) == 3 and len(guards.options(made, PARAGRAPH, SEED_OPTIONS[0])) == 3
    assert not set(made) & set(GENERIC_OPTIONS)
    assert any("Captain Hale" in o for o in made) and any("sample case" in o for o in made)
    assert SEED_OPTIONS[0] not in made  # taken already
    # another step, another paragraph: other options
    other = story_options([], paragraph="Lidia Marsh waits in cabin 9, says nothing, and smokes.", lore=[],
                          seed_options=SEED_OPTIONS, taken=[], protagonist="Ruth Calloway", turn=5)
    assert other != made and any("Lidia Marsh" in o for o in other)


def test_the_models_usable_options_come_first_and_generic_lines_last():
    made = story_options(["Climb to the bridge at once."], paragraph="It rains.", lore=[], seed_options=[], taken=[],
                         protagonist="Ruth", turn=0)
    assert made[0] == "Climb to the bridge at once." and made[1:] == GENERIC_OPTIONS[:2]


def test_a_new_fact_in_a_familiar_frame_is_kept():
    """Formulaic, but news: a sentence built like one before it that names three things never named."""
    before = "At the mill the talk is all of the sealed letter that went missing last winter, though nobody can say whose it was."
    fact = "At the forge the talk is all of the bone knife that went missing last winter, though nobody can say whose it was."
    assert guards.paragraph(f"{GOOD} {fact}", [before]).text == f"{GOOD} {fact}"
    again = "At the mill the talk is all of the sealed letter that went missing last spring, though nobody can say whose it was."
    assert guards.paragraph(f"{GOOD} {again}", [before]).text == GOOD  # one word changed: a copy
