"""What to tell a player when the model cannot be reached: one sentence and how to fix it."""
from __future__ import annotations

SETTINGS = "open Settings (F5 while playing, S on the title screen)"


def advice(error: str) -> str:
    """The error, and a way out, in plain words."""
    text = error.rstrip(".")
    low = text.lower()
    if "no model backend" in low or "no model named" in low:
        return f"{text}. Or {SETTINGS}."
    if "cannot reach" in low or "connection" in low or "slow to answer" in low:
        return f"{text}. Check that the server is running, or {SETTINGS}."
    if "api key" in low:
        return f"{text}. Set OPENAI_API_KEY before starting the game."
    if "has no model" in low:
        return f"{text}. Set the model in Settings."
    if "rate limit" in low:
        return f"{text}. Wait a moment and try again."
    return f"{text}. Try again, or {SETTINGS}."
