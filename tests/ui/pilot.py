"""Driving the app in tests: wait for a condition, read the toasts, tell when a turn is over."""
from __future__ import annotations

import time


async def until(pilot, condition, timeout: float = 40.0) -> None:
    """Let the app run until `condition()` holds (workers and threads included). The bound is
    generous: a loaded 2-core machine (a CI run beside other work) can take many seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        await pilot.pause(0.02)
        if condition():
            return
    raise AssertionError(f"timed out waiting for {condition}")


def notices(app) -> list[str]:
    """The toasts the app has shown (and not yet timed out)."""
    return [notification.message for notification in app._notifications]


def idle(app) -> bool:
    screen = app.screen
    return getattr(screen, "slot", None) is not None and screen.slot.story.steps and not screen.busy


def listed(app) -> bool:
    """The title screen has read the saved stories (it reads them in a thread)."""
    return bool(getattr(app.screen, "listed", False))


async def type_text(pilot, text: str, *then: str) -> None:
    """Type `text` into the focused field as the keyboard would, key by key, then press the keys
    `then` ("enter"). `pilot.press` waits for the app to go idle twice after every key (40 ms at
    the least, more on a busy machine): most of a UI test's time went on typing sentences. The
    same key events are sent here in one burst, in order, and the test waits once, until the
    field holds them all."""
    from textual import events
    from textual.keys import _character_to_key

    from textual.widgets import Input, TextArea

    app = pilot.app
    await until(pilot, lambda: isinstance(app.focused, (Input, TextArea)), timeout=15)  # a key may have moved it there
    field = app.focused

    def held() -> str:
        return field.value if isinstance(field, Input) else field.text

    wanted = len(held()) + len(text)
    for char in text:
        key = events.Key(char if char.isalnum() else _character_to_key(char), char)
        key.set_sender(app)
        app._driver.send_message(key)
    await until(pilot, lambda: len(held()) >= wanted, timeout=15)
    if then:
        await pilot.press(*then)


async def export_dialog(pilot):
    """Ctrl+O from the story: the export dialog, once it is the screen."""
    await pilot.press("ctrl+o")
    await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "ExportScreen")
    return pilot.app.screen
