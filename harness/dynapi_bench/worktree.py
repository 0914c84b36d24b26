"""The base side of a same-run comparison: a git worktree of a ref and its own environment.

``prepare_base("HEAD~1", repo, cache)`` resolves the ref to a commit and checks it out as a
detached worktree under ``.bench/worktrees/<sha>``; :func:`environments` gives both sides
their Python: this one when base and head declare the same dependencies, else one
environment each, built alike (the base's with its own ``harness/``) under ``.bench/envs/``.
Both are kept, so the next comparison with the same commit starts at once; each counts as
made only once complete (a ``<sha>.ready`` file beside the worktree, ``.installed`` in the
environment). One this run began and did not complete (interrupted, or failed) is removed
on the way out, and one without its mark (a killed run's) is made afresh before use.
Errors are one line naming the ref and the fix (exit 2).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dynapi_bench import children
from dynapi_bench.errors import WorktreeError

__all__ = ["BaseTree", "discard", "environment", "environments", "prepare_base", "resolve_ref"]


@dataclass(frozen=True)
class BaseTree:
    """A checked-out base: the ref as given, its commit, and where its code is."""

    ref: str
    sha: str
    path: Path


def _git(repo: Path, *args: str, cleanup: bool = False) -> subprocess.CompletedProcess[str]:
    return children.run(["git", "-C", str(repo), *args], cleanup=cleanup)


def discard(repo: Path, path: Path) -> None:
    """Remove the worktree at ``path`` (registered or not, complete or not) and git's note of
    it; never fails, and runs while the harness is stopping: it is the clean-up."""
    if path.exists():
        _git(repo, "worktree", "remove", "--force", str(path), cleanup=True)
        shutil.rmtree(path, ignore_errors=True)  # what git did not know as a worktree
    _git(repo, "worktree", "prune", cleanup=True)


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
    ready = path.with_name(f"{path.name}.ready")
    if not (ready.exists() and (path / ".git").exists()):
        discard(repo, path)  # a killed run's half checkout, if any
        try:
            added = _git(repo, "worktree", "add", "--detach", "--force", str(path), sha)
            if added.returncode != 0:
                detail = (added.stderr.strip().splitlines() or ["git worktree add failed"])[-1]
                raise WorktreeError(
                    f"--against {ref!r}: cannot check out {sha[:12]} ({detail}); remove {path} and retry"
                )
            ready.touch()
        except BaseException:
            discard(repo, path)  # interrupted or failed: not left half made
            raise
    if not (path / "benchmarks" / "conftest.py").is_file():
        raise WorktreeError(
            f"--against {ref!r}: {sha[:12]} has no benchmarks/ to run; compare against a commit that has them"
        )
    if not (path / "harness" / "pyproject.toml").is_file():
        raise WorktreeError(
            f"--against {ref!r}: {sha[:12]} predates the harness's own package (harness/), so its benchmarks "
            "speak another protocol; compare against a newer commit"
        )
    return BaseTree(ref, sha, path)


_PROJECT_FILES = ("pyproject.toml", "harness/pyproject.toml")


def environments(base: BaseTree, repo: Path, cache: Path) -> tuple[str, str]:
    """The Pythons of base and head. Where both declare the same dependencies and have the
    same ``harness/``, one environment, this one, runs both sides: each imports its own code from its checkout
    (the measured processes start there, and the working directory comes first on
    ``sys.path``), and nothing else differs. Otherwise each side gets an environment built
    alike, side by side (a nox virtualenv beside a plain venv differed 5% in peak RSS)."""
    if _shares(base, repo):
        return sys.executable, sys.executable
    digest = hashlib.sha256(b"".join((repo / f).read_bytes() for f in _PROJECT_FILES)).hexdigest()[:12]
    with ThreadPoolExecutor(max_workers=2) as pool:
        base_env = pool.submit(_environment, base.ref, base.sha, base.path, cache)
        head_env = pool.submit(_environment, "HEAD", f"head-{digest}", repo.resolve(), cache)
        return str(base_env.result()), str(head_env.result())


def environment(base: BaseTree, repo: Path, cache: Path) -> str:
    """The Python of ``base`` alone (a commit bisect probes): this one where it can run it, as
    in :func:`environments`, else the commit's own, built and kept under ``.bench/envs/``."""
    return sys.executable if _shares(base, repo) else str(_environment(base.ref, base.sha, base.path, cache))


def _shares(base: BaseTree, repo: Path) -> bool:
    """Whether this environment runs ``base`` as its own would: the same declared dependencies
    and the same ``harness/`` as the working tree ``repo`` (whose harness this one imports)."""
    same = all(_read(base.path / f) == _read(repo / f) for f in _PROJECT_FILES)
    # The harness (the protocol its benchmarks speak, the lockstep plugin) comes from this
    # environment: shared only when the base's harness/ is the same as the working tree's.
    same_harness = (
        _git(repo, "diff", "--quiet", base.sha, "--", "harness").returncode == 0
        and not _git(repo, "ls-files", "--others", "--exclude-standard", "--", "harness").stdout.strip()
    )
    return same and same_harness and _imports_from(sys.executable, base.path)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _imports_from(python: str, root: Path) -> bool:
    """Whether ``python`` started in ``root`` imports the framework from ``root``."""
    done = children.run([python, "-c", "import framework; print(framework.__file__)"], cwd=root)
    return done.returncode == 0 and Path(done.stdout.strip()).resolve().is_relative_to(root.resolve())


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
            # The pytest plugin's own distribution (a commit from before it registers the
            # plugin from the framework's).
            *(["-e", str(path / "plugin")] if (path / "plugin" / "pyproject.toml").is_file() else []),
            "-e",
            str(path / "harness"),
        ],
    ]
    try:
        for cmd in steps:
            done = children.run(cmd)
            if done.returncode != 0:
                detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
                raise WorktreeError(f"--against {ref!r}: installing {sha[:12]} into {env} failed ({detail})")
        marker.write_text(sha + "\n")
    except BaseException:
        shutil.rmtree(env, ignore_errors=True)  # interrupted or failed: not left half built
        raise
    return python
