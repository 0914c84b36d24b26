"""Tests of dynapi_bench.render: the text table, summary.json and summary.md of one judgement."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dynapi_bench.judge import Judgement, judge
from dynapi_bench.reference import BaseCommit, Baseline
from dynapi_bench.render import change_text, render_markdown, render_table, summary
from dynapi_bench.results import Results, Row, load_results
from dynapi_bench.thresholds import Thresholds, load_thresholds

SHA = "0123456789abcdef0123456789abcdef01234567"


def side(commit: str, *, slower: float = 1.0) -> Results:
    """Constant figures, so every number in the output is known: config_load ``slower``
    times 4 ms in each of five processes, data generation 0.004 ms, memory 0.06 MB."""
    load = np.full(5, 0.004 * slower)
    return Results(
        rows=(
            Row("config_load", "config_load[v1]", np.repeat(load, 4), process=load),
            Row("data_generation", "gen[pet]", np.full(20, 4e-6)),
            Row("memory_per_test", "memory[v1]", np.full(3, 60_000.0), "memory", keyed={"a": 6e4, "b": 6e4, "c": 6e4}),
        ),
        machine="test-machine",
        commit=commit,
        datetime="2026-11-27T10:00:00+00:00",
    )


@pytest.fixture
def thresholds(thresholds_file: Path) -> Thresholds:
    return load_thresholds(thresholds_file)


@pytest.fixture
def baseline(tmp_path: Path) -> Baseline:
    path = tmp_path / "20261126T000000Z-base000.json"
    side("base000").save(path)
    return Baseline(load_results(path))


def against_baseline(thresholds: Thresholds, baseline: Baseline) -> Judgement:
    return judge(side("head111", slower=1.2), thresholds, baseline)


def against_base(thresholds: Thresholds) -> Judgement:
    return judge(side("head111", slower=1.2), thresholds, BaseCommit(side("base000"), "main", SHA))


def words(line: str) -> str:
    return " ".join(line.split())


# -- the text table -----------------------------------------------------------------------------
def test_table_against_a_baseline(thresholds: Thresholds, baseline: Baseline) -> None:
    j = against_baseline(thresholds, baseline)
    lines = render_table(j).splitlines()
    assert lines[0] == j.describe()
    assert "20261126T000000Z-base000.json" in lines[0]
    assert words(lines[1]) == "KPI unit case value target threshold goal baseline change p verdict gate why"
    assert words(lines[2]) == (
        "config_load ms config_load[v1] 4.8 50 100 5 met 4 +20.0% 0 REGRESSION wall time: beyond x1.6 only "
        "x1.200 > allowed +10%, significant (p=0 < 0.01)"
    )
    assert (
        words(lines[3])
        == "data_generation ms gen[pet] 0.004 1 5 0.005 met 0.004 +0.0% 1 PASS wall time: beyond x1.6 only"
    )
    # Wall time against a stored baseline fails the build only beyond the large-change factor.
    assert lines[-1] == "overall: WARN"


def test_table_against_a_base_commit(thresholds: Thresholds) -> None:
    j = against_base(thresholds)
    lines = render_table(j).splitlines()
    assert lines[0] == j.describe()
    assert words(lines[1]) == "KPI unit case value target threshold goal base change p verdict gate why"
    # Five identical pairs: the ratio is exact, its interval a point, a constant shift certain.
    assert words(lines[2]) == (
        "config_load ms config_load[v1] 4.8 50 100 5 met 4 x1.200 [1.200, 1.200] 0 REGRESSION "
        "beyond +5%, significant x1.200 > allowed +5%, significant (p=0 < 0.01)"
    )
    assert (
        words(lines[3])
        == "data_generation ms gen[pet] 0.004 1 5 0.005 met 0.004 x1.000 [1.000, 1.000] 1 PASS beyond +5%, significant"
    )
    assert lines[-1] == "overall: FAIL"


def test_table_without_reference_and_with_notes(thresholds: Thresholds) -> None:
    j = judge(side("head111", slower=200), thresholds)  # 800 ms: config_load's threshold is 100 ms
    j.notes.append("history skips x.json: broken")
    lines = render_table(j).splitlines()
    assert lines[:2] == [
        "history skips x.json: broken",
        "no baseline of this machine kind: thresholds only; save one with `nox -s bench -- --save-baseline`",
    ]
    assert words(lines[2]) == "KPI unit case value target threshold goal - change p verdict gate why"
    assert words(lines[3]) == (
        "config_load ms config_load[v1] 800 50 100 5 missed - - - FAIL thresholds only 800 ms > threshold 100"
    )
    assert lines[-1] == "overall: FAIL"


NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("base_commit", "figures", "expected"),
    [
        (True, (1.1034, 1.05, 1.16), "x1.103 [1.050, 1.160]"),
        (True, (1.1034, NAN, NAN), "x1.103"),
        (True, (1.1034, -INF, INF), "x1.103"),
        (False, (1.1034, NAN, NAN), "+10.3%"),
        (False, (0.9, NAN, NAN), "-10.0%"),
        (False, (NAN, NAN, NAN), "-"),
    ],
)
def test_change_text(baseline: Baseline, base_commit: bool, figures: tuple[float, float, float], expected: str) -> None:
    reference = BaseCommit(side("b"), "main", SHA) if base_commit else baseline
    assert change_text(reference, *figures) == expected
    assert change_text(None, *figures) == "-"


# -- summary.json -------------------------------------------------------------------------------
def test_summary_against_a_baseline(thresholds: Thresholds, baseline: Baseline) -> None:
    j = against_baseline(thresholds, baseline)
    data = json.loads(json.dumps(summary(j), allow_nan=False))  # NaN and infinity became null
    assert (data["verdict"], data["exit_code"]) == (
        "warn",
        0,
    )  # a timing regression within the factor: shown, not gated
    assert data["reference"] == {
        "kind": "baseline",
        "description": j.describe(),
        "path": str(baseline.results.path),
        "commit": "base000",
        "machine": "test-machine",
        "datetime": "2026-11-27T10:00:00+00:00",
    }
    assert data["run"] == {
        "machine": "test-machine",
        "commit": "head111",
        "datetime": "2026-11-27T10:00:00+00:00",
        "path": None,
    }
    kpis = {k["name"]: k for k in data["kpis"]}
    assert list(kpis) == ["config_load", "data_generation", "memory_per_test"]
    load = kpis["config_load"]
    assert load == {
        "name": "config_load",
        "row": "config_load[v1]",
        "unit": "ms",
        "value": pytest.approx(4.8),
        "reference": pytest.approx(4.0),
        "change": pytest.approx(0.2),
        "ratio": pytest.approx(1.2),
        "low": None,
        "high": None,
        "p_value": 0.0,
        "target": 50.0,
        "threshold": 100.0,
        "goal": 5.0,
        "goal_met": True,
        "verdict": "regression",
        "why": "x1.200 > allowed +10%, significant (p=0 < 0.01)",
        "gate": "wall time: beyond x1.6 only",
    }
    assert [r["name"] for r in data["rows"]] == ["config_load[v1]", "gen[pet]", "memory[v1]"]
    assert not {"samples", "reference_samples"} & set(data["rows"][0])
    assert data["rows"][0]["verdict"] == "regression"


def test_summary_against_a_base_commit(thresholds: Thresholds) -> None:
    j = against_base(thresholds)
    data = json.loads(json.dumps(summary(j), allow_nan=False))
    assert data["reference"] == {"kind": "base", "description": j.describe(), "ref": "main", "sha": SHA}
    load = {k["name"]: k for k in data["kpis"]}["config_load"]
    assert (load["low"], load["high"]) == (pytest.approx(1.2), pytest.approx(1.2))
    assert load["verdict"] == "regression"
    assert (data["verdict"], data["exit_code"]) == ("fail", 1)


def test_summary_without_reference(thresholds: Thresholds) -> None:
    j = judge(side("head111"), thresholds, gated=False)
    data = json.loads(json.dumps(summary(j), allow_nan=False))
    assert data["reference"] == {"kind": None, "description": j.describe()}
    assert {k["verdict"] for k in data["kpis"]} == {"pass"}
    assert {k["gate"] for k in data["kpis"]} == {"thresholds only"}
    assert {k["reference"] for k in data["kpis"]} == {None}


# -- summary.md ---------------------------------------------------------------------------------
def test_markdown_against_a_baseline(thresholds: Thresholds, baseline: Baseline) -> None:
    j = against_baseline(thresholds, baseline)
    md = render_markdown(j, ["profiles/data_generation.html", "profiles/config_load.html"])
    lines = md.splitlines()
    assert lines[0] == "## dynapi-bench: WARN"  # wall time of a KPI gated beyond x1.6 only
    assert lines[2] == "**1 regression of 3 KPIs: config_load +20.0%**"
    table = lines[lines.index("| KPI | baseline | value | change | verdict | why | profile |") :]
    assert table[1:4] == [
        "|:--|--:|--:|:--|:--|:--|:--|",
        "| config_load `config_load[v1]` | 4 ms | 4.8 ms | +20.0% | **REGRESSION** | "
        "x1.200 > allowed +10%, significant (p=0 < 0.01) | [config_load](profiles/config_load.html) |",
        "| data_generation `gen[pet]` | 0.004 ms | 0.004 ms | +0.0% | **PASS** |  | "
        "[data_generation](profiles/data_generation.html) |",
    ]
    folded = md[md.index("<details><summary>How this was judged</summary>") : md.index("</details>")]
    assert "Baseline 20261126T000000Z-base000.json (commit base000, 2026-11-27T10:00:00, " in folded
    assert "Mann-Whitney U" in folded
    assert "| config_load | 50 ms | 100 ms | wall time: beyond x1.6 only |" in folded
    assert "sign test" not in md
    assert lines[-1] == (
        "Profiles: [data_generation](profiles/data_generation.html), [config_load](profiles/config_load.html)"
    )


def test_markdown_puts_what_needs_a_look_first(thresholds: Thresholds, baseline: Baseline) -> None:
    slow = Results(
        rows=(*side("head111").rows[:2], Row("memory_per_test", "memory[v1]", np.full(3, 6e7), "memory")),
        machine="test-machine",
        commit="head111",
        datetime="2026-11-27T10:00:00+00:00",
    )
    md = render_markdown(judge(slow, thresholds, baseline))
    rows = [line for line in md.splitlines() if line.startswith("| ") and "**" in line]
    assert [row.split()[1] for row in rows] == ["memory_per_test", "config_load", "data_generation"]
    assert md.splitlines()[2] == "**1 fail of 3 KPIs: memory_per_test 60 MB > threshold 50**"


def test_markdown_against_a_base_commit(thresholds: Thresholds) -> None:
    j = against_base(thresholds)
    md = render_markdown(j)
    assert md.splitlines()[2] == "**1 regression of 3 KPIs: config_load x1.200 [1.200, 1.200]**"
    assert f"Base main (commit {SHA[:12]}) measured in this run" in md
    assert "sign test" in md
    assert "Mann-Whitney U" not in md
    assert "| KPI | base | head | change | verdict | why | profile |" in md
    assert (
        "| config_load `config_load[v1]` | 4 ms | 4.8 ms | x1.200 [1.200, 1.200] | **REGRESSION** | "
        "x1.200 > allowed +5%, significant (p=0 < 0.01) |  |"
    ) in md
    assert "| config_load | 50 ms | 100 ms | beyond +5%, significant |" in md
    assert "Profiles" not in md


def test_markdown_without_reference_escapes_cells(thresholds: Thresholds) -> None:
    j = judge(side("head111"), thresholds)
    j.notes.append("a | b")
    md = render_markdown(j)
    assert "> a \\| b" in md
    assert md.splitlines()[2] == "**3 KPIs hold**"
    assert "| KPI | value | threshold | verdict | why | profile |" in md
    assert "| memory_per_test `memory[v1]` | 0.06 MB | 50 MB | **PASS** |  |  |" in md
