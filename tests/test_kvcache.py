"""The folder of saved KV caches (game/llm/kvcache.py): what it accepts, what it refuses and
deletes, its cap; and a game killed while it saves its cache keeps every acknowledged step."""
from __future__ import annotations

import pytest

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from game.core.paths import CHECKOUT, forget_kv, kv_cache_dir, kv_slot_key
from game.llm.kvcache import KvFolder, common, prefix_hashes
from tests.local_model import needs_llama, seed_file

pytestmark = pytest.mark.slow  # seconds a test: a real model, processes, a browser (pytest -m 'not slow' leaves them out)

STORY = [{"role": "system", "content": "You are the narrator."}, {"role": "user", "content": "Begin."},
         {"role": "assistant", "content": "You stand at the edge of the forest."},
         {"role": "user", "content": "Walk in."}]


def _written(folder: KvFolder, key: str, size: int = 1000, model: str = "model-a", messages=STORY) -> None:
    """A cache as the server leaves it (`<key>.part`), then committed."""
    folder.root.mkdir(parents=True, exist_ok=True)
    folder.path(key, ".part").write_bytes(os.urandom(size))
    folder.commit(key, model, messages, tokens=size // 10)


def test_a_cache_is_used_only_by_its_model_whole_and_for_the_same_story(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="recurrent.kvcache")
    folder = KvFolder(tmp_path / "kv", cap=1 << 20)
    _written(folder, "a")
    assert not folder.path("a", ".part").exists()
    later = [*STORY, {"role": "assistant", "content": "Trees."}, {"role": "user", "content": "Listen."}]
    assert folder.check("a", "model-a", later) is not None  # the next step's request begins with it
    assert folder.check("a", "model-a", STORY[:2] + [{"role": "user", "content": "an undo"}]) is not None

    assert folder.check("a", "model-b", later) is None  # another model: refused and deleted
    assert "another model" in caplog.text and not list(folder.root.iterdir())

    _written(folder, "a")
    data = folder.path("a", ".kv")
    raw = bytearray(data.read_bytes())
    raw[10] ^= 0x40
    data.write_bytes(bytes(raw))
    assert folder.check("a", "model-a", later) is None
    assert "damaged" in caplog.text and not list(folder.root.iterdir())

    _written(folder, "a")
    edited = [{"role": "system", "content": "You are the narrator. Never forget: the ring."}, *STORY[1:]]
    assert folder.check("a", "model-a", edited) is None  # an edited pin changes the first message
    assert "another prompt" in caplog.text and not list(folder.root.iterdir())

    _written(folder, "a")
    folder.path("a", ".json").write_text("{not json", encoding="utf-8")
    assert folder.check("a", "model-a", later) is None and not list(folder.root.iterdir())


def test_common_prefix_counts_leading_messages_only():
    assert common(prefix_hashes(STORY), STORY) == 4
    assert common(prefix_hashes(STORY), STORY[:2]) == 2
    assert common(prefix_hashes(STORY), [STORY[0], {"role": "user", "content": "Begin!"}]) == 1
    assert common(prefix_hashes(STORY), [{"role": "user", "content": STORY[0]["content"]}]) == 0  # roles count


def test_the_folder_stays_under_its_cap_across_twenty_slots_least_recently_used_first(tmp_path):
    probe = KvFolder(tmp_path / "probe", cap=1 << 20)
    _written(probe, "slot00")
    cap = 5 * probe.size() + 100  # room for five caches
    folder = KvFolder(tmp_path / "kv", cap=cap)
    for number in range(20):
        _written(folder, f"slot{number:02d}")
        os.utime(folder.path(f"slot{number:02d}", ".kv"), (1000 + number, 1000 + number))
        os.utime(folder.path(f"slot{number:02d}", ".json"), (1000 + number, 1000 + number))
        assert folder.size() <= cap
    kept = set(folder.entries())
    assert kept == {f"slot{n:02d}" for n in range(15, 20)}  # the newest five
    # A cache used again is the last to go.
    assert folder.check("slot15", "model-a", STORY) is not None
    _written(folder, "slot20")
    assert "slot15" in folder.entries() and folder.size() <= cap
    # One file larger than the whole cap is not kept at all.
    _written(folder, "huge", size=cap + 1)
    assert "huge" not in folder.entries()


def test_the_cache_folder_is_the_xdg_cache_and_saves_delete_forgets_a_slot(tmp_path, monkeypatch):
    monkeypatch.delenv("RECURRENT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert kv_cache_dir() == tmp_path / "xdg" / "recurrent" / "kv"
    saves = tmp_path / "saves"
    key = kv_slot_key(saves, "well")
    assert key != kv_slot_key(saves, "well2") and key != kv_slot_key(tmp_path / "other", "well")
    folder = KvFolder(kv_cache_dir(), cap=1 << 20)
    _written(folder, key)
    _written(folder, kv_slot_key(saves, "well2"))
    forget_kv(saves, "well")
    assert set(folder.entries()) == {kv_slot_key(saves, "well2")}


def test_doctor_names_the_cache_folder_and_its_size(tmp_path, capsys):
    from game.cli.doctor import Report, _check_paths

    folder = KvFolder(kv_cache_dir(), cap=1 << 20)
    _written(folder, "a", size=4096)
    report = Report()
    _check_paths(report)
    line = dict(report.lines)["cache"]
    assert str(kv_cache_dir()) in line and "KiB" in line


# -- killed while saving -----------------------------------------------------------------------
DRIVER = textwrap.dedent('''
    import asyncio, sys, threading
    from pathlib import Path
    from game.core.settings import load_settings
    from game.llm import kvcache
    from game.llm.local import LocalBackend
    from game.session import Game, Model

    def hold():  # the server has written the cache; the rename has not happened
        print("saving", flush=True)
        threading.Event().wait()

    kvcache.before_commit = hold

    async def main():
        backend = LocalBackend(gguf=sys.argv[2], threads=1, n_ctx=2048)
        settings = load_settings(memory_words=50)
        game = await Game.open(settings, Path(sys.argv[1]), "well", model=Model(settings, backend))
        # One step of the model is enough: the save it leads to is the one killed. (It told two,
        # which proved nothing more for another step of the model's CPU.)
        step = await game.tell("Walk into the forest.")
        print(f"told {step.number} {int(step.version.chapter)}", flush=True)  # acknowledged: in the journal
        await game.close()

    asyncio.run(main())
''')


def _killed_while_saving(driver: str, saves: Path, gguf: Path) -> tuple[int, list[tuple[int, bool]]]:
    """Run `driver` on `saves` with the model file `gguf` (the tiny one of tests/tiny_model.py: the
    kill is the point, not what is said) and SIGKILL it as it says "saving": (its return code, the
    steps it said were told, each with whether it closed a chapter)."""
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}
    game = subprocess.Popen([sys.executable, "-c", driver, str(saves), str(gguf)], stdout=subprocess.PIPE, env=env,
                            text=True)
    told = []
    try:
        for line in game.stdout:
            if line.startswith("told"):
                _word, number, chapter = line.split()
                told.append((int(number), chapter == "1"))
            if line.strip() == "saving":
                game.send_signal(signal.SIGKILL)
                break
    finally:
        game.kill()
        game.wait()
    return game.returncode, told


@needs_llama
def test_every_acknowledged_step_is_kept_when_the_game_is_killed_while_saving_its_cache(tmp_path, tiny_gguf):
    from game.core.models import Preferences
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    saves = tmp_path / "saves"
    Slot.create(saves, "well", load_seed(seed_file(tmp_path)).filled(), Preferences(paragraph_words=40)).close()
    returncode, told = _killed_while_saving(DRIVER, saves, tiny_gguf)
    assert returncode == -signal.SIGKILL and [number for number, _chapter in told] == [1]
    with Slot.open(saves, "well") as slot:
        assert [step.number for step in slot.story.steps] == [0, 1]
    key = kv_slot_key(saves, "well")
    folder = KvFolder(kv_cache_dir(), cap=1 << 30)
    assert folder.path(key, ".part").exists() and not folder.path(key, ".kv").exists()
    assert folder.check(key, "any", [{"role": "system", "content": "x"}]) is None  # the half save is dropped
    assert not list(folder.root.iterdir())
    assert not [p for p in saves.rglob("*") if p.suffix in (".kv", ".part")]


CHAPTER_DRIVER = textwrap.dedent('''
    import asyncio, sys, threading
    from pathlib import Path
    from game.core.settings import load_settings
    from game.llm import kvcache
    from game.llm.local import LocalBackend
    from game.session import Game, Model
    from bench.instant import InstantBackend

    def hold():  # a chapter's save: the server has written the cache; the rename has not happened
        print("saving", flush=True)
        threading.Event().wait()

    kvcache.before_commit = hold

    async def main():
        # A scripted model with long paragraphs tells steps until one closes a chapter...
        settings = load_settings(memory_words=50, prompt_tokens=800)
        script = InstantBackend(lambda n: f"Stone {n} is wet. " + "The river runs on past the reeds. " * 60)
        game = await Game.open(settings, Path(sys.argv[1]), "well", model=Model(settings, script))
        while not game.story.steps or not game.story.steps[-1].version.chapter:
            step = await game.tell("Walk on.")
            print(f"told {step.number} {int(step.version.chapter)}", flush=True)
        await game.close()
        # ...then the local model tells the next: the first of a new chapter, whose cache is saved.
        local = LocalBackend(gguf=sys.argv[2], threads=1, n_ctx=2048)
        game = await Game.open(settings, Path(sys.argv[1]), "well", model=Model(settings, local))
        step = await game.tell("Walk on to the last stone.")
        print(f"told {step.number} {int(step.version.chapter)}", flush=True)
        await game.close()
        print("closed", flush=True)

    asyncio.run(main())
''')


@needs_llama
def test_every_acknowledged_step_is_kept_when_the_game_is_killed_while_a_chapter_saves_its_cache(tmp_path, tiny_gguf):
    """The save as a chapter begins runs behind the story, while the player reads: killed there,
    the game has lost nothing, and the half-written cache is dropped when the story opens."""
    from game.core.models import Preferences
    from game.saves.slot import Slot
    from game.stories.loader import load_seed

    saves = tmp_path / "saves"
    Slot.create(saves, "well", load_seed(seed_file(tmp_path)).filled(), Preferences(paragraph_words=40)).close()
    returncode, steps = _killed_while_saving(CHAPTER_DRIVER, saves, tiny_gguf)
    told, closed = [number for number, _c in steps], [number for number, chapter in steps if chapter]
    assert returncode == -signal.SIGKILL, told
    assert closed == [told[-2]], told  # the save began as the step after the close was told
    with Slot.open(saves, "well") as slot:
        assert [step.number for step in slot.story.steps] == [0, *told]
    key = kv_slot_key(saves, "well")
    folder = KvFolder(kv_cache_dir(), cap=1 << 30)
    assert folder.path(key, ".part").exists() and not folder.path(key, ".kv").exists()
    assert folder.check(key, "any", [{"role": "system", "content": "x"}]) is None  # the half save is dropped
    assert not list(folder.root.iterdir())


# -- the prompt's budget where the server keeps the story's cache -------------------------------
class _Window:
    """A backend that only says its window (and, when `keeps`, that it keeps its cache)."""

    def __init__(self, keeps: bool) -> None:
        self.keeps_cache = keeps
        self.token_scale = 1.0

    async def context_window(self) -> int:
        return 8192


def test_a_ceiling_the_player_did_not_set_is_the_whole_window_where_the_server_keeps_its_cache(tmp_path, monkeypatch):
    import asyncio

    from game.core.models import Preferences
    from game.core.settings import load_settings
    from game.engine.narrator import EngineSettings, Narrator
    from game.saves.slot import Slot
    from game.session import engine_settings
    from game.stories.loader import load_seed

    assert engine_settings(load_settings()).prompt_tokens is None
    assert engine_settings(load_settings(prompt_tokens=3000)).prompt_tokens == 3000
    monkeypatch.setenv("RECURRENT_PROMPT_TOKENS", "2500")
    assert engine_settings(load_settings()).prompt_tokens == 2500

    slot = Slot.create(tmp_path / "saves", "well", load_seed(seed_file(tmp_path)).filled(), Preferences())
    try:
        def total(keeps: bool, ceiling) -> int:
            narrator = Narrator(slot, _Window(keeps), EngineSettings(prompt_tokens=ceiling))
            return asyncio.run(narrator.budget()).total

        paragraph, notes = Narrator(slot, None)._reply_tokens()
        assert total(True, None) == 8192 - paragraph - notes - 200  # the local model: its window
        assert total(False, None) == 3000  # a server that keeps no cache of it (or bills each token)
        assert total(True, 3000) == 3000  # the player's own ceiling holds
    finally:
        slot.close()


@needs_llama
def test_a_cache_folder_inside_the_saves_folder_is_not_used(tmp_path):
    from game.llm.local import LocalBackend

    saves = tmp_path / "saves"
    backend = LocalBackend(engine="xllamacpp", kv_dir=saves / "cache")
    backend.open_story(saves, "well")
    assert backend.kv is None
    other = LocalBackend(engine="xllamacpp")
    other.open_story(saves, "well")
    assert other.kv is not None and other.kv.folder.root == kv_cache_dir()
