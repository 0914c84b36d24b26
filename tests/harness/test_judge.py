"""Tests of dynapi_bench.judge on synthetic results with known effects."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynapi_bench.errors import ExitCode, ResultsError
from dynapi_bench.judge import Judgement, Verdict, judge, verdict_of
from dynapi_bench.reference import BaseCommit, Baseline, Change, Reference
from dynapi_bench.render import moved_functions, render_table
from dynapi_bench.results import Measure, Results, Row, load_results
from dynapi_bench.thresholds import Thresholds, load_thresholds

Factory = Callable[..., Path]
Synthetic = Callable[..., Results]


@pytest.fixture
def thresholds(thresholds_file: Path) -> Thresholds:
    return load_thresholds(thresholds_file)


def against(run: Results, base: Results | None, thresholds: Thresholds, *, gated: bool = True) -> Judgement:
    return judge(run, thresholds, Baseline(base) if base is not None else None, gated=gated)


def verdicts(j: Judgement) -> dict[str, str]:
    return dict(zip(j.kpis["kpi"], j.kpis["verdict"], strict=True))


def row(j: Judgement, name: str) -> dict[str, Any]:
    found: dict[str, Any] = j.rows.set_index("name").loc[name].to_dict()
    return found


# -- known effects against a baseline ---------------------------------------------------------
def test_no_change_passes(thresholds: Thresholds, synthetic: Synthetic) -> None:
    j = against(synthetic(seed=2), synthetic(seed=1), thresholds)
    assert set(verdicts(j).values()) == {"pass"}
    assert j.verdict is Verdict.PASS
    assert j.exit_code is ExitCode.OK


def test_twice_the_data_generation_time_regresses_only_that_kpi(thresholds: Thresholds, synthetic: Synthetic) -> None:
    j = against(synthetic(seed=2, factors={"data_generation": 2.0}), synthetic(seed=1), thresholds)
    found = verdicts(j)
    assert {k for k, v in found.items() if v != "pass"} == {"data_generation"}
    assert found["data_generation"] == "regression"
    assert j.failed == ["data_generation"]
    assert j.exit_code is ExitCode.REGRESSION
    line = next(line for line in render_table(j).splitlines() if line.strip().startswith("data_generation"))
    assert "REGRESSION" in line
    assert "is beyond the large-change factor x1.6" in line
    assert render_table(j).endswith("overall: FAIL")


def test_twice_the_memory_regresses(thresholds: Thresholds, synthetic: Synthetic) -> None:
    j = against(synthetic(seed=2, factors={"memory_per_test": 2.0}), synthetic(seed=1), thresholds)
    found = verdicts(j)
    assert {k for k, v in found.items() if v != "pass"} == {"memory_per_test"}
    assert found["memory_per_test"] == "regression"
    assert j.exit_code is ExitCode.REGRESSION


@pytest.mark.parametrize("factor", [1.05, 0.95])
def test_significant_but_small_change_is_allowed(thresholds: Thresholds, factor: float, synthetic: Synthetic) -> None:
    base = synthetic(seed=1, n=400, noise=0.01)
    run = synthetic(seed=2, n=400, noise=0.01, factors={"config_load": factor})
    change = Baseline(base).compare(run.by_name["config_load[case]"], base.by_name["config_load[case]"])
    assert min(change.p_up, change.p_down) < 0.01  # the change is real ...
    j = against(run, base, thresholds)
    assert row(j, "config_load[case]")["verdict"] == "pass"  # ... but within the allowed 10%
    assert j.verdict is Verdict.PASS


def test_one_unlucky_process_does_not_decide(thresholds: Thresholds, synthetic: Synthetic) -> None:
    # Timings here are bimodal between processes: one slow process of five moves no value.
    base = synthetic(seed=1, process_factors=[1, 1, 1, 1, 1])
    run = synthetic(seed=2, process_factors=[1, 1.9, 1, 1, 1])
    j = against(run, base, thresholds)
    assert j.verdict is Verdict.PASS
    assert row(j, "config_load[case]")["change"] == pytest.approx(0, abs=0.05)


def test_drift_between_processes_moves_no_value(thresholds: Thresholds, synthetic: Synthetic) -> None:
    # Slow spells last whole processes: two runs of the same code whose processes drew them
    # in different numbers. A row's value is its fastest process, so neither moves.
    base = synthetic(seed=1, n=400, process_factors=[1.0, 1.3, 1.0, 1.3, 1.0])
    run = synthetic(seed=2, n=400, process_factors=[1.3, 1.3, 1.0, 1.3, 1.3])
    found = row(against(run, base, thresholds), "config_load[case]")
    assert abs(found["change"]) < 0.05
    assert found["verdict"] == "pass"


def test_an_unconfirmed_change_is_inconclusive_not_a_regression(thresholds: Thresholds, synthetic: Synthetic) -> None:
    # Every process of the run is slower than the base's fastest, but the processes do not
    # separate: past the allowed change, below the large-change factor, not significant.
    base = synthetic(seed=1, n=400, process_factors=[1.0, 1.3, 1.0, 1.3, 1.0])
    run = synthetic(seed=2, n=400, process_factors=[1.3, 1.3, 1.25, 1.3, 1.3])
    j = against(run, base, thresholds)
    found = row(j, "config_load[case]")
    assert found["change"] > 0.2
    assert found["p_value"] > 0.01
    assert found["verdict"] == "inconclusive"
    assert found["why"] == (
        f"x{found['ratio']:.3f} > allowed +10% but not confirmed (p={found['p_value']:.2g}, needs < 0.01); "
        "confirm with a full run (5 processes) or --against"
    )
    assert j.verdict is Verdict.WARN
    assert j.exit_code is ExitCode.OK


def test_every_process_slower_is_a_regression(thresholds: Thresholds, synthetic: Synthetic) -> None:
    base = synthetic(seed=1, process_factors=[1, 1.1, 1, 1.2, 1])
    run = synthetic(seed=2, process_factors=[1, 1.1, 1, 1.2, 1], factors={"data_generation": 1.3})
    j = against(run, base, thresholds)
    found = row(j, "data_generation[case]")
    assert found["verdict"] == "regression"
    assert found["p_value"] < 0.01
    assert str(found["why"]).endswith("significant (p=0.004 < 0.01)")  # 5 vs 5 processes: 1/252
    # Within the large-change factor, wall time against a baseline of another hour is shown,
    # not gated: runs of one commit drift by up to x1.45 per KPI here (counts gate the CPU).
    assert not found["gated"]
    assert j.exit_code is ExitCode.OK


def test_improvement_is_reported_not_failed(thresholds: Thresholds, synthetic: Synthetic) -> None:
    j = against(synthetic(seed=2, factors={"response_validation": 0.5}), synthetic(seed=1), thresholds)
    assert verdicts(j)["response_validation"] == "improved"
    assert j.verdict is Verdict.PASS


def test_a_large_change_without_significance_is_a_regression(thresholds: Thresholds, synthetic: Synthetic) -> None:
    # The "+387% PASS" bug: 3 processes against 5 can never reach p < 0.01 (at best 1/56),
    # so a significance rule alone passed almost five times the time.
    base = synthetic(seed=1, process_factors=[1] * 5)
    run = synthetic(seed=2, process_factors=[1] * 3, factors={"config_load": 4.87})
    j = against(run, base, thresholds)
    found = row(j, "config_load[case]")
    assert found["p_value"] == pytest.approx(1 / 56)
    assert found["verdict"] == "regression"
    assert found["why"] == f"x{found['ratio']:.3f} is beyond the large-change factor x1.6 (p=0.018)"
    assert j.failed == ["config_load"]
    assert j.exit_code is ExitCode.REGRESSION


# -- thresholds alone -------------------------------------------------------------------------
def test_threshold_fails_without_baseline(thresholds: Thresholds, synthetic: Synthetic) -> None:
    j = against(synthetic(seed=2, factors={"test_execution": 300}), None, thresholds)  # ~600 ms > 500 ms
    found = verdicts(j)
    assert found["test_execution"] == "fail"
    assert {k for k, v in found.items() if v != "pass"} == {"test_execution"}
    assert row(j, "test_execution[case]")["why"] == f"{row(j, 'test_execution[case]')['value']:.4g} ms > threshold 500"
    assert j.exit_code is ExitCode.REGRESSION
    assert (
        j.describe()
        == "no baseline of this machine kind: thresholds only; save one with `nox -s bench -- --save-baseline`"
    )


def test_above_target_warns(thresholds: Thresholds, synthetic: Synthetic) -> None:
    j = against(synthetic(seed=2, factors={"test_execution": 100}), None, thresholds)  # ~200 ms: > 100, < 500
    assert verdicts(j)["test_execution"] == "warn"
    assert j.verdict is Verdict.WARN
    assert j.exit_code is ExitCode.OK


def test_baseline_gate_off_reports_only(thresholds: Thresholds, synthetic: Synthetic) -> None:
    j = against(synthetic(seed=2, factors={"data_generation": 2.0}), synthetic(seed=1), thresholds, gated=False)
    assert verdicts(j)["data_generation"] == "regression"  # reported as what it is ...
    assert j.failed == []  # ... without failing the build
    assert j.verdict is Verdict.WARN
    assert j.exit_code is ExitCode.OK
    assert j.notes == [
        "timing changes against the baseline are reported, not gated (thresholds, memory and counts still fail the build)"
    ]


def test_gate_off_still_fails_on_thresholds(thresholds: Thresholds, synthetic: Synthetic) -> None:
    run = synthetic(seed=2, factors={"test_execution": 300})
    j = against(run, synthetic(seed=1), thresholds, gated=False)
    assert j.failed == ["test_execution"]
    assert j.exit_code is ExitCode.REGRESSION


def test_new_kpi_and_other_machine(thresholds: Thresholds, synthetic: Synthetic) -> None:
    base = synthetic(seed=1, machine="elsewhere", kpis={"config_load": ("time", 0.004)})
    j = against(synthetic(seed=2), base, thresholds)
    assert j.notes == ["baseline recorded on elsewhere, this run on test-machine: compared anyway"]
    assert verdicts(j)["data_generation"] == "new"
    assert row(j, "data_generation[case]")["why"] == "not in the reference"
    assert verdicts(j)["config_load"] == "pass"
    assert j.verdict is Verdict.PASS
    assert "baseline recorded on elsewhere, this run on test-machine: compared anyway" in render_table(j)


def test_missing_kpi(thresholds: Thresholds, synthetic: Synthetic) -> None:
    run = synthetic(seed=2, kpis={"config_load": ("time", 0.004)})
    j = against(run, synthetic(seed=1), thresholds)
    found = verdicts(j)
    assert found["memory_per_test"] == "missing"
    assert j.kpis.set_index("kpi").loc["memory_per_test", "why"] == (
        "in the reference (1 case(s)), not measured in this run"
    )
    assert j.verdict is Verdict.WARN
    assert j.exit_code is ExitCode.OK


# -- which row decides a KPI ------------------------------------------------------------------
def two_cases(*, seed: int, small: float) -> Results:
    """One KPI with a slow case and a fast one; ``small`` multiplies the fast case."""
    rng = np.random.default_rng(seed)
    return Results(
        rows=(
            Row("data_generation", "gen[big]", 1e-5 * rng.lognormal(0, 0.03, 40)),
            Row("data_generation", "gen[small]", 1e-6 * small * rng.lognormal(0, 0.03, 40)),
        ),
        machine="test-machine",
        commit=f"commit{seed}",
        datetime="2026-11-27T00:00:00",
    )


def test_value_reference_and_change_come_from_the_same_row(thresholds: Thresholds) -> None:
    # The bug: the value came from the slowest row and the change from another one.
    j = judge(two_cases(seed=2, small=1.3), thresholds, Baseline(two_cases(seed=1, small=1.0)))
    kpi = j.kpis.set_index("kpi").loc["data_generation"]
    small = row(j, "gen[small]")
    assert small["verdict"] == "regression"
    assert kpi["row"] == "gen[small]"
    assert kpi["verdict"] == "regression"
    assert (kpi["value"], kpi["reference"], kpi["change"], kpi["p_value"]) == (
        small["value"],
        small["reference"],
        small["change"],
        small["p_value"],
    )
    assert kpi["value"] < row(j, "gen[big]")["value"]  # not the slowest row's value


def test_geomean_row_decides_when_every_case_moves(thresholds: Thresholds, synthetic: Synthetic) -> None:
    # Each case +70%: not significant (3 processes against 5) and below the case factor 2.2,
    # but the cases' geometric mean is beyond the KPI factor 1.6.
    base = synthetic(seed=1, cases=3, process_factors=[1] * 5, kpis={"config_load": ("time", 0.004)})
    run = synthetic(
        seed=2, cases=3, process_factors=[1] * 3, factors={"config_load": 1.7}, kpis={"config_load": ("time", 0.004)}
    )
    j = judge(run, thresholds, Baseline(base))
    cases = [row(j, f"config_load[case{i}]") for i in range(3)]
    assert {c["verdict"] for c in cases} == {"inconclusive"}
    geo = row(j, "config_load[geomean of 3]")
    ratio = math.exp(np.mean([math.log(float(c["ratio"])) for c in cases]))
    assert geo["ratio"] == pytest.approx(ratio)
    assert geo["value"] == pytest.approx(math.exp(np.mean([math.log(float(c["value"])) for c in cases])))
    assert geo["reference"] == pytest.approx(geo["value"] / geo["ratio"])
    assert geo["verdict"] == "regression"
    assert geo["why"] == f"x{ratio:.3f} is beyond the large-change factor x1.6 (no test possible)"
    kpi = j.kpis.set_index("kpi").loc["config_load"]
    assert kpi["row"] == "config_load[geomean of 3]"
    assert kpi["cases"] == 3
    assert j.exit_code is ExitCode.REGRESSION


def test_geomean_is_over_the_compared_cases_only(thresholds: Thresholds, synthetic: Synthetic) -> None:
    # A case new in this run has no ratio: it must not move the geomean row's value either,
    # or its reference (value / ratio) would be no figure of the reference.
    base = Results(rows=synthetic(seed=1, cases=2).rows[:2], machine="m", commit="b", datetime="")
    run = Results(rows=synthetic(seed=2, cases=3).rows[:3], machine="m", commit="h", datetime="")
    j = judge(run, thresholds, Baseline(base))
    geo = row(j, "config_load[geomean of 2]")
    compared = [row(j, f"config_load[case{i}]") for i in range(2)]
    expected = math.exp(np.mean([math.log(float(c["reference"])) for c in compared]))
    assert geo["reference"] == pytest.approx(expected)
    assert row(j, "config_load[case2]")["verdict"] == "new"


# -- same-run comparisons (--against): paired processes, a sign test ---------------------------
def ab_side(*, seed: int, factor: float = 1.0, memory: float = 1.0) -> Results:
    """A side of an A/B run: 10 processes whose luck is shared pair by pair (the same drift
    for both sides), and memory per test keyed by test id."""
    rng = np.random.default_rng(seed)
    drift = np.random.default_rng(7).lognormal(0, 0.2, 10)
    medians = 4e-6 * factor * drift * rng.lognormal(0, 0.02, 10)
    samples = np.array([m * x for m in medians for x in rng.lognormal(0, 0.01, 5)])
    peaks = {f"test_{i}[v1]": float(int(50_000 * memory) + i) for i in range(40)}
    return Results(
        rows=(
            Row("data_generation", "gen[case]", samples, process=medians),
            Row("memory_per_test", "memory_per_test[v1]", np.array(list(peaks.values())), "memory", keyed=peaks),
        ),
        machine="test-machine",
        commit=f"commit{seed}",
        datetime="2026-11-27T00:00:00",
    )


@pytest.mark.parametrize(
    ("factor", "memory", "regressed"),
    [(1.0, 1.0, set()), (1.10, 1.0, {"data_generation"}), (1.0, 1.10, {"memory_per_test"})],
    ids=["a-a", "ten-percent-slower", "ten-percent-bigger"],
)
def test_same_run_comparison(thresholds: Thresholds, factor: float, memory: float, regressed: set[str]) -> None:
    base = ab_side(seed=1)
    head = ab_side(seed=2, factor=factor, memory=memory)
    j = judge(head, thresholds, BaseCommit(base, "HEAD~1", "abc1234def5678"))
    assert {k for k, v in verdicts(j).items() if v == "regression"} == regressed
    assert set(j.failed) == regressed
    assert row(j, "gen[case]")["n"] == 10
    assert row(j, "memory_per_test[v1]")["n"] == 40
    gen = row(j, "gen[case]")
    assert gen["low"] <= factor <= gen["high"]
    assert j.describe().startswith("base HEAD~1 (commit abc1234def56) measured in this run")
    assert "sign test" in j.describe()


def test_same_run_memory_pairs_the_same_tests(thresholds: Thresholds) -> None:
    j = judge(ab_side(seed=2, memory=1.10), thresholds, BaseCommit(ab_side(seed=1), "main", "f" * 40))
    found = row(j, "memory_per_test[v1]")
    assert found["ratio"] == pytest.approx(1.10, abs=0.001)
    assert found["p_value"] == pytest.approx(2**-40)  # every one of the 40 tests grew: the sign test


# -- the verdict rule --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "verdict", "why"),
    [
        (Change(1.0, p_up=0.5, p_down=0.5), Verdict.PASS, ""),
        (Change(1.2, p_up=0.001), Verdict.REGRESSION, "x1.200 > allowed +10%, significant (p=0.001 < 0.01)"),
        (
            Change(1.2, p_up=0.2),
            Verdict.INCONCLUSIVE,
            "x1.200 > allowed +10% but not confirmed (p=0.2, needs < 0.01); confirm with more processes",
        ),
        (Change(1.7), Verdict.REGRESSION, "x1.700 is beyond the large-change factor x1.6 (no test possible)"),
        (Change(0.8, p_down=0.001), Verdict.IMPROVED, "x0.800"),
        (Change(0.5), Verdict.IMPROVED, "x0.500"),
        (Change(0.8, p_down=0.5), Verdict.PASS, ""),
        (Change(math.nan), Verdict.NEW, "no figure to compare"),
    ],
)
def test_verdict_of(change: Change, verdict: Verdict, why: str) -> None:
    assert verdict_of(change, allowed=0.10, alpha=0.01, factor=1.6) == (verdict, why)


def test_verdicts_by_severity() -> None:
    assert sorted(Verdict, key=lambda v: v.severity, reverse=True) == list(Verdict)
    assert [v.value for v in Verdict] == [
        "fail",
        "regression",
        "inconclusive",
        "warn",
        "missing",
        "improved",
        "pass",
        "new",
    ]


# -- unusable input: one line that names the file and the fix ---------------------------------
def test_a_baseline_that_shares_no_benchmark(
    thresholds: Thresholds, make_results: Factory, synthetic: Synthetic
) -> None:
    other = load_results(make_results("other.json", seed=1, kpis={"config_load": ("time", 0.004)}))
    run = synthetic(seed=2, kpis={"data_generation": ("time", 4e-6)})
    with pytest.raises(ResultsError) as caught:
        judge(run, thresholds, Baseline(other))
    assert str(caught.value) == (
        f"{other.path}: shares no benchmark with this run, so the gate would judge nothing; "
        "name a baseline of this project, or save a new one with `nox -s bench -- --save-baseline`"
    )


def test_duplicate_benchmarks_in_a_results_file(make_results: Factory) -> None:
    path = make_results("run.json", seed=1)
    data = json.loads(path.read_text())
    data["benchmarks"].append(data["benchmarks"][1])
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError) as caught:
        load_results(path)
    assert str(caught.value) == (
        f"{path}: benchmark 'data_generation[case]' appears twice; every benchmark must be one row "
        "(a merged or hand-edited file? measure again, or remove one of them)"
    )


def test_kpi_without_a_rule(thresholds: Thresholds, synthetic: Synthetic) -> None:
    run = synthetic(seed=1, kpis={"warp_speed": ("time", 1.0)})
    with pytest.raises(ResultsError) as caught:
        judge(run, thresholds)
    assert str(caught.value) == (
        f"results of commit1: KPI 'warp_speed' has no rule in {thresholds.path}; add one (unit, target, threshold)"
    )


def test_unit_of_the_wrong_dimension(tmp_path: Path, synthetic: Synthetic) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("kpis:\n  config_load: {unit: MB, target: 1, threshold: 2, allowed_change: 0.1}\n")
    with pytest.raises(ResultsError) as caught:
        judge(synthetic(seed=1, kpis={"config_load": ("time", 0.004)}), load_thresholds(path))
    assert str(caught.value) == f"{path}: kpis.config_load.unit 'MB' does not measure time; fix the unit"


def memory_run(peaks: dict[str, float], commit: str) -> Results:
    row = Row("memory_per_test", "memory_per_test[v1]", np.asarray(list(peaks.values())), "memory", keyed=peaks)
    return Results((row,), machine="m", commit=commit, datetime="")


@pytest.mark.parametrize("growth", [1.15, 1.3, 1.5])
def test_memory_growth_against_a_baseline_is_paired_test_by_test(thresholds: Thresholds, growth: float) -> None:
    # Tests of very different sizes: unpaired, every peak +15..50% was not significant (p 0.01-0.17)
    # and passed as inconclusive; paired by node id, a uniform growth is certain.
    rng = np.random.default_rng(3)
    peaks = {f"t.py::test_{i}[v1]": float(v) for i, v in enumerate(rng.integers(20_000, 2_000_000, 60))}
    base = memory_run(peaks, "base")
    run = memory_run({k: v * growth for k, v in peaks.items()}, "head")
    found = row(against(run, base, thresholds), "memory_per_test[v1]")
    assert found["ratio"] == pytest.approx(growth)
    assert found["p_value"] < 0.01
    assert found["verdict"] == "regression"


def test_memory_within_its_allowed_change_passes(thresholds: Thresholds) -> None:
    rng = np.random.default_rng(3)
    peaks = {f"t.py::test_{i}[v1]": float(v) for i, v in enumerate(rng.integers(20_000, 2_000_000, 60))}
    run = memory_run({k: v * 1.05 for k, v in peaks.items()}, "head")
    assert row(against(run, memory_run(peaks, "base"), thresholds), "memory_per_test[v1]")["verdict"] == "pass"


def test_one_process_a_side_is_never_significant(thresholds: Thresholds) -> None:
    # Thousands of samples from one process a side are not independent: the process-level
    # test cannot be made, so nothing is significant (the raw samples alone gave p = 2e-67).
    rng = np.random.default_rng(0)
    base = Results(
        (Row("config_load", "load", 0.004 * rng.lognormal(0, 0.02, 2000), process=np.array([0.004])),), "m", "b", ""
    )
    run = Results(
        (Row("config_load", "load", 0.0052 * rng.lognormal(0, 0.02, 2000), process=np.array([0.0052])),), "m", "h", ""
    )
    found = row(against(run, base, thresholds), "load")
    assert math.isnan(found["p_value"])
    assert found["verdict"] == "inconclusive"


def test_gate_off_still_fails_on_memory(thresholds: Thresholds) -> None:
    # Memory does not drift: --no-baseline-gate turns off the timing gate only.
    rng = np.random.default_rng(3)
    peaks = {f"t.py::test_{i}[v1]": float(v) for i, v in enumerate(rng.integers(20_000, 2_000_000, 60))}
    run = memory_run({k: v * 1.3 for k, v in peaks.items()}, "head")
    j = against(run, memory_run(peaks, "base"), thresholds, gated=False)
    assert j.failed == ["memory_per_test"]
    assert j.exit_code is ExitCode.REGRESSION


# -- instruction counts ------------------------------------------------------------------------
COUNT_RULES = """\
alpha: 0.01
kpis:
  data_generation: {unit: ms, target: 1, threshold: 5, allowed_change: 0.10}
  data_generation_instructions: {unit: k instructions, allowed_change: 0.01, ab_allowed_change: 0.01}
