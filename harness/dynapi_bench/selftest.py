"""The gate's self-test: how often it cries wolf, and how often it finds a real change.

Conditions run as sides of one run, a process of each per cycle, all in lockstep test by
test as base and head in ``--against``: A and A2 (the same code twice) and B at +5%, +10%,
+25% and +50% (each compared with A or A2), where the benchmark harness adds
busy work worth that fraction of each measured call (``benchmarks/inject.py``; nothing
in ``framework/`` changes). Each side records every benchmark's median per process. A
comparison is then what ``--against`` does: ``pairs`` cycles, base A, head the condition,
judged by the run's own judge (:func:`dynapi_bench.judge.judge` with a
:class:`~dynapi_bench.reference.BaseCommit`), a KPI flagged when any of its rows regresses.
Many comparisons come from subsets of the cycles (without replacement), so every rate
states the cycles and comparisons behind it.
Memory: the suite under memray, base twice and with each test holding +10% and +50% of
its base peak; a comparison pairs the tests.
Counts: real edits to ``framework/`` in scratch worktrees, counted once each
(:mod:`dynapi_bench.variants`); ``--counts-only`` runs just that part (about 2 minutes).
With ``--save``, what the timing part measured per KPI (met the bar or not, and its A/A
spread) is stored under ``baselines/<machine>/selftest/``: :mod:`dynapi_bench.gating`
reads the three newest records to decide which wall-time KPIs ``--against`` may gate.
"""

from __future__ import annotations

import datetime
import math
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from dynapi_bench import children
from dynapi_bench.collect import memory_rows, suite_rows, timing_rows
from dynapi_bench.counts import unavailable
from dynapi_bench.errors import BenchError, ExitCode
from dynapi_bench.interrupts import committing
from dynapi_bench.judge import Verdict, judge
from dynapi_bench.measure import measure_memory, measure_timing
from dynapi_bench.plan import AB_PAIRS, Plan, Side
from dynapi_bench.project import Project
from dynapi_bench.protocol import MEMORY_ENV, TIME_ENV
from dynapi_bench.reference import BaseCommit
from dynapi_bench.report import render_template
from dynapi_bench.results import Results, atomic_write_json, machine_id
from dynapi_bench.staging import Stage, staged
from dynapi_bench.thresholds import Thresholds, load_thresholds
from dynapi_bench.variants import VARIANTS, count_matrix, render_counts
from framework.files import atomic_write_text

__all__ = ["BAR", "Matrix", "run_selftest"]

TIME_SIZES = (0.05, 0.10, 0.25, 0.50)
MEMORY_SIZES = (0.10, 0.50)
TIMING_KPIS = (
    "config_load",
    "config_load_cached",
    "data_generation",
    "response_validation",
    "test_execution",
    "suite_wall_time",
)
# The bar on this 2-core machine: false alarms <= 1% per KPI; detection >= 95% at +10% and
# 100% at +25% for every timing KPI; memory +10% always caught with no false alarm.
BAR = {"false_alarms": 0.01, "detect_10": 0.95, "detect_25": 1.0}


@dataclass
class Matrix:
    """Rates per KPI and condition, with the runs behind them."""

    cycles: int
    pairs: int
    comparisons: int
    rates: dict[str, dict[str, float]]
    memory: dict[str, dict[str, Any]]
    effective: dict[str, dict[str, float]]
    spread: dict[str, float] = field(default_factory=dict)

    def met(self, kpi: str) -> bool:
        """The wall-time bar for one KPI: <= 1% A/A alarms, >= 95% of +10% caught."""
        rates = self.rates[kpi]
        return rates["A/A"] <= BAR["false_alarms"] and rates["+10%"] >= BAR["detect_10"]

    def record(self, commit: str, machine: str, stamp: str) -> dict[str, Any]:
        """What :mod:`dynapi_bench.gating` reads: per timing KPI, the bar met or not, and the spread."""
        return {
            "datetime": stamp,
            "commit": commit,
            "machine": machine,
            "pairs": self.pairs,
            "comparisons": self.comparisons,
            "kpis": {
                kpi: {
                    "met": self.met(kpi),
                    "spread": self.spread.get(kpi, math.nan),
                    "false_alarms": rates["A/A"],
                    "detect_10": rates["+10%"],
                }
                for kpi, rates in self.rates.items()
            },
        }

    def misses(self) -> list[str]:
        """Where the bar is not met, in words."""
        out = []
        for kpi, rates in self.rates.items():
            if rates["A/A"] > BAR["false_alarms"]:
                out.append(f"{kpi}: false alarms {rates['A/A']:.1%} > {BAR['false_alarms']:.0%}")
            if rates["+10%"] < BAR["detect_10"]:
                out.append(f"{kpi}: +10% caught {rates['+10%']:.1%} < {BAR['detect_10']:.0%}")
            if rates["+25%"] < BAR["detect_25"]:
                out.append(f"{kpi}: +25% caught {rates['+25%']:.1%} < {BAR['detect_25']:.0%}")
        for kpi, found in self.memory.items():
            if found["A/A"] > 0 or found["+10%"] < 1.0:
                out.append(f"{kpi}: A/A alarms {found['A/A']:.0%}, +10% caught {found['+10%']:.0%}")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "bar": BAR,
            "cycles": self.cycles,
            "pairs_per_comparison": self.pairs,
            "comparisons_per_figure": self.comparisons,
            "timing": self.rates,
            "effective_ratio": self.effective,
            "memory": self.memory,
            "spread": self.spread,
            "met": not self.misses(),
            "misses": self.misses(),
        }


