"""What each test costs in CPU, not only in wall time: a pytest plugin.

    python -m pytest -p bench.testcpu
    python -c "from bench.testcpu import report; print(report())"

On 2 cores the suite's wall time can never fall below half the CPU it burns, and under other
work the wall time of one test says more about its neighbours than about itself. So each test's
CPU (its own process, and the children it waited for: the game run as a process, the model's
child, a browser) is appended to bench/testcpu.jsonl, one line a test, by every xdist worker;
`report()` sums it by file and lists the costliest tests (bench/tests.md quotes it).
"""
from __future__ import annotations

import json
import os
import resource
import time
from collections import Counter
from pathlib import Path

import pytest

OUT = Path(os.environ.get("RECURRENT_TESTCPU", Path(__file__).with_name("testcpu.jsonl")))


def _cpu() -> tuple[float, float]:
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, waited.ru_utime + waited.ru_stime


def pytest_sessionstart(session) -> None:
    if not hasattr(session.config, "workerinput"):  # the controller (or the only process) starts afresh
        OUT.unlink(missing_ok=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    (own, waited), started = _cpu(), time.monotonic()
    yield
    own_after, waited_after = _cpu()
    row = {"test": item.nodeid, "own": round(own_after - own, 3), "children": round(waited_after - waited, 3),
           "wall": round(time.monotonic() - started, 3)}
    with OUT.open("a", encoding="utf-8") as out:  # one short line a write: the workers' lines never mix
        out.write(json.dumps(row) + "\n")


def report(path: Path = OUT, top: int = 20) -> str:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    cpu = {row["test"]: row["own"] + row["children"] for row in rows}
    by_file = Counter()
    for test, seconds in cpu.items():
        by_file[test.split("::")[0]] += seconds
    lines = [f"{len(rows)} tests, {sum(cpu.values()):.0f} s of CPU "
             f"({sum(r['own'] for r in rows):.0f} s in pytest's processes, {sum(r['children'] for r in rows):.0f} s in their children)",
             "", "| file | CPU s |", "| --- | --- |"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in by_file.most_common(top)]
    lines += ["", "| test | CPU s | wall s |", "| --- | --- | --- |"]
    walls = {row["test"]: row["wall"] for row in rows}
    lines += [f"| {test} | {seconds:.1f} | {walls[test]:.1f} |" for test, seconds in Counter(cpu).most_common(top)]
    return "\n".join(lines)
