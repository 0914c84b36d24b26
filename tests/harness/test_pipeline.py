"""Tests of dynapi_bench.pipeline's decisions that need no measurement."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dynapi_bench.judge import judge
from dynapi_bench.pipeline import _predates_counts, without_counts
from dynapi_bench.plan import Side
from dynapi_bench.reference import Baseline
from dynapi_bench.results import Results, Row
from dynapi_bench.thresholds import load_thresholds


def test_a_base_from_before_counts_skips_them_with_one_line(tmp_path: Path) -> None:
    head, base = tmp_path / "head", tmp_path / "base"
    for root in (head, base):
        (root / "benchmarks").mkdir(parents=True)
    (head / "benchmarks" / "counting.py").write_text("")
    sides = (Side("base", base), Side("head", head))
    assert _predates_counts(sides) == "instruction counts skipped: base predates them (no benchmarks/counting.py)"
    (base / "benchmarks" / "counting.py").write_text("")
    assert _predates_counts(sides) is None


def test_a_run_without_valgrind_is_judged_without_the_baselines_counts(tmp_path: Path) -> None:
    rules = tmp_path / "t.yaml"
    rules.write_text(
        "kpis:\n  gen: {unit: ms, target: 1, threshold: 5, allowed_change: 0.5}\n"
        "  gen_instructions: {unit: instructions, allowed_change: 0.01}\n"
    )
    time_row = Row("gen", "gen[pet]", np.full(10, 4e-6))
    count_row = Row("gen_instructions", "gen[pet]::instructions", np.asarray([45_000.0]), measure="instructions")
    baseline = Results((time_row, count_row), machine="m", commit="base", datetime="")
    run = Results((time_row,), machine="m", commit="head", datetime="")
    thresholds = load_thresholds(rules)
    assert set(judge(run, thresholds, Baseline(baseline)).kpis["verdict"]) == {"pass", "missing"}
    found = judge(run, thresholds, Baseline(without_counts(baseline)))
    assert list(found.kpis["verdict"]) == ["pass"]  # the one line said so; no `missing` row
    assert found.kpis["gate"][0] == "wall time: beyond x1.6 only"  # without counts, the factor gates wall time