def _label(size: float) -> str:
    return f"+{size:.0%}"


def _per_process(results: Results, kpis: Sequence[str]) -> dict[str, dict[str, np.ndarray]]:
    """KPI -> benchmark -> its process medians, in cycle order."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for row in results.rows:
        if row.kpi in kpis and row.process is not None:
            out.setdefault(row.kpi, {})[row.name] = np.asarray(row.process)
    return out


BASE_OF = {"A2": "A", "+5%": "A", "+10%": "A", "+25%": "A2", "+50%": "A2"}  # each condition's base


def _runs_of(cycles: Sequence[int], runs: int) -> list[int]:
    """Indexes of the values of ``cycles`` in a row with ``runs`` values per cycle (the
    suite runs twice a process: its rows hold run 1 and run 2 of each cycle in turn)."""
    return [c * runs + j for c in cycles for j in range(runs)]


def _subset(results: Results, cycles: int, subset: Sequence[int]) -> Results:
    """The timing rows of ``results`` as if only the cycles in ``subset`` had run."""
    rows = [
        replace(row, process=row.process[_runs_of(subset, len(row.process) // cycles)])
        for row in results.rows
        if row.kpi in TIMING_KPIS and row.process is not None
    ]
    return _results(results.commit, rows)


def _regressed(head: Results, base: Results, thresholds: Thresholds) -> tuple[set[str], dict[str, float]]:
    """The KPIs the judge finds regressed, as ``--against`` would (the bootstrap skipped),
    and each KPI's largest row ratio (what an allowed change would have to clear)."""
    j = judge(head, thresholds, BaseCommit(base, base.commit, base.commit, interval=False))
    largest = {str(k): float(g["ratio"].max()) for k, g in j.rows.groupby("kpi")}
    return set(j.rows.loc[j.rows["reference_verdict"] == Verdict.REGRESSION.value, "kpi"]), largest


def _subsets(cycles: int, pairs: int, wanted: int, rng: random.Random) -> list[tuple[int, ...]]:
    """Up to ``wanted`` distinct subsets of ``pairs`` cycles, drawn at random (never all
    of them listed first: 40 cycles choose 12 is 5.6e9)."""
    wanted = min(wanted, math.comb(cycles, pairs))
    found: set[tuple[int, ...]] = set()
    while len(found) < wanted:
        found.add(tuple(sorted(rng.sample(range(cycles), pairs))))
    return sorted(found)


def timing_matrix(
    sides: dict[str, Results], thresholds: Thresholds, *, pairs: int, comparisons: int, seed: int = 0
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], int, dict[str, float]]:
    """Alarm rates per timing KPI and condition over random subsets of ``pairs`` cycles,
    each comparison judged by the run's own judge; and each KPI's A/A spread: the 99th
    percentile of its largest row change over the A/A comparisons."""
    bases = {name: _per_process(sides[name], TIMING_KPIS) for name in ("A", "A2")}
    cycles = min(len(v) for rows in bases["A"].values() for v in rows.values())  # one value a cycle
    subsets = _subsets(cycles, pairs, comparisons, random.Random(seed))
    rates: dict[str, dict[str, float]] = {}
    effective: dict[str, dict[str, float]] = {}
    spread: dict[str, float] = {}
    for label, results in sides.items():
        if label == "A":
            continue
        name = "A/A" if label == "A2" else label
        head = _per_process(results, TIMING_KPIS)
        for kpi, rows in bases[BASE_OF[label]].items():
            # What the injection really did: the median over benchmarks of each benchmark's
            # median ratio over cycles (the work perturbs what follows it, so >= nominal).
            ratios = [float(np.median(head[kpi][n] / values)) for n, values in rows.items() if n in head.get(kpi, {})]
            effective.setdefault(kpi, {})[name] = float(np.median(ratios))
        alarms = dict.fromkeys(bases["A"], 0)
        largest: dict[str, list[float]] = {}
        for subset in subsets:
            base = _subset(sides[BASE_OF[label]], cycles, subset)
            flagged, biggest = _regressed(_subset(results, cycles, subset), base, thresholds)
            for kpi in flagged:
                alarms[kpi] = alarms.get(kpi, 0) + 1
            for kpi, ratio in biggest.items():
                largest.setdefault(kpi, []).append(ratio)
        for kpi, count in alarms.items():
            rates.setdefault(kpi, {})[name] = count / len(subsets)
        if name == "A/A":
            spread.update({kpi: float(np.quantile(values, 0.99)) - 1 for kpi, values in largest.items()})
    return rates, effective, len(subsets), spread


