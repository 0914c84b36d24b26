"""Synthetic results files with known effects, for the checker's tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from framework.perf.results import make_entry

# Typical figures of the real KPIs, in base units (seconds or bytes) per item.
BASE = {
    "config_load": ("time", 0.004),
    "data_generation": ("time", 4e-6),
    "response_validation": ("time", 2e-6),
    "test_execution": ("time", 0.002),
    "memory_per_test": ("memory", 60_000.0),
}

Factory = Callable[..., Path]


def results(
    path: Path,
    *,
    seed: int,
    factors: dict[str, float] | None = None,
    machine: str = "test-machine",
    n: int = 40,
    noise: float = 0.03,
    kpis: dict[str, tuple[str, float]] | None = None,
    process_factors: list[float] | None = None,
) -> Path:
    """Write a results file: every KPI's samples around its typical value, times ``factors``.

    With ``process_factors`` the timing samples come from one process per factor (each
    process's luck multiplies its samples), and each row records its process medians.
    """
    rng = np.random.default_rng(seed)
    entries: list[dict[str, Any]] = []
    for kpi, (measure, value) in (kpis or BASE).items():
        factor = (factors or {}).get(kpi, 1.0)
        if measure == "memory":
            samples = rng.integers(int(value * 0.5), int(value * 1.5), n) * factor
            entries.append(make_entry(f"{kpi}[case]", kpi, list(samples), measure=measure))
        elif process_factors:
            per = [value * factor * luck * rng.lognormal(0, noise, n) for luck in process_factors]
            medians = [float(np.median(p)) for p in per]
            entries.append(make_entry(f"{kpi}[case]", kpi, list(np.concatenate(per)), process_medians=medians))
        else:
            samples = value * factor * rng.lognormal(0, noise, n)
            entries.append(make_entry(f"{kpi}[case]", kpi, list(samples), measure=measure))
    data = {
        "machine_info": {"dynapi_machine_id": machine},
        "commit_info": {"id": f"commit{seed}"},
        "datetime": f"2026-11-27T00:00:{seed % 60:02d}",
        "benchmarks": entries,
    }
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def make_results(tmp_path: Path) -> Factory:
    """``make_results(name, seed=..., factors={...})`` writes a synthetic results file."""

    def make(name: str, **kwargs: Any) -> Path:
        return results(tmp_path / name, **kwargs)

    return make


@pytest.fixture
def thresholds_file(tmp_path: Path) -> Path:
    """A thresholds file for the synthetic KPIs (the project's own targets and thresholds)."""
    path = tmp_path / "thresholds.yaml"
    path.write_text(
        """\
alpha: 0.01
kpis:
  config_load: {unit: ms, target: 50, threshold: 100, goal: 5, allowed_change: 0.10}
  data_generation: {unit: ms, target: 1, threshold: 5, goal: 0.005, allowed_change: 0.10}
  response_validation: {unit: ms, target: 10, threshold: 50, goal: 0.01, allowed_change: 0.10}
  test_execution: {unit: ms, target: 100, threshold: 500, goal: 2, allowed_change: 0.10}
  memory_per_test: {unit: MB, target: 10, threshold: 50, goal: 0.5, allowed_change: 0.10}
"""
    )
    return path
