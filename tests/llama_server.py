"""llama.cpp's own `llama-server`, started on 127.0.0.1 with the bundled demo model, for tests and
benchmarks that play against a real llama.cpp server. `.ci/llama-server` builds it from the
llama.cpp that llama-cpp-python vendors; RECURRENT_LLAMA_SERVER points at another build."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from game.llm.openai_backend import OpenAIBackend

ROOT = Path(__file__).resolve().parents[1]


def binary() -> Path | None:
    given = os.environ.get("RECURRENT_LLAMA_SERVER")
    path = Path(given) if given else ROOT / "build" / "llama-server" / "bin" / "llama-server"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LlamaServer:
    """`with LlamaServer(model) as server:` a one-slot llama-server; `server.url` ends in /v1."""

    def __init__(self, model: Path, n_ctx: int = 4096, threads: int = 1, log: Path | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        self.model = model
        self.extra = extra  # more of llama-server's options, e.g. ("--cache-ram", "0")
        self.n_ctx = n_ctx
        self.threads = threads
        self.port = _free_port()
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "LlamaServer":
        found = binary()
        assert found is not None, "no llama-server: build it with .ci/llama-server"
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        # One slot: a single-slot KV cache is what a player's llama.cpp, Ollama or KoboldCpp has.
        self.process = subprocess.Popen([str(found), "-m", str(self.model), "--host", "127.0.0.1", "--port", str(self.port),
                                         "-c", str(self.n_ctx), "-np", "1", "-t", str(self.threads), *self.extra],
                                        stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as answer:
                    if json.loads(answer.read()).get("status") == "ok":
                        return self
            except OSError:
                pass
            time.sleep(0.1)  # polling the server's health until it loads the model, with a deadline
        raise RuntimeError("llama-server did not load the model within 120 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Timed(OpenAIBackend):
    """An OpenAIBackend that keeps what llama-server says it did for each streamed request
    (`timings`: prompt_n read, cache_n taken from its cache, predicted_n generated)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.timings: list[dict] = []

    async def _chunks(self, stream, ends):
        async for chunk in super()._chunks(stream, ends):
            extra = getattr(chunk, "model_extra", None) or {}
            if extra.get("timings"):
                self.timings.append(extra["timings"])
            yield chunk
