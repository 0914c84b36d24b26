"""Tests of dynapi_bench.variants: the count self-test's edits apply to today's factory and
keep it valid Python; the matrix renders its verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynapi_bench.errors import BenchError
from dynapi_bench.variants import FACTORY, VARIANTS, render_counts

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_each_edit_applies_and_compiles(variant: object) -> None:
    source = (ROOT / FACTORY).read_text(encoding="utf-8")
    edit = variant.edit  # type: ignore[attr-defined]
    edited = source if edit is None else edit(source)
    compile(edited, str(FACTORY), "exec")
    if variant.name.startswith("plus"):  # type: ignore[attr-defined]
        assert edited.count("        len(payload)\n") == {"plus1": 1, "plus2": 3, "plus5": 6}[variant.name]  # type: ignore[attr-defined]
    elif edit is not None:
        assert edited != source


def test_an_edit_that_no_longer_fits_is_one_line() -> None:
    edit = next(v for v in VARIANTS if v.name == "plus2").edit
    assert edit is not None
    with pytest.raises(BenchError, match=r"`_Plan.make` no longer starts with"):
        edit("def make(self):\n    return {}\n")


def test_render_counts() -> None:
    matrix = {
        "aa-doc": {
            "description": "A/A: a comment",
            "alarms": [],
            "kpi_ratio": {"data_generation_instructions": 0.9997},
            "case_ratio": {"min": 0.998, "max": 1.0015},
            "ok": True,
        },
        "plus2": {
            "description": "about +2%",
            "alarms": ["data_generation_instructions"],
            "kpi_ratio": {"data_generation_instructions": 1.0235},
            "case_ratio": {"min": 1.0117, "max": 1.0467},
            "ok": True,
        },
    }
    lines = render_counts(matrix).splitlines()
    assert lines[1].split()[:4] == ["aa-doc", "0.9997", "0.9980-1.0015", "none"]
    assert lines[2].split()[:4] == ["plus2", "1.0235", "1.0117-1.0467", "data_generation_instructions"]
