"""Helpers for tests that drive the engine in-process against the stand-in server."""
from __future__ import annotations

from pathlib import Path

from game.engine.narrator import EngineSettings, Narrator
from game.llm.base import RetryPolicy
from game.llm.openai_backend import OpenAIBackend
from game.saves.slot import Slot
from game.stories.loader import load_seed


def backend_for(server, **policy) -> OpenAIBackend:
    settings = {"base": 0.01, "timeout": 2.0, **policy}
    return OpenAIBackend(base_url=server.url, api_key="sk-test", model="standin", policy=RetryPolicy(**settings))


async def new_game(server, saves: Path, seed_path: Path, name: str = "test", **policy) -> Narrator:
    slot = Slot.create(saves, name, load_seed(seed_path))
    narrator = Narrator(slot, backend_for(server, **policy), EngineSettings())
    await narrator.begin()
    return narrator


async def end_game(narrator: Narrator) -> None:
    narrator.slot.close()
    await narrator.backend.close()


# -- processes (Linux /proc), for the local model's child ------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()  # the fields after "pid (comm)", from the state on


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def model_children(pid: int) -> list[int]:
    """The local model's child processes of process `pid`."""
    out = []
    for child in children(pid):
        try:
            if b"game.llm.llama_child" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:
            pass
    return out


def cpu_ticks(pid: int) -> int:
    """CPU time the process has used, user and system, in clock ticks."""
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else -1


def wait_for(condition, timeout: float = 30.0, every: float = 0.02) -> bool:
    """Poll `condition()` until it holds or `timeout` passes; True if it held."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())
