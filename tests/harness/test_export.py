"""Tests of dynapi_bench.export: each format against a JSON Schema written from its own
documentation, the figures and units of a judged run, and ``dynapi-bench export``'s errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from dynapi_bench.cli import main
from dynapi_bench.export import FORMATS, Format, bencher, entries, export_text, github_action_benchmark, write_exports
from dynapi_bench.judge import Judgement, judge
from dynapi_bench.reference import Baseline
from dynapi_bench.results import Results, Row, load_results
from dynapi_bench.thresholds import Thresholds, load_thresholds

# github-action-benchmark's input for `tool: customSmallerIsBetter`, from its README ("Examples",
# custom benchmarks: "Every entry in the JSON file you provide only needs to provide name, unit,
# and value. You can also provide optional range (results' variance) and extra ...") and the
# `BenchmarkResult` interface its `extractCustomBenchmarkResult` reads, in src/extract.ts:
# https://github.com/benchmark-action/github-action-benchmark#examples
# https://github.com/benchmark-action/github-action-benchmark/blob/master/src/extract.ts
# It keeps only those five keys; an empty array is an error there ("No benchmark result was found").
GITHUB_ACTION_BENCHMARK_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "unit": {"type": "string", "minLength": 1},
            "value": {"type": "number"},
            "range": {"type": "string"},
            "extra": {"type": "string"},
        },
        "required": ["name", "unit", "value"],
        "additionalProperties": False,
    },
}

# Bencher Metric Format: the JSON Schema the reference page publishes ($id https://bencher.dev/bmf.json),
# https://bencher.dev/docs/reference/bencher-metric-format/ , with the limits the same page sets
# ("Order of Precedence": a benchmark name at most 1024 characters, a measure slug at most 64),
# a slug written as Bencher writes its own (latency, build-time, file-size), and at least one
# benchmark, since an empty report tracks nothing.
BENCHER_METRIC_FORMAT_SCHEMA: dict[str, Any] = {
    "$id": "https://bencher.dev/bmf.json",
    "$schema": "http://json-schema.org/draft-07/schema",
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"maxLength": 1024},
    "patternProperties": {
        ".+": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"maxLength": 64, "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"},
            "patternProperties": {
                ".+": {
                    "type": "object",
                    "properties": {
                        "value": {"type": "number"},
                        "lower_value": {"type": "number"},
                        "upper_value": {"type": "number"},
                    },
                    "required": ["value"],
                    "additionalProperties": False,
                }
            },
        }
    },
    "additionalProperties": False,
}

SCHEMAS = {"github-action-benchmark": GITHUB_ACTION_BENCHMARK_SCHEMA, "bencher": BENCHER_METRIC_FORMAT_SCHEMA}

# Every measure of the harness, in the units benchmarks/thresholds.yaml gives the real KPIs.
RULES = """\
alpha: 0.01
kpis:
  config_load: {unit: ms, target: 50, threshold: 100, allowed_change: 0.10}
  data_generation: {unit: ms, target: 1, threshold: 5, allowed_change: 0.10}
  memory_per_test: {unit: MB, target: 10, threshold: 50, allowed_change: 0.10}
  data_generation_instructions: {unit: k instructions, allowed_change: 0.01}
  failure_path_ratio: {unit: x, target: 1.2, threshold: 2.0, contender: jsonschema-rs}
  session_startup: {unit: ms, target: 20, threshold: 250, contender: the same test by hand}
