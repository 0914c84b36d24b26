"""KPIs test_execution, suite_wall_time and suite_peak_rss: the dynamic suite, in-process.

One round runs the whole suite as a fresh pytest process with the recorder on: the
round's time is the suite's wall time; the recorder writes each test's setup + call +
teardown, outcome and API version and the process's peak RSS to its own JSON, in the
folder the harness names (``$DYNAPI_RECORD_DIR``), which the harness turns into rows.
The timing pass runs this file in every one of its processes, so the suite is timed
as often, taken in turn with the other benchmarks. Twice per process, each run its own
turn in ``--against``: one run a process left the suite's pairs too few to catch +10% in
the self-test (a 2-second run sees more of the machine's slow spells than a 50 ms
benchmark does). Both runs are tagged one row, ``test_suite``: the harness keeps each
run as a value of its own, in order.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.conftest import SUITE_CWD, inject_options, suite_cmd, tag
from benchmarks.inject import spin, time_factor
from dynapi_bench.protocol import RECORD_DIR_ENV, SUITE_FILE


@pytest.mark.slow  # whole suite runs: `run --shard` deals the slow benchmarks apart
@pytest.mark.parametrize("run", [1, 2], ids=["run1", "run2"])
def test_suite(benchmark, tmp_path: Path, run: int) -> None:  # type: ignore[no-untyped-def]
    """The dynamic suite, in-process, as a fresh pytest process (wall time per round)."""
    out = Path(os.environ.get(RECORD_DIR_ENV) or tmp_path) / SUITE_FILE.format(run=run)
    cmd = suite_cmd("--record-perf=time", f"--record-perf-json={out}", *inject_options())
    factor = time_factor()

    def suite() -> subprocess.CompletedProcess[bytes]:
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, cwd=SUITE_CWD, check=False)
        if factor and done.returncode == 0:
            # The self-test slowed each test inside (benchmarks/inject.py); slow the rest of the
            # process (start-up, collection) alike, so that the wall time grows by the factor too.
            tests = sum(t["duration_s"] for t in json.loads(out.read_text(encoding="utf-8"))["tests"].values())
            spin(factor * max(time.perf_counter() - start - tests, 0.0))
        return done

    # The plain fixture class: the injection is done inside suite(), not around it.
    finished = BenchmarkFixture.pedantic(benchmark, suite, rounds=1, iterations=1)
    assert finished.returncode == 0, finished.stdout.decode()[-3000:]
    tag(benchmark, "suite_wall_time", row="test_suite")
