"""Tests of dynapi_bench.baselines: which baseline is the newest, and saving one, never over another."""

from __future__ import annotations

import datetime as dt
import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from dynapi_bench.baselines import newest_baseline, save_baseline
from dynapi_bench.errors import BenchError
from dynapi_bench.results import Results

Synthetic = Callable[..., Results]
NOW = dt.datetime(2026, 11, 29, 8, 30, 5, tzinfo=dt.UTC)


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


# -- newest_baseline ------------------------------------------------------------------------------
def test_newest_of_this_machine(tmp_path: Path) -> None:
    touch(tmp_path / "mine" / "20261101T000000Z-aaa.json")
    newest = touch(tmp_path / "mine" / "20261128T000000Z-bbb.json")
    touch(tmp_path / "mine" / "20261127T000000Z-ccc.json")
    touch(tmp_path / "other" / "20261129T000000Z-ddd.json")  # newer, but another machine's
    assert newest_baseline(tmp_path, "mine") == newest


def test_never_another_machines(tmp_path: Path) -> None:
    # Another kind of machine differs by more than the large-change factors: not a reference.
    touch(tmp_path / "one" / "20261101T000000Z-aaa.json")
    touch(tmp_path / "two" / "20261128T000000Z-bbb.json")
    assert newest_baseline(tmp_path, "mine") is None


def test_none_when_there_is_no_baseline(tmp_path: Path) -> None:
    assert newest_baseline(tmp_path / "missing", "mine") is None
    (tmp_path / "mine").mkdir()
    touch(tmp_path / "mine" / "notes.txt")
    assert newest_baseline(tmp_path, "mine") is None


# -- save_baseline --------------------------------------------------------------------------------
@pytest.fixture
def results(synthetic: Synthetic) -> Results:
    return synthetic(seed=7, machine="test-box")


def test_saved_under_the_machine_by_time_and_commit(tmp_path: Path, results: Results) -> None:
    path = save_baseline(results, tmp_path, now=NOW)
    assert path == tmp_path / "test-box" / "20261129T083005Z-commit7.json"
    assert json.loads(path.read_text(encoding="utf-8")) == results.to_json()
    assert newest_baseline(tmp_path, "test-box") == path


def test_saved_readable_by_all_and_no_temporary_file_left(tmp_path: Path, results: Results) -> None:
    path = save_baseline(results, tmp_path, now=NOW)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0600: CI caches and colleagues read it
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_never_overwrites(tmp_path: Path, results: Results, synthetic: Synthetic) -> None:
    path = save_baseline(results, tmp_path, now=NOW)
    before = path.read_bytes()
    again = synthetic(seed=7, machine="test-box", factors={"config_load": 2.0})  # same commit, same second
    with pytest.raises(BenchError) as caught:
        save_baseline(again, tmp_path, now=NOW)
    assert str(caught.value) == (f"{path} exists; baselines are never overwritten, wait a second and save again")
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_second_later_is_a_new_baseline(tmp_path: Path, results: Results) -> None:
    first = save_baseline(results, tmp_path, now=NOW)
    second = save_baseline(results, tmp_path, now=NOW + dt.timedelta(seconds=1))
    assert first != second
    assert newest_baseline(tmp_path, "test-box") == second


def test_default_time_is_utc_now(tmp_path: Path, results: Results) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    path = save_baseline(results, tmp_path)
    after = dt.datetime.now(dt.UTC)
    stamp = dt.datetime.strptime(path.name.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    assert before <= stamp <= after
