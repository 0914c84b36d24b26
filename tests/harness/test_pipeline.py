"""Tests of dynapi_bench.pipeline's decisions that need no measurement, and of what a run
publishes, with the measuring passes replaced by synthetic results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynapi_bench import pipeline
from dynapi_bench.baselines import save_baseline
from dynapi_bench.export import FILES, FORMATS, export_text
from dynapi_bench.judge import judge
from dynapi_bench.measure import MemoryOutput
from dynapi_bench.pipeline import RunOptions, Untimed, _predates_counts, run, without_counts
from dynapi_bench.plan import Plan, Side
from dynapi_bench.profiles import Profile
from dynapi_bench.project import Project
from dynapi_bench.reference import Baseline
from dynapi_bench.results import Results, Row
from dynapi_bench.staging import PREFIX
from dynapi_bench.thresholds import load_thresholds

Synthetic = Callable[..., Results]


def test_a_base_from_before_counts_skips_them_with_one_line(tmp_path: Path) -> None:
    head, base = tmp_path / "head", tmp_path / "base"
    for root in (head, base):
        (root / "benchmarks").mkdir(parents=True)
    (head / "benchmarks" / "counting.py").write_text("")
    sides = (Side("base", base), Side("head", head))
    assert _predates_counts(sides) == "instruction counts skipped: base predates them (no benchmarks/counting.py)"
    (base / "benchmarks" / "counting.py").write_text("")
    assert _predates_counts(sides) is None


def test_a_run_without_valgrind_is_judged_without_the_baselines_counts(tmp_path: Path) -> None:
    rules = tmp_path / "t.yaml"
    rules.write_text(
        "kpis:\n  gen: {unit: ms, target: 1, threshold: 5, allowed_change: 0.5}\n"
        "  gen_instructions: {unit: instructions, allowed_change: 0.01}\n"
    )
    time_row = Row("gen", "gen[pet]", np.full(10, 4e-6))
    count_row = Row("gen_instructions", "gen[pet]::instructions", np.asarray([45_000.0]), measure="instructions")
    baseline = Results((time_row, count_row), machine="m", commit="base", datetime="")
    run = Results((time_row,), machine="m", commit="head", datetime="")
    thresholds = load_thresholds(rules)
    assert set(judge(run, thresholds, Baseline(baseline)).kpis["verdict"]) == {"pass", "missing"}
    found = judge(run, thresholds, Baseline(without_counts(baseline)))
    assert list(found.kpis["verdict"]) == ["pass"]  # the one line said so; no `missing` row
    assert found.kpis["gate"][0] == "wall time: beyond x1.6 only"  # without counts, the factor gates wall time


# -- what a run publishes --------------------------------------------------------------------------------
class FakePasses:
    """The measuring passes replaced: no process runs; each run's head results come from
    ``results_for(thread name)``, and its profile is a small file in the stage."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, results_for: Callable[[str], Results]) -> None:
        monkeypatch.setattr(pipeline, "unavailable", lambda: "instruction counts skipped: not in these tests")
        monkeypatch.setattr(pipeline, "measure_timing", self.timing)
        monkeypatch.setattr(pipeline, "_queue_untimed", lambda *a, **k: None)  # nothing is queued
        monkeypatch.setattr(pipeline, "_untimed", self.untimed)
        monkeypatch.setattr(pipeline, "side_results", lambda *a, **k: results_for(threading.current_thread().name))

    @staticmethod
    def timing(plan: Plan) -> dict[str, list[Any]]:
        log = plan.folder(plan.sides[0], "timing-0") / "pytest.log"
        log.parent.mkdir(parents=True)
        log.write_text("this run's")
        return {"head": []}

    @staticmethod
    def untimed(plan: Plan, project: Project, out: Path, queued: Any = None) -> Untimed:
        (out / "profiles").mkdir()
        (out / "profiles" / "config_load.html").write_text("a profile")
        return Untimed({"head": MemoryOutput({})}, {}, [Profile("profiles/config_load.html", "config_load")])


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """An earlier run's reports, an --against one's base-results.json among them."""
    folder = tmp_path / "reports"
    (folder / "raw").mkdir(parents=True)
    (folder / "raw" / "old.log").write_text("earlier")
    for name in ("results.json", "base-results.json", "summary.md", "index.html"):
        (folder / name).write_text("earlier")
    return folder


