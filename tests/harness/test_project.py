"""Tests of dynapi_bench.project: the project root, found from anywhere inside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dynapi_bench.errors import BenchError
from dynapi_bench.project import Project, find_root


@pytest.fixture(autouse=True)
def _no_git_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git stops at tmp_path: a checkout around the temporary directory must not answer for it."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def make_project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "benchmarks").mkdir()
    return root


def test_the_folder_itself(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    assert find_root(root) == root.resolve()


def test_from_a_subfolder(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    deep = root / "tests" / "integration" / "deeper"
    deep.mkdir(parents=True)
    assert find_root(deep) == root.resolve()


def test_the_nearest_project_wins(tmp_path: Path) -> None:
    outer = make_project(tmp_path / "outer")
    inner = make_project(outer / "vendored" / "inner")
    assert find_root(inner / "benchmarks") == inner.resolve()


def test_pyproject_without_benchmarks_is_not_the_root(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    harness = root / "harness"
    harness.mkdir()
    (harness / "pyproject.toml").write_text("[project]\nname = 'harness'\n")  # like this repository's harness/
    assert find_root(harness) == root.resolve()


def test_benchmarks_without_pyproject_is_not_the_root(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj")
    nested = root / "docs"
    (nested / "benchmarks").mkdir(parents=True)
    assert find_root(nested) == root.resolve()


def test_else_the_git_top_level(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src" / "pkg").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert find_root(repo / "src" / "pkg") == repo.resolve()


def test_not_a_project_and_not_a_checkout(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    nowhere.mkdir()
    with pytest.raises(BenchError) as caught:
        find_root(nowhere)
    assert str(caught.value) == (
        f"{nowhere.resolve()}: not inside a project (no pyproject.toml beside a benchmarks/ folder above it, "
        "and not a git checkout); run the command from the project"
    )


def test_project_find_from_the_cwd_and_its_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path / "proj").resolve()
    (root / "tests").mkdir()
    monkeypatch.chdir(root / "tests")
    project = Project.find()
    assert project.root == root
    assert project.thresholds == root / "benchmarks" / "thresholds.yaml"
    assert project.suite == root / "tests" / "integration"
    assert (project.reports, project.baselines, project.cache) == (
        root / "reports",
        root / "baselines",
        root / ".bench",
    )
