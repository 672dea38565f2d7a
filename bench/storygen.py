"""A synthetic long story with planted facts, for recall benchmarks.

Each planted fact is one sentence in the middle of a long paragraph, told once,
early. Filler paragraphs reuse the same people, places and objects in other
sentences, so a fact cannot be found just by spotting a rare noun. Much later
the reader asks about the fact in their own words.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

PEOPLE = ["Maren", "Tobias", "Ilse", "Corwin", "Hedda", "Piet", "Solveig", "Anselm", "Rosa", "Bram",
          "Wendel", "Agathe", "Lukas", "Nell", "Oskar", "Freya", "Jory", "Magda", "Ulrich", "Tilde"]
PLACES = ["chapel", "harbour", "market", "mill", "watchtower", "inn", "bridge", "orchard", "well", "forge",
          "granary", "ferry landing", "bathhouse", "library", "smithy", "tannery", "lighthouse", "cellar", "boathouse", "shrine"]
OBJECTS = ["ferry ticket", "iron key", "sealed letter", "silver ring", "river map", "tin lantern", "gold coin",
           "bone knife", "prayer book", "brass compass", "signet", "ledger", "whistle", "locket", "spyglass",
           "pocket watch", "glass vial", "deed", "medal", "seal stamp"]
CONTAINERS = ["hymnal", "riding boot", "flour jar", "wine cask", "sea chest", "hatbox", "loaf of bread", "clock case",
              "rowing boat", "bird cage", "sewing basket", "stove", "chimney", "mattress", "barrel of salt",
              "beehive", "coat lining", "violin case", "teapot", "drawer"]
COLOURS = ["blue", "red", "green", "black", "white", "yellow", "grey", "copper", "violet", "brown"]
WEATHER = ["Rain needles the shutters", "A low fog rolls up from the river", "The wind turns cold and smells of tar",
           "Gulls quarrel over the rooftops", "The evening bell counts the hour", "Smoke hangs over the lanes"]
FILLER = [
    "{p} hurries past the {place} with a basket, nodding without a word.",
    "At the {place} the talk is all of the {obj} that went missing last winter, though nobody can say whose it was.",
    "You pass the {place}, where a dog sleeps in the doorway and a cart waits with a broken wheel.",
    "{p} argues with {q} about the price of lamp oil and the state of the roads.",
    "Someone has chalked a crooked star on the wall of the {place}.",
    "{p} asks whether you have seen a {colour} {cont} for sale anywhere in town.",
    "The {obj} in the window of the {place} is only a painted copy, and everybody knows it.",
    "You think of home for a moment, and of the long road that brought you here.",
    "{q} laughs at something {p} says and the sound carries across the square.",
    "A child runs by with a {cont} much too big for her, shouting for her brother.",
]


@dataclass
class Fact:
    step: int  # where it is told
    ask_step: int  # where the reader asks about it
    sentence: str
    question: str


def _sentence(rng: random.Random, template: str) -> str:
    p, q = rng.sample(PEOPLE, 2)
    return template.format(p=p, q=q, place=rng.choice(PLACES), obj=rng.choice(OBJECTS),
                           cont=rng.choice(CONTAINERS), colour=rng.choice(COLOURS))


def paragraph(rng: random.Random, middle: str | None = None, sentences: int = 9) -> str:
    parts = [f"{rng.choice(WEATHER)}."] + [_sentence(rng, rng.choice(FILLER)) for _ in range(sentences - 1)]
    if middle:
        parts.insert(len(parts) // 2, middle)
    return " ".join(parts)


def make_story(steps: int = 160, facts: int = 20, gap: int = 50, seed: int = 11, language: str = "en"):
    """(actions, paragraphs, facts): paragraphs[n] answers actions[n]; step 0 is the opening.
    `language` "de" or "ru" tells the same kind of story in German or Russian (bench/languages.py)."""
    if language != "en":
        return _make_in(language, steps, facts, gap, seed)
    rng = random.Random(seed)
    people = rng.sample(PEOPLE, facts)
    objects = rng.sample(OBJECTS, facts)
    containers = rng.sample(CONTAINERS, facts)
    planted: list[Fact] = []
    for i in range(facts):
        step = 2 + i * 2
        place = rng.choice(PLACES)
        colour = rng.choice(COLOURS)
        short = objects[i].split()[-1]  # "letter" for "sealed letter": readers rarely repeat every word
        telling = rng.choice([
            "{p} leans close and tells you that the {o} is hidden in the {c} {k} behind the {pl}.",
            "Before leaving, {p} whispers that {p2} put the {o} inside the {c} {k} near the {pl}.",
            "{p} swears on her mother's grave that the {o} lies at the bottom of a {c} {k} by the {pl}.",
        ])
        sentence = telling.format(p=people[i], p2=rng.choice(PEOPLE), o=objects[i], c=colour, k=containers[i], pl=place)
        question = rng.choice([
            f"Ask around: where did {people[i]} say the {short} was hidden?",
            f"Go and fetch the {short} from where {people[i]} said it was.",
            f"Try to remember what {people[i]} told me about the {objects[i]}.",
            f"Look for the {colour} {containers[i]} that was mentioned to me.",
            f"What became of the {short} that {people[i]} mentioned?",
        ])
        planted.append(Fact(step, step + gap + rng.randint(0, 40), sentence, question))
    return _assemble(planted, steps, lambda middle: paragraph(rng, middle),
                     lambda: _sentence(rng, "Walk to the {place} and look around."))


def _assemble(planted: list[Fact], steps: int, paragraph_with, walk):
    by_told = {f.step: f for f in planted}
    by_asked = {}
    for fact in planted:  # two questions may not share a step: move the later one on
        while fact.ask_step in by_asked:
            fact.ask_step += 1
        by_asked[fact.ask_step] = fact
    actions, paragraphs = [""], [paragraph_with(None)]
    for n in range(1, steps + 1):
        fact = by_told.get(n)
        asked = by_asked.get(n)
        actions.append(asked.question if asked else walk())
        paragraphs.append(paragraph_with(fact.sentence if fact else None))
    return actions, paragraphs, planted


def _make_in(language: str, steps: int, facts: int, gap: int, seed: int):
    from languages import PACKS

    pack = PACKS[language]
    rng = random.Random(seed)
    people = rng.sample(pack.people, facts)
    objects = rng.sample(pack.objects, facts)
    containers = rng.sample(pack.containers, facts)
    planted: list[Fact] = []
    for i in range(facts):
        step = 2 + i * 2
        place, colour, other = rng.choice(pack.places), rng.choice(pack.colours), rng.choice(pack.people)
        person = people[i] if language == "ru" else people[i][0]
        told = pack.fact(rng, person, other if language == "ru" else other[0], objects[i], containers[i], colour, place)
        question = pack.question(rng, person, objects[i], containers[i], colour)
        planted.append(Fact(step, step + gap + rng.randint(0, 40), told, question))

    def paragraph_with(middle: str | None, sentences: int = 9) -> str:
        parts = [f"{rng.choice(pack.weather)}."] + [pack.filler(rng, pack) for _ in range(sentences - 1)]
        if middle:
            parts.insert(len(parts) // 2, middle)
        return " ".join(parts)

    return _assemble(planted, steps, paragraph_with, lambda: pack.walk(rng, pack))
