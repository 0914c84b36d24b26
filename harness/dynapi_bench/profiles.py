"""Profiles of each KPI's code path: pyinstrument over the benchmarks themselves, and memray
flamegraphs of the heaviest tests of the memory pass.

The profiles run the very files the timing pass runs (``benchmarks/test_*.py``, the same
workloads and seeds), each in a process of its own under pyinstrument, since a profiler
hooks the interpreter and would distort any figure taken beside it. pytest-benchmark pauses
profilers while it measures, so there the ``benchmark`` fixture repeats each workload for a
while and measures nothing (``$DYNAPI_PROFILE_SECONDS``, :mod:`dynapi_bench.protocol`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dynapi_bench.errors import PassError
from dynapi_bench.measure import MemoryOutput, pytest_cmd, spawn
from dynapi_bench.plan import Plan, Side
from dynapi_bench.protocol import PROFILE_ENV

__all__ = ["PROFILED", "Profile", "flamegraphs", "profile_kpis"]

PROFILE_SECONDS = "0.1"  # per benchmark: enough samples at pyinstrument's 1 ms interval

# KPI -> the benchmark file whose workload its profile shows.
PROFILED = {
    "config_load": "test_config_load.py",
    "data_generation": "test_data_generation.py",
    "response_validation": "test_response_validation.py",
}


@dataclass(frozen=True)
class Profile:
    """One profile written: its path relative to the reports folder, and what it shows."""

    path: str
    shows: str


def _pyinstrument(side: Side, target: Path, *pytest_args: str) -> list[str]:
    # pyinstrument runs ``-m pytest ...`` itself: the module form of pytest_cmd.
    return [
        side.python,
        "-m",
        "pyinstrument",
        "-r",
        "html",
        "-o",
        str(target),
        *pytest_cmd(side.python, *pytest_args)[1:],
    ]


def profile_kpis(plan: Plan, side: Side, out: Path) -> list[Profile]:
    """``out/<kpi>.html`` for every profiled KPI and for ``test_execution`` (the suite); for a
    user's suite (``plan.suite``) only ``test_execution``, in the folder that suite runs in."""
    out.mkdir(parents=True, exist_ok=True)
    runs = {
        kpi: _pyinstrument(side, out / f"{kpi}.html", "-q", str(side.benchmarks / file), "--benchmark-disable")
        for kpi, file in (PROFILED.items() if plan.suite is None else ())
    }
    suite, cwd = plan.suite_run(side)
    runs["test_execution"] = _pyinstrument(side, out / "test_execution.html", "-q", *suite)
    if plan.shard is not None:  # a shard writes its share of the profiles
        runs = {kpi: runs[kpi] for kpi in plan.shard.profiled(list(runs))}
    for kpi, cmd in runs.items():
        log = plan.raw / f"profile-{kpi}.log"
        where = cwd if kpi == "test_execution" else side.root
        if spawn(cmd, log, env=side.environ(**{PROFILE_ENV: PROFILE_SECONDS}), cwd=where).returncode != 0:
            raise PassError(f"profiling {kpi} failed; see {log}")
    return [Profile(f"{out.name}/{kpi}.html", kpi) for kpi in runs]


def flamegraphs(side: Side, memory: MemoryOutput, out: Path, raw: Path, keep: int = 3) -> list[Profile]:
    """``out/memray-<n>.html`` for the ``keep`` heaviest tests of the memory pass."""
    for old in out.glob("memray-*.html"):
        old.unlink()
    heaviest = sorted(memory.tests.items(), key=lambda item: item[1]["peak_bytes"], reverse=True)[:keep]
    written = []
    for i, (test, record) in enumerate(heaviest, 1):
        target = out / f"memray-{i}.html"
        log = raw / f"flamegraph-{i}.log"
        cmd = [side.python, "-m", "memray", "flamegraph", "--force", "-o", str(target), str(record["capture"])]
        if spawn(cmd, log).returncode != 0:
            raise PassError(f"memray flamegraph of {test} failed; see {log}")
        written.append(Profile(f"{out.name}/{target.name}", test))
    return written
