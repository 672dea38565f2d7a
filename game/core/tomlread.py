"""TOML read whatever a file holds: tomllib lets Python's own ValueError through for an integer
of more than 4,300 digits ("Exceeds the limit ... for integer string conversion"), which is a
traceback wherever a seed or a settings file is read. Here it is a TOMLDecodeError like any other
problem of the file, with its line and column."""
from __future__ import annotations

import re
import tomllib

TOMLDecodeError = tomllib.TOMLDecodeError
_LONG_NUMBER = re.compile(r"[0-9][0-9_]{4000,}")


def loads(text: str) -> dict:
    try:
        return tomllib.loads(text)
    except TOMLDecodeError:
        raise
    except ValueError as error:  # only the integer limit gets here; tomllib's own errors are TOMLDecodeError
        found = _LONG_NUMBER.search(text)
        if found is None:
            raise TOMLDecodeError(f"a value Python cannot read ({error})") from None
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        raise TOMLDecodeError(f"a number {len(found.group()):,} digits long (at line {line}, column {column})") from None
