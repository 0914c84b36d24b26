"""KPIs test_execution, suite_wall_time and suite_peak_rss: the dynamic suite, in-process.

One round runs the whole suite as a fresh pytest process with the recorder on: the
round's time is the suite's wall time; the recorder gives each test's setup + call +
teardown and the process's peak RSS, which the runner turns into per-version rows.
The timing pass runs this file in every one of its processes, so the suite is timed
as often, taken in turn with the other benchmarks.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from benchmarks.conftest import ROOT, suite_cmd, tag


def test_suite(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The dynamic suite, in-process, as a fresh pytest process (wall time per round)."""
    out = tmp_path / "perf.json"
    cmd = suite_cmd("--record-perf=time", f"--record-perf-json={out}")
    finished = benchmark.pedantic(
        subprocess.run, args=(cmd,), kwargs={"capture_output": True, "cwd": ROOT}, rounds=1, iterations=1
    )
    assert finished.returncode == 0, finished.stdout.decode()[-3000:]
    tag(benchmark, "suite_wall_time", recorded=json.loads(out.read_text(encoding="utf-8")))
