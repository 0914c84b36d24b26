"""Where a project's benchmark inputs and outputs live, rooted at the project, never the cwd.

The root is the nearest directory, from where the command runs upwards, that holds both a
``pyproject.toml`` and a ``benchmarks/`` folder; else the git top level. Every path the
harness uses is spelled once here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dynapi_bench import children
from dynapi_bench.errors import BenchError

__all__ = ["Project", "find_root"]


@dataclass(frozen=True)
class Project:
    """One project's folders: what is measured, the rules, and where results go."""

    root: Path

    @property
    def benchmarks(self) -> Path:
        return self.root / "benchmarks"

    @property
    def thresholds(self) -> Path:
        return self.benchmarks / "thresholds.yaml"

    @property
    def suite(self) -> Path:
        return self.root / "tests" / "integration"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def baselines(self) -> Path:
        return self.root / "baselines"

    @property
    def cache(self) -> Path:
        """Worktrees and environments of ``--against``; kept between runs."""
        return self.root / ".bench"

    @classmethod
    def find(cls, start: Path | None = None) -> Project:
        return cls(find_root(start or Path.cwd()))


def find_root(start: Path) -> Path:
    """The project root above ``start``; :class:`BenchError` when there is none."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "benchmarks").is_dir():
            return folder
    top = children.run(["git", "-C", str(here), "rev-parse", "--show-toplevel"])
    if top.returncode == 0 and top.stdout.strip():
        return Path(top.stdout.strip())
    raise BenchError(
        f"{here}: not inside a project (no pyproject.toml beside a benchmarks/ folder above it, "
        "and not a git checkout); run the command from the project"
    )
