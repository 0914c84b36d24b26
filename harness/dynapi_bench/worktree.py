"""The base side of a same-run comparison: a git worktree of a ref and its own environment.

``prepare_base("HEAD~1", cache)`` resolves the ref to a commit, checks it out as a detached
worktree under ``.bench/worktrees/<sha>`` and installs it (the framework and its own
harness, ``harness/``) into ``.bench/envs/<sha>``; both are kept, so the next comparison
with the same commit starts at once. Errors are one line naming the ref and the fix (exit 2).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dynapi_bench.errors import WorktreeError

__all__ = ["BaseTree", "prepare_base", "prepare_head", "resolve_ref"]


@dataclass(frozen=True)
class BaseTree:
    """A checked-out, installed base: where its code is and which Python runs it."""

    ref: str
    sha: str
    path: Path
    python: Path


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def resolve_ref(ref: str, repo: Path) -> str:
    """The full commit id of ``ref`` (``HEAD~1``, ``origin/main``, a tag, a sha)."""
    if not ref or ref.startswith("-"):
        raise WorktreeError(f"--against {ref!r}: not a ref; name a branch, tag or commit")
    found = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        raise WorktreeError(
            f"--against {ref!r}: no such commit in {repo.resolve()}; name a branch, tag or commit "
            "(`git log --oneline` lists them; a fresh clone may need `git fetch`)"
        )
    return found.stdout.strip()


def prepare_base(ref: str, repo: Path, cache: Path) -> BaseTree:
    """Check out and install ``ref`` beside the working tree (reused when already there)."""
    sha = resolve_ref(ref, repo)
    path = (cache / "worktrees" / sha[:12]).resolve()
    if not (path / ".git").exists():
        _git(repo, "worktree", "prune")
        added = _git(repo, "worktree", "add", "--detach", "--force", str(path), sha)
        if added.returncode != 0:
            detail = (added.stderr.strip().splitlines() or ["git worktree add failed"])[-1]
            raise WorktreeError(f"--against {ref!r}: cannot check out {sha[:12]} ({detail}); remove {path} and retry")
    if not (path / "benchmarks" / "conftest.py").is_file():
        raise WorktreeError(
            f"--against {ref!r}: {sha[:12]} has no benchmarks/ to run; compare against a commit that has them"
        )
    if not (path / "harness" / "pyproject.toml").is_file():
        raise WorktreeError(
            f"--against {ref!r}: {sha[:12]} predates the harness's own package (harness/), so its benchmarks "
            "speak another protocol; compare against a newer commit"
        )
    python = _environment(ref, sha, path, cache)
    return BaseTree(ref, sha, path, python)


def prepare_head(repo: Path, cache: Path) -> Path:
    """The working tree installed (editable) into an environment built exactly like the
    base's, so that neither side's figures carry the other's tooling: a nox virtualenv
    beside a plain venv differed by 5% in peak RSS with the same code. Keyed by the
    project file, so it is rebuilt only when the dependencies change."""
    digest = hashlib.sha256()
    for project in (repo / "pyproject.toml", repo / "harness" / "pyproject.toml"):
        digest.update(project.read_bytes())
    key = digest.hexdigest()[:12]
    return _environment("HEAD", f"head-{key}", repo.resolve(), cache)


def _environment(ref: str, sha: str, path: Path, cache: Path) -> Path:
    env = (cache / "envs" / sha[:17]).resolve()
    python = env / "bin" / "python"
    marker = env / ".installed"
    if marker.exists():
        return python
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(env)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-e",
            f"{path}[petstore]",
            "-e",
            str(path / "harness"),
        ],
    ]
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise WorktreeError(f"--against {ref!r}: installing {sha[:12]} into {env} failed ({detail})")
    marker.write_text(sha + "\n")
    return python
