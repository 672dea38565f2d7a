"""Embedding functions for Chroma that run locally, with no network.

Chroma's default embedding function downloads a model on first use; we always
pass one of ours. Each has a `key` that goes into the collection name, so a save
made with one embedder is never queried with vectors of another.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from game.memory.longterm import EmbedderError


def _import_wordllama():
    """wordllama calls logging.basicConfig(level=INFO) on import, which would print
    every HTTP request to the player's terminal; undo that."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    import wordllama
    from wordllama import WordLlama

    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    return wordllama, WordLlama


# One loaded model a size for the whole process: loading takes about 0.3 s, which every slot
# opened (the title's continue, a branch, the tests' thousands) paid again. Its vectors are
# read-only, so the slots' threads share it as one slot's threads already do.
_LOADED: dict[int, Any] = {}
_LOADING = threading.Lock()


@register_embedding_function
class WordLlamaEmbedder(EmbeddingFunction[Documents]):
    """WordLlama's 256-dimension static token embeddings, weights shipped inside its wheel.

    Chosen as the default: it loads in about 0.3 s and embeds a paragraph in well
    under a millisecond on a CPU (see bench/RESULTS.md for recall and speed).
    """

    key = "wordllama-256"
    languages = ("english",)  # what its vectors learnt; other languages lean on keywords (longterm.py)

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self._model = None

    def _load(self):
        if self._model is None:
            with _LOADING:
                if self.dim not in _LOADED:
                    try:
                        wordllama, WordLlama = _import_wordllama()

                        # 0.4.0 looks for its tokenizer in the wrong folder and would try the
                        # network; pointing cache_dir at the package's own folder avoids both.
                        folder = os.path.dirname(wordllama.__file__)
                        _LOADED[self.dim] = WordLlama.load(dim=self.dim, cache_dir=folder, disable_download=True)
                    except Exception as error:  # an import or file error, reported in one line
                        raise EmbedderError(f"cannot load the wordllama embedder: {error}") from None
                self._model = _LOADED[self.dim]
        return self._model

    def __call__(self, input: Documents) -> Embeddings:
        vectors = self._load().embed(list(input))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1.0, norms)
        return [row.astype(np.float32) for row in vectors]

    @staticmethod
    def name() -> str:
        return "recurrent-wordllama"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "WordLlamaEmbedder":
        return WordLlamaEmbedder(dim=int(config.get("dim", 256)))


EMBEDDERS = {"wordllama": WordLlamaEmbedder}


def make_embedder(name: str = "wordllama") -> EmbeddingFunction:
    try:
        return EMBEDDERS[name]()
    except KeyError:
        raise EmbedderError(f"unknown embedder {name!r} (known: {', '.join(EMBEDDERS)})") from None
