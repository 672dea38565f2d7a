"""Prompt and sampling experiments for bench/quality.py, switched on in the bench's process only.

Each variant replaces one part of the engine's prompt (or the local model's sampling) for a
run, so that what the bundled model does with it can be counted the same way:

- `headers`: the prompt's labels as markdown headers ("## The story so far"), as the engine
  had them before the chat layout;
- `continuation`: the chat layout kept, but the turns read as a story: a short system message
  in prose, the reader's turn the action alone as a line ("> Ask the captain…"), what is
  remembered and the lore in play as plain sentences before it, no labels at all;
- `one-text`: outside the chat layout: the story so far as one text (recap, paragraphs, the
  actions as "> " lines) in a single user message, ending with the new action;
- `no-example`: the notes request without its example option;
- `fp`: frequency_penalty 0.5 on prose, besides repeat_penalty 1.1;
- `rp13`: repeat_penalty 1.3 on prose.
"""
from __future__ import annotations

from game.core.text import clip_tokens, clip_words


def _headers() -> None:
    from game.engine import narrator, prompts

    plain_system, plain_turn, plain_messages = prompts.system_prompt, prompts.reader_turn, prompts.narration_messages

    def system_prompt(story, budget):
        text = plain_system(story, budget)
        rules, _, seed = text.partition("\n\nTitle:")
        return f"## Rules\n{rules}\n\n## The story\nTitle:{seed}".replace("\nNever forget:", "\n## Never forget").replace(
            "\nWorld:", "\n## World")

    def reader_turn(action, recalled, lore, budget):
        text = plain_turn(action, recalled, lore, budget)
        for label in ("Remembered from earlier in the story:", "Lore in play:"):
            text = text.replace(label, f"## {label.rstrip(':')}")
        return text.replace("The reader's action: ", "## The reader's action\n")

    def narration_messages(*args, **kwargs):
        messages = plain_messages(*args, **kwargs)
        for message in messages:
            if message["role"] == "user" and message["content"].startswith("The story so far: "):
                message["content"] = "## The story so far\n" + message["content"][len("The story so far: "):]
        return messages

    prompts.system_prompt, prompts.reader_turn = system_prompt, reader_turn
    narrator.narration_messages = narration_messages


def _story_system(story, budget) -> str:
    seed, prefs = story.seed, story.prefs
    from game.core.world import always_on
    from game.engine.prompts import RATING_RULE, _voice

    about = f"This is {seed.title}, a {seed.genre} story. {seed.premise.strip()} The protagonist is {seed.protagonist.name}"
    about += f", {seed.protagonist.description}." if seed.protagonist.description else "."
    lines = [
        "You write an interactive story with a reader, one paragraph at a time. When the reader writes a line "
        "starting with >, it is what the protagonist does next: write the paragraph that follows from it, "
        f"about {prefs.paragraph_words} words of plain prose, and stop.",
        _voice(prefs) + " " + RATING_RULE[prefs.rating],
        "",
        about + (f" {seed.style.strip()}" if seed.style else ""),
    ]
    facts = list(story.pinned) + [f"{entry.name}: {entry.text}" for entry in always_on(seed.world)]
    if facts:
        lines += ["", " ".join(" ".join(fact.split()) for fact in facts)]
    return clip_tokens("\n".join(lines), budget.prefix)


def _story_turn(action, recalled, lore, budget) -> str:
    parts = [" ".join(clip_tokens(p.text, 110) for p in recalled)] if recalled else []
    parts += [" ".join(f"{entry.name}: {entry.text}" for entry in lore)] if lore else []
    parts = [clip_tokens(" ".join(part.split()), budget.recalled) for part in parts if part]
    return "\n\n".join([*parts, f"> {clip_words(action, max(8, budget.action * 3 // 4))}"])


def _continuation() -> None:
    from game.engine import narrator, prompts

    plain_messages = prompts.narration_messages
    prompts.system_prompt, prompts.reader_turn = _story_system, _story_turn

    def narration_messages(*args, **kwargs):
        messages = plain_messages(*args, **kwargs)
        for message in messages:
            if message["role"] == "user" and message["content"].startswith("The story so far: "):
                message["content"] = message["content"][len("The story so far: "):]
        return messages

    narrator.narration_messages = narration_messages


def _one_text() -> None:
    from game.engine import narrator, prompts

    prompts.system_prompt, prompts.reader_turn = _story_system, _story_turn
    plain_messages = prompts.narration_messages

    def narration_messages(*args, **kwargs):
        messages = plain_messages(*args, **kwargs)
        story = []
        for message in messages[1:]:
            text = message["content"]
            if text.startswith("The story so far: "):
                text = text[len("The story so far: "):]
            story.append(text)
        return [messages[0], {"role": "user", "content": "\n\n".join(story)}]

    narrator.narration_messages = narration_messages


def _no_example() -> None:
    from game.engine import prompts

    plain = prompts.notes_request

    def notes_request(memory_words, chapter):
        return plain(memory_words, chapter).replace(' (for example "Follow the footprints into the marsh.")', "")

    prompts.notes_request = notes_request


def _sampling(extra: dict) -> None:
    from game.llm import local
    from game.llm.openai_backend import OpenAIBackend

    plain_init = OpenAIBackend.__init__

    def __init__(self, *args, prose_body=None, **kwargs):
        if prose_body and "repeat_penalty" in prose_body:
            prose_body = {**prose_body, **extra}
        plain_init(self, *args, prose_body=prose_body, **kwargs)

    OpenAIBackend.__init__ = __init__
    if "repeat_penalty" in extra:
        local.REPEAT_PENALTY = extra["repeat_penalty"]


VARIANTS = {
    "headers": _headers,
    "continuation": _continuation,
    "one-text": _one_text,
    "no-example": _no_example,
    "fp": lambda: _sampling({"frequency_penalty": 0.5}),
    "rp13": lambda: _sampling({"repeat_penalty": 1.3}),
}


def apply(names: str) -> None:
    """Switch on one variant, or several joined by '+'."""
    for name in names.split("+"):
        if name not in VARIANTS:
            raise SystemExit(f"no variant {name!r}; there are {', '.join(VARIANTS)}")
        VARIANTS[name]()
