"""The verbs interactive-fiction players type without thinking (undo, again, save, restore...),
read the same way by every face: the plain face's prompt and the TUI's action box.

A line is a verb only when it is the verb alone (with its one argument, for save, restore and
transcript): "undo" undoes, "I undo the knot" is a story action. A slash form (`/undo`) is
always the verb, and a slash before a word that is no verb is a mistake said in one line.
"""
from __future__ import annotations

from dataclasses import dataclass

from game.core.errors import PlayerError

# The verb each word stands for; the English words are always accepted.
WORDS = {
    "undo": "undo",
    "again": "again", "g": "again",
    "retry": "retry",
    "save": "save",
    "restore": "restore", "load": "restore",
    "restart": "restart",
    "status": "status",
    "recap": "recap",
    "read": "read", "r": "read",
    "transcript": "transcript", "script": "transcript",
    "memory": "memory",
    "help": "help",
    "quit": "quit", "q": "quit",
}
# Verbs only in their slash form: alone, "search" and "pin" are actions of a story ("search the desk").
SLASHED = {"pin": "pin", "unpin": "unpin", "search": "search"}
# The words of a story told in another language, as its players would type them (detected from the seed).
LOCAL = {
    "german": {"rückgängig": "undo", "nochmal": "again", "speichern": "save", "laden": "restore",
               "neustart": "restart", "zusammenfassung": "recap", "lesen": "read", "protokoll": "transcript",
               "hilfe": "help", "beenden": "quit", "ende": "quit"},
    "french": {"annuler": "undo", "encore": "again", "sauver": "save", "sauvegarder": "save", "charger": "restore",
               "restaurer": "restore", "recommencer": "restart", "état": "status", "résumé": "recap",
               "relire": "read", "aide": "help", "quitter": "quit"},
    "spanish": {"deshacer": "undo", "guardar": "save", "cargar": "restore", "reiniciar": "restart",
                "estado": "status", "resumen": "recap", "releer": "read", "ayuda": "help", "fin": "quit"},
    "russian": {"отмена": "undo", "снова": "again", "сохранить": "save", "загрузить": "restore", "заново": "restart",
                "статус": "status", "сводка": "recap", "перечитать": "read", "помощь": "help", "конец": "quit"},
}
# The verbs with an argument; the rest take none. A "text" is the rest of the line, as typed.
TAKES = {"save": "name", "restore": "name", "transcript": "switch", "pin": "text", "unpin": "number", "search": "text"}
NEEDS = {"pin": "/pin takes the note to pin: /pin The storm lasts three days.",
         "unpin": "/unpin takes the number of a pinned note (memory lists them)"}

HELP = """\
The verbs (typed alone; a slash form such as /undo always means the verb):
  undo               take back the last step
  again, g           do the last action again
  retry              tell the last step again
  save [name]        save a copy of the story as another slot
  restore [name]     go to another slot (load too); alone, lists the slots
  restart            the story from its beginning, in a new slot (this one is kept)
  status             story, slot, step, words, model and memory in one line
  recap              the story so far, as the narrator remembers it
  read, r            the last paragraph again
  transcript on|off  a Markdown transcript written as you play
  memory             the pinned notes, the recap, and what the last step recalled
  /pin NOTE          pin a note: the narrator reads it every step, never forgotten
  /unpin N           take back pinned note N
  /search [WORDS]    long-term memory, best match first (alone: the latest entries)
  help               this list
  quit, q            leave (every step is saved as it is told)
1, 2 or 3 picks an option (another digit alone is refused); Enter alone continues; anything
else is your action.
To mean a verb's word in the story, write it in a sentence: "I undo the knot"."""


class NoVerb(PlayerError):
    """A slash before a word that is no verb, or a verb given what it does not take."""


@dataclass(frozen=True)
class Verb:
    name: str  # the verb's English name (a key of TAKES or a value of WORDS)
    arg: str = ""


def language_of(story) -> str | None:
    """The language the story is told in, as long-term memory tells it, for its own verbs."""
    from game.memory.stems import detect

    seed = story.seed
    return detect(f"{seed.premise} {seed.opening}")


def help_for(language: str | None) -> str:
    local = LOCAL.get(language or "")
    if not local:
        return HELP
    return HELP + f"\nIn this {language.capitalize()} story these work too: " + ", ".join(local) + "."


def verb_of(line: str, language: str | None = None) -> Verb | None:
    """The verb `line` stands for, or None when it is a story action: English words always, and
    the words of the story's `language`. Raises NoVerb for a slash form that names no verb or
    takes no such argument."""
    text = line.strip()
    slash = text.startswith("/")
    words = text.lstrip("/").rstrip(".!").split()
    if slash and words and words[0].lower() in SLASHED:
        return _slashed(SLASHED[words[0].lower()], text.lstrip("/")[len(words[0]):].strip())
    if not words or (not slash and len(words) > 2):
        if slash:
            raise NoVerb(f"{text or '/'} is no verb: type help for the verbs")
        return None
    name = WORDS.get(words[0].lower()) or LOCAL.get(language or "", {}).get(words[0].lower())
    if name is None:
        if slash:
            raise NoVerb(f"/{words[0]} is no verb: type help for the verbs")
        return None
    arg = " ".join(words[1:])
    takes = TAKES.get(name)
    if arg and takes is None or len(words) > 2:
        if slash:
            raise NoVerb(f"/{words[0]} takes nothing after it" if takes is None else f"/{words[0]} takes one word after it")
        return None  # "undo the knot": words of the story
    if takes == "switch":
        arg = arg.lower()
        if arg not in ("", "on", "off"):
            if slash:
                raise NoVerb(f"/{words[0]} takes on or off")
            return None  # "script rewrite" is not a switch
    return Verb(name, arg)


def _slashed(name: str, arg: str) -> Verb:
    """A verb of the slash form only, with the rest of its line as typed."""
    if TAKES[name] == "number" and not (arg.isdigit() and int(arg) > 0):
        raise NoVerb(NEEDS[name])
    if name == "pin" and not arg:
        raise NoVerb(NEEDS[name])
    return Verb(name, arg)


def memory_lines(story) -> list[str]:
    """The `memory` verb: the pinned notes, numbered; the recap; what the last step recalled."""
    lines = ["Pinned notes (the narrator reads them every step; /pin NOTE adds one, /unpin N takes it back):"]
    lines += [f"  {n}. {note}" for n, note in enumerate(story.pinned, 1)] or ["  (none)"]
    lines += ["The recap (the narrator reads it, then the latest steps word for word):", "  " + recap_of(story)]
    if story.taken:
        step = story.steps[-1]
        lines.append(f"Step {step.number} recalled from long-term memory:")
        lines += [f"  step {item.step} ({item.why}): {item.text}" for item in step.version.recalled] or ["  (nothing)"]
    return lines


def status_line(game) -> str:
    """Story, slot, step, words, model and memory, in one line (the `status` verb)."""
    story = game.story
    memory = game.slot.memory
    remembered = f"{len(story.entries())} memories" if memory is not None else "memory not open"
    recap = "a recap" if story.memory else "no recap yet"
    # Commas, not dots or bars: read aloud and over a serial line alike.
    return (f"{story.seed.title}, slot {game.name}, step {story.taken}, {story.words():,} words, "
            f"model {game.model.name}, {remembered}, {recap}")


def recap_of(story) -> str:
    return story.memory or ("no recap yet: the narrator still reads the whole story word for word, "
                            "and writes one when the first chapter closes")


def last_action(story) -> str | None:
    """The action `again` repeats: the last step's, or None before the first action."""
    return story.steps[-1].action if story.taken else None
