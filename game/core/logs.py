"""The debug log: $XDG_STATE_HOME/recurrent/recurrent.log, rotated.

Every part of the game logs under the "recurrent" logger ("recurrent.llm" for model calls,
"recurrent.guards" for paragraph guards, ...); only the command line calls `configure`, once
a process. At the default level the log holds each model request's messages, its timings and
the server's errors; `--debug` adds the answers and everything else logged at DEBUG.

It never holds an API key: the game logs messages and answers, never a request's headers,
and Settings has no key field to log. And since a server may echo a key back in an error body
(the Authorization header quoted whole), one filter on the log's handler redacts every record
that reaches it, from any of the game's loggers, tracebacks included.
"""
from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

from game.core.paths import log_file
from game.core.redact import redact

ROOT = "recurrent"
MAX_BYTES = 2_000_000  # a long evening's requests; then recurrent.log.1 ... .3
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _LogFile(RotatingFileHandler):
    """Made, folder and all, only when something is logged (a mistyped command leaves nothing);
    a log that cannot be written is dropped quietly: it must never stop or clutter the game."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def handleError(self, record) -> None:
        pass


class Redacting(logging.Filter):
    """Every record, its arguments and its traceback, with secrets and credential shapes
    replaced (game/core/redact.py), before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep it readable
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), ()
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def logger(part: str = "") -> logging.Logger:
    return logging.getLogger(f"{ROOT}.{part}" if part else ROOT)


def configure(debug: bool = False, path: Path | None = None) -> Path:
    """Log to `path` (the state folder's recurrent.log) from now on; returns the path."""
    root = logger()
    path = Path(path) if path is not None else log_file()
    for handler in list(root.handlers):
        if isinstance(handler, RotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False  # never to the terminal, where Textual or the progress bar draw
    handler = _LogFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(Redacting())
    root.addHandler(handler)
    return path
