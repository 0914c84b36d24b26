"""Tests of dynapi_bench.report: an offline page with the table, plots, history and profiles."""

from __future__ import annotations

import html as html_lib
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dynapi_bench.history import history_frame, kpi_levels
from dynapi_bench.judge import judge
from dynapi_bench.reference import BaseCommit, Baseline
from dynapi_bench.report import history, render_template, write_report
from dynapi_bench.results import Results, Row, load_results
from dynapi_bench.thresholds import Thresholds, load_thresholds

Factory = Callable[..., Path]
Synthetic = Callable[..., Results]
MACHINE = "test-machine"
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def thresholds(thresholds_file: Path) -> Thresholds:
    return load_thresholds(thresholds_file)


@pytest.fixture
def baselines(make_results: Factory, tmp_path: Path) -> Path:
    """Three saved baselines of this machine, oldest first, and one of another machine."""
    root = tmp_path / "baselines"
    (root / MACHINE).mkdir(parents=True)
    (root / "elsewhere").mkdir()
    for i in range(3):
        shutil.copy(make_results(f"b{i}.json", seed=i), root / MACHINE / f"2026010{i}T000000Z-c{i}.json")
    shutil.copy(make_results("e.json", seed=5), root / "elsewhere" / "20260105T000000Z-c5.json")
    return root


def text(html: str) -> str:
    """The page's visible text, tags dropped and entities decoded, on one line."""
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_report_is_complete_and_offline(
    baselines: Path, make_results: Factory, synthetic: Synthetic, thresholds: Thresholds, tmp_path: Path
) -> None:
    base = Baseline(load_results(baselines / MACHINE / "20260102T000000Z-c2.json"))
    run = synthetic(seed=9, factors={"data_generation": 2.0, "test_execution": 300})
    j = judge(run, thresholds, base)
    frame, notes = history_frame(baselines, run, thresholds)
    series = history(frame, run.machine)
    assert notes == []
    reports = tmp_path / "reports"
    reports.mkdir()
    profiles = ["profiles/config_load.html", "profiles/memray-test_pet.html"]
    path = write_report(reports, j, series, profiles)
    html = path.read_text()
    assert path == reports / "index.html"
    assert html.count("<svg") == 5  # a distribution plot per KPI; its history is plotted once, on history.html
    assert html.count("History across saved baselines (3)") == 5
    for kpi in set(j.rows["kpi"]):
        assert f'href="history.html#{kpi}"' in html
    assert html.count('href="profiles/config_load.html"') == 2  # at the top, and in its KPI's section
    assert html.count('href="profiles/memray-test_pet.html"') == 2  # at the top, and under memory_per_test
    assert re.search(r'<tr class="fail">\s*<td><a href="#test_execution">', html)
    assert re.search(r'<tr class="regression">\s*<td><a href="#data_generation">', html)
    assert re.search(r'<tr class="pass">\s*<td><a href="#config_load">', html)
    # Nothing is fetched from the network: no script, stylesheet or image from a URL.
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="https?://', html)
    assert "@import" not in html


def test_report_names_a_baseline_and_mann_whitney(
    baselines: Path, synthetic: Synthetic, thresholds: Thresholds, tmp_path: Path
) -> None:
    base = Baseline(load_results(baselines / MACHINE / "20260102T000000Z-c2.json"))
    j = judge(synthetic(seed=9), thresholds, base)
    page = text(write_report(tmp_path, j, {}, []).read_text())
    assert f"Judged against {j.describe()}." in page
    assert "baseline 20260102T000000Z-c2.json (commit commit2, " in page
    assert "Mann-Whitney U" in page
    assert "sign test" not in page
    assert "KPI unit row value target threshold goal baseline change p verdict gate why" in page
    assert "This run against the baseline" in page


