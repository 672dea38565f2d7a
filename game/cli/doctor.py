"""`recurrent doctor`: what the game found on this machine, and whether it can play.

Checks the backend (which one and why, the models the server lists, the model, whether
it answers a tiny real call; for the local model, which llama.cpp runs it and, before starting
it, whether this CPU and system can), the embedder, the saves folder, long-term memory (embedded
or a Chroma server), every path the game uses and the versions of what it runs on. Never prints an API key, only
its first and last characters. Exit status 0 when a game can be played, 1 if not.
"""
from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from importlib import metadata

DISTRIBUTIONS = [("recurrent", "recurrent"), ("chromadb", "chromadb"), ("openai", "openai"),
                 ("textual", "textual"), ("wordllama", "wordllama"), ("xllamacpp", "xllamacpp"),
                 ("llama_cpp", "llama_cpp_python")]
OPTIONAL = ("xllamacpp", "llama_cpp")  # the local model's engines: one of them, or neither, is installed


def register(sub, common) -> None:
    doctor = sub.add_parser("doctor", help="what backend, model, memory and saves the game finds here")
    common(doctor)
    doctor.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the model to answer (default 30)")
    doctor.add_argument("--no-call", dest="call", action="store_false", help="do not send the model a test message")
    doctor.set_defaults(func=run)


def mask(key: str) -> str:
    """An API key shown safely: sk-...abcd at most, nothing of a short key."""
    key = key.strip()
    if len(key) < 12:
        return "set (hidden)"
    return f"{'sk-' if key.startswith('sk-') else ''}...{key[-4:]}"


class Report:
    def __init__(self) -> None:
        self.ok = True
        self.lines: list[tuple[str, str]] = []

    def add(self, label: str, text: str, ok: bool = True) -> None:
        self.lines.append((label, text if ok else f"PROBLEM: {text}"))
        self.ok = self.ok and ok
        print(f"{label:<10} {self.lines[-1][1]}", flush=True)