"""


def counted_run(name: str, factor: float = 1.0, time: float = 1.0, env: dict[str, Any] | None = None) -> Results:
    rng = np.random.default_rng(len(name))
    rows = [
        Row("data_generation", "gen[pet]", 4e-6 * time * rng.lognormal(0, 0.03, 40)),
        *(
            Row(
                "data_generation_instructions",
                f"gen[{case}]::instructions",
                np.asarray([count * factor]),
                measure="instructions",
                process=np.asarray([count * factor]),
                info={"functions": {"_PyEval_EvalFrameDefault": count * 0.5 * factor, "dict_get": count * 0.1}},
            )
            for case, count in (("pet", 45_000.0), ("user", 33_000.0))
        ),
    ]
    extra = {"environment": env} if env is not None else {}
    return Results(rows=tuple(rows), machine="m", commit=name, datetime="", extra=extra)


@pytest.fixture
def count_rules(tmp_path: Path) -> Thresholds:
    path = tmp_path / "counts.yaml"
    path.write_text(COUNT_RULES)
    return load_thresholds(path)


@pytest.mark.parametrize(
    ("factor", "verdict"), [(1.0, "pass"), (1.005, "pass"), (1.02, "regression"), (0.97, "improved")]
)
def test_counts_change_by_their_ratio(count_rules: Thresholds, factor: float, verdict: str) -> None:
    j = judge(counted_run("head", factor), count_rules, Baseline(counted_run("base")))
    assert verdicts(j)["data_generation_instructions"] == verdict
    assert j.failed == (["data_generation_instructions"] if verdict == "regression" else [])
    if verdict == "regression":
        assert row(j, "gen[pet]::instructions")["why"] == "x1.020 > allowed +1% (an instruction count: exact)"


def test_counted_kpis_wall_time_is_reported_against_a_baseline(count_rules: Thresholds) -> None:
    j = judge(counted_run("head", time=1.9), count_rules, Baseline(counted_run("base")))
    assert verdicts(j)["data_generation"] == "regression"  # x1.9, beyond the factor: shown ...
    assert j.failed == []  # ... but the counts, unchanged, are the verdict
    gate = dict(zip(j.kpis["kpi"], j.kpis["gate"], strict=True))
    assert gate["data_generation"] == "wall time reported; counts gate it (data_generation_instructions)"
    assert gate["data_generation_instructions"] == "counts: beyond +1%"


def test_without_counts_wall_time_gates_beyond_the_factor(count_rules: Thresholds) -> None:
    base = counted_run("base")
    only_time = Results(rows=base.rows[:1], machine="m", commit="head", datetime="")
    slow = Results(
        rows=(Row("data_generation", "gen[pet]", base.rows[0].samples * 1.9),), machine="m", commit="h", datetime=""
    )
    assert judge(only_time, count_rules, Baseline(base)).failed == []
    assert judge(slow, count_rules, Baseline(base)).failed == ["data_generation"]  # no large change passes


def test_a_changed_environment_reports_counts(count_rules: Thresholds) -> None:
    env = {"python": "CPython 3.11.2", "build": "b", "compiler": "c", "packages": {"jsonschema-rs": "0.29.1"}}
    newer = {**env, "packages": {"jsonschema-rs": "0.30.0"}}
    j = judge(counted_run("head", 1.05, env=newer), count_rules, Baseline(counted_run("base", env=env)))
    assert verdicts(j)["data_generation_instructions"] == "regression"
    assert j.failed == []
    assert j.environment == ["jsonschema-rs 0.29.1 -> 0.30.0"]
    assert any("jsonschema-rs 0.29.1 -> 0.30.0; instruction counts are reported, not gated" in n for n in j.notes)


def test_counts_of_another_interpreter_are_reported_not_gated(count_rules: Thresholds) -> None:
    """A baseline another Python made (a patch release; another minor has its own machine id,
    unless DYNAPI_MACHINE_ID names one): the count's +5% is shown, and fails only like for like."""
    env = {"python": "CPython 3.11.7", "build": "b", "compiler": "c", "packages": {"jsonschema-rs": "0.29.1"}}
    other = {**env, "python": "CPython 3.11.9"}
    j = judge(counted_run("head", 1.05, env=other), count_rules, Baseline(counted_run("base", env=env)))
    assert verdicts(j)["data_generation_instructions"] == "regression"
    assert j.failed == []
    assert j.environment == ["python CPython 3.11.7 -> CPython 3.11.9"]
    same = judge(counted_run("head", 1.05, env=env), count_rules, Baseline(counted_run("base", env=env)))
    assert same.failed == ["data_generation_instructions"]


