"""KPI memory_per_test: each dynamic test's peak memory, measured with memray.

Runs the suite under pytest-memray (every Python allocation traced, so small objects
count too) and reads each test's peak from its capture file. Memory is its own pass:
the runner selects this file with ``-m memory`` and never times it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import memray
import pytest

from benchmarks.conftest import ROOT, inject_options, suite_cmd
from framework.perf.harness import MEMRAY_DIR_ENV


@pytest.mark.memory
def test_memory_per_test(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Peak memory of every dynamic test (extra_info.memray.peaks, bytes per test id)."""
    bins = Path(os.environ.get(MEMRAY_DIR_ENV) or tmp_path / "memray")
    bins.mkdir(parents=True, exist_ok=True)
    for old in bins.glob("run-*.bin"):
        old.unlink()
    cmd = suite_cmd(
        "--memray",
        "--trace-python-allocators",
        f"--memray-bin-path={bins}",
        "--memray-bin-prefix=run",
        "--hide-memray-summary",
        *inject_options(),
    )
    # pytest-memray, loaded in this process too, exports MEMRAY_RESULT_PATH; a child that
    # inherits it takes itself for an xdist worker and names its captures at random.
    env = {k: v for k, v in os.environ.items() if k != "MEMRAY_RESULT_PATH"}
    finished = benchmark.pedantic(
        subprocess.run,
        args=(cmd,),
        kwargs={"capture_output": True, "cwd": ROOT, "env": env},
        rounds=1,
        iterations=1,
    )
    assert finished.returncode == 0, finished.stdout.decode()[-3000:]
    peaks = {
        path.name.removeprefix("run-").removesuffix(".bin"): int(memray.FileReader(str(path)).metadata.peak_memory)
        for path in sorted(bins.glob("run-*.bin"))
    }
    assert peaks, f"pytest-memray wrote no capture files to {bins}"
    # No "kpi" tag: the runner turns these peaks into memory_per_test rows per version.
    benchmark.extra_info["memray"] = {"peaks": peaks, "bins": str(bins)}
