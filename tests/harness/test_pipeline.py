"""Tests of dynapi_bench.pipeline's decisions that need no measurement."""

from __future__ import annotations

from pathlib import Path

from dynapi_bench.pipeline import _predates_counts
from dynapi_bench.plan import Side


def test_a_base_from_before_counts_skips_them_with_one_line(tmp_path: Path) -> None:
    head, base = tmp_path / "head", tmp_path / "base"
    for root in (head, base):
        (root / "benchmarks").mkdir(parents=True)
    (head / "benchmarks" / "counting.py").write_text("")
    sides = (Side("base", base), Side("head", head))
    assert _predates_counts(sides) == "instruction counts skipped: base predates them (no benchmarks/counting.py)"
    (base / "benchmarks" / "counting.py").write_text("")
    assert _predates_counts(sides) is None
