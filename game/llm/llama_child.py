"""The local model's own process: llama.cpp's OpenAI-compatible server on loopback.

The game runs `python -m game.llm.llama_child MODEL --n-ctx N --threads T --engine E`. llama.cpp
is native code, and native code never runs in the game's own process: when it dies (an
instruction this CPU does not really have, a memory fault, the out-of-memory killer) the game
loses one step's call, never the story or the player's typed words.

Two engines (`engines.py`): xllamacpp runs llama.cpp's own server, prebuilt, on threads of this
process; llama-cpp-python (the compiled fallback) runs its server under uvicorn. Either way the
child serves one slot on a free 127.0.0.1 port, with no web page and no cross-origin access, and
only to a caller that knows the API key it made up: another program on the machine, or a web
page the player opens, cannot use the model.

When it serves, the child prints one line of JSON on stdout: `{"port", "key", "engine",
"version", "system"}` (system: the CPU features llama.cpp uses), or `{"error": ...}`. The key
goes only down that pipe: never in a command line, a log or an environment. The child keeps the
model, and so its KV cache, for as long as the game runs, and exits as soon as its stdin closes:
the game holds the other end of that pipe, so the child ends however the game ends, a SIGKILL
included.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.request

CACHE_RAM_MIB = 256  # llama-server keeps earlier prompts' caches in RAM; its default is 8 GiB
READY_TIMEOUT = 30.0


def _end_with_the_game() -> None:
    def watch() -> None:
        try:
            while sys.stdin.buffer.read(65536):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch, name="end-with-the-game", daemon=True).start()


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _answers(url: str, deadline: float) -> bool:
    """Whether the server at `url` says it is ready (its public /health) before `deadline`."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if json.loads(answer.read(1000)).get("status") == "ok":
                    return True
        except (OSError, ValueError):
            pass
        time.sleep(0.05)  # the server is already listening: this is a handful of tries at most
    return False


def serve_prebuilt(args, key: str):
    """llama.cpp's own server, from the xllamacpp wheel: what the game is told, and what keeps
    this process serving."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.name}
    params.n_ctx = args.n_ctx
    params.n_parallel = 1  # one slot: one player, and the whole KV cache for their story
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.cache_ram_mib = args.cache_ram
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the server binds a free port itself: no race for it
    params.api_keys = [key] if key else []
    params.cors_origins = ""  # no web page from any other origin may call it
    params.cors_credentials = False
    params.ui = False  # no web UI to serve
    params.endpoint_slots = False  # no listing of slots (their prompts) over HTTP
    # Saving and restoring slot 0's KV cache (`kvcache.py`), only as files in this one folder:
    # llama.cpp refuses a file name with a path in it. Without the folder, no slot actions at all.
    # llama.cpp joins the folder and the file name as strings: the folder needs its separator.
    params.slot_save_path = os.path.join(args.slot_save_path, "") if args.slot_save_path else ""
    params.offline = True  # never download anything
    params.verbosity = 3 if args.verbose else 0
    server = xllamacpp.Server(params)  # returns once the model is loaded and the server listens
    url = server.listening_address.rstrip("/")
    if not _answers(url, time.monotonic() + READY_TIMEOUT):
        raise RuntimeError(f"llama.cpp's server at {url} did not answer")
    # llama.cpp takes SIGINT and SIGTERM to stop its loop and leave this process idle. A Ctrl+C
    # in the player's terminal is the game's to handle; a SIGTERM ends the child outright.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def run(keep=server) -> None:  # `keep` holds the server, which serves on its own threads
        threading.Event().wait()  # until the game's pipe closes and the watcher ends the process

    return {"port": int(url.rsplit(":", 1)[1]), "engine": "xllamacpp", "version": xllamacpp.__version__,
            "system": xllamacpp.get_system_info()}, run


def serve_compiled(args, key: str):
    """llama-cpp-python's server (the [local-source] fallback), under uvicorn on this thread."""
    import llama_cpp
    import uvicorn
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings
    from starlette.middleware.cors import CORSMiddleware

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # from here on a request waits in the backlog until the server takes it
    port = sock.getsockname()[1]
    model = ModelSettings(model=args.model, model_alias=args.name, n_ctx=args.n_ctx, n_threads=args.threads,
                          n_threads_batch=args.threads, verbose=args.verbose)
    app = create_app(server_settings=ServerSettings(host="127.0.0.1", port=port, api_key=key or None),
                     model_settings=[model])
    # Its app lets any web origin in; the middleware stack is built at the first request.
    app.user_middleware = [layer for layer in app.user_middleware if layer.cls is not CORSMiddleware]
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    system = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    return ({"port": port, "engine": "llama-cpp-python", "version": llama_cpp.__version__, "system": system},
            lambda: uvicorn.Server(config).run(sockets=[sock]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llama_child")
    parser.add_argument("model")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="local")
    parser.add_argument("--engine", choices=("auto", "xllamacpp", "llama-cpp-python"), default="auto")
    parser.add_argument("--cache-ram", type=int, default=CACHE_RAM_MIB, help="MiB of earlier prompts' caches (xllamacpp)")
    parser.add_argument("--slot-save-path", default="", help="the folder of saved KV caches (xllamacpp)")
    parser.add_argument("--no-key", action="store_true", help="serve without an API key (tests, as a player's server)")
    parser.add_argument("--verbose", action="store_true", help="llama.cpp's own log on stderr (prefix-match hits)")
    args = parser.parse_args(argv)
    _end_with_the_game()

    engine = args.engine
    if engine == "auto":
        from game.llm.engines import PREBUILT, installed

        engine = "xllamacpp" if installed(PREBUILT) else "llama-cpp-python"
    key = "" if args.no_key else secrets.token_urlsafe(32)
    try:
        served, run = serve_prebuilt(args, key) if engine == "xllamacpp" else serve_compiled(args, key)
    except Exception as error:  # a file llama.cpp cannot load, a missing extra: one line for the game
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        _say({"error": first[:300]})
        return 2
    _say({**served, "key": key, "system": " ".join(served["system"].split())})
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nothing more for the game to read there
    run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
