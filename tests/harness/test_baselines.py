"""Tests of dynapi_bench.baselines: which baseline is the newest, and saving one, never over another
(not even when two runs save the same commit in the same second)."""

from __future__ import annotations

import datetime as dt
import json
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from dynapi_bench import baselines
from dynapi_bench.baselines import newest_baseline, save_baseline, saved_baselines
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


def test_the_same_commit_in_the_same_second_takes_the_next_number(
    tmp_path: Path, results: Results, synthetic: Synthetic
) -> None:
    path = save_baseline(results, tmp_path, now=NOW)
    before = path.read_bytes()
    again = synthetic(seed=7, machine="test-box", factors={"config_load": 2.0})  # same commit, same second
    second = save_baseline(again, tmp_path, now=NOW)
    third = save_baseline(results, tmp_path, now=NOW)
    assert [second.name, third.name] == ["20261129T083005Z-commit7-2.json", "20261129T083005Z-commit7-3.json"]
    assert path.read_bytes() == before  # never overwritten
    assert json.loads(second.read_text(encoding="utf-8")) == again.to_json()
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(p.name for p in (path, second, third))
    assert newest_baseline(tmp_path, "test-box") == third


def test_two_saves_at_once_both_land_and_neither_overwrites(
    tmp_path: Path, synthetic: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs saving the same commit in the same second, really at once: both threads have
    written their temporary file before either links it (a barrier in ``os.link``)."""
    link = baselines.os.link
    barrier = threading.Barrier(2)
    first: set[str] = set()

    def linking_together(src: str, dst: Path) -> None:
        name = threading.current_thread().name
        if name.startswith("save-") and name not in first:  # each thread's first try: at once
            first.add(name)
            barrier.wait(timeout=30)
        link(src, dst)

    monkeypatch.setattr(baselines.os, "link", linking_together)
    runs = {
        name: synthetic(seed=7, machine="test-box", factors={"config_load": f}) for name, f in (("a", 1.0), ("b", 2.0))
    }
    saved: dict[str, Path] = {}
    threads = [
        threading.Thread(
            target=lambda n=name: saved.__setitem__(n, save_baseline(runs[n], tmp_path, now=NOW)), name=f"save-{name}"
        )
        for name in runs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(p.name for p in saved.values()) == [
        "20261129T083005Z-commit7-2.json",
        "20261129T083005Z-commit7.json",
    ]
    for name, path in saved.items():  # each its own, whole
        assert json.loads(path.read_text(encoding="utf-8")) == runs[name].to_json()
    assert sorted(p.name for p in (tmp_path / "test-box").iterdir()) == sorted(p.name for p in saved.values())


def test_the_newest_does_not_depend_on_the_listing_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    names = [
        "20261129T083005Z-commit7-2.json",
        "20261129T083005Z-commit7.json",
        "20261129T083005Z-commit7-10.json",
        "20261129T083005Z-aaa.json",
        "20261128T235959Z-zzz-4.json",
    ]
    for name in names:
        touch(tmp_path / "m" / name)
    listed = sorted((tmp_path / "m").glob("*.json"))
    orders = []
    for listing in (listed, listed[::-1]):
        monkeypatch.setattr(Path, "glob", lambda self, pattern, listing=listing: iter(listing))
        orders.append([p.name for p in saved_baselines(tmp_path, "m")])
    assert (
        orders[0]
        == orders[1]
        == [
            "20261128T235959Z-zzz-4.json",
            "20261129T083005Z-aaa.json",
            "20261129T083005Z-commit7.json",
            "20261129T083005Z-commit7-2.json",
            "20261129T083005Z-commit7-10.json",
        ]
    )
    monkeypatch.undo()
    assert newest_baseline(tmp_path, "m") == tmp_path / "m" / "20261129T083005Z-commit7-10.json"


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
