"""The local model's saved KV cache, end to end with llama.cpp in the game's child: a story closed
and opened again reuses its cache, and a cache that does not match is ignored, logged and
deleted, the first step then reading its whole prompt (the one the game sent) cold. The model is
the tiny one of tests/tiny_model.py: what it says does not matter here, and a step of it costs
a tenth of a second instead of the demo model's 6-9 s of CPU."""
from __future__ import annotations

import pytest

import asyncio
import logging
import shutil
from pathlib import Path

from game.core.models import Preferences
from game.core.paths import kv_cache_dir
from game.core.settings import load_settings
from game.saves.slot import Slot
from game.core.events import Notice
from game.session import Game, Model
from game.stories.loader import load_seed
from tests.local_model import needs_llama, seed_file

pytestmark = [pytest.mark.slow, needs_llama]  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)


def _backend(gguf: Path):
    from game.llm.local import LocalBackend

    return LocalBackend(gguf=str(gguf), threads=1, n_ctx=4096)


async def _play(saves: Path, actions: list[str], gguf: Path) -> tuple[list, tuple, object]:
    """Open slot `well`, take `actions`, close: (the notices, what the first narration read and
    reused, the backend)."""
    backend = _backend(gguf)
    settings = load_settings(memory_words=50)
    game = await Game.open(settings, saves, "well", model=Model(settings, backend))
    notices = []

    def hear(event) -> None:
        if isinstance(event, Notice):
            notices.append(event)

    try:
        for action in actions:  # the game names its slot to the backend, which restores its cache
            await game.tell(action, hear)
    finally:
        await game.close()  # the game saves the cache of a backend it was given
        await backend.close()
    return [n.text for n in notices], backend.opened, backend


def _new_story(tmp_path: Path) -> Path:
    saves = tmp_path / "saves"
    seed = load_seed(seed_file(tmp_path)).filled()
    Slot.create(saves, "well", seed, Preferences(paragraph_words=40)).close()
    return saves


def test_one_story_reopened_with_its_cache_then_with_a_flipped_byte_then_by_another_model_then_deleted(tmp_path, caplog,
                                                                                                      tiny_gguf):
    """A story's cache through its life, each reopening a fresh child: reused when it matches;
    ignored, logged and read cold with a byte flipped, or by another model file; and gone with
    the slot. (Three tests merged into one story: each started its own story and children for
    the first step, which proved nothing more; bench/tests.md.)"""
    from game.saves.folder import delete_slot

    saves = _new_story(tmp_path)
    asyncio.run(_play(saves, ["Walk into the forest."], tiny_gguf))
    saved = list(kv_cache_dir().glob("*.kv"))
    assert len(saved) == 1 and saved[0].stat().st_size > 0
    assert not [p for p in saves.rglob("*") if p.suffix in (".kv", ".part")], "a cache file under the saves folder"

    notices, (read, reused), _backend_used = asyncio.run(_play(saves, ["Look for the well."], tiny_gguf))
    assert reused > read, (read, reused)
    assert any("reused from the cache" in text for text in notices), notices

    [data] = kv_cache_dir().glob("*.kv")
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    data.write_bytes(bytes(raw))
    caplog.set_level(logging.INFO, logger="recurrent.kvcache")
    notices, (read, reused), _b = asyncio.run(_play(saves, ["Drink from the well."], tiny_gguf))
    assert "damaged" in caplog.text
    assert reused == 0 and read > 0  # the whole prompt, read cold
    assert any("0 prompt tokens reused" in text for text in notices), notices

    # The cache the step above saved, read by another model file (a copy: another identity).
    caplog.clear()
    other = tmp_path / "other.gguf"
    shutil.copyfile(tiny_gguf, other)
    notices, (read, reused), _b = asyncio.run(_play(saves, ["Look into the water."], gguf=other))
    assert "another model" in caplog.text
    assert reused == 0 and read > 0

    assert list(kv_cache_dir().iterdir())
    delete_slot(saves, "well")
    assert not list(kv_cache_dir().iterdir())


def test_only_the_game_can_save_or_restore_a_slot_and_only_in_its_folder(tmp_path, tiny_gguf):
    """Slot actions need the child's key, and llama.cpp refuses a file name with a path in it."""
    from game.llm import kvcache
    from game.llm.local_process import LocalModel

    folder = tmp_path / "kv"
    folder.mkdir()
    child = LocalModel(tiny_gguf, n_ctx=512, threads=1, options=("--slot-save-path", str(folder)))
    child.start()
    try:
        for key, name in (("", "a.part"), ("not-the-key", "a.part"), (child.key, "../escaped.part"),
                          (child.key, str(tmp_path / "escaped.part"))):
            try:
                kvcache.slot_action(child.port, key, "save", name)
            except OSError as error:
                assert "40" in str(error)  # 401 without the key, 400 for a path
            else:
                raise AssertionError(f"saved {name!r} with key {key[:3]!r}")
        answer = kvcache.slot_action(child.port, child.key, "save", "a.part")
        assert answer["filename"] == "a.part" and (folder / "a.part").is_file()
        assert not list(tmp_path.glob("escaped*")) and not list(tmp_path.glob("kva*"))
    finally:
        child.stop()


def test_a_restored_cache_gives_only_the_common_prefix_of_the_new_prompt(tmp_path, tiny_gguf):
    """Restore the cache of prompt A, then send B, which shares only A's system message: llama.cpp
    reuses that shared start and reads all the rest of B; nothing of A's own end is used."""
    import json
    import urllib.request

    from game.llm import kvcache
    from game.llm.local_process import LocalModel

    system = {"role": "system", "content": " ".join(f"The lamp on pier {n} is lit at dusk." for n in range(40))}
    a = [system, {"role": "user", "content": "Tell me about the harbour master and her brass telescope."}]
    b = [system, {"role": "user", "content": "Walk to the far end of the pier."}]
    folder = tmp_path / "kv"
    folder.mkdir()

    def ask(child, messages) -> dict:
        body = json.dumps({"messages": messages, "max_tokens": 4, "temperature": 0}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{child.port}/v1/chat/completions", data=body,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {child.key}"})
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.loads(answer.read())["timings"]

    def child():
        made = LocalModel(tiny_gguf, n_ctx=2048, threads=1, options=("--slot-save-path", str(folder)))
        made.start()
        return made

    first = child()
    try:
        whole_a = ask(first, a)["prompt_n"]
        kvcache.slot_action(first.port, first.key, "save", "a.kv")
    finally:
        first.stop()
    second = child()
    try:
        assert kvcache.slot_action(second.port, second.key, "restore", "a.kv")["n_restored"] >= whole_a
        restored = ask(second, b)
    finally:
        second.stop()
    third = child()  # B cold, for its size
    try:
        cold = ask(third, b)
    finally:
        third.stop()
    assert cold["cache_n"] == 0
    assert restored["cache_n"] + restored["prompt_n"] == cold["prompt_n"]  # the same prompt, B, every token of it
    assert 0 < restored["cache_n"] < whole_a  # reused: the shared system message, not A's question
    assert restored["prompt_n"] > 0  # B's own question was read
