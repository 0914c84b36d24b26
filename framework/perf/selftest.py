"""The gate's self-test: how often it cries wolf, and how often it finds a real change.

Conditions run as sides of one run, a process of each per cycle, all in lockstep test by
test as base and head in ``--against``: A and A2 (the same code twice) and B at +5%, +10%,
+25% and +50% (each compared with A or A2), where the benchmark harness adds
busy work worth that fraction of each measured call (``benchmarks/inject.py``; nothing
in ``framework/`` changes). Each side records every benchmark's median per process. A
comparison is then what ``--against`` does: ``pairs`` cycles, base A, head the condition,
:func:`framework.perf.ab.estimate` and :func:`~framework.perf.ab.decide` per benchmark, a
KPI flagged when any of its benchmarks is. Many comparisons come from subsets of the
cycles (without replacement), so every rate states the cycles and comparisons behind it.
Memory: the suite under memray, base twice and with each test holding +10% and +50% of
its base peak; a comparison pairs the tests.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from framework.errors import ExitCode, FrameworkError
from framework.files import atomic_write_text
from framework.perf.ab import decide, estimate
from framework.perf.harness import MEMORY_ENV, TIME_ENV
from framework.perf.report import render_template
from framework.perf.results import RunResults, atomic_write_json
from framework.perf.runner import HEAD, Options, Runner, Side, SideResults
from framework.perf.thresholds import Thresholds, load_thresholds

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
            "met": not self.misses(),
            "misses": self.misses(),
        }


def _label(size: float) -> str:
    return f"+{size:.0%}"


def _per_process(results: RunResults, kpis: Sequence[str]) -> dict[str, dict[str, np.ndarray]]:
    """KPI -> benchmark -> its process medians, in cycle order."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for row in results.rows.itertuples(index=False):
        if row.kpi in kpis and row.process is not None:
            out.setdefault(row.kpi, {})[row.name] = np.asarray(row.process)
    return out


BASE_OF = {"A2": "A", "+5%": "A", "+10%": "A", "+25%": "A2", "+50%": "A2"}  # each condition's base


def _runs_of(cycles: Sequence[int], runs: int) -> list[int]:
    """Indexes of the values of ``cycles`` in a row with ``runs`` values per cycle (the
    suite runs twice a process: its rows hold run 1 and run 2 of each cycle in turn)."""
    return [c * runs + j for c in cycles for j in range(runs)]


