"""Reading a file a player named: only a regular file, and only up to a size.

A story seed, a card or an actions file can be anything a path can name: a named pipe
(reading it waits for a writer that never comes), a link to /dev/zero (reading it never
ends), a folder. `read_capped` opens without blocking, asks the open file what it is,
and reads at most one byte past the limit, so none of those can hold the game.
"""
from __future__ import annotations

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
