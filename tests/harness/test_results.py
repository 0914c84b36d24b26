"""Tests of dynapi_bench.results: typed rows, their file form, and every unusable file."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynapi_bench.errors import ResultsError
from dynapi_bench.results import Results, Row, load_results, machine_id

Factory = Callable[..., Path]


def results_of(*rows: Row) -> Results:
    return Results(rows=rows, machine="test-machine", commit="abc123", datetime="2026-11-27T00:00:00")


# -- round trip ---------------------------------------------------------------------------------
def test_row_entry_load_round_trip(tmp_path: Path) -> None:
    rows = (
        Row(
            "data_generation",
            "gen[pet]",
            np.array([1e-6, 2e-6, 3e-6, 4e-6]),
            process=np.array([1.5e-6, 3.5e-6]),
            items=100,
            info={"version": "v2"},
        ),
        Row(
            "memory_per_test",
            "memory_per_test[v1]",
            np.array([50_000.0, 60_000.0]),
            measure="memory",
            keyed={"test_a[v1]": 50_000.0, "test_b[v1]": 60_000.0},
        ),
    )
    path = tmp_path / "run.json"
    Results(rows=rows, machine="m1", commit="abc123", datetime="2026-11-27T00:00:00").save(path)
    back = load_results(path)
    assert (back.machine, back.commit, back.datetime, back.path) == ("m1", "abc123", "2026-11-27T00:00:00", path)
    assert [r.name for r in back.rows] == ["gen[pet]", "memory_per_test[v1]"]
    for before, after in zip(rows, back.rows, strict=True):
        assert (after.kpi, after.measure, after.items, dict(after.info)) == (
            before.kpi,
            before.measure,
            before.items,
            dict(before.info),
        )
        np.testing.assert_allclose(after.samples, before.samples)
        assert after.value == pytest.approx(before.value)
    gen, memory = back.rows
    assert gen.process is not None
    np.testing.assert_allclose(gen.process, [1.5e-6, 3.5e-6])
    assert gen.value == pytest.approx(1.5e-6)  # the fastest process's median, not the median of the samples
    assert memory.keyed == {"test_a[v1]": 50_000.0, "test_b[v1]": 60_000.0}
    assert back.kpis == ["data_generation", "memory_per_test"]


def test_entry_is_pytest_benchmark_shaped() -> None:
    entry = Row("config_load", "load[v1]", np.array([0.002, 0.004]), items=2).entry()
    assert entry["group"] == "config_load"
    assert entry["stats"]["data"] == [0.004, 0.008]  # per call: samples times items
    assert entry["stats"]["min"] == 0.004
    assert entry["extra_info"] == {"kpi": "config_load", "items": 2, "measure": "time"}


def test_the_machine_id_names_the_python_so_each_minor_version_has_its_own_baselines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DYNAPI_MACHINE_ID", raising=False)
    here = machine_id()
    assert here.endswith(f"-py{sys.version_info.major}.{sys.version_info.minor}")
    monkeypatch.setattr(platform, "python_version_tuple", lambda: ("3", "13", "0"))
    assert machine_id() == here.rsplit("-py", 1)[0] + "-py3.13"  # another interpreter, another folder


def test_duplicate_rows_in_memory() -> None:
    row = Row("config_load", "load[v1]", np.array([1.0]))
    with pytest.raises(ResultsError) as caught:
        results_of(row, row)
    assert str(caught.value) == (
        "results of abc123: benchmark 'load[v1]' appears twice; every benchmark must be one row "
        "(a merged or hand-edited file? measure again, or remove one of them)"
    )


def test_duplicate_rows_in_a_file(make_results: Factory) -> None:
    path = make_results("run.json", seed=1)
    data = json.loads(path.read_text())
    data["benchmarks"].append(data["benchmarks"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError) as caught:
        load_results(path)
    assert str(caught.value) == (
        f"{path}: benchmark 'config_load[case]' appears twice; every benchmark must be one row "
        "(a merged or hand-edited file? measure again, or remove one of them)"
    )
    assert "\n" not in str(caught.value)


# -- unusable files: one line naming the file and the fix ------------------------------------------
def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError) as caught:
        load_results(tmp_path / "nope.json")
    assert str(caught.value) == (
        f"{tmp_path / 'nope.json'}: not found; run `nox -s bench` first, or name an existing results file"
    )


def test_truncated_file(make_results: Factory) -> None:
    good = make_results("good.json", seed=1)
    cut = good.parent / "cut.json"
    text = good.read_text()
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(ResultsError) as caught:
        load_results(cut)
    message = str(caught.value)
    assert message.startswith(f"{cut}: not valid JSON at line 1 column ")
    assert message.endswith(": truncated or corrupt; run the benchmarks again")


def _sample(value: Any) -> Callable[[dict[str, Any]], None]:
    """Set the first benchmark's first sample."""

    def mutate(data: dict[str, Any]) -> None:
        data["benchmarks"][0]["stats"]["data"][0] = value

    return mutate


