"""Auto-detection order and one-line errors for named backends that are not there."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tests.standin import free_port

from game.cli import main
from game.llm import NoBackend, from_settings
from game.llm import detect
from game.llm.detect import choose, is_embedding_model, ollama_models, ollama_root
from game.core.settings import load_settings

CHAT = {"name": "llama3.2:1b", "model": "llama3.2:1b", "details": {"family": "llama", "families": ["llama"]}}
EMBED = {"name": "nomic-embed-text:latest", "details": {"family": "nomic-bert", "families": ["nomic-bert"]}}
BERT = {"name": "all-minilm:l6", "details": {"family": "bert", "families": ["bert"]}}


class FakeOllama:
    """Answers GET /api/tags like Ollama does, on 127.0.0.1."""

    def __init__(self, models: list[dict], delay: float = 0.0) -> None:
        self.models = models
        self.delay = delay
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                time.sleep(fake.delay)
                if self.path == "/api/tags":
                    data = json.dumps({"models": fake.models}).encode()
                    self.send_response(200)
                else:
                    data = b"404 page not found"
                    self.send_response(404)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "FakeOllama":
        # A short poll_interval: shutdown() waits for the server to look at its flag (0.5 s by default).
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def few_retries(monkeypatch):
    """conftest's clean_env clears the environment; these tests want a backend to give up fast."""
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")

@pytest.fixture
def no_local(monkeypatch):
    monkeypatch.setattr("game.llm.engines.installed", lambda engine: False)


@pytest.fixture
def fake_local(monkeypatch, tmp_path):
    gguf = tmp_path / "demo.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 16)
    monkeypatch.setattr("game.llm.engines.chosen", lambda: ("xllamacpp", None))
    monkeypatch.setattr("game.llm.local.bundled_gguf", lambda: gguf)
    return gguf


# -- the order ----------------------------------------------------------------------------
def test_openai_base_url_comes_first(monkeypatch, fake_local):
    with FakeOllama([CHAT]) as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.host)
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        monkeypatch.setenv("RECURRENT_MODEL", "served-model")
        choice = choose(load_settings())
    assert (choice.kind, choice.base_url, choice.model) == ("openai", "http://127.0.0.1:9/v1", "served-model")
    assert "OPENAI_BASE_URL" in choice.how


def test_openai_key_alone_means_openai(monkeypatch, fake_local):
    with FakeOllama([CHAT]) as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.host)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0000000000000000")
        choice = choose(load_settings())
    assert (choice.kind, choice.base_url, choice.model) == ("openai", "https://api.openai.com/v1", "gpt-4o-mini")
    assert "OPENAI_API_KEY" in choice.how


def test_ollama_when_it_answers_with_a_chat_model(monkeypatch, fake_local):
    with FakeOllama([EMBED, CHAT, BERT]) as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.host)
        choice = choose(load_settings())
    assert choice.kind == "openai"
    assert choice.base_url == f"http://{ollama.host}/v1"
    assert choice.model == "llama3.2:1b"  # the embedding models are skipped
    assert "Ollama" in choice.how


def test_ollama_honours_a_named_model_it_has(monkeypatch, fake_local):
    other = {**CHAT, "name": "qwen2.5:0.5b", "model": "qwen2.5:0.5b"}
    with FakeOllama([CHAT, other]) as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.host)
        monkeypatch.setenv("RECURRENT_MODEL", "qwen2.5:0.5b")
        assert choose(load_settings()).model == "qwen2.5:0.5b"


def test_ollama_with_only_embedding_models_is_passed_over(monkeypatch, fake_local):
    with FakeOllama([EMBED, BERT]) as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.host)
        choice = choose(load_settings())
    assert choice.kind == "local"
    assert "no chat model" in choice.how


def test_local_when_nothing_else(fake_local):
    choice = choose(load_settings())
    assert choice.kind == "local" and choice.gguf is None
    assert "demo" in choice.model
    assert "bundled demo model" in choice.how


def test_gguf_given_means_local(monkeypatch, fake_local):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0000000000000000")
    choice = choose(load_settings(gguf=str(fake_local)))
    assert (choice.kind, choice.gguf, choice.model) == ("local", str(fake_local), "demo.gguf")


def test_nothing_found_says_how(no_local):
    started = time.perf_counter()
    with pytest.raises(NoBackend) as caught:
        choose(load_settings())
    assert time.perf_counter() - started < 2.0
    message = str(caught.value)
    assert "\n" not in message
    assert "OPENAI_BASE_URL" in message and "Ollama" in message and "[local]" in message


