"""The disk under the saves: files written whole (a temporary file synced, then renamed), folders
synced, and what a disk that is read-only or full looks like, so that neither is taken for damage.
`stop_here` is where a test may stop a process mid-write to kill it at that instant."""
from __future__ import annotations

import errno
import os
import signal
from pathlib import Path


def read_only_disk(path: Path) -> bool:
    """Whether `path` is on a file system mounted read-only: nothing can write a slot there, so
    reading one needs no lock (taking the lock is itself a write, and fails)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def disk_full(path: Path, error: BaseException) -> bool:
    """Whether `error` is a full disk's (SQLite's "database or disk is full", ENOSPC), or the disk
    of `path` has no room left: an index that cannot be opened for lack of room is not damaged."""
    text = str(error).lower()
    if getattr(error, "errno", None) == errno.ENOSPC or "disk is full" in text or "no space left" in text:
        return True
    try:
        return os.statvfs(path).f_bavail == 0
    except OSError:
        return False


def write_atomic(path: Path, text: str, sync: bool = True) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def sync_folder(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the journal itself is synced


def stop_here(point: str) -> None:
    """A test's way to kill a slot being made at `point`: with RECURRENT_TEST_STOP=`point` in its
    environment the process stops itself there (SIGSTOP), and the test kills it at that instant."""
    if os.environ.get("RECURRENT_TEST_STOP") == point:
        os.kill(os.getpid(), signal.SIGSTOP)
