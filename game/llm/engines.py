"""Which llama.cpp runs the local model, and whether this machine can run it, found without
loading any of it: native code never loads in the game's own process (`llama_child.py`).

- `xllamacpp` (the `[local]` extra): llama.cpp's own server, prebuilt. Its x86-64 wheel is
  built for AVX2, FMA and F16C (and no AVX-512 or AMX), and it needs the system's OpenMP
  runtime, `libgomp.so.1`.
- `llama-cpp-python` (the `[local-source]` extra): its server, compiled on the player's machine,
  for what the prebuilt does not cover (musl, a CPU without AVX2).

The prebuilt is used when it is installed and this machine can run it; otherwise the compiled
one, when it is installed.
"""
from __future__ import annotations

import ctypes.util
import importlib.util
import platform
from importlib import metadata
from pathlib import Path

PREBUILT = "xllamacpp"
COMPILED = "llama-cpp-python"

# What each engine's child imports, and the distribution that carries it (for its version).
MODULES = {PREBUILT: ("xllamacpp",), COMPILED: ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")}
DISTRIBUTIONS = {PREBUILT: "xllamacpp", COMPILED: "llama_cpp_python"}

# The instructions the prebuilt's x86-64 library is compiled for, as /proc/cpuinfo names them.
PREBUILT_CPU = ("avx2", "fma", "f16c")
X86_64 = ("x86_64", "amd64")

INSTALL = "install the [local] extra as the README shows (its section 'Play right away, offline')"
SOURCE = ("install the [local-source] extra instead, compiled for this CPU "
          "(README, 'Where the prebuilt cannot run')")


def installed(engine: str) -> bool:
    """Whether `engine` can be imported by the child, found without importing it."""
    try:
        return all(importlib.util.find_spec(name) is not None for name in MODULES[engine])
    except (ImportError, ValueError):
        return False


def version(engine: str) -> str:
    try:
        return metadata.version(DISTRIBUTIONS[engine])
    except metadata.PackageNotFoundError:
        return "?"


def missing_cpu_features(cpuinfo: Path = Path("/proc/cpuinfo"), machine: str | None = None) -> list[str]:
    """The instructions the prebuilt needs that this x86-64 CPU does not list (none elsewhere,
    or when /proc/cpuinfo cannot be read: then the child's crash, if any, will say so)."""
    if (machine or platform.machine()).lower() not in X86_64:
        return []
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), None)
    if flags is None:
        return []
    return [name.upper() for name in PREBUILT_CPU if name not in flags]


def has_gomp() -> bool:
    """Whether the system's OpenMP runtime can be found (looked up, not loaded)."""
    return ctypes.util.find_library("gomp") is not None


def prebuilt_problem() -> str | None:
    """One line saying why the prebuilt cannot run on this machine, or None if it can."""
    lacking = missing_cpu_features()
    if lacking:
        return (f"this CPU lacks {', '.join(lacking)}, which the prebuilt llama.cpp (xllamacpp) needs; "
                f"{SOURCE}")
    if not has_gomp():
        return ("the prebuilt llama.cpp (xllamacpp) needs the system's OpenMP runtime libgomp.so.1: "
                "install it (Debian and Ubuntu: sudo apt-get install libgomp1), then try again")
    return None


def chosen() -> tuple[str | None, str | None]:
    """(the engine to run, None) or (None, one line saying what to do)."""
    if installed(PREBUILT):
        problem = prebuilt_problem()
        if problem is None:
            return PREBUILT, None
        if installed(COMPILED):
            return COMPILED, None
        return None, problem
    if installed(COMPILED):
        return COMPILED, None
    return None, f"the local backend needs llama.cpp: {INSTALL}"


def described(engine: str) -> str:
    """'xllamacpp 2026.10.11549 (llama.cpp's own server, prebuilt)'."""
    how = "llama.cpp's own server, prebuilt" if engine == PREBUILT else "llama.cpp compiled on this machine"
    return f"{engine} {version(engine)} ({how})"
