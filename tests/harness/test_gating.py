"""Tests of dynapi_bench.gating: which wall-time KPIs the self-test's records let --against gate."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from dynapi_bench.errors import ResultsError
from dynapi_bench.gating import WallTimeGate, wall_time_gates
from dynapi_bench.selftest import Matrix


def record(folder: Path, name: str, **kpis: tuple[bool, float]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {"kpis": {k: {"met": met, "spread": spread} for k, (met, spread) in kpis.items()}}
    (folder / f"{name}.json").write_text(json.dumps(data))


def test_three_met_records_prove_a_kpi(tmp_path: Path) -> None:
    record(
        tmp_path, "20261101T000000Z", config_load=(False, 0.40), data_generation=(True, 0.02)
    )  # the oldest: left out
    for stamp in ("20261128T010000Z", "20261128T090000Z", "20261129T170000Z"):
        record(tmp_path, stamp, config_load=(True, 0.03), data_generation=(True, 0.02))
    gates = wall_time_gates(tmp_path)
    assert gates["config_load"].proven
    assert gates["data_generation"].proven
    assert gates["config_load"].allowed(0.05) == 0.05
    assert gates["config_load"].describe(0.05, 1.6) == "wall time: beyond +5% (self-test met the bar 3/3)"


def test_a_missed_bar_gates_only_beyond_the_spread(tmp_path: Path) -> None:
    record(tmp_path, "a", config_load=(True, 0.04))
    record(tmp_path, "b", config_load=(False, 0.23))
    gate = wall_time_gates(tmp_path)["config_load"]
    assert not gate.proven
    assert gate.allowed(0.05) == pytest.approx(0.23)
    assert "beyond the A/A spread +23% (self-test met the bar 1/2 runs, needs 3/3)" in gate.describe(0.05, 1.6)


def test_no_record_gates_only_beyond_the_large_change_factor(tmp_path: Path) -> None:
    assert wall_time_gates(tmp_path / "none") == {}
    gate = WallTimeGate("config_load")
    assert math.isinf(gate.allowed(0.05))
    assert gate.describe(0.05, 1.6) == "wall time: beyond x1.6 only (no self-test record)"


def test_a_broken_record_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(ResultsError, match=r"x.json: not a readable self-test record .*delete it or run the self-test"):
        wall_time_gates(tmp_path)


def test_a_selftest_record_is_what_gating_reads(tmp_path: Path) -> None:
    rates = {
        "config_load": {"A/A": 0.0, "+10%": 0.99, "+25%": 1.0},
        "test_execution": {"A/A": 0.05, "+10%": 0.40, "+25%": 0.9},
    }
    matrix = Matrix(18, 12, 300, rates, {}, {}, {"config_load": 0.03, "test_execution": 0.21})
    (tmp_path / "20261129T120000Z-abc.json").write_text(json.dumps(matrix.record("abc", "m", "20261129T120000Z")))
    gates = wall_time_gates(tmp_path)
    assert (gates["config_load"].met, gates["config_load"].runs) == (1, 1)
    assert (gates["test_execution"].met, gates["test_execution"].spread) == (0, 0.21)