def _versions() -> str:
    parts = [f"python {platform.python_version()}"]
    for label, dist in DISTRIBUTIONS:
        try:
            parts.append(f"{label} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            if label not in OPTIONAL:
                parts.append(f"{label} missing")
    return ", ".join(parts)


async def _answers(backend, timeout: float) -> tuple[bool, str]:
    started = time.perf_counter()
    pieces: list[str] = []

    async def call() -> None:
        async for piece in backend.stream([{"role": "user", "content": "Say hello in three words."}],
                                          max_tokens=12, temperature=0.0):
            pieces.append(piece)

    try:
        await asyncio.wait_for(call(), timeout)
    except asyncio.TimeoutError:
        return False, f"no answer within {timeout:g} s"
    except Exception as error:  # noqa: BLE001 - a doctor reports, it does not crash
        from game.core.errors import one_line

        return False, one_line(error)
    text = " ".join("".join(pieces).split())[:40]
    if not text:
        return False, "the model answered with nothing"
    return True, f"yes, in {time.perf_counter() - started:.1f} s: {text!r}"


def _check_backend(report: Report, settings, timeout: float | None) -> None:
    from game.session import make_backend as from_settings
    from game.session.checks import choose_backend as choose
    from game.core.errors import one_line

    try:
        choice = choose(settings)
    except Exception as error:  # NoBackend and settings errors alike
        report.add("backend", one_line(error), ok=False)
        return
    where = "llama.cpp in a child process" if choice.kind == "local" else choice.base_url
    report.add("backend", f"{choice.kind} ({where}); {choice.how}")
    key = os.environ.get("OPENAI_API_KEY", "")
    if choice.kind == "openai":
        report.add("key", f"OPENAI_API_KEY {mask(key)}" if key else "none (fine for local servers)")
        _check_models(report, choice)
    if choice.kind == "local" and not _check_engine(report):
        return
    try:
        # One try only: the doctor should say quickly that a server is down.
        backend = from_settings(settings=settings.model_copy(update={"retry_attempts": 1}))
    except Exception as error:  # noqa: BLE001
        report.add("model", one_line(error), ok=False)
        return
    detail = backend.model
    path = getattr(backend, "path", None)
    if path:
        detail += f" ({path}, {backend.threads} thread{'s' if backend.threads != 1 else ''})"
    if getattr(backend, "demo", False):
        detail += " - a tiny demo model; see the README for a better one"
    report.add("model", detail)
    if choice.kind == "local" and not _check_local_build(report, backend):
        asyncio.run(backend.close())
        return
    if timeout:
        ok, text = asyncio.run(_with_close(backend, timeout))
        report.add("answers", text, ok=ok)
    else:
        asyncio.run(backend.close())
        report.add("answers", "not asked (--no-call)")


def _check_models(report: Report, choice) -> None:
    """The models the server lists (informational: some servers list none)."""
    from game.core.errors import one_line
    from game.session.checks import list_models

    try:
        names = list_models(choice.base_url)
    except Exception as error:  # noqa: BLE001 - listing is a courtesy of the server
        report.add("models", one_line(error))
        return
    if not names:
        report.add("models", f"{choice.base_url} lists no chat models")
        return
    shown = ", ".join(f"{name} (chosen)" if name == choice.model else name for name in names[:12])
    more = f", and {len(names) - 12} more" if len(names) > 12 else ""
    note = "" if choice.model in names else f"; the chosen model {choice.model} is not among them"
    report.add("models", f"{len(names)} on the server: {shown}{more}{note}")


def _check_paths(report: Report) -> None:
    """Every place the game reads or writes, so a player knows where to look."""
    from game.core.files import size_text
    from game.core.paths import folder_size, kv_cache_dir, library_dir, log_file, own_stories_dir, state_dir
    from game.core.settings import config_path

    settings = config_path()
    report.add("settings", f"{settings}{'' if settings.exists() else ' (not written yet)'}")
    library = library_dir()
    count = len(list(library.glob("*.toml"))) if library.is_dir() else 0
    report.add("stories", f"library {library} ({count} stories); yours {own_stories_dir()}", ok=count > 0)
    report.add("log", f"{log_file()} (more with --debug); the local model's: {state_dir() / 'local-model.log'}")
    kv = kv_cache_dir()
    held = f"{size_text(folder_size(kv))} of saved model caches" if kv.is_dir() else "empty"
    report.add("cache", f"{kv} ({held}; safe to delete, never part of a save)")


# The instruction sets llama.cpp's CPU build can use, as its system info names them.
INSTRUCTION_SETS = ("SSE3", "SSSE3", "AVX", "AVX_VNNI", "AVX2", "F16C", "FMA", "BMI2", "AVX512", "AVX512_VBMI",
                    "AVX512_VNNI", "AVX512_BF16", "AMX_INT8", "NEON", "ARM_FMA", "FP16_VA", "SVE", "DOTPROD", "MATMUL_INT8")


def cpu_build(system: str) -> str:
    """'AVX AVX2 F16C FMA (no AVX512, no AMX)' from llama.cpp's `llama_print_system_info()`."""
    on = [name for name in INSTRUCTION_SETS if f" {name} = 1 " in f" {system} "]
    off = [name for name in ("AVX512", "AMX_INT8") if f" {name} = 1 " not in f" {system} "]
    text = " ".join(on) or "baseline (no SIMD extensions)"
    return text + (f" (no {', no '.join(n.replace('_INT8', '') for n in off)})" if off and "AVX2" in on else "")


def _check_engine(report: Report) -> bool:
    """Which llama.cpp will run the local model and whether this machine can run it, asked
    before it starts (the CPU's features, the OpenMP runtime): one line either way."""
    from game.session.checks import local_engine

    engine, problem, text, instead = local_engine()
    if engine is None:
        report.add("engine", problem, ok=False)
        return False
    if instead:
        text += f"; the prebuilt cannot run here: {instead}"
    report.add("engine", text)
    return True


def _check_local_build(report: Report, backend) -> bool:
    """Start the model's child process: which CPU build llama.cpp has, and whether it runs here."""
    from game.core.errors import one_line

    try:
        child = backend.start()
    except Exception as error:  # noqa: BLE001 - a crash at load is exactly what the doctor is for
        report.add("llama.cpp", one_line(error), ok=False)
        return False
    report.add("llama.cpp", f"{child.engine} {child.version} in a child process (pid {child.pid}); "
                            f"CPU build: {cpu_build(child.system)}")
    return True


async def _with_close(backend, timeout: float) -> tuple[bool, str]:
    try:
        return await _answers(backend, timeout)
    finally:
        try:
            await backend.close()
        except Exception:  # noqa: BLE001
            pass


def _check_embedder(report: Report, config) -> None:
    from game.core.errors import one_line
    from game.session.checks import make_embedder

    try:
        started = time.perf_counter()
        embedder = make_embedder(config.embedder)
        vectors = embedder(["The lamp hisses in the dark."])
        report.add("embedder", f"{config.embedder} ok, {len(vectors[0])} dimensions, "
                               f"loaded in {time.perf_counter() - started:.1f} s")
    except Exception as error:  # noqa: BLE001
        report.add("embedder", one_line(error), ok=False)


def _check_saves(report: Report, root) -> None:
    from game.session.checks import slot_names as list_slots

    if root.is_dir():
        writable = os.access(root, os.W_OK | os.X_OK)
        count = len(list_slots(root))
        text = f"{root}: {'writable' if writable else 'NOT writable'}, {count} slot{'s' if count != 1 else ''}"
        report.add("saves", text, ok=writable)
        return
    parent = root.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    ok = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    report.add("saves", f"{root}: not made yet; {'will be created' if ok else f'cannot be created in {parent}'}", ok=ok)


def _check_chroma(report: Report, config) -> None:
    from game.core.errors import one_line

    if not config.host:
        report.add("chroma", "embedded (one folder inside each save slot)")
        return
    try:
        from game.session.checks import chroma_server as server_client

        server_client(config.host, config.port)
        report.add("chroma", f"server {config.host}:{config.port} reachable (one collection per slot)")
    except Exception as error:  # noqa: BLE001
        report.add("chroma", one_line(error), ok=False)


def run(args) -> int:
    from game.session import memory_config, saves_root, settings_from

    settings = settings_from(args)
    report = Report()
    _check_backend(report, settings, args.timeout if getattr(args, "call", True) else None)
    config = memory_config(settings)
    _check_embedder(report, config)
    _check_saves(report, saves_root(args, settings))
    _check_chroma(report, config)
    _check_paths(report)
    report.add("versions", _versions())
    print("ready to play" if report.ok else "not ready: fix the PROBLEM lines above", flush=True)
    sys.stdout.flush()
    return 0 if report.ok else 1
