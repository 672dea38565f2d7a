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
