"""Tests of dynapi_bench.variants: the count self-test's edits apply to today's factory and
keep it valid Python; the matrix renders its verdicts; its scratch worktrees never outlive it."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from dynapi_bench import variants
from dynapi_bench.errors import BenchError
from dynapi_bench.interrupts import Interrupted
from dynapi_bench.plan import Side
from dynapi_bench.thresholds import load_thresholds
from dynapi_bench.variants import _MAKE, FACTORY, VARIANTS, count_matrix, render_counts

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_each_edit_applies_and_compiles(variant: object) -> None:
    source = (ROOT / FACTORY).read_text(encoding="utf-8")
    edit = variant.edit  # type: ignore[attr-defined]
    edited = source if edit is None else edit(source)
    compile(edited, str(FACTORY), "exec")
    if variant.name.startswith("plus"):  # type: ignore[attr-defined]
        assert edited.count("        len(payload)\n") == {"plus1": 1, "plus2": 3, "plus5": 6}[variant.name]  # type: ignore[attr-defined]
    elif edit is not None:
        assert edited != source


def test_an_edit_that_no_longer_fits_is_one_line() -> None:
    edit = next(v for v in VARIANTS if v.name == "plus2").edit
    assert edit is not None
    with pytest.raises(BenchError, match=r"`_Plan.make` no longer starts with"):
        edit("def make(self):\n    return {}\n")


def test_render_counts() -> None:
    matrix = {
        "aa-doc": {
            "description": "A/A: a comment",
            "alarms": [],
            "kpi_ratio": {"data_generation_instructions": 0.9997},
            "case_ratio": {"min": 0.998, "max": 1.0015},
            "ok": True,
        },
        "plus2": {
            "description": "about +2%",
            "alarms": ["data_generation_instructions"],
            "kpi_ratio": {"data_generation_instructions": 1.0235},
            "case_ratio": {"min": 1.0117, "max": 1.0467},
            "ok": True,
        },
    }
    lines = render_counts(matrix).splitlines()
    assert lines[1].split()[:4] == ["aa-doc", "0.9997", "0.9980-1.0015", "none"]
    assert lines[2].split()[:4] == ["plus2", "1.0235", "1.0117-1.0467", "data_generation_instructions"]


# -- count_matrix: its scratch worktrees never outlive it ------------------------------------------------
def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose framework/factory.py every variant's edit applies to."""
    path = tmp_path / "repo"
    (path / "framework").mkdir(parents=True)
    (path / FACTORY).write_text("def _json_copy(x):\n    return x\n\n\nclass _Plan:\n    def make(self):\n" + _MAKE)
    git(path, "init", "-q")
    git(path, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "root")
    git(path, "add", "-A")
    git(path, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "factory")
    return path


@pytest.mark.parametrize("where", ["adding the third worktree", "counting"])
def test_an_interrupted_count_self_test_removes_its_worktrees(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, thresholds_file: Path, where: str
) -> None:
    real = variants._git
    added: list[str] = []

    def git_interrupted(where_: Path, *args: str) -> None:
        real(where_, *args)
        if args[:2] == ("worktree", "add"):
            added.append(args[-2])
            if where == "adding the third worktree" and len(added) == 3:
                raise Interrupted(signal.SIGINT)

    def count_interrupted(plan: object, side: Side) -> list[object]:
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(variants, "_git", git_interrupted)
    monkeypatch.setattr(variants, "count_benchmarks", count_interrupted)
    cache = tmp_path / "cache"
    with pytest.raises(Interrupted):
        count_matrix(repo, cache, tmp_path / "raw", load_thresholds(thresholds_file))
    assert len(added) == (3 if where == "adding the third worktree" else len(VARIANTS))
    assert not (cache / "selftest").exists()
    assert [line for line in git(repo, "worktree", "list").splitlines() if "selftest" in line] == []