"""


def run_results(commit: str = "head111", *, slower: float = 1.0) -> Results:
    """One row of each measure, with figures known in advance (base units per item)."""
    medians = np.array([0.004, 0.005, 0.006]) * slower  # config_load: three processes, 4 to 6 ms
    startup = np.array([-0.010, 0.030, 0.045])  # a difference may be below zero
    ratio = np.array([1.5, 1.6, 1.7])
    return Results(
        rows=(
            Row(
                "config_load",
                "benchmarks/test_config_load.py::test_config_load_cold",
                np.repeat(medians, 4),
                process=medians,
            ),
            Row(
                "data_generation", "benchmarks/test_data_generation.py::test_build[v1-pet]", np.full(20, 4e-6 * slower)
            ),
            Row("memory_per_test", "memory_per_test[v2]", np.array([50_000.0, 60_000.0, 70_000.0]), "memory"),
            Row(
                "data_generation_instructions",
                "benchmarks/test_data_generation.py::test_build[v1-pet]::instructions",
                np.array([42_909.65]),
                "instructions",
                process=np.array([42_909.65]),
            ),
            Row("failure_path_ratio", "failure_path_ratio[v2-pet]", np.repeat(ratio, 4), "ratio", process=ratio),
            Row("session_startup", "session_startup", np.repeat(startup, 2), "difference", process=startup),
        ),
        machine="test-machine",
        commit=commit,
        datetime="2026-11-29T10:00:00+00:00",
    )


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


@pytest.fixture
def thresholds(rules: Path) -> Thresholds:
    return load_thresholds(rules)


@pytest.fixture
def judged(thresholds: Thresholds) -> Judgement:
    return judge(run_results(), thresholds)


def test_the_schemas_are_valid_json_schemas() -> None:
    jsonschema.Draft202012Validator.check_schema(GITHUB_ACTION_BENCHMARK_SCHEMA)
    jsonschema.Draft7Validator.check_schema(BENCHER_METRIC_FORMAT_SCHEMA)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_export_has_its_formats_documented_shape(judged: Judgement, fmt: Format) -> None:
    data = json.loads(export_text(judged, fmt))
    jsonschema.validate(data, SCHEMAS[fmt])


@pytest.mark.parametrize(
    ("fmt", "bad"),
    [
        ("github-action-benchmark", [{"name": "x", "value": 1.0}]),  # no unit
        ("github-action-benchmark", [{"name": "x", "unit": "ms", "value": "1.0"}]),  # a value as text
        ("github-action-benchmark", [{"name": "x", "unit": "ms", "value": 1.0, "range": 0.1}]),  # a range as a number
        ("bencher", {"x": {"latency": {"lower_value": 1.0}}}),  # no value
        ("bencher", {"x": {"Latency (ns)": {"value": 1.0}}}),  # not a slug
        ("bencher", [{"x": {"latency": {"value": 1.0}}}]),  # an array
    ],
)
def test_the_schemas_refuse_what_their_formats_refuse(fmt: str, bad: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMAS[fmt])


def test_github_action_benchmark_figures_are_the_rows_in_their_own_units(judged: Judgement) -> None:
    by_name = {e["name"]: e for e in github_action_benchmark(judged)}
    assert list(by_name) == [
        "config_load/test_config_load_cold",
        "data_generation/test_build[v1-pet]",
        "memory_per_test[v2]",
        "data_generation_instructions/test_build[v1-pet]",
        "failure_path_ratio[v2-pet]",
        "session_startup",
    ]  # one per KPI, in the table's order, named by the KPI and its case
    load = by_name["config_load/test_config_load_cold"]
    assert (load["unit"], load["value"]) == ("ms", 4.0)  # the fastest process's median
    assert load["range"] == "4 to 6 (the medians of 3 processes)"
    assert load["extra"].splitlines() == [
        "verdict: pass",
        "commit: head111",
        "machine: test-machine",
        "row: benchmarks/test_config_load.py::test_config_load_cold",
    ]
    assert (by_name["memory_per_test[v2]"]["unit"], by_name["memory_per_test[v2]"]["value"]) == ("MB", 0.06)
    assert "range" not in by_name["memory_per_test[v2]"]  # no processes: no spread to give
    count = by_name["data_generation_instructions/test_build[v1-pet]"]
    assert (count["unit"], count["value"]) == ("k instructions", 42.90965)
    assert "range" not in count  # one process
    ratio = by_name["failure_path_ratio[v2-pet]"]
    assert (ratio["unit"], ratio["value"], ratio["range"]) == ("x", 1.6, "1.5 to 1.7 (the medians of 3 processes)")
    assert ratio["extra"].splitlines()[0] == "verdict: warn (1.6 x > target 1.2)"
    startup = by_name["session_startup"]
    assert (startup["unit"], startup["value"], startup["range"]) == (
        "ms",
        30.0,
        "-10 to 45 (the medians of 3 processes)",
    )
    assert startup["extra"].splitlines()[0] == "verdict: warn (30 ms > target 20)"


def test_bencher_figures_are_in_each_measures_unit(judged: Judgement) -> None:
    assert bencher(judged) == {
        "config_load/test_config_load_cold": {
            "latency": {"value": 4_000_000.0, "lower_value": 4_000_000.0, "upper_value": 6_000_000.0}  # ns
        },
        "data_generation/test_build[v1-pet]": {"latency": {"value": 4000.0}},
        "memory_per_test[v2]": {"memory": {"value": 60_000.0}},  # bytes
        "data_generation_instructions/test_build[v1-pet]": {"instructions": {"value": 42_909.65}},
        "failure_path_ratio[v2-pet]": {"ratio": {"value": 1.6, "lower_value": 1.5, "upper_value": 1.7}},
        "session_startup": {
            "latency-difference": {"value": 30_000_000.0, "lower_value": -10_000_000.0, "upper_value": 45_000_000.0}
        },
    }


def test_every_judged_row_is_an_entry_under_a_name_that_stays(thresholds: Thresholds) -> None:
    """Against a baseline: every case of a KPI is an entry of its own, with its own verdict,
    named by its case (a dashboard's series stays one case from run to run), and so is the
    cases' geometric mean the judge made (no spread: it is no one row's); a KPI of the baseline
    missing from the run has no figure and no entry."""
    base = Results(
        rows=(
            Row("data_generation", "gen[a]", np.array([4e-6, 4.04e-6])),
            Row("data_generation", "gen[b]", np.array([5e-6, 5.05e-6])),
            Row("memory_per_test", "memory_per_test[v2]", np.full(3, 60_000.0), "memory"),
        ),
        machine="test-machine",
        commit="base000",
        datetime="",
    )
    head = Results(
        rows=tuple(Row(r.kpi, r.name, r.samples * 1.8) for r in base.rows if r.measure == "time"),
        machine="test-machine",
        commit="head111",
        datetime="",
    )
    j = judge(head, thresholds, Baseline(base))
    assert dict(zip(j.kpis["kpi"], j.kpis["verdict"], strict=True)) == {
        "data_generation": "regression",
        "memory_per_test": "missing",
    }
    by_name = {e.name: e for e in entries(j)}
    assert sorted(by_name) == ["data_generation/gen[a]", "data_generation/gen[b]", "data_generation[geomean of 2]"]
    mean = by_name["data_generation[geomean of 2]"]
    assert (mean.row, mean.verdict) == ("data_generation[geomean of 2]", "regression")
    assert mean.value == pytest.approx(1.8 * np.sqrt(4.02e-3 * 5.025e-3))  # ms: the cases' geometric mean
    assert (mean.low, mean.high) == (None, None)
    assert by_name["data_generation/gen[a]"].value == pytest.approx(1.8 * 4.02e-3)  # the median of its samples
    assert {by_name[n].verdict for n in ("data_generation/gen[a]", "data_generation/gen[b]")} <= {
        "inconclusive",
        "regression",
    }
    assert sorted(bencher(j)) == sorted(by_name)
    # the same rows judged again, slower still: the same names, so a dashboard's lines go on
    slower = Results(
        rows=tuple(Row(r.kpi, r.name, r.samples * 1.1) for r in head.rows), machine="m", commit="c", datetime=""
    )
    assert sorted(e.name for e in entries(judge(slower, thresholds, Baseline(base)))) == sorted(by_name)


def test_write_exports_names_the_files(judged: Judgement, tmp_path: Path) -> None:
    paths = write_exports(judged, tmp_path / "reports")
    assert [p.name for p in paths] == ["github-action-benchmark.json", "bencher.json"]
    for path, fmt in zip(paths, FORMATS, strict=True):
        assert path.read_text() == export_text(judged, fmt)


# -- dynapi-bench export ----------------------------------------------------------------------------------
@pytest.fixture
def results_file(tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    run_results().save(path)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_prints_the_results_file_judged(
    fmt: Format, results_file: Path, rules: Path, thresholds: Thresholds, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--format", fmt, str(results_file), "--thresholds", str(rules)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out == export_text(judge(load_results(results_file), thresholds), fmt)
    jsonschema.validate(json.loads(out), SCHEMAS[fmt])


def test_export_against_a_baseline_writes_to_a_file(
    tmp_path: Path, results_file: Path, rules: Path, thresholds: Thresholds, capsys: pytest.CaptureFixture[str]
) -> None:
    base_file, out = tmp_path / "base.json", tmp_path / "out" / "bencher.json"
    run_results("base000", slower=0.5).save(base_file)
    argv = [
        "export",
        "--format",
        "bencher",
        str(results_file),
        str(base_file),
        "-o",
        str(out),
        "--thresholds",
        str(rules),
    ]
    assert main(argv) == 0  # an export is not a gate: 0 whatever the verdicts
    assert capsys.readouterr() == ("", "")
    expected = judge(load_results(results_file), thresholds, Baseline(load_results(base_file)))
    assert set(expected.kpis["verdict"]) >= {"regression"}
    assert out.read_text() == export_text(expected, "bencher")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "{path}: not found; run `nox -s bench` first, or name an existing results file"),
        ("{not json", "{path}: not valid JSON at line 1 column 2: truncated or corrupt; run the benchmarks again"),
        ('{"summary": 1}', "{path}: no 'benchmarks' list; expected pytest-benchmark JSON (--benchmark-json)"),
        ("[]", "{path}: no 'benchmarks' list; expected pytest-benchmark JSON (--benchmark-json)"),
    ],
)
def test_a_file_that_is_no_results_file_is_one_line_and_exit_2(
    tmp_path: Path, rules: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert main(["export", "--format", "bencher", str(path), "--thresholds", str(rules)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"dynapi-bench: error: {message.format(path=path)}\n"


def test_an_unknown_format_is_one_line_and_exit_2(results_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["export", "--format", "csv", str(results_file)])
    assert caught.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "dynapi-bench export: error: argument --format: invalid choice: 'csv' "
        "(choose from 'github-action-benchmark', 'bencher'); see dynapi-bench export --help\n"
    )


def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(
    tmp_path: Path, results_file: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a-folder"
    out.mkdir()
    assert main(["export", "--format", "bencher", str(results_file), "-o", str(out), "--thresholds", str(rules)]) == 2
    stdout, err = capsys.readouterr()
    assert stdout == ""
    assert (
        err == f"dynapi-bench: error: -o {out}: cannot be written (Is a directory); name a file in a writable folder\n"
    )
    assert list(out.iterdir()) == []  # and no temporary file left behind
