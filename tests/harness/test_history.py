"""Tests of dynapi_bench.history: every KPI over every stored baseline and this run, on a page
that reads at a glance, offline, and renders in a real browser."""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

from dynapi_bench.cli import main
from dynapi_bench.history import THIS_RUN, history_frame, write_history
from dynapi_bench.results import Results
from dynapi_bench.thresholds import Thresholds, load_thresholds

Factory = Callable[..., Path]
Synthetic = Callable[..., Results]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture
def thresholds(thresholds_file: Path) -> Thresholds:
    return load_thresholds(thresholds_file)


@pytest.fixture
def baselines(make_results: Factory, tmp_path: Path) -> Path:
    """Three baselines of one machine kind (data generation 1.5x slower from the second on) and
    one of another, as `--save-baseline` stores them."""
    root = tmp_path / "baselines"
    for i in range(3):
        folder = root / "intel"
        folder.mkdir(parents=True, exist_ok=True)
        factors = {"data_generation": 1.5} if i else {}
        shutil.copy(make_results(f"b{i}.json", seed=i, factors=factors), folder / f"2026010{i}T000000Z-commit{i}.json")
    (root / "amd").mkdir()
    shutil.copy(make_results("e.json", seed=5), root / "amd" / "20260105T000000Z-commit5.json")
    (root / "intel" / "selftest").mkdir()  # a machine's self-test records are not baselines
    return root


def text(page: str) -> str:
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_every_baseline_of_every_machine_kind_then_this_run(
    baselines: Path, synthetic: Synthetic, thresholds: Thresholds
) -> None:
    run = synthetic(seed=9, machine="intel", factors={"data_generation": 3.0})
    frame, notes = history_frame(baselines, run, thresholds)
    assert notes == []
    points = frame[frame["kpi"] == "data_generation"]
    assert list(points["commit"]) == ["commit0", "commit1", "commit2", "commit5", "commit9"]  # oldest first
    assert list(points["machine"]) == ["intel", "intel", "intel", "amd", "intel"]
    assert list(points["source"]) == ["baseline"] * 4 + [THIS_RUN]
    levels = list(points["value"])
    assert levels[1] / levels[0] == pytest.approx(1.5, rel=0.05)  # the seeded slowdown shows
    assert levels[4] / levels[0] == pytest.approx(3.0, rel=0.05)


def test_an_unreadable_baseline_is_skipped_with_a_note(
    baselines: Path, synthetic: Synthetic, thresholds: Thresholds
) -> None:
    (baselines / "amd" / "20260106T000000Z-bad.json").write_text("{}")
    frame, notes = history_frame(baselines, synthetic(seed=9, machine="intel"), thresholds)
    assert len(notes) == 1
    assert notes[0].startswith("history skips 20260106T000000Z-bad.json: ")
    assert set(frame["commit"]) == {"commit0", "commit1", "commit2", "commit5", "commit9"}


def test_the_page_reads_at_a_glance_and_offline(
    baselines: Path, synthetic: Synthetic, thresholds: Thresholds, tmp_path: Path
) -> None:
    run = synthetic(seed=9, machine="intel", factors={"data_generation": 3.0})
    frame, _ = history_frame(baselines, run, thresholds)
    page = write_history(tmp_path, frame, thresholds, notes=["a <note>"]).read_text()
    kpis = sorted(set(frame["kpi"]))
    assert page.count('<div class="card">') == len(kpis) == 5  # one small plot per KPI, on top
    assert page.count("<svg") == 2 * len(kpis)  # and a large one in its section
    shown = text(page)
    assert "Every KPI over 5 runs: each stored baseline of 2 machine kinds ( amd , intel ) and this run" in shown
    # data generation: this run's level against the run before on the same machine kind
    card = shown[shown.index("data_generation ") :]
    change = re.match(r"data_generation \S+ ms \+(\d+\.\d)% on the run before", card)
    assert change is not None
    assert 80 < float(change.group(1)) < 120  # x3 over x1.5: +100%, give or take the synthetic noise
    assert "commit9 2026-11-27 00:00 (this run)" in shown
    assert "a &lt;note&gt;" in page  # escaped
    assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="https?://', page)
    assert "<script" not in page


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)")
def test_the_page_renders_in_a_headless_browser(
    baselines: Path, synthetic: Synthetic, thresholds: Thresholds, tmp_path: Path
) -> None:
    """A screenshot by headless Chromium, with the network off: the plots are drawn (their
    colours are on the screen), not only written."""
    frame, _ = history_frame(baselines, synthetic(seed=9, machine="intel"), thresholds)
    page = write_history(tmp_path, frame, thresholds)
    shot = tmp_path / "history.png"
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--proxy-server=127.0.0.1:9", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,900", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (900, 1200)
    # the two machine kinds' line colours (#4c9be8, #e8834c) are drawn
    for colour in ((0x4C, 0x9B, 0xE8), (0xE8, 0x83, 0x4C)):
        near = np.all(np.abs(pixels * 255 - np.array(colour)) < 12, axis=-1)
        assert near.sum() > 50, colour


def test_the_history_command_renders_the_stored_baselines(
    baselines: Path, thresholds_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = tmp_path / "out"
    args = ["history", "--baselines", str(baselines), "--reports", str(reports), "--thresholds", str(thresholds_file)]
    assert main(args) == 0
    assert capsys.readouterr().out.strip() == str(reports / "history.html")
    shown = text((reports / "history.html").read_text())
    assert "Every KPI over 4 runs" in shown
    assert "(this run)" not in shown
    empty = [
        "history",
        "--baselines",
        str(tmp_path / "none"),
        "--reports",
        str(reports),
        "--thresholds",
        str(thresholds_file),
    ]
    assert main(empty) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"dynapi-bench: error: {tmp_path / 'none'}: no stored baselines; save one with `dynapi-bench run --save-baseline`"
    ]


def test_a_history_that_cannot_be_written_is_one_line(
    baselines: Path, thresholds_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "a-file"
    taken.write_text("not a folder")
    args = ["history", "--baselines", str(baselines), "--reports", str(taken), "--thresholds", str(thresholds_file)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dynapi-bench: error: {taken}: cannot write history.html (")
    assert err.endswith("); name another --reports folder\n")
    assert taken.read_text() == "not a folder"
