"""Tests of framework.perf.runner's parts: version ids, child processes, baselines."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import pytest

from framework.perf.results import load_results, machine_id, pool_entries
from framework.perf.runner import BenchError, Options, Runner, _Execution, spawn, version_of


@pytest.mark.parametrize(
    ("test_id", "version"),
    [
        ("tests/integration/test_pets_dynamic.py::test_create[v2]", "v2"),
        ("test_create_pet_rejects_invalid_payload[bad-pattern-v1]", "v1"),
        ("tests-integration-test_pets_dynamic.py-test_x[v3]", "v3"),
        ("test_plain", None),
    ],
)
def test_version_of(test_id: str, version: str | None) -> None:
    assert version_of(test_id) == version


def test_spawn_measures_the_child(tmp_path: Path) -> None:
    code = "b = bytearray(50_000_000); b[::4096] = b'x' * len(b[::4096]); print('hi')"
    finished = spawn([sys.executable, "-c", code], tmp_path / "log")
    assert finished.returncode == 0
    assert finished.max_rss >= 50_000_000
    assert finished.wall > 0
    assert (tmp_path / "log").read_text().strip() == "hi"


def test_spawn_exit_code(tmp_path: Path) -> None:
    assert spawn([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "log").returncode == 3


def results_file(path: Path, commit: str = "abc") -> Path:
    entry = {
        "name": "x",
        "extra_info": {"kpi": "config_load"},
        "stats": {"data": [0.004, 0.005]},
    }
    path.write_text(json.dumps({"commit_info": {"id": commit}, "benchmarks": [entry]}))
    return path


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(Options(reports=tmp_path / "reports", baselines=tmp_path / "baselines"))


def test_save_baseline_never_overwrites(runner: Runner, tmp_path: Path) -> None:
    results = results_file(tmp_path / "results.json")
    saved = runner.save_baseline(results)
    assert saved.parent == tmp_path / "baselines" / machine_id()
    assert saved.name.endswith("-abc.json")
    assert json.loads(saved.read_text()) == json.loads(results.read_text())
    assert not list(saved.parent.glob("*.tmp"))

    when = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)
    first = runner.save_baseline(results, now=when)
    assert first.name == "20261127T120000Z-abc.json"
    saved = first
    before = saved.read_text()
    with pytest.raises(BenchError, match="baselines are never overwritten"):
        runner.save_baseline(results_file(tmp_path / "other.json"), now=when)
    assert saved.read_text() == before


def test_baseline_of_this_machine_first(runner: Runner, tmp_path: Path) -> None:
    assert runner.baseline_path() is None
    other = tmp_path / "baselines" / "other-machine"
    other.mkdir(parents=True)
    results_file(other / "20990101T000000Z-zzz.json")
    assert runner.baseline_path() == other / "20990101T000000Z-zzz.json"
    mine = tmp_path / "baselines" / machine_id()
    mine.mkdir(parents=True)
    results_file(mine / "20260101T000000Z-a.json")
    results_file(mine / "20260102T000000Z-b.json")
    assert runner.baseline_path() == mine / "20260102T000000Z-b.json"


def test_machine_id_override(monkeypatch: pytest.MonkeyPatch) -> None:
    assert machine_id().startswith("linux-")
    monkeypatch.setenv("DYNAPI_MACHINE_ID", "ci-box")
    assert machine_id() == "ci-box"


def test_options_quick_runs_fewer() -> None:
    assert Options(quick=True).timing_processes < Options().timing_processes


def test_pooled_entries_keep_every_sample_and_each_process_median(tmp_path: Path) -> None:
    def entry(data: list[float]) -> dict[str, object]:
        return {
            "name": "test_x",
            "fullname": "benchmarks/test_a.py::test_x",
            "group": None,
            "extra_info": {"kpi": "config_load", "items": 1},
            "stats": {"data": data, "iterations": 3},
        }

    pooled = pool_entries([[entry([1.0, 1.1, 1.2])], [entry([2.0, 2.1, 2.2])], [entry([1.0, 1.05, 1.1])]])
    assert len(pooled) == 1
    assert pooled[0]["stats"]["data"] == [1.0, 1.1, 1.2, 2.0, 2.1, 2.2, 1.0, 1.05, 1.1]
    assert pooled[0]["extra_info"]["process_medians"] == [1.1, 2.1, 1.05]
    assert pooled[0]["stats"]["iterations"] == 3
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"benchmarks": pooled}))
    # The value is the median of the process medians: the slow process does not decide it.
    assert load_results(path).rows.loc[0, "median"] == 1.1


def test_every_suite_run_is_a_pair_of_its_own() -> None:
    # Two runs of the suite in each of two processes: the suite's rows keep four values in
    # run order, so the k-th run of base pairs with the k-th of head.
    acc = _Execution()
    for wall, rss in [(2.0, 80e6), (2.1, 81e6), (2.2, 82e6), (2.3, 83e6)]:
        recorded = {"tests": [{"nodeid": "t.py::test_x[v1]", "outcome": "passed", "duration_s": wall / 1000}]}
        acc.add(recorded, wall, rss)
    rows = {e["extra_info"]["kpi"]: e for e in acc.entries(["v1"])}
    assert rows["suite_wall_time"]["name"] == "test_suite"
    assert rows["suite_wall_time"]["extra_info"]["process_medians"] == [2.0, 2.1, 2.2, 2.3]
    assert rows["test_execution"]["extra_info"]["process_medians"] == pytest.approx([0.002, 0.0021, 0.0022, 0.0023])
    assert rows["suite_peak_rss"]["extra_info"]["process_medians"] == [80e6, 81e6, 82e6, 83e6]
