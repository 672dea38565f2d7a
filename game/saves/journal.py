"""The append-only journal: one JSON record a line, each line fsynced before it counts.

Appending costs the same at step 5 and step 5,000. A crash can only tear the last
line; a torn last line is ignored when reading and cut off before the next append,
so the journal always ends at its last complete record. Only a line whose checksum
fails is damage: what a text editor or a copy does to the file (CRLF, blank lines, no
final newline, a line repeated, a byte-order mark) is read through, and a line with one
byte changed is put back where its checksum says exactly which byte it was.
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


BOM = b"\xef\xbb\xbf"  # what some editors put at the start of a UTF-8 file they save


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()
_BY_TOP = {value >> 24: index for index, value in enumerate(_TABLE)}  # CRC-32's table is unique in its top byte
_BY_VALUE = {value: index for index, value in enumerate(_TABLE) if index}
MENDABLE = 1_000_000  # longer lines are not searched (a story's first record is a few KB)


def _mend(raw: bytes) -> dict | None:
    """The record a damaged line held, if one changed byte explains its checksum exactly (a bit
    flipped on disk, a character typed over): CRC-32 is linear, so the difference between the
    checksum written and the one read says, for each position, which change would explain it;
    the line is mended only when that change makes a valid record. None otherwise."""
    crc_text, _, body = raw.partition(b" ")
    record = _parse(b"%08x " % zlib.crc32(body) + body) if len(crc_text) == 8 else None
    if record is not None:  # the body is whole; the damage is in the checksum's own digits
        try:
            written = crc_text.decode("ascii")
        except UnicodeDecodeError:
            written = ""
        real = f"{zlib.crc32(body):08x}"
        if sum(a != b for a, b in zip(written, real)) <= 1:
            return record
    try:
        want = int(crc_text, 16)
    except ValueError:
        return None
    if len(body) > MENDABLE:
        return None
    # The register difference a change `e` at the k-th byte from the end makes is shift^k(T[e]);
    # walk the difference back one byte at a time and look for a T[e] at each position.
    difference = want ^ zlib.crc32(body)
    for back in range(len(body)):
        change = _BY_VALUE.get(difference)
        if change is not None:
            at = len(body) - 1 - back
            mended = body[:at] + bytes([body[at] ^ change]) + body[at + 1:]
            record = _parse(crc_text + b" " + mended)
            if record is not None:
                return record
        index = _BY_TOP[difference >> 24]
        difference = (((difference ^ _TABLE[index]) << 8) | index) & 0xFFFFFFFF
    return None


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
    mended: list[int] = field(default_factory=list)  # lines with one changed byte, put back (repair rewrites them)
    out_of_order: int | None = None  # the first line whose record does not follow the one before (a line lost or moved)

    @property
    def damaged_line(self) -> int | None:
        """The first damaged line: real damage, not what a crash leaves."""
        lines = [*self.damaged[:1], *([self.out_of_order] if self.out_of_order is not None else [])]
        return min(lines) if lines else None


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
    offset = len(BOM) if data.startswith(BOM) else 0
    lines = data[offset:].split(b"\n")
    seen: dict[int, bytes] = {}  # seq -> its line, to tell an exact repeat from a second record
    numbers: list[tuple[int, int]] = []  # (line, where it ends) of each of reading.records
    for number, raw in enumerate(lines, start=1):
        last = number == len(lines)  # no newline after it
        end = offset + len(raw) + (0 if last else 1)
        offset = end
        body = raw.rstrip(b"\r")
        while body.startswith(BOM):  # an editor's mark, twice over, or on a line pasted from another file
            body = body[len(BOM):]
        if not body.strip():
            continue  # a blank line, or the nothing after the final newline
        record = _parse(body)
        if record is None and not (last and not reading.damaged):  # a torn last line is a crash's, never mended
            record = _mend(body)
            if record is not None:
                reading.mended.append(number)
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
            numbers.append((number, end))
            reading.good_bytes = end
            reading.open_end = last
    _in_order(reading, numbers)
    return reading


def _in_order(reading: Reading, numbers: list[tuple[int, int]]) -> None:
    """Records follow one another 0, 1, 2...: where one does not (a line deleted, two lines
    swapped by hand), the story ends before it and the rest waits in `after`, for repair."""
    for index in range(1, len(reading.records)):
        if reading.records[index]["seq"] != reading.records[index - 1]["seq"] + 1:
            reading.after[:0] = [(line, record) for (line, _end), record in zip(numbers[index:], reading.records[index:])]
            reading.records = reading.records[:index]
            reading.out_of_order = numbers[index][0]
            reading.good_bytes = numbers[index - 1][1]
            reading.open_end = False
            break


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