def test_a_run_publishes_its_whole_set_and_prints_the_published_paths(
    reports: Path,
    thresholds_file: Path,
    synthetic: Synthetic,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    FakePasses(monkeypatch, lambda _: synthetic(seed=1))
    options = RunOptions(reports=reports, baselines=reports.parent / "baselines", thresholds=thresholds_file)
    assert run(Project(reports.parent), options) == 0
    assert sorted(p.name for p in reports.iterdir()) == [
        "bencher.json",
        "github-action-benchmark.json",
        "history.html",
        "index.html",
        "profiles",
        "raw",
        "results.json",
        "summary.json",
        "summary.md",
    ]  # base-results.json was an earlier --against's
    assert [str(p.relative_to(reports)) for p in (reports / "raw").rglob("*.log")] == ["raw/head/timing-0/pytest.log"]
    assert json.loads((reports / "results.json").read_text())["commit_info"]["id"] == "commit1"
    assert "(profiles/config_load.html)" in (reports / "summary.md").read_text()  # relative: valid once published
    judged = judge(synthetic(seed=1), load_thresholds(thresholds_file))  # no baseline stored: thresholds only
    for fmt in FORMATS:  # the exports of the rows judged in memory
        assert (reports / FILES[fmt]).read_text() == export_text(judged, fmt)
    out = capsys.readouterr().out
    assert f"{reports.resolve() / 'results.json'}, {reports.resolve() / 'summary.json'}" in out
    assert PREFIX not in out  # no staging path is ever shown


def test_two_runs_saving_baselines_at_once_keep_both_and_publish_one_whole_set(
    tmp_path: Path, reports: Path, thresholds_file: Path, synthetic: Synthetic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same commit in the same second, both runs written before either publishes."""
    runs = {
        who: dataclasses.replace(synthetic(seed=7, machine="box", factors={"config_load": f}), extra={"who": who})
        for who, f in (("a", 1.0), ("b", 1.2))
    }
    FakePasses(monkeypatch, runs.__getitem__)
    barrier = threading.Barrier(2)

    def written_together(folder: Path, *args: Any, **kwargs: Any) -> Path:
        barrier.wait(timeout=60)  # both stages complete: now both publish and save
        (folder / "index.html").write_text(threading.current_thread().name)  # matplotlib stays out of threads
        return folder / "index.html"

    monkeypatch.setattr(pipeline, "write_report", written_together)
    monkeypatch.setattr(
        pipeline, "save_baseline", functools.partial(save_baseline, now=dt.datetime(2026, 11, 29, tzinfo=dt.UTC))
    )
    options = RunOptions(
        reports=reports, baselines=tmp_path / "baselines", thresholds=thresholds_file, save_baseline=True
    )
    codes: dict[str, int] = {}
    threads = [
        threading.Thread(
            target=lambda: codes.__setitem__(threading.current_thread().name, run(Project(tmp_path), options)), name=who
        )
        for who in runs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert codes == {"a": 0, "b": 0}
    saved = sorted((tmp_path / "baselines" / "box").iterdir())
    assert [p.name for p in saved] == ["20261129T000000Z-commit7-2.json", "20261129T000000Z-commit7.json"]
    assert sorted(json.loads(p.read_text())["dynapi"]["who"] for p in saved) == ["a", "b"]  # each whole, its own
    who = (reports / "index.html").read_text()
    assert json.loads((reports / "results.json").read_text())["dynapi"]["who"] == who  # one run's set, not a mix
    assert not list(reports.glob(f"{PREFIX}*"))


class Schedule:
    """The passes of ``_measure`` replaced by jobs that log when they run: which jobs were
    busy while the timing ran, and whether two ran at once after it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lock = threading.Lock()
        self.busy: set[str] = set()
        self.timing_over = threading.Event()
        self.beside_timing: list[set[str]] = []  # who was busy each time a job started during the timing
        self.after: list[set[str]] = []
        for name in ("count_suite", "count_benchmarks", "count_startup", "measure_memory", "profile_kpis"):
            monkeypatch.setattr(pipeline, name, functools.partial(self.job, name))
        monkeypatch.setattr(pipeline, "measure_timing", self.timing)
        monkeypatch.setattr(pipeline, "flamegraphs", lambda *a, **k: [])

    def job(self, name: str, plan: Plan, side: Side, *args: Any) -> Any:
        with self.lock:
            self.busy.add(f"{name} {side.name}")
            (self.after if self.timing_over.is_set() else self.beside_timing).append(set(self.busy))
        threading.Event().wait(0.05)
        with self.lock:
            self.busy.discard(f"{name} {side.name}")
        return MemoryOutput({}) if name == "measure_memory" else []

    def timing(self, plan: Plan) -> dict[str, list[Any]]:
        threading.Event().wait(0.12)  # long enough for two jobs beside it, not for all of them
        self.timing_over.set()
        return {side.name: [] for side in plan.sides}


@pytest.mark.parametrize("sides", [("head",), ("base", "head")])
def test_beside_the_timing_one_core_counts_then_measures_memory_and_the_rest_takes_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sides: tuple[str, ...]
) -> None:
    schedule = Schedule(monkeypatch)
    plan = Plan(tuple(Side(name, tmp_path / name) for name in sides), processes=1, raw=tmp_path / "raw", quick=True)
    pipeline._measure(plan, Project(tmp_path), tmp_path / "out", pipeline.Progress(2), counts=True, quick=True)
    assert schedule.beside_timing, "nothing ran beside the timing"
    assert all(len(busy) == 1 for busy in schedule.beside_timing)  # one core only, the other times
    first = min(schedule.beside_timing, key=len)
    assert first == {f"count_suite {sides[0]}"}  # the counts first: they gate the CPU-bound KPIs
    assert any(len(busy) == 2 for busy in schedule.after)  # then both cores
    ran = len(schedule.beside_timing) + len(schedule.after)
    assert ran == 4 * len(sides) + 1  # three counting processes and a memory pass a side, head's profiles


def test_a_full_against_counts_only_after_the_timing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schedule = Schedule(monkeypatch)
    plan = Plan((Side("base", tmp_path / "b"), Side("head", tmp_path / "h")), processes=1, raw=tmp_path / "raw")
    pipeline._measure(plan, Project(tmp_path), tmp_path / "out", pipeline.Progress(2), counts=True, quick=False)
    assert schedule.beside_timing == []  # the wall-time A/B is a gate: nothing runs beside it
    assert len(schedule.after) == 9
