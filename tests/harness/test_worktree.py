"""Tests of dynapi_bench.worktree: refs that are not there, refs without benchmarks, and what an
interruption leaves (nothing half made)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dynapi_bench import worktree
from dynapi_bench.errors import WorktreeError
from dynapi_bench.interrupts import Interrupted
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


# -- interrupted: nothing half made is left, or reused -------------------------------------------------
def worktrees(repo: Path) -> list[str]:
    return [
        line.split()[1]
        for line in git(repo, "worktree", "list", "--porcelain").splitlines()
        if line.startswith("worktree ")
    ]


def test_a_checkout_interrupted_before_it_was_marked_ready_is_removed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = worktree._git

    def added_then_interrupted(where: Path, *args: str, cleanup: bool = False) -> subprocess.CompletedProcess[str]:
        done = real(where, *args, cleanup=cleanup)
        if args[:2] == ("worktree", "add"):
            raise Interrupted(signal.SIGINT)  # the checkout is on disk, not yet marked ready
        return done

    monkeypatch.setattr(worktree, "_git", added_then_interrupted)
    cache = tmp_path / "cache"
    with pytest.raises(Interrupted):
        prepare_base("HEAD", repo, cache=cache)
    assert list((cache / "worktrees").iterdir()) == []
    assert worktrees(repo) == [str(repo.resolve())]  # git forgot it too
    monkeypatch.undo()
    base = prepare_base("HEAD", repo, cache=cache)  # the next run starts afresh
    assert (base.path / "harness" / "pyproject.toml").is_file()
    assert (cache / "worktrees" / f"{base.sha[:12]}.ready").is_file()


def test_a_half_checkout_a_killed_run_left_is_made_afresh(repo: Path, tmp_path: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    half = tmp_path / "cache" / "worktrees" / sha[:12]
    half.mkdir(parents=True)
    (half / ".git").write_text("gitdir: nowhere\n")  # what `git worktree add` writes first
    (half / "README.md").write_text("half written")
    base = prepare_base("HEAD", repo, cache=tmp_path / "cache")
    assert (base.path / "README.md").read_text() == "old\n"
    assert (base.path / "harness" / "pyproject.toml").is_file()


def test_a_completed_worktree_stays_for_the_next_run(repo: Path, tmp_path: Path) -> None:
    base = prepare_base("HEAD", repo, cache=tmp_path / "cache")
    (base.path / "kept").write_text("the same checkout")
    again = prepare_base("HEAD", repo, cache=tmp_path / "cache")
    assert (again.path / "kept").read_text() == "the same checkout"


def test_an_environment_interrupted_while_installing_is_removed(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []

    def interrupted_install(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        steps.append(cmd[2])
        if cmd[2] == "venv":
            (Path(cmd[-1]) / "bin").mkdir(parents=True)  # what the venv step leaves
            return subprocess.CompletedProcess(cmd, 0, "", "")
        raise Interrupted(signal.SIGTERM)  # during pip install

    monkeypatch.setattr(worktree.children, "run", interrupted_install)
    cache = tmp_path / "cache"
    with pytest.raises(Interrupted):
        worktree._environment("HEAD", "a" * 40, repo, cache)
    assert steps == ["venv", "pip"]
    assert list((cache / "envs").iterdir()) == []
