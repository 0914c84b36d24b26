"""KPIs test_execution, suite_wall_time and suite_peak_rss: the dynamic suite, in-process.

One round runs the whole suite as a fresh pytest process with the recorder on: the
round's time is the suite's wall time; the recorder gives each test's setup + call +
teardown and the process's peak RSS, which the runner turns into per-version rows.
The timing pass runs this file in every one of its processes, so the suite is timed
as often, taken in turn with the other benchmarks. Twice per process, each run its own
turn in ``--against``: one run a process left the suite's pairs too few to catch +10% in
the self-test (a 2-second run sees more of the machine's slow spells than a 50 ms
benchmark does). The runner pools both runs into one row per KPI.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.conftest import ROOT, inject_options, suite_cmd, tag
from benchmarks.inject import spin, time_factor


@pytest.mark.parametrize("run", [1, 2], ids=["run1", "run2"])
def test_suite(benchmark, tmp_path: Path, run: int) -> None:  # type: ignore[no-untyped-def]
    """The dynamic suite, in-process, as a fresh pytest process (wall time per round)."""
    out = tmp_path / "perf.json"
    cmd = suite_cmd("--record-perf=time", f"--record-perf-json={out}", *inject_options())
    factor = time_factor()

    def run() -> subprocess.CompletedProcess[bytes]:
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, cwd=ROOT, check=False)
        if factor and done.returncode == 0:
            # The self-test slowed each test inside (benchmarks/inject.py); slow the rest of the
            # process (start-up, collection) alike, so that the wall time grows by the factor too.
            tests = sum(t["duration_s"] for t in json.loads(out.read_text(encoding="utf-8"))["tests"])
            spin(factor * max(time.perf_counter() - start - tests, 0.0))
        return done

    # The plain fixture class: the injection is done inside run(), not around it.
    finished = BenchmarkFixture.pedantic(benchmark, run, rounds=1, iterations=1)
    assert finished.returncode == 0, finished.stdout.decode()[-3000:]
    tag(benchmark, "suite_wall_time", recorded=json.loads(out.read_text(encoding="utf-8")))
