"""What a run measures: its sides, how many processes each, in which orders, how long.

A run on its own has one side (this working tree); ``--against`` has two (base and head)
and the self-test one per condition. Every side runs the same number of fresh timing
processes; with several sides, each cycle starts one process per side and they take turns
test by test (:mod:`dynapi_bench.lockstep`) in balanced orders, so neither a place in the
round nor a neighbour favours one side.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from dynapi_bench.lockstep import balanced_orders

__all__ = ["AB_PAIRS", "FULL_PROCESSES", "QUICK_PROCESSES", "Plan", "Side"]

FULL_PROCESSES = 5
QUICK_PROCESSES = 3
# Base/head process pairs of --against. The sign test must reach p < 0.01 with a wild pair
# among them: 12 pairs allow one wrong sign (p = 0.003); 10 allowed none (p = 0.011), which
# the self-test measured to hide +25%. (The suite runs twice a process: 24 pairs for it.)
AB_PAIRS = 12
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

    @classmethod
    def for_run(cls, sides: tuple[Side, ...], raw: Path, *, quick: bool = False) -> Plan:
        """A run on its own: 5 processes (3 quick); beside a base: :data:`AB_PAIRS` (3 quick,
        whose wall time then gates only beyond the large-change factor: counts gate the rest)."""
        if len(sides) > 1:
            processes = QUICK_PROCESSES if quick else AB_PAIRS
        else:
            processes = QUICK_PROCESSES if quick else FULL_PROCESSES
        return cls(sides, processes, raw, quick=quick and len(sides) == 1)

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

    def folder(self, side: Side, what: str) -> Path:
        """Where one process of one side leaves its raw output."""
        return (self.raw / side.name / what).resolve()
