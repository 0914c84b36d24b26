"""Tests of dynapi_bench.selftest and its injections (benchmarks/inject.py)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks import inject
from dynapi_bench.results import Results, Row
from dynapi_bench.selftest import Matrix, _runs_of, timing_matrix
from dynapi_bench.thresholds import load_thresholds


def side(tmp_path: Path, name: str, factor: float, drift: np.ndarray, seed: int) -> Results:
    """A condition's results: one benchmark per timing KPI, 14 process medians."""
    rng = np.random.default_rng(seed)
    rows = []
    for kpi in ("config_load", "data_generation"):
        medians = 1e-3 * factor * drift * rng.lognormal(0, 0.01, len(drift))
        rows.append(Row(kpi, f"{kpi}[case]", medians, process=medians))
    return Results(tuple(rows), machine="m", commit=name, datetime="")


def test_timing_matrix_counts_alarms(tmp_path: Path, thresholds_file: Path) -> None:
    drift = np.random.default_rng(0).lognormal(0, 0.2, 14)  # shared by neighbours in time
    sides = {
        "A": side(tmp_path, "A", 1.0, drift, 1),
        "A2": side(tmp_path, "A2", 1.0, drift, 2),
        "+5%": side(tmp_path, "b05", 1.05, drift, 3),
        "+10%": side(tmp_path, "b10", 1.10, drift, 4),
        "+25%": side(tmp_path, "b25", 1.25, drift, 5),
        "+50%": side(tmp_path, "b50", 1.50, drift, 6),
    }
    thresholds = load_thresholds(thresholds_file)
    rates, effective, made, _spread = timing_matrix(sides, thresholds, pairs=10, comparisons=50)
    assert made == 50
    for kpi in ("config_load", "data_generation"):
        assert rates[kpi]["A/A"] == 0.0
        assert rates[kpi]["+10%"] == 1.0
        assert rates[kpi]["+50%"] == 1.0
        assert effective[kpi]["+25%"] == pytest.approx(1.25, abs=0.02)


def test_matrix_names_every_miss() -> None:
    rates = {"config_load": {"A/A": 0.02, "+5%": 0.0, "+10%": 0.5, "+25%": 0.9, "+50%": 1.0}}
    memory = {"memory_per_test": {"A/A": 0.0, "+10%": 1.0, "+50%": 1.0}}
    effective = {"config_load": {"A/A": 1.0, "+5%": 1.05, "+10%": 1.1, "+25%": 1.25, "+50%": 1.5}}
    matrix = Matrix(14, 10, 300, rates, memory, effective)
    assert matrix.misses() == [
        "config_load: false alarms 2.0% > 1%",
        "config_load: +10% caught 50.0% < 95%",
        "config_load: +25% caught 90.0% < 100%",
    ]
    assert matrix.as_dict()["met"] is False


def test_slowed_spins_a_share_of_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    inject.wrapper_overhead()  # calibrated once per process, before the spy goes in
    spun: list[float] = []
    monkeypatch.setattr(inject, "spin", spun.append)
    assert inject.slowed(lambda x: x * 2, 0.25)(21) == 42
    assert inject.slowed(lambda: None, 0.0)() is None
    assert spun[0] > 0  # a quarter of the call and the wrapper's calibrated cost
    assert spun[1] == 0.0


def test_slow_down_keeps_the_fixture_class(monkeypatch: pytest.MonkeyPatch) -> None:
    fixture = object.__new__(BenchmarkFixture)
    slowed = inject.slow_down(fixture, 0.1)
    assert isinstance(slowed, BenchmarkFixture)  # pytest-benchmark refuses anything else
    assert slowed.inject_factor == 0.1


def test_memory_injection_holds_the_bytes() -> None:
    def test_body() -> int:
        return 1

    held = inject._holding(test_body, 2_000_000)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        assert held() == 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak >= 2_000_000


def test_runs_of_a_cycle_stay_together() -> None:
    # The suite runs twice a process: a subset of cycles takes both runs of each.
    assert _runs_of([0, 2], 1) == [0, 2]
    assert _runs_of([0, 2], 2) == [0, 1, 4, 5]
