"""Tests of framework.perf.report: an offline page with the table, plots and history."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from framework.perf.checker import compare
from framework.perf.report import write_report
from framework.perf.results import load_results, machine_id
from framework.perf.thresholds import load_thresholds


def test_report_is_complete_and_offline(
    make_results: Callable[..., Path], thresholds_file: Path, tmp_path: Path
) -> None:
    baselines = tmp_path / "baselines"
    (baselines / machine_id()).mkdir(parents=True)
    for i in range(3):
        shutil.copy(make_results(f"b{i}.json", seed=i), baselines / machine_id() / f"2026010{i}T000000Z-c{i}.json")
    base = load_results(baselines / machine_id() / "20260102T000000Z-c2.json")
    run = load_results(make_results("run.json", seed=9, factors={"data_generation": 2.0}))
    reports = tmp_path / "reports"
    (reports / "profiles").mkdir(parents=True)
    (reports / "profiles" / "config_load.html").write_text("<html></html>")
    thresholds = load_thresholds(thresholds_file)
    path = write_report(reports, compare(run, base, thresholds), run, thresholds, baselines)
    html = path.read_text()
    assert path == reports / "index.html"
    assert "<svg" in html
    assert html.count("<svg") == 2 * 5  # a distribution and a history plot per KPI
    assert "History across saved baselines (3)" in html
    assert 'href="profiles/config_load.html"' in html
    assert re.search(r'<tr class="fail">\s*<td><a href="#data_generation">', html)
    # Nothing is fetched from the network: no script or stylesheet from a URL.
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html)
    assert json.dumps  # the page needs no JSON side files