def test_counts_against_a_base_commit_and_where_they_moved(count_rules: Thresholds) -> None:
    j = judge(counted_run("head", 1.03), count_rules, BaseCommit(counted_run("base"), "HEAD~1", "f" * 40, quick=True))
    assert j.failed == ["data_generation_instructions"]
    moved = {m["row"]: m for m in moved_functions(j)}
    top = moved["gen[pet]::instructions"]["functions"][0]
    assert top["function"] == "_PyEval_EvalFrameDefault"
    assert top["delta"] == pytest.approx(45_000 * 0.5 * 0.03)
    assert (
        "where gen[pet]::instructions changed (x1.030), instructions per item: _PyEval_EvalFrameDefault +675"
        in render_table(j)
    )
    gate = dict(zip(j.kpis["kpi"], j.kpis["gate"], strict=True))
    assert gate["data_generation"] == "wall time: beyond x1.6 only (--quick: 3 pairs)"


def test_a_comparison_with_a_contender_is_gated_by_its_threshold_only(tmp_path: Path) -> None:
    """A ratio over its contender fails above its bar whatever the baseline says, and a change
    against the baseline, even x3, is reported but never fails the build."""
    rules, run = _one_contender_row(
        tmp_path, "valid_path_ratio: {unit: x, target: 1.3, threshold: 1.3, contender: jsonschema-rs}",
        "valid_path_ratio[v2-pet]", "ratio",
    )  # fmt: skip
    under = judge(run([1.1, 1.2, 1.2]), rules, Baseline(run([0.4, 0.4, 0.4])))
    assert verdicts(under) == {"valid_path_ratio": "regression"}  # shown, for a look
    assert under.failed == []
    assert under.exit_code is ExitCode.OK
    assert under.kpis["gate"].tolist() == ["threshold: beside jsonschema-rs, in this run"]
    over = judge(run([1.35, 1.4, 1.5]), rules, Baseline(run([1.35, 1.4, 1.5])))
    assert verdicts(over) == {"valid_path_ratio": "fail"}
    assert over.exit_code is ExitCode.REGRESSION


