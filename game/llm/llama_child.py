"""The local model's own process: llama-cpp-python's OpenAI-compatible server on loopback.

The game runs `python -m game.llm.llama_child MODEL --n-ctx N --threads T`. llama.cpp is
native code, and native code never runs in the game's own process: when it dies (an
instruction this CPU does not really have, a memory fault, the out-of-memory killer) the
game loses one step's call, never the story or the player's typed words.

The child binds its own port (so there is no race for a free one), loads the model, and
prints one line of JSON on stdout: `{"port": ..., "system": ...}` (the CPU features the
llama.cpp build uses) or `{"error": ...}`. It keeps the model, and so its KV cache, for
as long as the game runs, and exits as soon as its stdin closes: the game holds the other
end of that pipe, so the child ends however the game ends, a SIGKILL included.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llama_child")
    parser.add_argument("model")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--name", default="local")
    parser.add_argument("--verbose", action="store_true", help="llama.cpp's own log on stderr (prefix-match hits)")
    args = parser.parse_args(argv)
    _end_with_the_game()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # from here on a request waits in the backlog until the server takes it
    port = sock.getsockname()[1]
    try:
        import llama_cpp
        import uvicorn
        from llama_cpp.server.app import create_app
        from llama_cpp.server.settings import ModelSettings, ServerSettings

        model = ModelSettings(model=args.model, model_alias=args.name, n_ctx=args.n_ctx, n_threads=args.threads,
                              n_threads_batch=args.threads, verbose=args.verbose)
        app = create_app(server_settings=ServerSettings(host="127.0.0.1", port=port), model_settings=[model])
        system = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    except Exception as error:  # a file llama.cpp cannot load, a missing extra: one line for the game
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        _say({"error": first[:300]})
        return 2
    _say({"port": port, "system": " ".join(system.split()), "version": llama_cpp.__version__})
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # nothing more for the game to read there
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
