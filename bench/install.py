"""A regular install, checked as a new player would meet it: `pip install .` of a fresh clone
into a fresh venv (without the [local] extra, whose llama.cpp build takes minutes), then,
from another folder with an empty home:

- `recurrent stories list` lists the whole library;
- `recurrent write --story <a library story's name>` writes 3 steps against the stand-in;
- the save is under $XDG_DATA_HOME/recurrent/saves, the debug log under $XDG_STATE_HOME;
- the API key (a canary) is in no file; `--help` names the environment; `doctor` the models.

Run: python bench/install.py   (writes the "Install" section of bench/RESULTS.md; needs PyPI)
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from results import machine, write_section  # noqa: E402

from tests.standin import StandIn  # noqa: E402

STORY = "night-ferry-to-kestrel"


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, StandIn() as server:
        work = Path(folder)
        run(["git", "clone", "-q", str(ROOT), str(work / "clone")])
        run([sys.executable, "-m", "venv", str(work / "venv")])
        started = time.perf_counter()
        run([str(work / "venv" / "bin" / "pip"), "install", "-q", str(work / "clone")])
        installed = time.perf_counter() - started
        recurrent = str(work / "venv" / "bin" / "recurrent")
        home, away = work / "home", work / "elsewhere"
        home.mkdir()
        away.mkdir()
        key = f"sk-canary-{secrets.token_hex(12)}"
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENAI_BASE_URL": server.url,
               "OPENAI_API_KEY": key, "RECURRENT_MODEL": "standin"}
        listed = run([recurrent, "stories", "list"], env=env, cwd=away).stdout.splitlines()
        names = [line.split()[0] for line in listed[1:] if line and not line.startswith(("*", "start"))]
        library = sorted(p.stem for p in (ROOT / "stories").glob("*.toml"))
        assert names == library, names
        written = run([recurrent, "write", "--story", STORY, "--slot", "ferry", "--steps", "3"], env=env, cwd=away)
        assert "wrote 3 steps to slot ferry" in written.stderr, written.stderr
        save = home / ".local" / "share" / "recurrent" / "saves" / "ferry" / "journal.jsonl"
        log = home / ".local" / "state" / "recurrent" / "recurrent.log"
        assert save.is_file() and log.is_file()
        helped = run([recurrent, "--help"], env=env, cwd=away).stdout
        assert "OPENAI_BASE_URL" in helped and "RECURRENT_MODEL" in helped
        doctor = run([recurrent, "doctor", "--no-call"], env=env, cwd=away).stdout
        assert "models     1 on the server: standin (chosen)" in doctor, doctor
        files = [p for p in work.rglob("*") if p.is_file() and "venv" not in p.parts and "clone" not in p.parts]
        leaked = [str(p) for p in files if key.encode() in p.read_bytes()]
        assert leaked == [] and key in server.api_keys
        site = next((work / "venv" / "lib").glob("python*/site-packages"))
        shipped = sorted(p.stem for p in (site / "game" / "library").glob("*.toml"))
    body = f"""Machine: {machine()}. `python bench/install.py`: a fresh clone, `pip install .` into a fresh venv (no [local] extra) in {installed:.0f} s, then from another folder with an empty home:

| check | result |
| --- | --- |
| the library in the wheel (`site-packages/game/library`) | {len(shipped)} stories |
| `recurrent stories list` | all {len(names)} listed |
| `recurrent write --story {STORY} --slot ferry --steps 3` against the stand-in | 3 steps written |
| the save | `$XDG_DATA_HOME/recurrent/saves/ferry` (here `~/.local/share/...`) |
| the debug log | `$XDG_STATE_HOME/recurrent/recurrent.log`, holding the requests |
| a canary API key in any file written ({len(files)} files) | none |
| `recurrent --help` | names OPENAI_BASE_URL and RECURRENT_MODEL |
| `recurrent doctor` | lists the server's models |"""
    write_section("Install", body)


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    main()
