"""Tests of dynapi_bench.worktree: refs that are not there, refs without benchmarks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dynapi_bench import worktree
from dynapi_bench.errors import WorktreeError
from dynapi_bench.worktree import environments, prepare_base, resolve_ref


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with two commits: one without benchmarks/, one with."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    (path / "README.md").write_text("old\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "no benchmarks yet")
    git(path, "tag", "old")
    (path / "benchmarks").mkdir()
    (path / "benchmarks" / "conftest.py").write_text("")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "benchmarks")
    git(path, "tag", "benchmarks")
    (path / "harness").mkdir()
    (path / "harness" / "pyproject.toml").write_text("")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "the harness")
    return path


def test_resolve_ref(repo: Path) -> None:
    assert resolve_ref("HEAD", repo) == git(repo, "rev-parse", "HEAD")
    assert resolve_ref("old", repo) == git(repo, "rev-parse", "HEAD~2")


@pytest.mark.parametrize("ref", ["no-such-branch", "HEAD~5", "deadbeef"])
def test_bad_ref_is_one_line(repo: Path, ref: str) -> None:
    with pytest.raises(WorktreeError) as info:
        resolve_ref(ref, repo)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"--against {ref!r}: no such commit in ")
    assert "name a branch, tag or commit" in message


def test_option_like_ref_refused(repo: Path) -> None:
    with pytest.raises(WorktreeError, match="not a ref"):
        resolve_ref("--help", repo)


def test_ref_without_benchmarks(repo: Path, tmp_path: Path) -> None:
    sha = git(repo, "rev-parse", "old")
    with pytest.raises(WorktreeError) as info:
        prepare_base("old", repo, cache=tmp_path / "cache")
    assert str(info.value) == (
        f"--against 'old': {sha[:12]} has no benchmarks/ to run; compare against a commit that has them"
    )
    # The checkout itself happened and is reused, not redone, next time.
    assert (tmp_path / "cache" / "worktrees" / sha[:12] / "README.md").read_text() == "old\n"


def test_ref_older_than_the_harness(repo: Path, tmp_path: Path) -> None:
    sha = git(repo, "rev-parse", "benchmarks")
    with pytest.raises(WorktreeError) as info:
        prepare_base("benchmarks", repo, cache=tmp_path / "cache")
    assert str(info.value) == (
        f"--against 'benchmarks': {sha[:12]} predates the harness's own package (harness/), so its benchmarks "
        "speak another protocol; compare against a newer commit"
    )


def test_same_dependencies_share_this_environment(repo: Path, tmp_path: Path) -> None:
    # Base and head declare the same dependencies, and a process started in the base's
    # checkout imports the base's own framework: both sides run in this environment.
    (repo / "framework").mkdir()
    (repo / "framework" / "__init__.py").write_text("")
    (repo / "pyproject.toml").write_text("")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a framework")
    base = prepare_base("HEAD", repo, cache=tmp_path / "cache")
    assert environments(base, repo, tmp_path / "cache") == (sys.executable, sys.executable)
    assert not (tmp_path / "cache" / "envs").exists()  # nothing was built


def test_a_different_harness_gets_environments_of_its_own(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same dependencies, but head's harness/ differs from the base's: the base's benchmarks
    # must speak their own harness's protocol, so both sides get an environment built alike.
    (repo / "framework").mkdir()
    (repo / "framework" / "__init__.py").write_text("")
    (repo / "pyproject.toml").write_text("")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a framework")
    base = prepare_base("HEAD", repo, cache=tmp_path / "cache")
    (repo / "harness" / "protocol.py").write_text("CHANGED = True\n")  # head's working tree only
    built: list[str] = []

    def fake_environment(ref: str, sha: str, path: Path, cache: Path) -> Path:
        built.append(ref)
        return Path(f"/envs/{ref}/bin/python")

    monkeypatch.setattr(worktree, "_environment", fake_environment)
    assert environments(base, repo, tmp_path / "cache") == ("/envs/HEAD/bin/python", "/envs/HEAD/bin/python")
    assert sorted(built) == ["HEAD", "HEAD"]
