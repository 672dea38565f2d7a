"""Long-term memory on a real Chroma server (`chroma run`), one collection per slot."""
from __future__ import annotations

import asyncio

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from game.cli import main
from tests.standin import StandIn

pytestmark = pytest.mark.slow  # starts `chroma run`

CHROMA = shutil.which("chroma", path=os.path.dirname(sys.executable)) or shutil.which("chroma")

SEED = '''title = "The Night Ferry"
genre = "mystery"
premise = "A passenger on the last ferry of the night notices that the captain is missing."
protagonist = { name = "Ada" }
opening = "The ferry shudders away from the quay. Rain streaks the windows of the saloon, and the wheelhouse is dark."
options = ["Climb to the wheelhouse.", "Ask the steward where the captain is.", "Search the car deck."]
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if CHROMA is None:
        pytest.skip("the chroma command (installed with chromadb) is not on this machine")
    port = free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = open(folder / "server.log", "wb")
    process = subprocess.Popen([CHROMA, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(folder / "data")],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None:
                pytest.fail(f"chroma run exited with {process.returncode}: {(folder / 'server.log').read_text()[-500:]}")
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer its heartbeat within 60 s")
            time.sleep(0.1)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def env(monkeypatch, tmp_path, chroma_server):
    host, port = chroma_server
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name in ("BACKEND", "BASE_URL", "GGUF"):
        monkeypatch.delenv(f"RECURRENT_{name}", raising=False)
    monkeypatch.setenv("RECURRENT_CONFIG", str(tmp_path / "no-settings.toml"))
    monkeypatch.setenv("RECURRENT_SAVES_DIR", str(tmp_path / "saves"))
    monkeypatch.setenv("RECURRENT_CHROMA_HOST", host)
    monkeypatch.setenv("RECURRENT_CHROMA_PORT", str(port))
    monkeypatch.setenv("RECURRENT_RETRY_BASE", "0.01")
    monkeypatch.setenv("RECURRENT_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("RECURRENT_MODEL", "standin")
    with StandIn() as standin:
        monkeypatch.setenv("OPENAI_BASE_URL", standin.url)
        yield tmp_path


def server_collections(host: str, port: int) -> dict[str, int]:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(host=host, port=port, settings=Settings(anonymized_telemetry=False))
    return {c.name: c.count() for c in client.list_collections()}


def test_steps_land_in_the_slots_server_collection(env, chroma_server, capsys):
    from game.memory.embedders import make_embedder
    from game.memory.longterm import collection_name
    from game.saves.slot import MEMORY, MemoryConfig, Slot

    host, port = chroma_server
    story = env / "ferry.toml"
    story.write_text(SEED, encoding="utf-8")
    saves = env / "saves"

    assert main(["write", "--story", str(story), "--slot", "ferry", "--steps", "3", "--out", str(env / "a.md")]) == 0
    assert main(["write", "--story", str(story), "--slot", "other", "--steps", "1", "--out", str(env / "b.md")]) == 0

    key = make_embedder("wordllama").key
    ferry, other = collection_name(key, "ferry"), collection_name(key, "other")
    counts = server_collections(host, port)
    assert counts.get(ferry, 0) > 0 and counts.get(other, 0) > 0  # one collection per slot
    assert counts[ferry] > counts[other]
    assert not (saves / "ferry" / MEMORY).exists()  # nothing embedded in the slot's folder

    config = MemoryConfig(host=host, port=port)
    with Slot.open(saves, "ferry", config) as slot:
        assert slot.memory.name == ferry
        assert slot.memory.count() == counts[ferry] == len(slot.story.entries())
        assert len(slot.story.steps) == 4
        hits = slot.memory.collection.query(query_texts=["the captain in the wheelhouse"], n_results=2)
        assert hits["ids"][0]

    # Reopen and go on: the same collection grows.
    assert main(["write", "--slot", "ferry", "--steps", "1", "--out", str(env / "c.md")]) == 0
    assert server_collections(host, port)[ferry] > counts[ferry]

    capsys.readouterr()
    assert main(["saves", "check", "ferry"]) == 0, capsys.readouterr()


def test_undo_removes_entries_from_the_server(env, chroma_server):
    from game.engine import edits
    from game.saves.slot import MemoryConfig, Slot
    from game.stories.loader import load_seed

    host, port = chroma_server
    story = env / "ferry.toml"
    story.write_text(SEED, encoding="utf-8")
    assert main(["write", "--story", str(story), "--slot", "undo", "--steps", "2", "--out", str(env / "a.md")]) == 0
    with Slot.open(env / "saves", "undo", MemoryConfig(host=host, port=port)) as slot:
        before = slot.memory.count()
        asyncio.run(edits.undo(slot))
        assert 0 < slot.memory.count() < before
        assert slot.memory.stored_ids() == {entry.id for entry in slot.story.entries()}
    assert load_seed(story).title == "The Night Ferry"


def test_unreachable_server_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RECURRENT_CONFIG", str(tmp_path / "no-settings.toml"))
    monkeypatch.setenv("RECURRENT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("RECURRENT_CHROMA_PORT", str(free_port()))
    monkeypatch.setenv("RECURRENT_MODEL", "standin")
    story = tmp_path / "ferry.toml"
    story.write_text(SEED, encoding="utf-8")
    with StandIn() as standin:
        monkeypatch.setenv("OPENAI_BASE_URL", standin.url)
        code = main(["write", "--story", str(story), "--slot", "x", "--steps", "1", "--saves-dir", str(tmp_path / "saves")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("recurrent: cannot reach the Chroma server at 127.0.0.1:") and "\n" not in err
