"""Installs, checked as a new player would meet them, from a fresh clone with every package
cache off and no pip configuration from this machine (no constraint, no extra index).

- `readme`: the README's first command, verbatim but for its last part (starting the TUI):
  a venv, uv from PyPI, `uv sync --locked` from uv.lock with the [local] extra. Timed.
- `newest`: `pip install .` with no lock and no extras, as `pip install recurrent` would: the
  newest versions pyproject allows. This is what sees a breaking release on the day it comes
  out; when it fails, the versions it got are printed (answer with code that works with that
  release, or a tighter upper bound in pyproject, never silence).

Then, from another folder with an empty home, against the stand-in server:
- `recurrent stories list` lists the whole library;
- `recurrent write --story <a library story> --steps 3` keeps 3 steps;
- the save is under $XDG_DATA_HOME/recurrent/saves, the debug log under $XDG_STATE_HOME;
- the API key (a canary) is in no file; `--help` names the environment; `doctor` the models.

Run: python bench/install.py readme|newest [--check]
(writes the "Install: ..." section of bench/RESULTS.md; --check writes nothing: CI runs
`newest --check`). Needs PyPI.
"""
from __future__ import annotations

import argparse
import os
import re
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
LAUNCH = " && .venv/bin/recurrent"  # the end of the README's first command: the TUI, not for a script
# No cache of pip's or uv's, and none of this machine's pip configuration (a constraint file, extra
# indexes): what a fresh machine gets from PyPI.
CLEAN = {"PIP_NO_CACHE_DIR": "1", "UV_NO_CACHE": "1", "PIP_CONFIG_FILE": os.devnull}
PASSED_ON = ("HOME", "PATH", "LANG", "SSL_CERT_FILE", "PIP_CERT", "TMPDIR")


class Failed(SystemExit):
    pass


def run(command: list[str] | str, venv: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, shell=isinstance(command, str), **kwargs)
    if done.returncode != 0:
        shown = command if isinstance(command, str) else " ".join(command)
        versions = ""
        if venv is not None:  # what the install got, so a breaking release is named at once
            freeze = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "freeze"], capture_output=True, text=True)
            versions = "\nversions installed:\n" + (freeze.stdout or freeze.stderr)
        raise Failed(f"{shown} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}{versions}")
    return done


def readme_command() -> str:
    """The README's first command (the first fenced block), without starting the TUI."""
    block = re.search(r"```\n(.*?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    command = block.group(1).strip()
    assert command.endswith(LAUNCH), f"the README's first command should end by starting the game: {command}"
    return command[: -len(LAUNCH)]


def install(kind: str, clone: Path, env: dict) -> tuple[Path, float, str]:
    """(the venv, seconds taken, what was run)"""
    started = time.perf_counter()
    if kind == "readme":
        command = readme_command()
        run(command, cwd=clone, env=env, venv=clone / ".venv")
        venv = clone / ".venv"
    else:
        venv = clone.parent / "venv"
        run([sys.executable, "-m", "venv", str(venv)], env=env)
        command = f"{venv}/bin/pip install -q ."
        run(command, cwd=clone, env=env, venv=venv)
    return venv, time.perf_counter() - started, command


def play(venv: Path, work: Path, server: StandIn, saves: Path | None) -> tuple[list[str], int]:
    """The checks a new player meets; (the stories listed, files searched for the key). `saves`:
    where the save must be (a checkout keeps its own saves/ folder), else the XDG data folder."""
    recurrent = str(venv / "bin" / "recurrent")
    home, away = work / "home", work / "elsewhere"
    home.mkdir()
    away.mkdir()
    key = f"sk-canary-{secrets.token_hex(12)}"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENAI_BASE_URL": server.url,
           "OPENAI_API_KEY": key, "RECURRENT_MODEL": "standin"}
    listed = run([recurrent, "stories", "list"], env=env, cwd=away, venv=venv).stdout.splitlines()
    names = [line.split()[0] for line in listed[1:] if line and not line.startswith(("*", "start"))]
    library = sorted(p.stem for p in (ROOT / "stories").glob("*.toml"))
    if names != library:
        raise Failed(f"stories list gave {names}, the library holds {library}")
    written = run([recurrent, "write", "--story", STORY, "--slot", "ferry", "--steps", "3"], env=env, cwd=away, venv=venv)
    if "wrote 3 steps to slot ferry" not in written.stderr:
        raise Failed(f"write did not keep 3 steps:\n{written.stderr[-3000:]}")
    save = (saves or home / ".local" / "share" / "recurrent" / "saves") / "ferry" / "journal.jsonl"
    log = home / ".local" / "state" / "recurrent" / "recurrent.log"
    if not (save.is_file() and log.is_file()):
        raise Failed(f"no save at {save} or no log at {log}")
    helped = run([recurrent, "--help"], env=env, cwd=away, venv=venv).stdout
    if not ("OPENAI_BASE_URL" in helped and "RECURRENT_MODEL" in helped):
        raise Failed("--help does not name OPENAI_BASE_URL and RECURRENT_MODEL")
    doctor = run([recurrent, "doctor", "--no-call"], env=env, cwd=away, venv=venv).stdout
    if "models     1 on the server: standin (chosen)" not in doctor:
        raise Failed(f"doctor did not list the server's model:\n{doctor}")
    files = [p for p in [*home.rglob("*"), *away.rglob("*"), *(saves.rglob("*") if saves else [])] if p.is_file()]
    leaked = [str(p) for p in files if key.encode() in p.read_bytes()]
    if leaked or key not in server.api_keys:
        raise Failed(f"the API key was written to {leaked}" if leaked else "the key never reached the server")
    return names, len(files)


