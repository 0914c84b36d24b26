"""Start the measuring processes of a :class:`~dynapi_bench.plan.Plan` and read what they wrote.

Timing: every side's ``benchmarks/`` but the memory file, in fresh pytest processes taken
in turn (lockstep), each leaving pytest-benchmark's JSON and, for each run of the dynamic
suite, the recorder's JSON (``$DYNAPI_RECORD_DIR``). Memory: ``benchmarks/`` ``-m memory``
alone, leaving ``memory.json``. Counts: the CPU-bound benchmark files, and a slice of the
suite, each in one process under callgrind (:mod:`dynapi_bench.counts`), and the start-up
comparison's two pytest processes, each whole under cachegrind. A user's suite
(``Plan.suite``) goes through the same files: the suite's timing benchmark and the memory pass
run it instead of ``tests/integration`` (``$DYNAPI_SUITE``), and it is counted whole. Nothing
here judges or pools: :mod:`dynapi_bench.collect` does.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dynapi_bench import children
from dynapi_bench.counts import count_prefix, count_rows, whole_prefix
from dynapi_bench.errors import PassError
from dynapi_bench.lockstep import Finished, Launch, run_in_lockstep
from dynapi_bench.plan import Plan, Side
from dynapi_bench.protocol import (
    CONTENDER_FILE,
    COUNT_ENV,
    COUNT_SLICE_ENV,
    MEMORY_FILE,
    RECORD_DIR_ENV,
    STARTUP_COUNT_ENV,
    SUITE_FILE,
    WARM_DIR_ENV,
)
from dynapi_bench.results import Row

__all__ = [
    "COUNTED_FILES",
    "STARTUP_FILE",
    "MemoryOutput",
    "ProcessOutput",
    "count_startup",
    "measure_memory",
    "measure_timing",
    "pytest_cmd",
    "spawn",
]

COUNT_SEED = 20261127  # the suite's factory seed when counted (the benchmarks' factory has its own, the same)
# The benchmark files counted under callgrind (the CPU-bound KPIs); the suite is counted apart.
COUNTED_FILES = ("test_config_load.py", "test_data_generation.py", "test_response_validation.py")
STARTUP_FILE = "test_contenders.py"  # its test_session_startup counts the start-up comparison


@dataclass(frozen=True)
class ProcessOutput:
    """What one timing process wrote: pytest-benchmark's JSON, and the suite's recordings in run order."""

    benchmark_json: dict[str, Any]
    suite_runs: tuple[dict[str, Any], ...]
    contenders: tuple[dict[str, Any], ...] = ()  # benchmarks/test_contenders.py's same-run comparisons


@dataclass(frozen=True)
class MemoryOutput:
    """What the memory pass wrote: per node id, its API version, peak bytes and capture file."""

    tests: dict[str, dict[str, Any]]


def pytest_cmd(python: str, *args: str) -> list[str]:
    """``python -m pytest`` without the cache, so runs stay independent: the one pytest command."""
    return [python, "-m", "pytest", "-p", "no:cacheprovider", *args]


def spawn(cmd: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Finished:
    """Run a process that measures nothing itself (profiles, flamegraphs, the memory pass)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = children.popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        usage = children.wait4(proc)  # reaped here, for the peak RSS; Popen is told the exit code
    return Finished(proc.returncode, time.perf_counter() - start, usage.ru_maxrss * 1024)


