"""The IF verbs typed into the play screen's action box (undo, again, save, restore...), read by
the same `verb_of` as the plain face, and done with the screen's own keys' actions where there are
some. A sentence ("I undo the knot") stays a story action."""
from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from game.core.errors import PlayerError, one_line
from game.session import CONTINUE
from game.session.verbs import NoVerb, language_of, last_action, recap_of, status_line, verb_of


def typed_verb(screen, text: str) -> bool:
    """True if `text` was a verb (done, or said to be a mistake): it is no story action then."""
    game = screen.game
    try:
        verb = verb_of(text, language_of(game.story) if game is not None else None)
    except NoVerb as error:
        screen.notify(one_line(error), severity="warning")
        return True
    if verb is None:
        return False
    if screen.busy and verb.name not in ("help", "status", "recap", "read", "quit"):
        screen.notify("still narrating… Esc stops", severity="warning")
        return True
    if game is None and verb.name not in ("help", "quit"):
        return True  # the story is still opening
    screen.query_one("#action", Input).value = ""
    name, arg = verb.name, verb.arg
    if name in ("undo", "help", "quit"):
        screen.call_later(screen.run_action, "app.help" if name == "help" else ("app.quit" if name == "quit" else name))
    elif name == "retry":
        screen.action_retry()
    elif name == "again":
        action = last_action(game.story)
        if action is None:
            screen.notify("there is no action to do again yet", severity="warning")
        elif screen.ready():
            screen.start("step", action, "" if action == CONTINUE else action)
    elif name == "save":
        screen.copy_worker(arg) if arg else screen.action_save_as()
    elif name == "restore":
        names = screen.app.shelf.names()
        if arg in names and arg != game.name:
            screen.app.open_game(arg)
        else:
            screen.notify(f"restore NAME opens a slot: {', '.join(names)}", timeout=10)
    elif name == "restart":
        screen.app.open_game(None, game.story.seed)
    elif name == "status":
        screen.notify(status_line(game), timeout=10)
    elif name == "recap":
        screen.notify(recap_of(game.story), title="The story so far", timeout=30)
    elif name == "read":
        steps = game.story.steps
        screen.notify(steps[-1].version.paragraph if steps else "nothing is told yet", timeout=30)
    elif name == "transcript":
        transcript(screen, arg)
    elif name in ("memory", "search"):
        screen.action_memory(arg if name == "search" else None)
    elif name in ("pin", "unpin"):
        screen.run_worker(pin(screen, name, arg), group="saves", exclusive=False)
    return True


async def pin(screen, verb: str, arg: str) -> None:
    """`/pin NOTE` and `/unpin N`, as the memory panel's pinned notes edit them."""
    try:
        if verb == "pin":
            said = f"pinned as note {await screen.game.pin_note(arg)}"
        else:
            said = f"unpinned: {await screen.game.unpin_note(int(arg))}"
    except PlayerError as error:
        screen.notify(one_line(error), severity="warning")
        return
    screen.notify(said)


def transcript(screen, switch: str) -> None:
    """`transcript on|off`: the story written as Markdown after every step, as in the plain face."""
    if switch == "off":
        screen.transcript = None
        screen.notify("transcript off")
        return
    screen.transcript = Path.cwd() / f"{screen.game.name}-transcript.md"
    write_transcript(screen)
    screen.notify(f"transcript on: {screen.transcript} is written as you play", timeout=8)


def write_transcript(screen) -> None:
    """Called after each step while the transcript is on (a worker: an export is a file write)."""
    path = getattr(screen, "transcript", None)
    if path is None or screen.game is None:
        return

    async def write() -> None:
        try:
            await screen.game.export("md", str(path))
        except PlayerError as error:
            screen.transcript = None
            screen.notify(f"the transcript could not be written ({one_line(error)}); transcript off", severity="error")

    screen.run_worker(write(), group="saves", exclusive=False)