def memory_verdicts(pairs: dict[str, list[tuple[Results, Results]]], thresholds: Thresholds) -> dict[str, Any]:
    """Per condition, the share of memory comparisons in which the judge finds memory_per_test regressed."""
    out: dict[str, Any] = {}
    for label, comparisons in pairs.items():
        flagged = 0
        ratios = []
        for base, head in comparisons:
            j = judge(head, thresholds, BaseCommit(base, base.commit, base.commit))
            rows = j.rows[j.rows["kpi"] == "memory_per_test"]
            ratios += [float(r) for r, n in zip(rows["ratio"], rows["name"], strict=True) if "geomean" not in n]
            flagged += bool((rows["reference_verdict"] == Verdict.REGRESSION.value).any())
        out[label] = flagged / len(comparisons)
        out[f"{label} ratios"] = [round(r, 4) for r in ratios]
        out[f"{label} comparisons"] = len(comparisons)
    return {"memory_per_test": out}


def _results(name: str, rows: Sequence[Any]) -> Results:
    return Results(rows=tuple(rows), machine="selftest", commit=name, datetime="")


def run_selftest(
    project: Project,
    *,
    reports: Path | None = None,
    thresholds: Path | None = None,
    cycles: int | None = None,
    pairs: int | None = None,
    comparisons: int = 300,
    counts_only: bool = False,
    save: bool = False,
    baselines: Path | None = None,
) -> int:
    """Run the self-test. Its two parts publish into the reports as each completes
    (:mod:`dynapi_bench.staging`): ``selftest.json`` and ``selftest.html`` (with ``--save``,
    the wall-time record too), then ``selftest-counts.json``."""
    out = reports or project.reports
    rules = load_thresholds(thresholds or project.thresholds)
    if counts_only:
        with staged(out) as stage:
            return _counts_part(project, stage, rules, step="[1/1]")
    pairs = AB_PAIRS if pairs is None else pairs
    cycles = pairs + 6 if cycles is None else cycles
    if not 2 <= pairs <= cycles:
        raise BenchError(f"--pairs {pairs}: must be between 2 and --cycles ({cycles}); raise --cycles or lower --pairs")
    if comparisons < 1:
        raise BenchError(f"--comparisons {comparisons}: must be at least 1")
    with staged(out) as stage:
        matrix = _measure(project, stage.path, rules, cycles=cycles, pairs=pairs, comparisons=comparisons)
        data = matrix.as_dict()
        atomic_write_json(stage.path / "selftest.json", data)
        page = write_selftest_page(stage.path, data)
        commit = _head(project.root) if save else ""
        with committing():
            stage.publish()
            record = _save_record(matrix, commit, baselines or project.baselines) if save else None
        print(f"      written: {stage.final(stage.path / 'selftest.json')}, {stage.final(page)}", flush=True)
        print(render_matrix(data), flush=True)
        if record is not None:
            print(f"      wall-time record saved: {record} (--against reads the three newest)", flush=True)
        counted = _counts_part(project, stage, rules, step="[4/4]")
    # Exit 1 as for a KPI that crossed: here, the gate itself missed its bar.
    return int(ExitCode.OK if data["met"] and counted == ExitCode.OK else ExitCode.REGRESSION)