def _fresh(folder: Path) -> Path:
    """An empty folder: nothing an earlier run left can be read as this run's."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _timing_launch(plan: Plan, side: Side, k: int) -> Launch:
    folder = _fresh(plan.folder(side, f"timing-{k}"))
    max_time, min_rounds = plan.rounds
    cmd = pytest_cmd(
        side.python,
        *plan.timed(side),
        "-q",
        "-m",
        "not memory",
        "--benchmark-only",
        "--benchmark-save-data",
        f"--benchmark-json={folder / 'benchmarks.json'}",
        f"--benchmark-max-time={max_time}",
        f"--benchmark-min-rounds={min_rounds}",
        # >= 200 us a round: fewer, steadier rounds for microsecond functions.
        "--benchmark-min-time=0.0002",
        # A temporary directory of its own: pytest's clean-up of shared numbered
        # directories races between processes that run side by side.
        f"--basetemp={folder / 'tmp'}",
    )
    warm = plan.folder(side, "warm")  # emptied once a run, by measure_timing
    env = side.environ(**{RECORD_DIR_ENV: str(folder), WARM_DIR_ENV: str(warm)}, **plan.suite_environ())
    return Launch(cmd, folder / "pytest.log", env=env, cwd=side.root)


def _read_json(path: Path, side: Side, what: str, log: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PassError(f"{side.name}: the {what} wrote no readable {path.name} ({exc}); see {log}") from None


def measure_timing(plan: Plan) -> dict[str, list[ProcessOutput]]:
    """Every timing process of every side, cycle after cycle; outputs per side in cycle order."""
    outputs: dict[str, list[ProcessOutput]] = {side.name: [] for side in plan.sides}
    for side in plan.sides:
        _fresh(plan.folder(side, "warm"))
    for k, order in enumerate(plan.cycles()):
        launches = [_timing_launch(plan, side, k) for side in order]
        for side, launch, finished in zip(order, launches, run_in_lockstep(launches), strict=True):
            if finished.returncode != 0:
                raise PassError(
                    f"{side.name}: timing process {k} failed (exit {finished.returncode}); see {launch.log}"
                )
            folder = launch.log.parent
            runs = []
            for run in itertools.count(1):
                path = folder / SUITE_FILE.format(run=run)
                if not path.exists():
                    break
                runs.append(_read_json(path, side, "dynamic suite", launch.log))
            data = _read_json(folder / "benchmarks.json", side, "timing process", launch.log)
            contenders = tuple(
                _read_json(path, side, "comparison with a contender", launch.log)
                for path in sorted(folder.glob(CONTENDER_FILE.format(name="*")))
            )
            outputs[side.name].append(ProcessOutput(data, tuple(runs), contenders))
    return outputs


def measure_memory(plan: Plan, side: Side) -> MemoryOutput:
    """The memory pass of one side: the dynamic suite under memray, test by test."""
    folder = _fresh(plan.folder(side, "memory"))
    log = folder / "pytest.log"
    cmd = pytest_cmd(side.python, str(side.benchmarks), "-q", "-m", "memory", f"--basetemp={folder / 'tmp'}")
    env = side.environ(**{RECORD_DIR_ENV: str(folder)}, **plan.suite_environ(), **plan.shard_environ(side))
    finished = spawn(cmd, log, env=env, cwd=side.root)
    if finished.returncode != 0:
        raise PassError(f"{side.name}: memory pass failed (exit {finished.returncode}); see {log}")
    data = _read_json(folder / MEMORY_FILE, side, "memory pass", log)
    if not data.get("tests"):
        raise PassError(f"{side.name}: the memory pass measured no test; see {log}")
    return MemoryOutput(data["tests"])


def _count(side: Side, folder: Path, args: Sequence[str], cwd: Path | None = None, **extra: str) -> list[Row]:
    folder = _fresh(folder)
    log = folder / "pytest.log"
    cmd = [*count_prefix(folder), *pytest_cmd(side.python, "-q", f"--basetemp={folder / 'tmp'}", *args)]
    # One hash seed: str hashes decide dict and set layouts, and with them the counts.
    env = side.environ(**{COUNT_ENV: str(folder / "spans.json"), "PYTHONHASHSEED": "0"}, **extra)
    finished = spawn(cmd, log, env=env, cwd=cwd or side.root)
    if finished.returncode != 0:
        raise PassError(f"{side.name}: counting process failed (exit {finished.returncode}); see {log}")
    rows = count_rows(folder, log, side.name)
    shutil.rmtree(folder / "tmp", ignore_errors=True)
    return rows


def count_benchmarks(plan: Plan, side: Side, names: Sequence[str] = COUNTED_FILES) -> list[Row]:
    """The CPU-bound benchmarks (the files ``names``: bisect counts one KPI's) counted once,
    in one process under callgrind."""
    files = plan.counted(side, names)
    if not files:  # a shard, and another shard counts them
        return []
    return _count(side, plan.folder(side, "counts"), [*files, "--benchmark-disable"])


def count_suite(plan: Plan, side: Side) -> list[Row]:
    """A fixed slice of the dynamic suite counted test by test (``benchmarks/counting.py``);
    a user's suite whole, with its plugin options, in the folder it runs in."""
    if not plan.suite_counted:  # a shard, and another shard counts the suite
        return []
    args, cwd = plan.suite_run(side)
    whole = {COUNT_SLICE_ENV: "1"} if plan.suite is not None else {}
    return _count(side, plan.folder(side, "counts-suite"), ["-p", "benchmarks.counting", *args], cwd, **whole)


def count_startup(plan: Plan, side: Side) -> list[Row]:
    """``session_startup_instructions``: the start-up comparison's two one-test pytest processes
    (``benchmarks/test_contenders.py`` runs them, warmed as when timed), each whole under
    cachegrind: its instructions, and theirs. None for a user's suite, a run of other files,
    a shard that does not count the benchmarks, or a side whose benchmarks predate it."""
    if plan.suite is not None or (plan.files and STARTUP_FILE not in plan.files):
        return []
    files = plan.counted(side, (STARTUP_FILE,))
    if not files:
        return []
    folder = _fresh(plan.folder(side, "counts-startup"))
    log = folder / "pytest.log"
    cmd = pytest_cmd(
        side.python, f"{files[0]}::test_session_startup", "-q", "--benchmark-disable", f"--basetemp={folder / 'tmp'}"
    )
    env = side.environ(
        **{RECORD_DIR_ENV: str(folder), STARTUP_COUNT_ENV: json.dumps(whole_prefix()), "PYTHONHASHSEED": "0"}
    )
    finished = spawn(cmd, log, env=env, cwd=side.root)
    if finished.returncode != 0:
        raise PassError(f"{side.name}: counting the start-up failed (exit {finished.returncode}); see {log}")
    shutil.rmtree(folder / "tmp", ignore_errors=True)
    record_path = folder / CONTENDER_FILE.format(name="session_startup_instructions")
    if not record_path.exists():  # benchmarks from before the count: they timed pairs instead
        return []
    record = _read_json(record_path, side, "start-up count", log)
    values = np.asarray([float(v) for v in record["values"]])
    return [
        Row(
            kpi="session_startup_instructions",
            name="session_startup_instructions",
            samples=values,
            measure="instructions",
            process=values,
            info=dict(record.get("info") or {}),
        )
    ]
