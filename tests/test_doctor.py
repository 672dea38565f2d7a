"""`recurrent doctor`: what it finds, that it never shows a key, and its exit status."""
from __future__ import annotations


import pytest

from game.cli import main
from game.cli.doctor import mask
from game.llm.local import llama_available
from tests.standin import StandIn, free_port

KEY = "sk-test-0123456789secretvalue-abcd"


def lines(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        label, _, rest = line.partition(" ")
        found.setdefault(label, rest.strip())
    return found


def test_mask():
    assert mask(KEY) == "sk-...abcd"
    assert mask("abcdefghijklmnop") == "...mnop"
    assert mask("short") == "set (hidden)"


def test_ready_with_a_server_that_answers(monkeypatch, tmp_path, capsys):
    (tmp_path / "saves" / "one").mkdir(parents=True)
    (tmp_path / "saves" / "one" / "journal.jsonl").write_text("")
    with StandIn() as standin:
        monkeypatch.setenv("OPENAI_BASE_URL", standin.url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("RECURRENT_MODEL", "standin")
        code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert KEY not in out and KEY[3:-4] not in out
    found = lines(out)
    assert found["backend"].startswith(f"openai ({standin.url})") and "OPENAI_BASE_URL" in found["backend"]
    assert found["key"] == "OPENAI_API_KEY sk-...abcd"
    assert found["model"] == "standin"
    assert found["models"] == "1 on the server: standin (chosen)"  # GET /v1/models, as for every profile
    assert found["answers"].startswith("yes, in ")
    assert found["settings"].startswith(str(tmp_path / "settings.toml"))
    assert found["stories"].startswith("library ") and int(found["stories"].split("(")[1].split()[0]) >= 8
    assert found["log"].startswith(str(tmp_path / "state" / "recurrent" / "recurrent.log"))
    assert found["embedder"].startswith("wordllama ok, 256 dimensions")
    assert found["saves"] == f"{tmp_path / 'saves'}: writable, 1 slot"
    assert found["chroma"].startswith("embedded")
    for name in ("python", "recurrent", "chromadb", "openai", "textual"):
        assert f"{name} " in found["versions"]
    assert out.strip().endswith("ready to play")


def test_a_server_that_does_not_answer(monkeypatch, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("RECURRENT_MODEL", "m")
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "5")  # the doctor tries once whatever this says
    code = main(["doctor", "--timeout", "5"])
    out = capsys.readouterr().out
    assert code == 1
    assert lines(out)["answers"] == f"PROBLEM: cannot reach the model server at {url}"
    assert "not ready" in out.splitlines()[-1]


def test_no_backend_at_all(monkeypatch, capsys):
    monkeypatch.setattr("game.llm.engines.installed", lambda engine: False)
    code = main(["doctor"])
    out = capsys.readouterr().out
    assert code == 1
    backend = lines(out)["backend"]
    assert backend.startswith("PROBLEM: no model backend found") and "the [local] extra" in backend
    assert "embedder" in lines(out) and "versions" in lines(out)  # the rest is still checked


def test_saves_folder_not_made_yet(monkeypatch, tmp_path, capsys):
    with StandIn() as standin:
        monkeypatch.setenv("OPENAI_BASE_URL", standin.url)
        monkeypatch.setenv("RECURRENT_MODEL", "standin")
        code = main(["doctor", "--no-call", "--saves-dir", str(tmp_path / "new" / "saves")])
    out = capsys.readouterr().out
    assert code == 0
    assert lines(out)["saves"].endswith("not made yet; will be created")
    assert lines(out)["answers"] == "not asked (--no-call)"


def test_chroma_server_unreachable(monkeypatch, capsys):
    port = free_port()
    monkeypatch.setenv("RECURRENT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("RECURRENT_CHROMA_PORT", str(port))
    with StandIn() as standin:
        monkeypatch.setenv("OPENAI_BASE_URL", standin.url)
        monkeypatch.setenv("RECURRENT_MODEL", "standin")
        code = main(["doctor", "--no-call"])
    out = capsys.readouterr().out
    assert code == 1
    assert lines(out)["chroma"].startswith(f"PROBLEM: cannot reach the Chroma server at 127.0.0.1:{port}")


@pytest.mark.skipif(not llama_available(), reason="the [local] extra is not installed")
def test_local_demo_model(capsys):
    code = main(["doctor", "--backend", "local"])
    out = capsys.readouterr().out
    assert code == 0, out
    found = lines(out)
    assert found["backend"].startswith("local (llama.cpp in a child process)")
    assert "demo" in found["model"] and ".gguf" in found["model"]
    assert found["answers"].startswith("yes")
    engine, version = found["engine"].split()[:2]
    assert engine in ("xllamacpp", "llama-cpp-python") and f" {version}" in found["versions"]
    assert found["llama.cpp"].startswith(f"{engine} ")
