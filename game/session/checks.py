"""What `recurrent doctor`, the settings screen and `recurrent play` ask of the parts before a
game: which backend the settings choose, the models a server lists, a model file, the
embedder and the Chroma server. Each is the part's own function, reached through the door."""
from __future__ import annotations


def choose_backend(settings):
    """The backend the settings choose (kind, where, how it was found); NoBackend says how to set one up."""
    from game.llm.detect import choose

    return choose(settings)


def list_models(base_url: str) -> list[str]:
    from game.llm.models import list_models as listed

    return listed(base_url)


def models_for(settings):
    """(where, names): the models the server these settings name lists."""
    from game.llm.models import models_for as listed

    return listed(settings)


def check_gguf(path) -> None:
    """A one-line error for a model file that is missing or not a GGUF file."""
    from game.llm.local import check_gguf as check

    check(path)


def make_embedder(name: str):
    from game.memory.embedders import make_embedder as make

    return make(name)


def chroma_server(host: str, port: int):
    """A client of the Chroma server, which answers, or a one-line error."""
    from game.memory.longterm import server_client

    return server_client(host, port)


def slot_names(root) -> list[str]:
    from game.saves.folder import list_slots

    return list_slots(root)


def local_engine():
    """(which llama.cpp will run the local model, or None; the problem that stops it, or "";
    how to describe it; the prebuilt's own problem where the compiled one stands in for it)."""
    from game.llm import engines

    engine, problem = engines.chosen()
    if engine is None:
        return None, problem, "", ""
    instead = ""
    if engine == engines.COMPILED and engines.installed(engines.PREBUILT):
        instead = engines.prebuilt_problem()
    return engine, problem, engines.described(engine), instead
