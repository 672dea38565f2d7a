"""Processes, read from Linux /proc: the local model's child, its CPU time, whether it still runs."""
from __future__ import annotations

from pathlib import Path


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


def descendants(pid: int) -> list[int]:
    """Every process under `pid` (its children, theirs, ...), not `pid` itself."""
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.append(child)
                todo.append(child)
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