def timing_matrix(
    sides: dict[str, RunResults], thresholds: Thresholds, *, pairs: int, comparisons: int, seed: int = 0
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], int]:
    """Alarm rates per timing KPI and condition over random subsets of ``pairs`` cycles."""
    bases = {name: _per_process(sides[name], TIMING_KPIS) for name in ("A", "A2")}
    cycles = min(len(v) for rows in bases["A"].values() for v in rows.values())  # one value a cycle
    subsets = list(itertools.combinations(range(cycles), pairs))
    random.Random(seed).shuffle(subsets)
    subsets = subsets[:comparisons]
    rates: dict[str, dict[str, float]] = {}
    effective: dict[str, dict[str, float]] = {}
    for label, results in sides.items():
        if label == "A":
            continue
        head = _per_process(results, TIMING_KPIS)
        for kpi, rows in bases[BASE_OF[label]].items():
            rule = thresholds.kpis[kpi]
            # What the injection really did: the median over benchmarks of each benchmark's
            # median ratio over cycles (the work perturbs what follows it, so >= nominal).
            ratios = [
                float(np.median(head[kpi][name] / values)) for name, values in rows.items() if name in head.get(kpi, {})
            ]
            effective.setdefault(kpi, {})["A/A" if label == "A2" else label] = float(np.median(ratios))
            alarms = 0
            for subset in subsets:
                flagged = any(
                    decide(
                        estimate(base_values[idx], head[kpi][name][idx], interval=False),
                        alpha=thresholds.alpha,
                        allowed_change=rule.ab_allowed_change,
                    )
                    == "regressed"
                    for name, base_values in rows.items()
                    if name in head.get(kpi, {})
                    for idx in [_runs_of(subset, len(base_values) // cycles)]
                )
                alarms += flagged
            rates.setdefault(kpi, {})["A/A" if label == "A2" else label] = alarms / len(subsets)
    return rates, effective, len(subsets)


def memory_verdicts(pairs: dict[str, list[tuple[RunResults, RunResults]]], thresholds: Thresholds) -> dict[str, Any]:
    """Per condition, the share of memory comparisons that flag memory_per_test."""
    rule = thresholds.kpis["memory_per_test"]
    out: dict[str, Any] = {}
    for label, comparisons in pairs.items():
        flagged = 0
        ratios = []
        for base, head in comparisons:
            hit = False
            for row in head.rows.itertuples(index=False):
                if row.kpi != "memory_per_test" or row.keyed is None:
                    continue
                other = base.rows.set_index("name").loc[row.name]
                common = sorted(set(row.keyed) & set(other["keyed"]))
                est = estimate([other["keyed"][k] for k in common], [row.keyed[k] for k in common])
                ratios.append(est.ratio)
                hit |= decide(est, alpha=thresholds.alpha, allowed_change=rule.ab_allowed_change) == "regressed"
            flagged += hit
        out[label] = flagged / len(comparisons)
        out[f"{label} ratios"] = [round(r, 4) for r in ratios]
        out[f"{label} comparisons"] = len(comparisons)
    return {"memory_per_test": out}


def run_selftest(options: Options, *, cycles: int = 18, pairs: int = 12, comparisons: int = 300) -> int:
    """Run the self-test; write ``selftest.json`` and ``selftest.html`` beside the reports."""
    thresholds = load_thresholds(options.thresholds)
    work = Options(quick=options.quick, reports=options.reports / "selftest", thresholds=options.thresholds)
    work.raw.mkdir(parents=True, exist_ok=True)
    # One process per condition each cycle, in lockstep test by test as base and head in
    # --against, in balanced orders; each B is compared with A or A2 (BASE_OF).
    conditions = {"+5%": 0.05, "A": 0.0, "+10%": 0.10, "+25%": 0.25, "A2": 0.0, "+50%": 0.50}
    sides = [Side(name, sys.executable, HEAD.root, ((TIME_ENV, str(f)),)) for name, f in conditions.items()]
    runner = Runner(work, sides, processes=cycles)
    start = runner.step(1, 3, "timing", f"{len(sides)} conditions x {cycles} cycles, taken in turn")
    runner.timed()
    timing = {side.name: runner.side_rows(side) for side in sides}
    runner.done(start, f"{len(sides) * cycles} processes")

    start = runner.step(2, 3, "memory", "the suite under memray: base twice, +10% and +50% twice each")
    base_sides = [Side("MA", sys.executable, HEAD.root), Side("MA2", sys.executable, HEAD.root)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(runner_memory(runner), base_sides))
    memory = {side.name: runner.side_rows(side) for side in base_sides}
    grown: dict[str, list[tuple[RunResults, RunResults]]] = {"A/A": [(memory["MA"], memory["MA2"])]}
    grown_sides = []
    for size in MEMORY_SIZES:
        for i, base in enumerate(("MA", "MA2")):
            extras = {
                test: math.ceil(size * peak)
                for row in memory[base].rows.itertuples(index=False)
                if row.keyed is not None
                for test, peak in row.keyed.items()
            }
            path = work.raw / f"extra-{_label(size)}-{i}.json"
            atomic_write_json(path, extras)
            env = ((MEMORY_ENV, str(path.resolve())),)
            grown_sides.append((size, base, Side(f"M{size:.2f}-{i}", sys.executable, HEAD.root, env)))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(runner_memory(runner), [s for _, _, s in grown_sides]))
    for size, base, side in grown_sides:
        grown.setdefault(_label(size), []).append((memory[base], runner.side_rows(side)))
    runner.done(start, "memray captures read")

    start = runner.step(3, 3, "matrix", f"{comparisons} comparisons of {pairs} pairs per figure")
    rates, effective, made = timing_matrix(timing, thresholds, pairs=pairs, comparisons=comparisons)
    matrix = Matrix(cycles, pairs, made, rates, memory_verdicts(grown, thresholds), effective)
    data = matrix.as_dict()
    atomic_write_json(options.reports / "selftest.json", data)
    summary_path = options.reports / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    summary["selftest"] = data
    atomic_write_json(summary_path, summary)
    page = write_selftest_page(options.reports, data)
    runner.done(start, f"{options.reports / 'selftest.json'}, {page}")
    print(render_matrix(data), flush=True)
    return 0 if data["met"] else 1


def runner_memory(runner: Runner) -> Any:
    """A callable for pool.map: the memory pass of one side (registering the side first)."""

    def run(side: Side) -> None:
        runner.got.setdefault(side.name, SideResults())
        runner.memory(side)

    return run


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


def main(argv: list[str] | None = None) -> int:
    """``dynapi-selftest [--cycles N] [--pairs K] [--comparisons M]``: exit 0 when the bar is met."""
    parser = argparse.ArgumentParser(prog="dynapi-selftest", description="Measure the gate's error rates.")
    parser.add_argument("--cycles", type=int, help="processes per condition (default: pairs + 6)")
    parser.add_argument(
        "--pairs", type=int, help=f"process pairs per comparison (default {Options().ab_pairs}, as --against)"
    )
    parser.add_argument("--comparisons", type=int, default=300, help="comparisons behind each figure")
    parser.add_argument("--reports", type=Path, default=Options.reports)
    parser.add_argument("--thresholds", type=Path, default=Options.thresholds)
    args = parser.parse_args(argv)
    if args.pairs is None:
        args.pairs = Options().ab_pairs
    if args.cycles is None:
        args.cycles = args.pairs + 6
    if not 2 <= args.pairs <= args.cycles:
        parser.error(f"--pairs must be between 2 and --cycles ({args.cycles})")
    try:
        return run_selftest(
            Options(reports=args.reports, thresholds=args.thresholds),
            cycles=args.cycles,
            pairs=args.pairs,
            comparisons=args.comparisons,
        )
    except FrameworkError as exc:
        print(f"dynapi-selftest: error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
