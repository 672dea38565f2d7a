"""Benches that cannot rot: every script in bench/ runs at its smoke size (`--quick`: seconds, its
figures checked as numbers by bench/results.quick_check, nothing written to RESULTS.md), and every
helper module of bench/ still imports."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"

# Scripts the smoke test cannot run here, and why. Anything else with a `__main__` must take --quick.
NOT_RUN = {
    "cache.py": "minutes of the bundled model on three kinds of llama.cpp server; its servers start in tests/test_llama_server.py",
    "local_build.py": "builds llama.cpp from source, 7-12 minutes a build; run by hand",
    "local_model.py": "minutes of the bundled model; tests/test_local.py plays it for two steps",
    "offline.py": "minutes of the bundled model in a network namespace; tests/test_local.py plays it for two steps",
    "install.py": "pip-installs a fresh clone, which needs PyPI; .ci/run runs `install.py newest --check`",
    "kvcache.py": "its --quick works but takes 75 s (three starts of the bundled model); tests/test_kvcache_local.py reopens a story with its cache",
    "engines.py": "compares with llama-cpp-python compiled in a venv of its own (7-12 minutes to build); run by hand",
    "soak.py": "its soak (10 kills) and the section it writes run in tests/test_crash.py",
}


def _has_llama_cpp_server() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


NEEDS = {"tokens.py": (_has_llama_cpp_server, "needs llama-cpp-python's server (the [local-source] extra)")}

SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if "__main__" in p.read_text(encoding="utf-8"))
HELPERS = sorted(p.name for p in BENCH.glob("*.py") if p.name not in SCRIPTS)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_bench_runs_at_its_smoke_size(script):
    if script in NOT_RUN:
        pytest.skip(NOT_RUN[script])
    if script in NEEDS and not NEEDS[script][0]():
        pytest.skip(NEEDS[script][1])
    results = BENCH / "RESULTS.md"
    before = _digest(results)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(BENCH / script), "--quick"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{script} --quick failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "quick run:" in done.stdout, done.stdout[-2000:]  # quick_check ran: its figures were numbers
    assert _digest(results) == before, f"{script} --quick wrote to bench/RESULTS.md"


@pytest.mark.parametrize("module", HELPERS)
def test_bench_helper_imports(module):
    """The helpers (the instant model, storygen, languages, the old layout, ...) import cleanly,
    so a rename in the game breaks here and not months later in a bench."""
    imported = importlib.import_module(f"bench.{module[:-3]}")
    assert imported.__doc__, f"bench/{module} says nothing of what it is for"


def test_every_script_is_run_or_says_why_not():
    """A new bench script joins the smoke test at once; a reason to skip one names a script that exists."""
    assert set(NOT_RUN) <= set(SCRIPTS) and set(NEEDS) <= set(SCRIPTS)
    for script in set(SCRIPTS) - set(NOT_RUN):
        assert "--quick" in (BENCH / script).read_text(encoding="utf-8"), f"bench/{script} has no --quick"
