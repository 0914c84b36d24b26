"""What a run measures: its sides, how many processes each, in which orders, how long.

A run on its own has one side (this working tree); ``--against`` has two (base and head)
and the self-test one per condition. Every side runs the same number of fresh timing
processes; with several sides, each cycle starts one process per side and they take turns
test by test (:mod:`dynapi_bench.lockstep`) in balanced orders, so neither a place in the
round nor a neighbour favours one side. With ``--suite`` the run measures a user's suite
(:class:`~dynapi_bench.suite.UserSuite`) instead of the project's, and only its KPIs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dynapi_bench.lockstep import balanced_orders
from dynapi_bench.suite import UserSuite

if TYPE_CHECKING:  # shards imports this module
    from dynapi_bench.shards import ShardWork

__all__ = ["AB_PAIRS", "FULL_PROCESSES", "QUICK_PROCESSES", "SUITE_TIMING", "Plan", "Side"]

FULL_PROCESSES = 5
QUICK_PROCESSES = 3
# Base/head process pairs of --against. The sign test must reach p < 0.01 with a wild pair
# among them: 12 pairs allow one wrong sign (p = 0.003); 10 allowed none (p = 0.011), which
# the self-test measured to hide +25%. (The suite runs twice a process: 24 pairs for it.)
AB_PAIRS = 12
SUITE_TIMING = "test_test_execution.py"  # the benchmark file that times a run of the suite
_NOT_INHERITED = ("PYTEST_XDIST_", "PYTEST_CURRENT_TEST")


@dataclass(frozen=True)
class Side:
    """One side of a run: its name, the Python that runs it, and the checkout whose
    ``benchmarks/`` it runs; ``env`` adds variables (the self-test's injections)."""

    name: str
    root: Path
    python: str = sys.executable
    env: tuple[tuple[str, str], ...] = ()

    @property
    def benchmarks(self) -> Path:
        return self.root / "benchmarks"

    def environ(self, **extra: str) -> dict[str, str]:
        """This process's environment, less what would make a child pytest take itself for
        an xdist worker (pytest-benchmark then disables itself), plus ``env`` and ``extra``."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(_NOT_INHERITED)}
        return {**inherited, **dict(self.env), **extra}


@dataclass(frozen=True)
class Plan:
    """Sides, processes per side, rounds per benchmark, and where raw output goes."""

    sides: tuple[Side, ...]
    processes: int
    raw: Path
    quick: bool = False
    files: tuple[str, ...] = ()  # the benchmark files a timing process runs (bisect: one KPI's); () all
    suite: UserSuite | None = None  # a user's suite measured instead of the project's (--suite)
    shard: ShardWork | None = None  # --shard K/N: this job's part of the run (dynapi_bench.shards)

    @classmethod
    def for_run(
        cls,
        sides: tuple[Side, ...],
        raw: Path,
        *,
        quick: bool = False,
        suite: UserSuite | None = None,
        shard: ShardWork | None = None,
    ) -> Plan:
        """A run on its own: 5 processes (3 quick); beside a base: :data:`AB_PAIRS` (3 quick,
        whose wall time then gates only beyond the large-change factor: counts gate the rest)."""
        if len(sides) > 1:
            processes = QUICK_PROCESSES if quick else AB_PAIRS
        else:
            processes = QUICK_PROCESSES if quick else FULL_PROCESSES
        files = (SUITE_TIMING,) if suite is not None else ()  # a user's suite: only the benchmark that times it
        return cls(sides, processes, raw, quick=quick and len(sides) == 1, files=files, suite=suite, shard=shard)

    def cycles(self) -> list[list[Side]]:
        """The order of the sides in each cycle (a Williams design, repeated)."""
        orders = balanced_orders(len(self.sides))
        return [[self.sides[i] for i in orders[k % len(orders)]] for k in range(self.processes)]

    @property
    def rounds(self) -> tuple[str, str]:
        """pytest-benchmark's ``--benchmark-max-time`` and ``--benchmark-min-rounds``. Quick
        lowers them for a run on its own only: beside a base, 10 ms a benchmark let short
        bursts decide whole turns (the self-test measured 23% false alarms)."""
        return ("0.01", "5") if self.quick else ("0.05", "10")

    def suite_run(self, side: Side) -> tuple[tuple[str, ...], Path]:
        """The dynamic suite's pytest arguments on ``side`` and the folder it runs in: the
        user's suite with its plugin options, or the side's own ``tests/integration``."""
        if self.suite is not None:
            return self.suite.args, self.suite.cwd
        return (str(side.root / "tests" / "integration"),), side.root

    def suite_environ(self) -> dict[str, str]:
        """What the processes that run the suite must know of it (nothing for the project's)."""
        return self.suite.environ() if self.suite is not None else {}

    def timed(self, side: Side) -> list[str]:
        """What a timing process of ``side`` runs: this shard's benchmarks, the files ``files``,
        or the whole ``benchmarks/`` folder."""
        if self.shard is not None:
            return self.shard.timed(side)
        return [str(side.benchmarks / name) for name in self.files] or [str(side.benchmarks)]

    def counted(self, side: Side, names: Sequence[str]) -> list[str]:
        """What the counting process of ``side`` runs of the benchmark files ``names`` (a
        shard: all of them or, where another shard counts them, none)."""
        if self.shard is not None:
            return self.shard.counted(side, names)
        return [str(side.benchmarks / name) for name in names]

    @property
    def suite_counted(self) -> bool:
        """Whether this run counts the suite (a shard: where no other shard does)."""
        return self.shard is None or "suite" in self.shard.counts

    def shard_environ(self, side: Side) -> dict[str, str]:
        """What makes the memory pass keep only this shard's tests of the suite (nothing
        without a shard)."""
        return self.shard.environ(side, self.suite_run(side)[0][0]) if self.shard is not None else {}

    def folder(self, side: Side, what: str) -> Path:
        """Where one process of one side leaves its raw output."""
        return (self.raw / side.name / what).resolve()