def test_report_names_the_base_commit_and_the_sign_test(
    synthetic: Synthetic, thresholds: Thresholds, tmp_path: Path
) -> None:
    j = judge(synthetic(seed=9), thresholds, BaseCommit(synthetic(seed=8), "main", SHA))
    page = text(write_report(tmp_path, j, {}, []).read_text())
    assert f"Judged against {j.describe()}." in page
    assert f"base main (commit {SHA[:12]})" in page
    assert "sign test" in page
    assert "Mann-Whitney U" not in page
    assert "KPI unit row value target threshold goal base change p verdict gate why" in page
    assert page.count(f"base {SHA[:12]}") >= 5 * 2  # each KPI's heading and its plot's legend
    assert "History across saved baselines (0)" in page


def test_report_escapes_what_it_shows(synthetic: Synthetic, thresholds: Thresholds, tmp_path: Path) -> None:
    run = Results(
        rows=(Row("config_load", "load[<b>x</b>]", np.full(5, 0.004)),),
        machine="m",
        commit="c",
        datetime="",
    )
    j = judge(run, thresholds)
    j.notes.append("<script>alert(1)</script>")
    html = write_report(tmp_path, j, {}, []).read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "load[&lt;b&gt;x&lt;/b&gt;]" in html


def test_history_takes_each_kpis_level(baselines: Path, synthetic: Synthetic, thresholds: Thresholds) -> None:
    run = synthetic(seed=9, factors={"data_generation": 2.0})
    frame, notes = history_frame(baselines, run, thresholds)
    series = history(frame, run.machine)
    assert notes == []
    assert set(series) == {"config_load", "data_generation", "response_validation", "test_execution", "memory_per_test"}
    labels = [label for label, _ in series["data_generation"]]
    assert labels == ["commit0 2026-11-27 00:00", "commit1 2026-11-27 00:00", "commit2 2026-11-27 00:00", "this run"]
    # The level is the geometric mean of the KPI's cases, in its unit: the same figure for every point.
    newest = load_results(baselines / MACHINE / "20260102T000000Z-c2.json")
    assert series["data_generation"][2][1] == pytest.approx(kpi_levels(newest, thresholds)["data_generation"])
    cases = [r.value for r in run.rows if r.kpi == "data_generation"]
    assert series["data_generation"][3][1] == pytest.approx(float(np.exp(np.mean(np.log(cases)))) / 1e-3)
    assert series["data_generation"][3][1] > 1.8 * series["data_generation"][2][1]  # the 2x shows


def test_history_skips_an_unusable_baseline(baselines: Path, synthetic: Synthetic, thresholds: Thresholds) -> None:
    broken = baselines / MACHINE / "20260103T000000Z-bad.json"
    broken.write_text("{}")
    frame, notes = history_frame(baselines, synthetic(seed=9), thresholds)
    series = history(frame, MACHINE)
    assert notes == [
        f"history skips 20260103T000000Z-bad.json: {broken}: no 'benchmarks' list; expected pytest-benchmark JSON (--benchmark-json)"
    ]
    assert len(series["config_load"]) == 4  # three baselines and this run


def test_history_of_a_machine_without_baselines(baselines: Path, synthetic: Synthetic, thresholds: Thresholds) -> None:
    run = replace(synthetic(seed=9), machine="never-seen")
    frame, notes = history_frame(baselines, run, thresholds)
    series = history(frame, run.machine)
    assert notes == []
    assert series
    assert all([label for label, _ in points] == ["this run"] for points in series.values())


def test_render_template_serves_other_pages() -> None:
    page = render_template(
        "selftest.html.j2",
        data={
            "met": True,
            "cycles": 1,
            "comparisons_per_figure": 1,
            "pairs_per_comparison": 1,
            "bar": {"false_alarms": 0.01, "detect_10": 0.9, "detect_25": 0.99},
            "timing": {},
            "memory": {},
            "effective_ratio": {},
            "misses": [],
        },
        sizes=[],
    )
    assert "bar met" in page