@pytest.mark.parametrize("reference", [Baseline, lambda r: BaseCommit(r, "HEAD~1", "b" * 40)])
def test_a_difference_at_or_below_zero_has_no_ratio_to_its_reference(
    tmp_path: Path, reference: Callable[[Results], Reference]
) -> None:
    """-45 ms against -79 ms (ours faster than its contender in both runs, by noise) is no
    change of xinf: the row says there is no ratio; positive differences still compare."""
    rules, run = _one_contender_row(
        tmp_path, "session_startup_wall: {unit: ms, target: 1000, threshold: 1000, contender: by hand}",
        "session_startup_wall", "difference",
    )  # fmt: skip
    j = judge(run([-0.060, -0.045, -0.030]), rules, reference(run([-0.090, -0.079, -0.070])))
    assert verdicts(j) == {"session_startup_wall": "pass"}
    assert j.rows["why"].tolist() == ["no ratio to a difference at or below zero"]
    assert np.isnan(j.rows["ratio"].iloc[0])
    moved = judge(run([0.300, 0.310, 0.320]), rules, reference(run([0.010, 0.011, 0.012])))
    assert verdicts(moved) == {"session_startup_wall": "regression"}  # shown, for a look
    assert moved.exit_code is ExitCode.OK


def _one_contender_row(
    tmp_path: Path, rule: str, name: str, measure: Measure
) -> tuple[Thresholds, Callable[[list[float]], Results]]:
    """Rules of one contender KPI (``rule``, its line of YAML) and a maker of runs with one row
    of it, ``name``, each value its own process."""
    path = tmp_path / "thresholds.yaml"
    path.write_text(f"alpha: 0.01\nkpis:\n  {rule}\n", encoding="utf-8")

    def run(values: list[float]) -> Results:
        samples = np.asarray(values, dtype=float)
        rows = (Row(rule.partition(":")[0], name, samples, measure=measure, process=samples),)
        return Results(rows=rows, machine="m", commit="c", datetime="2026-11-29T00:00:00")

    return load_thresholds(path), run
