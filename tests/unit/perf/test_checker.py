"""Tests of framework.perf.checker on synthetic results with known effects."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from framework.errors import ExitCode
from framework.perf.checker import compare, compare_ab, main, render_table, summary
from framework.perf.results import load_results, make_entry
from framework.perf.thresholds import load_thresholds

Factory = Callable[..., Path]


def verdicts(run: Path, base: Path | None, thresholds: Path, **kw: bool) -> dict[str, str]:
    c = compare(load_results(run), load_results(base) if base else None, load_thresholds(thresholds), **kw)
    return dict(zip(c.kpis["kpi"], c.kpis["verdict"], strict=True))


def test_no_change_passes(make_results: Factory, thresholds_file: Path) -> None:
    base = make_results("base.json", seed=1)
    run = make_results("run.json", seed=2)
    assert set(verdicts(run, base, thresholds_file).values()) == {"pass"}
    assert main([str(run), str(base), "--thresholds", str(thresholds_file)]) == ExitCode.OK


def test_slower_data_generation_fails(
    make_results: Factory, thresholds_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_results("base.json", seed=1)
    run = make_results("run.json", seed=2, factors={"data_generation": 2.0})
    found = verdicts(run, base, thresholds_file)
    assert found["data_generation"] == "fail"
    assert {k for k, v in found.items() if v == "fail"} == {"data_generation"}
    assert main([str(run), str(base), "--thresholds", str(thresholds_file)]) == ExitCode.REGRESSION
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.strip().startswith("data_generation"))
    assert "FAIL" in line
    assert "vs baseline" in line
    assert "overall: FAIL" in out


def test_twice_the_memory_fails(make_results: Factory, thresholds_file: Path) -> None:
    base = make_results("base.json", seed=1)
    run = make_results("run.json", seed=2, factors={"memory_per_test": 2.0})
    found = verdicts(run, base, thresholds_file)
    assert found["memory_per_test"] == "fail"
    assert {k for k, v in found.items() if v == "fail"} == {"memory_per_test"}


@pytest.mark.parametrize("factor", [1.05, 0.95])
def test_significant_but_small_change_is_allowed(make_results: Factory, thresholds_file: Path, factor: float) -> None:
    base = make_results("base.json", seed=1, n=400, noise=0.01)
    run = make_results("run.json", seed=2, n=400, noise=0.01, factors={"config_load": factor})
    c = compare(load_results(run), load_results(base), load_thresholds(thresholds_file))
    row = c.rows.set_index("kpi").loc["config_load"]
    assert row["p_value"] < 0.01  # the change is real ...
    assert row["baseline_verdict"] == "same"  # ... but within the allowed 10%
    assert c.verdict == "pass"


def test_one_unlucky_process_does_not_decide(make_results: Factory, thresholds_file: Path) -> None:
    # Timings here are bimodal between processes: one slow process of five moves no value.
    base = make_results("base.json", seed=1, process_factors=[1, 1, 1, 1, 1])
    run = make_results("run.json", seed=2, process_factors=[1, 1.9, 1, 1, 1])
    c = compare(load_results(run), load_results(base), load_thresholds(thresholds_file))
    assert c.verdict == "pass"
    assert c.rows.set_index("kpi").loc["config_load", "change"] == pytest.approx(0, abs=0.05)


def test_drift_inside_runs_is_not_significant_between_processes(make_results: Factory, thresholds_file: Path) -> None:
    # The raw samples of two runs whose processes overlap differ "significantly" (thousands
    # of samples), yet the processes do not separate: no regression, even past the allowed change.
    base = make_results("base.json", seed=1, n=400, process_factors=[1.0, 1.3, 1.0, 1.3, 1.0])
    run = make_results("run.json", seed=2, n=400, process_factors=[1.3, 1.3, 1.0, 1.3, 1.3], factors={})
    c = compare(load_results(run), load_results(base), load_thresholds(thresholds_file))
    row = c.rows.set_index("kpi").loc["config_load"]
    assert row["change"] > 0.25
    assert row["p_value"] > 0.01
    assert row["baseline_verdict"] == "same"


def test_every_process_slower_is_a_regression(make_results: Factory, thresholds_file: Path) -> None:
    base = make_results("base.json", seed=1, process_factors=[1, 1.1, 1, 1.2, 1])
    run = make_results("run.json", seed=2, process_factors=[1, 1.1, 1, 1.2, 1], factors={"data_generation": 2.0})
    c = compare(load_results(run), load_results(base), load_thresholds(thresholds_file))
    row = c.rows.set_index("kpi").loc["data_generation"]
    assert row["baseline_verdict"] == "regressed"
    assert row["p_value"] < 0.01
    assert c.verdict == "fail"


def test_improvement_is_reported_not_failed(make_results: Factory, thresholds_file: Path) -> None:
    base = make_results("base.json", seed=1)
    run = make_results("run.json", seed=2, factors={"response_validation": 0.5})
    c = compare(load_results(run), load_results(base), load_thresholds(thresholds_file))
    assert c.rows.set_index("kpi").loc["response_validation", "baseline_verdict"] == "improved"
    assert c.verdict == "pass"


def test_threshold_fails_without_baseline(make_results: Factory, thresholds_file: Path) -> None:
    run = make_results("run.json", seed=2, factors={"test_execution": 300})  # 600 ms > 500 ms
    found = verdicts(run, None, thresholds_file)
    assert found["test_execution"] == "fail"
    assert main([str(run), "--thresholds", str(thresholds_file)]) == ExitCode.REGRESSION


def test_above_target_warns(make_results: Factory, thresholds_file: Path) -> None:
    run = make_results("run.json", seed=2, factors={"test_execution": 100})  # 200 ms: > 100, < 500
    assert verdicts(run, None, thresholds_file)["test_execution"] == "warn"
    assert main([str(run), "--thresholds", str(thresholds_file)]) == ExitCode.OK


def test_baseline_gate_off_reports_only(make_results: Factory, thresholds_file: Path) -> None:
    base = make_results("base.json", seed=1)
    run = make_results("run.json", seed=2, factors={"data_generation": 2.0})
    found = verdicts(run, base, thresholds_file, gate_baseline=False)
    assert found["data_generation"] == "warn"
    args = [str(run), str(base), "--thresholds", str(thresholds_file), "--no-baseline-gate"]
    assert main(args) == ExitCode.OK


def test_new_kpi_and_other_machine(make_results: Factory, thresholds_file: Path) -> None:
    base = make_results("base.json", seed=1, machine="elsewhere", kpis={"config_load": ("time", 0.004)})
    run = make_results("run.json", seed=2)
    c = compare(load_results(run), load_results(base), load_thresholds(thresholds_file))
    table = render_table(c)
    assert "warning: baseline recorded on elsewhere, this run on test-machine: compared anyway" in table
    assert "new: not in the baseline" in table
    assert c.rows.set_index("kpi").loc["data_generation", "baseline_verdict"] == "new"


def test_summary_json(make_results: Factory, thresholds_file: Path, tmp_path: Path) -> None:
    base = make_results("base.json", seed=1)
    run = make_results("run.json", seed=2, factors={"data_generation": 2.0})
    out = tmp_path / "summary.json"
    main([str(run), str(base), "--thresholds", str(thresholds_file), "--summary", str(out)])
    summary = json.loads(out.read_text())
    assert summary["verdict"] == "fail"
    kpis = {k["name"]: k for k in summary["kpis"]}
    assert set(kpis) == {"config_load", "data_generation", "response_validation", "test_execution", "memory_per_test"}
    dg = kpis["data_generation"]
    assert {"name", "unit", "value", "target", "threshold", "baseline", "change", "p_value", "verdict"} <= set(dg)
    assert dg["verdict"] == "fail"
    assert dg["change"] == pytest.approx(1.0, abs=0.1)
    assert dg["unit"] == "ms"
    assert dg["value"] == pytest.approx(0.008, rel=0.1)


# -- unusable input: exit 2 and one line that names the file and the fix ---------------------
def bad(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def run_bad(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == ExitCode.BAD_INPUT
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert "\n" not in err
    assert "Traceback" not in captured.err + captured.out
    return err


def test_missing_file(tmp_path: Path, thresholds_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_bad([str(tmp_path / "nope.json"), "--thresholds", str(thresholds_file)], capsys)
    assert (
        err
        == f"dynapi-check: error: {tmp_path / 'nope.json'}: not found; run `nox -s bench` first, or name an existing results file"
    )


def test_truncated_file(make_results: Factory, thresholds_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = make_results("good.json", seed=1)
    text = good.read_text()
    cut = bad(good.parent / "cut.json", text[: len(text) // 2])
    err = run_bad([str(cut), "--thresholds", str(thresholds_file)], capsys)
    assert f"{cut}: not valid JSON at line 1 column" in err
    assert "truncated or corrupt; run the benchmarks again" in err


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("benchmarks"), "no 'benchmarks' list; expected pytest-benchmark JSON"),
        (
            lambda d: d["benchmarks"][0]["stats"].pop("data"),
            "no raw samples in stats.data; run pytest-benchmark with --benchmark-save-data",
        ),
        (
            lambda d: d["benchmarks"][0]["stats"]["data"].__setitem__(0, float("nan")),
            "stats.data holds NaN or infinity",
        ),
        (lambda d: d["benchmarks"][0]["stats"]["data"].__setitem__(0, -1.0), "stats.data holds a negative time"),
        (
            lambda d: d["benchmarks"][0]["stats"]["data"].__setitem__(0, "fast"),
            "stats.data holds a value that is not a number",
        ),
        (lambda d: d["benchmarks"][0]["extra_info"].__setitem__("measure", "joules"), "unknown measure 'joules'"),
        (
            lambda d: d["benchmarks"][0]["extra_info"].__setitem__("kpi", "warp_speed"),
            "KPI 'warp_speed' has no rule in",
        ),
        (lambda d: [b["extra_info"].pop("kpi") for b in d["benchmarks"]], "no benchmark is tagged with a KPI"),
    ],
    ids=[
        "no-benchmarks",
        "no-raw-data",
        "nan",
        "negative",
        "not-a-number",
        "unknown-measure",
        "unknown-kpi",
        "untagged",
    ],
)
def test_malformed_results(
    make_results: Factory, thresholds_file: Path, capsys: pytest.CaptureFixture[str], mutate: object, expected: str
) -> None:
    path = make_results("run.json", seed=1)
    data = json.loads(path.read_text())
    mutate(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))
    err = run_bad([str(path), "--thresholds", str(thresholds_file)], capsys)
    assert err.startswith(f"dynapi-check: error: {path}")
    assert expected in err


def test_malformed_baseline_named(
    make_results: Factory, thresholds_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = make_results("run.json", seed=1)
    base = bad(run.parent / "base.json", "{}")
    err = run_bad([str(run), str(base), "--thresholds", str(thresholds_file)], capsys)
    assert f"{base}: no 'benchmarks' list" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kpis:\n  config_load: {unit: parsecs, target: 1, threshold: 2, allowed_change: 0.1}\n",
            "kpis.config_load.unit: unknown unit 'parsecs'; use one of ns, us, ms",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: -1, threshold: 2, allowed_change: 0.1}\n",
            "kpis.config_load.target: expected a number >= 0, got -1",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: 3, threshold: 2, allowed_change: 0.1}\n",
            "target 3 is above threshold 2; swap them",
        ),
        (
            "kpis:\n  config_load: {unit: ms, target: 1, threshold: 2, allowed_change: 0.1, colour: red}\n",
            "unknown keys ['colour']",
        ),
        (
            "kpis:\n  config_load: {unit: MB, target: 1, threshold: 2, allowed_change: 0.1}\n",
            "kpis.config_load.unit 'MB' does not measure time; fix the unit",
        ),
        ("alpha: 2\nkpis: {}\n", "expected a mapping with 'alpha' and 'kpis"),
        (
            "alpha: 2\nkpis:\n  config_load: {unit: ms, target: 1, threshold: 2, allowed_change: 0.1}\n",
            "alpha: expected a number between 0 and 1, got 2",
        ),
        ("kpis: [\n", "not valid YAML"),
    ],
    ids=[
        "unknown-unit",
        "negative",
        "target-above-threshold",
        "unknown-key",
        "wrong-dimension",
        "empty",
        "bad-alpha",
        "not-yaml",
    ],
)
def test_bad_thresholds(
    make_results: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    run = make_results("run.json", seed=1, kpis={"config_load": ("time", 0.004)})
    path = bad(tmp_path / "t.yaml", text)
    err = run_bad([str(run), "--thresholds", str(path)], capsys)
    assert str(path) in err
    assert expected in err


def test_missing_thresholds(make_results: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_results("run.json", seed=1)
    err = run_bad([str(run), "--thresholds", str(tmp_path / "none.yaml")], capsys)
    assert "none.yaml: not found; pass --thresholds PATH" in err


def test_runs_as_a_module(make_results: Factory, thresholds_file: Path) -> None:
    run = make_results("run.json", seed=1)
    proc = subprocess.run(
        [sys.executable, "-m", "framework.perf.checker", str(run), "--thresholds", str(thresholds_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "overall: PASS" in proc.stdout


# -- same-run comparisons (--against) --------------------------------------------------------
def ab_results(factory: Factory, name: str, *, seed: int, factor: float = 1.0, memory: float = 1.0) -> Path:
    """A side of an A/B run: 10 processes whose luck is shared pair by pair (same seed for both
    sides' drift), and memory per test keyed by test id."""
    rng = np.random.default_rng(seed)
    drift = np.random.default_rng(7).lognormal(0, 0.2, 10)
    path = factory(name, seed=seed, kpis={})
    medians = list(4e-6 * factor * drift * rng.lognormal(0, 0.02, 10))
    samples = [m * x for m in medians for x in rng.lognormal(0, 0.01, 5)]
    peaks = {f"test_{i}[v1]": int(50_000 * memory) + i for i in range(40)}
    data = json.loads(path.read_text())
    data["benchmarks"] = [
        make_entry("gen[case]", "data_generation", samples, process_medians=medians),
        make_entry("memory_per_test[v1]", "memory_per_test", list(peaks.values()), measure="memory", peaks=peaks),
    ]
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("factor", "memory", "failing"),
    [(1.0, 1.0, set()), (1.10, 1.0, {"data_generation"}), (1.0, 1.10, {"memory_per_test"})],
    ids=["a-a", "ten-percent-slower", "ten-percent-bigger"],
)
def test_same_run_comparison(
    make_results: Factory, thresholds_file: Path, factor: float, memory: float, failing: set[str]
) -> None:
    base = load_results(ab_results(make_results, "base.json", seed=1))
    head = load_results(ab_results(make_results, "head.json", seed=2, factor=factor, memory=memory))
    c = compare_ab(head, base, load_thresholds(thresholds_file), ref="HEAD~1 (abc)")
    assert set(c.kpis.loc[c.kpis["verdict"] == "fail", "kpi"]) == failing
    rows = c.rows.set_index("kpi")
    assert rows.loc["data_generation", "pairs"] == 10
    assert rows.loc["memory_per_test", "pairs"] == 40
    assert rows.loc["data_generation", "ratio_low"] <= factor <= rows.loc["data_generation", "ratio_high"]
    table = render_table(c)
    assert "head/base [CI]" in table
    assert "same-run comparison: head against base HEAD~1 (abc)" in table
    s = summary(c, head)
    kpi = {k["name"]: k for k in s["kpis"]}["data_generation"]
    assert {"base", "head", "ratio", "ratio_low", "ratio_high", "p_value", "verdict"} <= set(kpi)
    assert s["reference"] == "base HEAD~1 (abc)"
