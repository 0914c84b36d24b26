"""``dynapi-bench run --shard K/N``: one job's part of a run that a CI matrix splits over N jobs.

The split is fixed by the commits measured alone, so that N jobs on N runners agree on it
without talking to each other:

- the timing processes' benchmarks, function by function (a function's cases are one KPI's,
  and a ``row`` tag may join them), and the two counting processes, whole: a count depends
  on what ran before it in its process (counted alone, a benchmark read up to 1.3% more; a
  third of the suite's tests, 4-8% more a test), so each is counted as in one run, by one
  shard. The benchmarks marked ``slow`` (whole pytest processes a round: seconds, where the
  others take milliseconds) first, then the counting processes (which run beside the timing
  on the other core), then the other benchmarks, each tier ordered by a hash of the names,
  are dealt round-robin: each shard gets ``M // N`` or ``M // N + 1`` of the M units, the
  heavy ones spread, a base the same ones as its head;
- the dynamic suite's tests in the memory pass, by a hash of each node id modulo N
  (``plugin_path/dynapi_shard.py`` deselects the others): memory per test is compared test
  by test. The suite's whole-run KPIs (its wall time, each test's time, its peak RSS) go
  with the benchmark that times a run of it; the profiles are dealt like the benchmarks.

So every KPI row is measured by one shard (a per-test row by every shard, each for its own
tests), with its reference beside it: with ``--against`` a shard's base and head processes
take turns on one runner, so wall time is only ever compared within a shard's own pairs.
A shard is judged on its own rows; ``dynapi-bench merge`` (:mod:`dynapi_bench.merge`) joins
the N shards into one report and one verdict.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dynapi_bench.errors import BenchError, PassError
from dynapi_bench.judge import Judgement, judge
from dynapi_bench.lockstep import PLUGIN_PATH
from dynapi_bench.measure import pytest_cmd, spawn
from dynapi_bench.plan import Side
from dynapi_bench.plugin_path.dynapi_shard import SHARD_ENV, TESTS_ENV, UNITS_ENV, digest, shard_of
from dynapi_bench.reference import Baseline, Reference
from dynapi_bench.results import Results
from dynapi_bench.thresholds import Thresholds

__all__ = ["COUNTS", "PLUGIN", "Shard", "ShardWork", "judge_shard", "select"]

PLUGIN = "dynapi_shard"  # plugin_path/dynapi_shard.py, loaded by name
# The counting processes, each dealt whole: the CPU-bound benchmarks' and the suite's slice.
COUNTS = {"benchmarks": "instructions of the benchmarks", "suite": "instructions of the suite"}


@dataclass(frozen=True, order=True)
class Shard:
    """Shard ``index`` of ``count`` (``K/N``, from 1)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` as typed; :class:`BenchError` (one line, the fix) for anything else."""
        try:
            index, count = (int(part) for part in text.split("/"))
        except ValueError:
            raise BenchError(f"--shard {text}: expected K/N, two whole numbers (2/3: the second of three)") from None
        if count < 1 or not 1 <= index <= count:
            raise BenchError(f"--shard {text}: K must be from 1 to N, N at least 1 (1/3, 2/3 or 3/3)")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def deal(self, names: Iterable[str], tiers: Sequence[Collection[str]] = ()) -> list[str]:
        """This shard's part of ``names``: all of them in one order, tier by tier (the names in
        ``tiers[0]`` first, ..., the rest last), each tier ordered by a hash of the names (so a
        file's functions spread), dealt round-robin: every shard gets ``len // N`` or
        ``len // N + 1`` of them, and of each tier as even a share as the round allows."""

        def order(name: str) -> tuple[int, int, str]:
            tier = next((i for i, tier in enumerate(tiers) if name in tier), len(tiers))
            return tier, digest(name), name

        ordered = sorted(set(names), key=order)
        return [name for i, name in enumerate(ordered) if i % self.count == self.index - 1]

    def keeps(self, test_id: str) -> bool:
        """Whether a test of the suite is this shard's (as the plugin decides in the child)."""
        return shard_of(test_id, self.count) == self.index - 1


@dataclass(frozen=True)
class ShardWork:
    """What one shard of a run measures: per side, its benchmark functions (``file::name``,
    relative to that side's ``benchmarks/``, in the order they run), which counting processes
    (keys of :data:`COUNTS`); the suite's tests in the memory pass are split in the child
    processes (:meth:`environ`)."""

    shard: Shard
    benchmarks: Mapping[str, tuple[str, ...]]
    dealt: int = 0  # units dealt over the N shards
    counts: frozenset[str] = frozenset()

    @property
    def taken(self) -> int:
        """How many units this shard took (benchmark functions over its sides, counting processes)."""
        return len({unit for units in self.benchmarks.values() for unit in units}) + len(self.counts)

    def timed(self, side: Side) -> list[str]:
        """The node ids a timing process of ``side`` runs."""
        return [str(side.benchmarks / unit) for unit in self.benchmarks[side.name]]

    def counted(self, side: Side, files: Sequence[str]) -> list[str]:
        """The benchmark files ``files`` (names in ``benchmarks/``) if this shard counts them, else none."""
        return [str(side.benchmarks / name) for name in files] if "benchmarks" in self.counts else []

    def profiled(self, kpis: Sequence[str]) -> list[str]:
        """The profiles of ``kpis`` this shard writes (dealt as the benchmarks are)."""
        mine = set(self.shard.deal(kpis))
        return [kpi for kpi in kpis if kpi in mine]

    def environ(self, side: Side, tests: str) -> dict[str, str]:
        """The variables that make a process of ``side`` (the memory pass), and the suite a
        benchmark starts from it, keep only this shard's tests under ``tests``."""
        env = side.environ()
        return {
            SHARD_ENV: str(self.shard),
            TESTS_ENV: tests,
            "PYTEST_PLUGINS": ",".join(p for p in (PLUGIN, env.get("PYTEST_PLUGINS", "")) if p),
            "PYTHONPATH": os.pathsep.join(p for p in (str(PLUGIN_PATH), env.get("PYTHONPATH", "")) if p),
        }

    def info(self, *, against: str | None, quick: bool, gated: bool) -> dict[str, Any]:
        """What ``results.json`` records of the shard, for ``dynapi-bench merge`` to check."""
        return {"part": str(self.shard), "against": against, "quick": quick, "gated": gated}


def _units(side: Side, raw: Path) -> dict[str, bool]:
    """``side``'s benchmark functions, in run order, and whether each is marked ``slow``, as
    one short pytest process collects them."""
    folder = raw / side.name / "shard"
    folder.mkdir(parents=True, exist_ok=True)
    target, log = folder / "units.json", folder / "pytest.log"
    cmd = pytest_cmd(side.python, str(side.benchmarks), "--collect-only", "-q", "-m", "not memory", "-p", PLUGIN)
    env = side.environ(**{UNITS_ENV: str(target)})
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGIN_PATH), env.get("PYTHONPATH", "")) if p)
    finished = spawn(cmd, log, env=env, cwd=side.root)
    try:
        found = json.loads(target.read_text(encoding="utf-8"))["units"]
    except (OSError, ValueError, KeyError):
        found = None
    if finished.returncode != 0 or found is None:
        raise PassError(f"{side.name}: collecting the benchmarks failed (exit {finished.returncode}); see {log}")
    home = side.benchmarks.resolve()
    units: dict[str, bool] = {}
    for unit in found:
        name = f"{Path(unit['file']).resolve().relative_to(home).as_posix()}::{unit['name']}"
        units[name] = units.get(name, False) or bool(unit["slow"])
    return units


def select(shard: Shard, sides: Sequence[Side], raw: Path) -> ShardWork:
    """Collect every side's benchmarks and deal them: what ``shard`` measures, said in one line."""
    found = {side.name: _units(side, raw) for side in sides}
    every = {unit for units in found.values() for unit in units}
    slow = {unit for units in found.values() for unit, marked in units.items() if marked}
    mine = set(shard.deal(every | set(COUNTS.values()), tiers=(slow, set(COUNTS.values()))))
    picked = {name: tuple(u for u in units if u in mine) for name, units in found.items()}
    for name, units in picked.items():
        if not units:
            raise BenchError(
                f"--shard {shard}: {name} has no benchmark in this shard ({len(every)} benchmark functions and "
                f"{len(COUNTS)} counting processes over {shard.count} shards); use fewer shards"
            )
    counts = frozenset(key for key, unit in COUNTS.items() if unit in mine)
    print(
        f"shard {shard}: {len(picked[sides[-1].name])} of {len(every)} benchmark functions "
        f"({', '.join(picked[sides[-1].name])})"
        + "".join(f"; the {COUNTS[key]}" for key in sorted(counts))
        + f"; of the memory pass, the tests whose id hashes to {shard.index - 1} modulo {shard.count}",
        flush=True,
    )
    return ShardWork(shard, picked, len(every) + len(COUNTS), counts)


def judge_shard(
    work: ShardWork, run: Results, thresholds: Thresholds, reference: Reference | None, *, gated: bool
) -> Judgement:
    """A shard's own verdict: against a baseline, on the baseline's rows that this shard
    measured (the other rows are the other shards' to judge, not missing here); against a
    base, on the base measured beside it in this shard."""
    if isinstance(reference, Baseline):
        mine = set(run.by_name)
        rows = tuple(row for row in reference.results.rows if row.name in mine)
        reference = Baseline(replace(reference.results, rows=rows))
    judgement = judge(run, thresholds, reference, gated=gated)
    judgement.notes.insert(
        0,
        f"shard {work.shard}: this shard's rows alone (its {work.taken} of the {work.dealt} units, its part "
        f"of the suite's tests in the memory pass; a KPI with only some of its cases here meets the "
        f"large-change factor of that many); `dynapi-bench merge` joins the {work.shard.count} shards "
        f"into one report and one verdict",
    )
    return judgement