def _measure(project: Project, out: Path, rules: Thresholds, *, cycles: int, pairs: int, comparisons: int) -> Matrix:
    """Steps 1 to 3: every condition timed and the suite's memory measured, then the matrix."""
    raw = out / "selftest"
    # One process per condition each cycle, in lockstep test by test as base and head in
    # --against, in balanced orders; each B is compared with A or A2 (BASE_OF).
    conditions = {"+5%": 0.05, "A": 0.0, "+10%": 0.10, "+25%": 0.25, "A2": 0.0, "+50%": 0.50}
    sides = tuple(Side(name, project.root, env=((TIME_ENV, str(f)),)) for name, f in conditions.items())
    plan = Plan(sides, cycles, raw)
    print(f"[1/4] timing: {len(sides)} conditions x {cycles} cycles, taken in turn ...", flush=True)
    outputs = measure_timing(plan)
    timing = {name: _results(name, [*timing_rows(o), *suite_rows(o)]) for name, o in outputs.items()}

    print("[2/4] memory: the suite under memray: base twice, +10% and +50% twice each ...", flush=True)
    base_sides = [Side("MA", project.root), Side("MA2", project.root)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda side: measure_memory(plan, side), base_sides))
    memory = {side.name: _results(side.name, memory_rows(m)) for side, m in zip(base_sides, found, strict=True)}
    grown: dict[str, list[tuple[Results, Results]]] = {"A/A": [(memory["MA"], memory["MA2"])]}
    grown_sides = []
    for size in MEMORY_SIZES:
        for i, base in enumerate(("MA", "MA2")):
            extras = {
                test: math.ceil(size * peak)
                for row in memory[base].rows
                if row.keyed is not None
                for test, peak in row.keyed.items()
            }
            path = raw / f"extra-{_label(size)}-{i}.json"
            atomic_write_json(path, extras)
            env = ((MEMORY_ENV, str(path.resolve())),)
            grown_sides.append((size, base, Side(f"M{size:.2f}-{i}", project.root, env=env)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda item: measure_memory(plan, item[2]), grown_sides))
    for (size, base, side), m in zip(grown_sides, found, strict=True):
        grown.setdefault(_label(size), []).append((memory[base], _results(side.name, memory_rows(m))))

    print(f"[3/4] matrix: {comparisons} comparisons of {pairs} pairs per figure ...", flush=True)
    rates, effective, made, spread = timing_matrix(timing, rules, pairs=pairs, comparisons=comparisons)
    return Matrix(cycles, pairs, made, rates, memory_verdicts(grown, rules), effective, spread)


def _save_record(matrix: Matrix, commit: str, baselines: Path) -> Path:
    """The wall-time record :mod:`dynapi_bench.gating` reads, under ``baselines/<machine>/selftest/``."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = baselines / machine_id() / "selftest"
    path = folder / f"{stamp}-{commit[:12]}.json"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, matrix.record(commit, machine_id(), stamp))
    return path


def _head(root: Path) -> str:
    done = children.run(["git", "-C", str(root), "rev-parse", "HEAD"])
    return done.stdout.strip() or "unknown"


def _counts_part(project: Project, stage: Stage, rules: Thresholds, *, step: str) -> int:
    """The count matrix: real edits counted in scratch worktrees (:mod:`dynapi_bench.variants`)."""
    skipped = unavailable()
    if skipped:
        print(f"{step} counts: {skipped}", flush=True)
        return int(ExitCode.OK)
    print(
        f"{step} counts: HEAD and {len(VARIANTS) - 1} edits of framework/factory.py, counted in worktrees ...",
        flush=True,
    )
    start = time.perf_counter()
    matrix = count_matrix(project.root, project.cache, stage.path / "selftest-counts", rules)
    written = stage.path / "selftest-counts.json"
    atomic_write_json(written, matrix)
    with committing():
        stage.publish()
    print(f"      done in {time.perf_counter() - start:.0f} s: {stage.final(written)}", flush=True)
    print(render_counts(matrix), flush=True)
    wrong = [name for name, found in matrix.items() if not found["ok"]]
    print("count gate: every verdict as expected" if not wrong else f"count gate WRONG for: {', '.join(wrong)}")
    return int(ExitCode.REGRESSION if wrong else ExitCode.OK)


def render_matrix(data: dict[str, Any]) -> str:
    """The detection matrix as text."""
    lines = [
        f"self-test: {data['cycles']} cycles, {data['comparisons_per_figure']} comparisons of "
        f"{data['pairs_per_comparison']} pairs behind each timing figure",
        f"{'KPI':22} {'A/A alarms':>11} " + " ".join(f"{_label(s):>7}" for s in TIME_SIZES),
    ]
    for kpi, rates in data["timing"].items():
        cells = " ".join(f"{rates[_label(s)]:7.1%}" for s in TIME_SIZES)
        lines.append(f"{kpi:22} {rates['A/A']:11.1%} {cells}")
        real = data["effective_ratio"][kpi]
        lines.append(
            f"{'  measured ratio':22} {real['A/A']:11.3f} " + " ".join(f"{real[_label(s)]:7.3f}" for s in TIME_SIZES)
        )
    for kpi, found in data["memory"].items():
        lines.append(
            f"{kpi:22} {found['A/A']:11.0%} "
            + " ".join(f"{found[_label(s)]:7.0%}" for s in MEMORY_SIZES)
            + f"   ({found['+10% comparisons']} comparisons per size)"
        )
    lines.append("bar met" if data["met"] else "bar NOT met: " + "; ".join(data["misses"]))
    return "\n".join(lines)


def write_selftest_page(reports: Path, data: dict[str, Any]) -> Path:
    """``reports/selftest.html``: the matrix, from the report's Jinja2 environment."""
    path = reports / "selftest.html"
    atomic_write_text(path, render_template("selftest.html.j2", data=data, sizes=[_label(s) for s in TIME_SIZES]))
    return path
