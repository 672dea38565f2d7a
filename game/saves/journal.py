"""The append-only journal: one JSON record a line, each line fsynced before it counts.

Appending costs the same at step 5 and step 5,000. A crash can only tear the last
line; a torn last line is ignored when reading and cut off before the next append,
so the journal always ends at its last complete record. Only a line whose checksum
fails is damage: what a text editor or a copy does to the file (CRLF, blank lines, no
final newline, a line repeated) is read through.
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
        text = raw.decode("utf-8")
        crc, body = text.split(" ", 1)
        if int(crc, 16) != zlib.crc32(body.encode()):
            return None
        record = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    seq = record.get("seq") if isinstance(record, dict) else None
    return record if isinstance(seq, int) and not isinstance(seq, bool) else None


@dataclass
class Reading:
    records: list[dict] = field(default_factory=list)  # the intact records before any damage: the story
    good_bytes: int = 0  # where the last of `records` ends (its newline included, when it has one)
    torn_tail: bool = False  # a last line cut off mid-write (a crash mid-append): it never counted
    damaged: list[int] = field(default_factory=list)  # lines that fail their checksum and are not a torn tail
    after: list[tuple[int, dict]] = field(default_factory=list)  # (line, record): intact records after damage
    open_end: bool = False  # the last record has no final newline (an editor's doing): read, not damage

    @property
    def damaged_line(self) -> int | None:
        """The first damaged line: real damage, not what a crash leaves."""
        return self.damaged[0] if self.damaged else None


def read(path: Path) -> Reading:
    """Every record a journal holds. What an editor or a copy does to a text file is not damage:
    blank lines, CRLF line ends, a last line without its newline, a line repeated exactly. A
    line whose checksum fails is damage, unless it is the last and has no newline (a crash cut
    it off mid-write); the intact records after damage are kept in `after` for repair."""
    reading = Reading()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return reading
    lines = data.split(b"\n")
    seen: dict[int, bytes] = {}  # seq -> its line, to tell an exact repeat from a second record
    offset = 0
    for number, raw in enumerate(lines, start=1):
        last = number == len(lines)  # no newline after it
        end = offset + len(raw) + (0 if last else 1)
        offset = end
        body = raw.rstrip(b"\r")
        if not body.strip():
            continue  # a blank line, or the nothing after the final newline
        record = _parse(body)
        if record is None:
            if last and not reading.damaged:
                reading.torn_tail = True  # an append is one write: only the last line can be cut off
            else:
                reading.damaged.append(number)
            continue
        if seen.get(record["seq"]) == body:
            continue  # the same line twice is the same record
        seen[record["seq"]] = body
        if reading.damaged:
            reading.after.append((number, record))
        else:
            reading.records.append(record)
            reading.good_bytes = end
            reading.open_end = last
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

    def level(self, reading: Reading) -> None:
        """Make the journal end where its last complete record ends, on a newline, so that the
        next append starts a line of its own: a torn tail is cut off, a missing newline added."""
        if reading.torn_tail:
            self.cut_to(reading.good_bytes)
        if reading.open_end:
            with open(self.path, "r+b") as handle:
                handle.seek(reading.good_bytes)
                handle.write(b"\n")
                handle.truncate()
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