def _extra(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Set a key of the first benchmark's extra_info."""

    def mutate(data: dict[str, Any]) -> None:
        data["benchmarks"][0]["extra_info"][key] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.pop("benchmarks"), "no 'benchmarks' list; expected pytest-benchmark JSON (--benchmark-json)"),
        (
            lambda d: d["benchmarks"][0]["stats"].pop("data"),
            "benchmarks[0] (config_load[case]): no raw samples in stats.data; "
            "run pytest-benchmark with --benchmark-save-data",
        ),
        (
            _sample(float("nan")),
            "benchmarks[0] (config_load[case]): stats.data holds NaN, infinity or a number too large for a float; "
            "the file is corrupt, run the benchmarks again",
        ),
        (
            _sample(-1.0),
            "benchmarks[0] (config_load[case]): stats.data holds a negative time; "
            "the file is corrupt, run the benchmarks again",
        ),
        (
            _sample("fast"),
            "benchmarks[0] (config_load[case]): stats.data holds a value that is not a number; the file is corrupt",
        ),
        (
            _extra("measure", "joules"),
            "benchmarks[0] (config_load[case]): unknown measure 'joules'; expected one of time, memory, instructions, ratio, difference",
        ),
        (
            _extra("items", 0),
            "benchmarks[0] (config_load[case]): extra_info.items must be a whole number >= 1, got 0",
        ),
        (
            _extra("process_medians", [1.0, -2.0]),
            "benchmarks[0] (config_load[case]): extra_info.process_medians must be a list of numbers >= 0; "
            "the file is corrupt",
        ),
        (
            _extra("peaks", {"t": "big"}),
            "benchmarks[0] (config_load[case]): extra_info.peaks must map test ids to numbers >= 0; the file is corrupt",
        ),
        (
            lambda d: [b["extra_info"].pop("kpi") for b in d["benchmarks"]],
            "no benchmark is tagged with a KPI (extra_info.kpi); nothing to check",
        ),
        (lambda d: d["benchmarks"].__setitem__(0, 3), "benchmarks[0]: expected an object; the file is corrupt"),
    ],
    ids=[
        "no-benchmarks",
        "no-raw-data",
        "nan",
        "negative",
        "not-a-number",
        "unknown-measure",
        "items",
        "process-medians",
        "peaks",
        "untagged",
        "not-an-object",
    ],
)
def test_malformed_results(make_results: Factory, mutate: Callable[[dict[str, Any]], object], expected: str) -> None:
    path = make_results("run.json", seed=1)
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsError) as caught:
        load_results(path)
    assert str(caught.value) == f"{path}: {expected}"


def test_untagged_benchmarks_are_left_out(make_results: Factory) -> None:
    path = make_results("run.json", seed=1)
    data = json.loads(path.read_text())
    data["benchmarks"][0]["extra_info"].pop("kpi")
    path.write_text(json.dumps(data))
    assert "config_load[case]" not in load_results(path).by_name
