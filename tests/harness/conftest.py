"""Synthetic results with known effects, and the project's thresholds, for the harness's tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynapi_bench.results import Measure, Results, Row

# Typical figures of the real KPIs, in base units (seconds or bytes) per item.
BASE: dict[str, tuple[Measure, float]] = {
    "config_load": ("time", 0.004),
    "data_generation": ("time", 4e-6),
    "response_validation": ("time", 2e-6),
    "test_execution": ("time", 0.002),
    "memory_per_test": ("memory", 60_000.0),
}

THRESHOLDS = """\
alpha: 0.01
kpis:
  config_load: {unit: ms, target: 50, threshold: 100, goal: 5, allowed_change: 0.10}
  data_generation: {unit: ms, target: 1, threshold: 5, goal: 0.005, allowed_change: 0.10}
  response_validation: {unit: ms, target: 10, threshold: 50, goal: 0.01, allowed_change: 0.10}
  test_execution: {unit: ms, target: 100, threshold: 500, goal: 2, allowed_change: 0.10}
  memory_per_test: {unit: MB, target: 10, threshold: 50, goal: 0.5, allowed_change: 0.10}
"""

Factory = Callable[..., Path]
Synthetic = Callable[..., Results]


def synthetic_results(
    *,
    seed: int,
    factors: dict[str, float] | None = None,
    machine: str = "test-machine",
    n: int = 40,
    noise: float = 0.03,
    kpis: dict[str, tuple[Measure, float]] | None = None,
    process_factors: list[float] | None = None,
    cases: int = 1,
) -> Results:
    """One side of a run: every KPI's samples around its typical value, times ``factors``.

    With ``process_factors`` the timing samples come from one process per factor (each
    process's luck multiplies its samples), and each row records its process medians.
    With ``cases`` > 1 each timing KPI has that many cases, ``KPI[case0]``, ``KPI[case1]`` ...
    """
    rng = np.random.default_rng(seed)
    rows: list[Row] = []
    for kpi, (measure, value) in (BASE if kpis is None else kpis).items():
        factor = (factors or {}).get(kpi, 1.0)
        if measure == "memory":
            samples = rng.integers(int(value * 0.5), int(value * 1.5), n) * factor
            rows.append(Row(kpi, f"{kpi}[case]", samples.astype(float), measure="memory"))
            continue
        for case in range(cases):
            name = f"{kpi}[case]" if cases == 1 else f"{kpi}[case{case}]"
            if process_factors:
                per = [value * factor * luck * rng.lognormal(0, noise, n) for luck in process_factors]
                medians = np.array([float(np.median(p)) for p in per])
                rows.append(Row(kpi, name, np.concatenate(per), process=medians))
            else:
                rows.append(Row(kpi, name, value * factor * rng.lognormal(0, noise, n)))
    return Results(
        rows=tuple(rows),
        machine=machine,
        commit=f"commit{seed}",
        datetime=f"2026-11-27T00:00:{seed % 60:02d}",
    )


@pytest.fixture
def synthetic() -> Synthetic:
    """``synthetic(seed=..., factors={...})``: one side of a run in memory, with known effects."""
    return synthetic_results


@pytest.fixture
def make_results(tmp_path: Path) -> Factory:
    """``make_results(name, seed=..., factors={...})`` writes a synthetic results file
    (pytest-benchmark JSON, as the harness saves it) and returns its path."""

    def make(name: str, **kwargs: Any) -> Path:
        path = tmp_path / name
        synthetic_results(**kwargs).save(path)
        return path

    return make


@pytest.fixture
def thresholds_file(tmp_path: Path) -> Path:
    """A thresholds file for the synthetic KPIs (the project's own targets and thresholds)."""
    path = tmp_path / "thresholds.yaml"
    path.write_text(THRESHOLDS)
    return path


def running_in_group(pgid: int) -> list[int]:
    """The processes of group ``pgid`` that still run. A zombie has ended (it runs nothing);
    it counts apart because here PID 1 may never reap an orphan, and ``killpg(pgid, 0)``
    succeeds on a zombie."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()  # after the command's name
        except OSError:
            continue  # ended meanwhile
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


Ended = Callable[[Iterable[int]], list[int]]


@pytest.fixture
def ended() -> Ended:
    """``ended(groups)``: the processes of those groups still running once they had a fair
    while to die (a SIGKILL lands a moment after ``kill`` returns): empty when all ended."""

    def wait(groups: Iterable[int]) -> list[int]:
        groups = list(groups)
        deadline = time.monotonic() + 30
        while True:
            left = [pid for pgid in groups for pid in running_in_group(pgid)]
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.05)

    return wait