def test_nothing_found_on_the_command_line_is_one_line(no_local, tmp_path, capsys):
    story = write_seed(tmp_path)
    assert main(["write", "--story", str(story), "--slot", "s", "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("recurrent: no model backend found") and "\n" not in err


def test_slow_ollama_is_not_waited_for(monkeypatch, no_local):
    with FakeOllama([CHAT], delay=3.0) as ollama:
        started = time.perf_counter()
        assert ollama_models(f"http://{ollama.host}") is None
        assert time.perf_counter() - started < 2.0


# -- pieces -------------------------------------------------------------------------------
@pytest.mark.parametrize("value, root", [
    (None, "http://localhost:11434"),
    ("0.0.0.0", "http://0.0.0.0:11434"),
    ("127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("http://box.lan:8080/", "http://box.lan:8080"),
    ("https://ollama.example", "https://ollama.example:11434"),
])
def test_ollama_root(monkeypatch, value, root):
    if value is None:
        monkeypatch.delenv("OLLAMA_HOST", raising=False)
    else:
        monkeypatch.setenv("OLLAMA_HOST", value)
    assert ollama_root() == root


def test_embedding_models_are_recognised():
    assert is_embedding_model(EMBED) and is_embedding_model(BERT)
    assert is_embedding_model({"name": "mxbai-embed-large"})
    assert not is_embedding_model(CHAT)


def test_from_settings_makes_the_ollama_backend(monkeypatch, fake_local):
    from game.llm.openai_backend import OpenAIBackend

    with FakeOllama([CHAT]) as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.host)
        backend = from_settings(settings=load_settings())
    assert isinstance(backend, OpenAIBackend)
    assert backend.model == "llama3.2:1b" and backend.base_url == f"http://{ollama.host}/v1"


# -- named backends that are not there ----------------------------------------------------
def write_seed(folder: Path) -> Path:
    path = folder / "seed.toml"
    path.write_text(
        'title = "The Well"\ngenre = "fantasy"\n'
        'premise = "A young knight looks for a well that answers one question truly."\n'
        'protagonist = { name = "Wren" }\n',
        encoding="utf-8",
    )
    return path


def test_named_ollama_without_a_server_is_one_line(tmp_path, capsys):
    story = write_seed(tmp_path)
    started = time.perf_counter()
    code = main(["write", "--backend", "ollama", "--story", str(story), "--slot", "s", "--steps", "1"])
    assert code == 1 and time.perf_counter() - started < 10
    err = capsys.readouterr().err.strip()
    assert err.startswith("recurrent: cannot reach Ollama at http://127.0.0.1:") and "\n" not in err


def test_named_ollama_with_a_model_gives_up_after_the_retries(tmp_path, capsys):
    story = write_seed(tmp_path)
    started = time.perf_counter()
    code = main(["write", "--backend", "ollama", "--model", "llama3.2", "--story", str(story), "--slot", "s", "--steps", "1"])
    assert code == 1 and time.perf_counter() - started < 15
    lines = capsys.readouterr().err.strip().splitlines()
    # retry notices first ("... trying again in 0.0 s"), then the one line that ends it
    assert "Traceback" not in "\n".join(lines)
    assert lines[-1].startswith("recurrent: ") and "cannot reach the model server at http://127.0.0.1:" in lines[-1]


def test_named_server_unreachable_is_one_line(tmp_path, capsys):
    story = write_seed(tmp_path)
    url = f"http://127.0.0.1:{free_port()}/v1"
    code = main(["write", "--backend", "vllm", "--base-url", url, "--model", "m", "--story", str(story), "--slot", "s", "--steps", "1"])
    assert code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("recurrent: ") and f"cannot reach the model server at {url}" in lines[-1]
    assert all("trying again" in line for line in lines[:-1])


def test_named_ollama_picks_an_installed_model(monkeypatch):
    with FakeOllama([EMBED, CHAT]) as ollama:
        monkeypatch.setenv("OLLAMA_HOST", ollama.host)
        choice = choose(load_settings(backend="ollama"))
    assert (choice.base_url, choice.model) == (f"http://{ollama.host}/v1", "llama3.2:1b")


def test_named_local_without_llama_cpp_is_one_line(no_local, tmp_path, capsys):
    story = write_seed(tmp_path)
    assert main(["write", "--backend", "local", "--story", str(story), "--slot", "s", "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("recurrent: the local backend needs llama.cpp: install the [local] extra")
    assert "\n" not in err


def test_detect_module_has_no_network_default_beyond_loopback():
    assert detect.OLLAMA_DEFAULT == "http://localhost:11434"
    assert detect.OLLAMA_TIMEOUT <= 0.5


def test_a_server_named_without_a_model_gives_the_one_it_lists(monkeypatch, server):
    from game.core.settings import load_settings
    from game.llm.detect import choose

    choice = choose(load_settings(backend="koboldcpp", base_url=server.url))
    assert choice.model == "standin" and "the first the server lists" in choice.how
    assert choose(load_settings(backend="koboldcpp", model="mine")).base_url == "http://localhost:5001/v1"
