"""Which llama.cpp runs the local model, and the one-line answers when this machine cannot run
the prebuilt: checked before any child starts, by the doctor and by the game alike."""
from __future__ import annotations

import os

import pytest

from game.cli import main
from game.llm import engines
from tests.local_model import seed_file
from tests.processes import model_children

XEON = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma f16c avx512f amx_tile\n\nprocessor\t: 1\nflags\t\t: fpu avx2\n"
OLD = "processor\t: 0\nflags\t\t: fpu sse2 sse4_2 avx\n"


def test_missing_cpu_features_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(XEON)
    assert engines.missing_cpu_features(cpuinfo, machine="x86_64") == []
    cpuinfo.write_text(OLD)
    assert engines.missing_cpu_features(cpuinfo, machine="x86_64") == ["AVX2", "FMA", "F16C"]
    assert engines.missing_cpu_features(cpuinfo, machine="aarch64") == []  # the x86 floor means nothing there
    assert engines.missing_cpu_features(tmp_path / "absent", machine="x86_64") == []


@pytest.fixture
def prebuilt_only(monkeypatch, tmp_path):
    """xllamacpp installed, llama-cpp-python not, and a demo model file to point at."""
    monkeypatch.setattr(engines, "installed", lambda engine: engine == engines.PREBUILT)
    gguf = tmp_path / "demo.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 16)
    monkeypatch.setattr("game.llm.local.bundled_gguf", lambda: gguf)


@pytest.mark.parametrize("lacking", ["cpu", "gomp"])
def test_a_machine_the_prebuilt_cannot_run_is_one_line_before_anything_starts(prebuilt_only, monkeypatch, capsys,
                                                                               tmp_path, lacking):
    if lacking == "cpu":
        monkeypatch.setattr(engines, "missing_cpu_features", lambda: ["AVX2", "FMA"])
        expected = "this CPU lacks AVX2, FMA, which the prebuilt llama.cpp (xllamacpp) needs; install the [local-source]"
    else:
        monkeypatch.setattr(engines, "has_gomp", lambda: False)
        expected = "the prebuilt llama.cpp (xllamacpp) needs the system's OpenMP runtime libgomp.so.1"

    assert main(["doctor", "--backend", "local"]) == 1
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("engine"))
    assert line.split(None, 1)[1].startswith(f"PROBLEM: {expected}")
    assert (lacking == "gomp") == ("apt-get install libgomp1" in line)
    assert not any(line.startswith("llama.cpp") for line in out.splitlines())  # no child was started
    assert not model_children(os.getpid())

    code = main(["write", "--backend", "local", "--story", str(seed_file(tmp_path)), "--slot", "s", "--steps", "1",
                 "--saves-dir", str(tmp_path / "saves")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err == f"recurrent: {line.split('PROBLEM: ', 1)[1]}"


def test_the_compiled_engine_stands_in_where_the_prebuilt_cannot_run(monkeypatch):
    monkeypatch.setattr(engines, "installed", lambda engine: True)
    monkeypatch.setattr(engines, "missing_cpu_features", lambda: ["AVX2"])
    assert engines.chosen() == (engines.COMPILED, None)
    monkeypatch.setattr(engines, "missing_cpu_features", lambda: [])
    assert engines.chosen() == (engines.PREBUILT, None)


def test_an_illegal_instruction_says_what_to_install_for_each_engine():
    import signal

    from game.llm.local_process import describe_exit

    prebuilt = describe_exit(-signal.SIGILL, engine=engines.PREBUILT)
    compiled = describe_exit(-signal.SIGILL, engine=engines.COMPILED, when="while loading")
    assert prebuilt.startswith("the local model crashed (illegal CPU instruction); this CPU lacks an instruction")
    assert "[local-source]" in prebuilt and "README" in prebuilt
    assert compiled.startswith("the local model crashed (illegal CPU instruction) while loading; llama.cpp was built "
                               "for another CPU: reinstall the [local-source] extra with the portable build")
    assert "README" in describe_exit(-signal.SIGILL)  # a child that chose its own engine
    assert all("\n" not in line for line in (prebuilt, compiled))
