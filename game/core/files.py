"""Reading a file a player named: only a regular file, and only up to a size.

A story seed, a card or an actions file can be anything a path can name: a named pipe
(reading it waits for a writer that never comes), a link to /dev/zero (reading it never
ends), a folder. `read_capped` opens without blocking, asks the open file what it is,
and reads at most one byte past the limit, so none of those can hold the game.
"""
from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


class Unreadable(Exception):
    """Why a file was not read, in a few words that follow its name ("is a folder")."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def size_text(size: int) -> str:
    return f"{size // 1024:,} KiB" if size >= 1024 else f"{size} bytes"


def read_capped(path: Path | str, limit: int, what: str = "a file") -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them. Unreadable (with a few
    words saying why) for anything else; FileNotFoundError and other OSErrors as they come."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = _kind(info.st_mode)
            raise Unreadable(f"is {kind}, not {what}" if kind.startswith("a ") else f"is {kind}")
        if info.st_size > limit:  # refused before reading a byte
            raise Unreadable(f"file is {size_text(info.st_size)}; the limit is {size_text(limit)}")
        chunks, size = [], 0
        while size <= limit:  # a file that grows while we read is cut off just past the limit
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise Unreadable(f"file is larger than {size_text(limit)}")
    return data


class CannotWrite(OSError):
    """A file the game was asked to write could not be: `reason` says why in a few words (the
    system's own, "Read-only file system"). Callers name the file and what is still safe."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: cannot write ({reason})")
        self.path, self.reason = path, reason


def write_whole(path: Path | str, data: bytes | str, sync: bool = False, make_folder: bool = False) -> None:
    """Write `path` whole or not at all: the data goes to a file beside it, renamed over it. Any
    failure (a read-only or full disk, a folder in the way, no permission) is one CannotWrite, and
    cleaning up after it never raises (on a read-only disk, removing the temporary file fails too).
    `make_folder`: the folder is made if missing (a settings or stories folder; never for an export,
    where a missing folder is a mistyped path)."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if make_folder:
            path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as handle:
            handle.write(raw)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise CannotWrite(path, error.strerror or str(error) or type(error).__name__) from None
