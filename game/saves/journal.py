"""The append-only journal: one JSON record a line, each line fsynced before it counts.

Appending costs the same at step 5 and step 5,000. A crash can only tear the last
line; a torn last line is ignored when reading and cut off before the next append,
so the journal always ends at its last complete record.
"""
from __future__ import annotations

import errno
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path


def encode(record: dict) -> bytes:
    body = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    # The checksum tells a torn or scribbled line from a good one.
    return f"{zlib.crc32(body.encode()):08x} {body}\n".encode()


def _parse(raw: bytes) -> dict | None:
    try:
        text = raw.decode("utf-8").rstrip("\n")
        crc, body = text.split(" ", 1)
        if int(crc, 16) != zlib.crc32(body.encode()):
            return None
        record = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("seq"), int) else None


@dataclass
class Reading:
    records: list[dict] = field(default_factory=list)
    good_bytes: int = 0  # where the last complete record ends
    torn_tail: bool = False  # a last line without its newline (a crash mid-append)
    damaged_line: int | None = None  # a bad line that is not a torn tail: real damage, not a crash


def read(path: Path) -> Reading:
    reading = Reading()
    if not path.exists():
        return reading
    data = path.read_bytes()
    offset = 0
    number = 0
    lines = data.split(b"\n")
    for index, raw in enumerate(lines):
        is_last = index == len(lines) - 1
        if is_last and raw == b"":
            break
        number += 1
        record = _parse(raw)
        complete = not is_last  # a line without its newline was cut off mid-write
        if record is None or not complete:
            rest = b"\n".join(lines[index + 1:]).strip()
            if rest or complete:
                # A bad line before the end, or a last line that was written whole (it has its
                # newline) but does not check out: damage. An append is one write, so a crash
                # can only leave a last line without its newline.
                reading.damaged_line = number
            else:
                reading.torn_tail = True
            break
        reading.records.append(record)
        offset += len(raw) + 1
        reading.good_bytes = offset
    return reading


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Reading:
        return read(self.path)

    def cut_to(self, size: int) -> None:
        """Drop a torn tail so the next record starts on a fresh line."""
        with open(self.path, "r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())

    def append(self, record: dict) -> None:
        """Append one record and fsync it; on any failure the file is cut back to where it was."""
        data = encode(record)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size
            written = 0
            try:
                while written < len(data):  # a full disk may take part of a line, then refuse the rest
                    count = os.write(fd, data[written:])
                    if count <= 0:
                        raise OSError(errno.EIO, f"no progress writing {self.path}")
                    written += count
                os.fsync(fd)
            except OSError:
                # Leave no partial line behind: cut back to where this append started.
                try:
                    os.ftruncate(fd, start)
                    os.fsync(fd)
                except OSError:
                    pass  # a torn tail is still recognised and dropped on the next open
                raise
        finally:
            os.close(fd)