def versions(venv: Path, names: tuple[str, ...] = ("openai", "httpx2", "chromadb", "textual", "pydantic")) -> str:
    code = ("from importlib import metadata as m\nfor n in %r:\n    try: print(n, m.version(n))\n"
            "    except m.PackageNotFoundError: pass" % (names,))
    return ", ".join(run([str(venv / "bin" / "python"), "-c", code]).stdout.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=("readme", "newest"))
    parser.add_argument("--check", action="store_true", help="check only; write nothing to bench/RESULTS.md")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k in PASSED_ON} | CLEAN
    with tempfile.TemporaryDirectory() as folder, StandIn() as server:
        work = Path(folder)
        clone = work / "clone"
        run(["git", "clone", "-q", str(ROOT), str(clone)])
        venv, seconds, command = install(args.kind, clone, env)
        got = versions(venv)
        print(f"{args.kind}: installed in {seconds:.0f} s ({got})", flush=True)
        try:
            names, searched = play(venv, work, server, clone / "saves" if args.kind == "readme" else None)
        except Failed as failure:
            raise Failed(f"{failure}\nversions: {got}") from None
        commit = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).stdout.strip()
    print(f"{args.kind}: installed in {seconds:.0f} s ({got}); 3 steps kept, {len(names)} stories, no key in {searched} files")
    if args.check:
        return
    what = ("the README's first command (the lock, the [local] extra), but for starting the TUI"
            if args.kind == "readme" else "`pip install .` with no lock and no extras: the newest versions pyproject allows")
    body = f"""Machine: {machine()}, commit {commit}. `python bench/install.py {args.kind}`: a fresh clone, every
package cache off and no pip configuration of this machine's; {what}:

    {command}

installed in **{seconds:.0f} s** ({got}). Then, from another folder with an empty home:

| check | result |
| --- | --- |
| `recurrent stories list` | all {len(names)} listed |
| `recurrent write --story {STORY} --slot ferry --steps 3` against the stand-in | 3 steps kept |
| the save and the debug log | in {'the checkout' + "'" + 's `saves/ferry`' if args.kind == 'readme' else '`$XDG_DATA_HOME/recurrent/saves/ferry`'} and `$XDG_STATE_HOME/recurrent/` |
| a canary API key in any file written ({searched} files) | none |
| `recurrent --help`, `recurrent doctor` | name the environment; list the server's models |"""
    write_section(f"Install: {args.kind}", body)


if __name__ == "__main__":
    os.environ.pop("PYTHONPATH", None)
    main()
