"""``nox -s bench``: every KPI pass, the checker and the reports, with progress per pass.

Passes, each in processes of its own so that no tool distorts another's figures:

1. timing      pytest-benchmark over ``benchmarks/`` in several fresh processes: config,
               data generation, validation, and one run of the dynamic suite per process
               under the recorder (time per test, suite wall time, peak RSS)
2. memory      ``benchmarks/test_memory_per_test.py``: the suite under memray, every test's
   + profiles  peak; beside it pyinstrument per KPI; then memray flamegraphs of the heaviest
3. check       results -> checker (thresholds, baseline) -> table, summary.json, index.html

Exit code: the checker's (0 all hold, 1 a KPI crossed), 2 when a pass cannot run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from framework.config import load_config
from framework.errors import ExitCode, FrameworkError
from framework.perf.checker import compare, compare_ab, render_table, summary
from framework.perf.harness import MEMRAY_DIR_ENV
from framework.perf.lockstep import Finished, Launch, balanced_orders, run_in_lockstep
from framework.perf.report import write_report
from framework.perf.results import (
    RunResults,
    atomic_write_json,
    load_results,
    machine_id,
    make_entry,
    pool_entries,
)
from framework.perf.thresholds import DEFAULT_THRESHOLDS, load_thresholds
from framework.perf.worktree import prepare_base, prepare_head

__all__ = ["BenchError", "Options", "main", "run"]

_VERSION_ID = re.compile(r"[\[-](v[^\]\-]+)\]")


class BenchError(FrameworkError):
    """A pass could not run; the message says which and what to do."""


@dataclass(frozen=True)
class Options:
    """What one ``nox -s bench`` run does."""

    quick: bool = False
    against: str | None = None
    save_baseline: bool = False
    profile_only: bool = False
    gate_baseline: bool = True
    reports: Path = Path("reports")
    baselines: Path = Path("baselines")
    thresholds: Path = DEFAULT_THRESHOLDS
    suite: Path = Path("tests/integration")
    benchmarks: Path = Path("benchmarks")
    config: Path = Path("tests/config/version_config.yaml")

    @property
    def raw(self) -> Path:
        """Where passes leave their raw output."""
        return self.reports / "raw"

    @property
    def timing_processes(self) -> int:
        """How many fresh processes run pytest-benchmark. Against a baseline of 5 processes,
        3 can never be significant at p < 0.01 on process medians (at best 1/56): a quick
        run checks thresholds and memory, and reports timing changes without gating them."""
        return 3 if self.quick else 5

    @property
    def ab_pairs(self) -> int:
        """Base/head process pairs of ``--against``, with or without ``--quick``. The sign
        test must reach p < 0.01 with a wild pair among them: 12 pairs allow one wrong sign
        (p = 0.003); 10 allowed none (p = 0.011), which the self-test measured to hide +25%.
        (The suite runs twice a process, so its KPIs get 24 pairs.)"""
        return 12


def spawn(cmd: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Finished:
    """Run ``cmd`` with its output in ``log``; take its own wall time and peak RSS (wait4)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Finished(proc.returncode, wall, usage.ru_maxrss * 1024)  # ru_maxrss is in KiB on Linux


def pytest_cmd(*args: str, python: str = sys.executable) -> list[str]:
    """``python -m pytest`` without the cache (runs stay independent) and without
    pytest-memray, which only the suite's own memory run needs."""
    return [python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:memray", *args]


def version_of(test_id: str) -> str | None:
    """The API version in a test id: ``test_x[v2]`` or ``test_x[bad-enum-v2]``."""
    found = _VERSION_ID.findall(test_id)
    return found[-1] if found else None


@dataclass
class _Execution:
    """What the suite runs recorded, gathered across processes (several runs a process,
    each kept apart: in ``--against`` the k-th run of base pairs with the k-th of head).

    One row for every passed test of every version: a row per version would triple the
    chances of a false alarm (the self-test measured 1.7% A/A with three rows); the
    per-version medians and the slowest tests stay in the row's extra_info.
    """

    durations: list[float] = field(default_factory=list)
    process_medians: list[float] = field(default_factory=list)
    per_test: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    walls: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)

    def add(self, recorded: dict[str, Any], wall: float, rss: float | None) -> None:
        self.walls.append(wall)
        if rss is not None:  # None where the OS does not tell (no /proc): no figure, not a zero
            self.rss.append(rss)
        this_run = []
        for record in recorded["tests"]:
            if record["outcome"] == "passed" and version_of(record["nodeid"]) is not None:
                this_run.append(record["duration_s"])
                self.per_test[record["nodeid"]].append(record["duration_s"])
        if this_run:
            self.durations.extend(this_run)
            self.process_medians.append(statistics.median(this_run))

    def entries(self, versions: Sequence[str]) -> list[dict[str, Any]]:
        medians = {k: statistics.median(v) for k, v in self.per_test.items()}
        by_version = {
            v: statistics.median([m for k, m in medians.items() if version_of(k) == v])
            for v in versions
            if any(version_of(k) == v for k in medians)
        }
        slowest = sorted(((m, k) for k, m in medians.items()), reverse=True)[:5]
        rss = (
            [make_entry("suite_peak_rss", "suite_peak_rss", self.rss, measure="memory", process_medians=self.rss)]
            if self.rss
            else []
        )
        return [
            # Every run is a pair of its own: the k-th run of base beside the k-th of head.
            make_entry("test_suite", "suite_wall_time", self.walls, process_medians=self.walls, runs=len(self.walls)),
            make_entry(
                "test_execution",
                "test_execution",
                self.durations,
                process_medians=self.process_medians,
                tests=len(medians),
                median_by_version_s=by_version,
                slowest=[{"test": k, "median_s": m} for m, k in slowest],
            ),
            *rss,
        ]


@dataclass(frozen=True)
class Side:
    """One side of a run: its name, the Python that runs it and the checkout whose
    ``benchmarks/`` it runs (``head`` is this working tree; ``base`` a worktree of a ref)."""

    name: str
    python: str
    root: Path
    env: tuple[tuple[str, str], ...] = ()  # extra environment (the self-test's injections)

    @property
    def benchmarks(self) -> Path:
        return self.root / "benchmarks"

    def environ(self) -> dict[str, str] | None:
        """The environment of this side's processes (None: inherit this one's)."""
        return {**os.environ, **dict(self.env)} if self.env else None


HEAD = Side("head", sys.executable, Path("."))


@dataclass
class SideResults:
    """What the passes measured for one side."""

    timing: dict[str, Any] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    heaviest: list[tuple[int, str, Path]] = field(default_factory=list)


class Runner:
    """Runs the passes for one set of :class:`Options`, on one side or on base and head."""

    def __init__(self, options: Options, sides: Sequence[Side] = (HEAD,), processes: int | None = None) -> None:
        self.o = options
        self.sides = list(sides)
        self._processes = processes
        self.versions = load_config(options.config).get_supported_versions()
        self.got = {side.name: SideResults() for side in self.sides}

    @property
    def processes(self) -> int:
        """Timing processes per side: :attr:`Options.ab_pairs` with several sides."""
        if self._processes is not None:
            return self._processes
        return self.o.ab_pairs if len(self.sides) > 1 else self.o.timing_processes

    def step(self, i: int, n: int, name: str, what: str) -> float:
        print(f"[{i}/{n}] {name}: {what} ...", flush=True)
        return time.perf_counter()

    def done(self, start: float, detail: str) -> None:
        print(f"      done in {time.perf_counter() - start:.1f} s: {detail}", flush=True)

    def _raw(self, side: Side, name: str) -> Path:
        return (self.o.raw / (name if side.name == "head" else f"{side.name}-{name}")).resolve()

    def side_rows(self, side: Side) -> RunResults:
        """One side's results, written beside the run's and read back like any results file."""
        return load_results(self.results(side))

    # -- pass 1: timing ---------------------------------------------------------------------
    def timed(self) -> None:
        """Every timing benchmark (``benchmarks/`` but the memory pass) in several fresh
        processes per side, pooled, so that one unlucky process (timings between processes
        are bimodal here) cannot decide a KPI. With several sides, each cycle runs one
        process per side in lockstep, test by test (:mod:`framework.perf.lockstep`), in
        balanced orders (base head, head base, ...), so that a slow spell of the machine
        hits all sides alike and no side owns a place in the round. Each process also
        runs the dynamic suite once, whose recorder output becomes the per-test rows."""
        runs: dict[str, list[dict[str, Any]]] = {side.name: [] for side in self.sides}
        orders = balanced_orders(len(self.sides))
        for k in range(self.processes):
            order = [self.sides[i] for i in orders[k % len(orders)]]
            launches = [self.timing_launch(k, side) for side in order]
            for side, finished in zip(order, run_in_lockstep(launches), strict=True):
                runs[side.name].append(self.timing_data(k, side, finished))
        for side in self.sides:
            acc = _Execution()
            benchmarks = []
            for run in runs[side.name]:
                kept = []
                for entry in run["benchmarks"]:
                    recorded = entry.get("extra_info", {}).pop("recorded", None)
                    if recorded is None:
                        kept.append(entry)
                    else:  # a run of the suite: its rows come from _Execution
                        acc.add(recorded, entry["stats"]["data"][0], recorded.get("peak_rss_bytes"))
                benchmarks.append(kept)
            if not acc.walls:
                raise BenchError(f"{side.name}: no run of the dynamic suite among the timing results")
            got = self.got[side.name]
            got.entries.extend(acc.entries(self.versions))
            got.timing = dict(runs[side.name][0])
            got.timing["benchmarks"] = pool_entries(benchmarks)

    def timing_launch(self, k: int, side: Side = HEAD) -> Launch:
        """The k-th pytest-benchmark process over a side's ``benchmarks/``, memory pass left out."""
        # --quick lowers the rounds of a run on its own only: beside a base, 10 ms a benchmark
        # let short bursts decide whole turns (the self-test measured 23% false alarms).
        quick = self.o.quick and len(self.sides) == 1
        max_time, min_rounds = ("0.01", "5") if quick else ("0.05", "10")
        out = self._raw(side, f"timing-{k}.json")
        cmd = pytest_cmd(
            str(side.benchmarks),
            "-q",
            "-m",
            "not memory",
            "--benchmark-only",
            "--benchmark-save-data",
            f"--benchmark-json={out}",
            f"--benchmark-max-time={max_time}",
            f"--benchmark-min-rounds={min_rounds}",
            # >= 200 us a round: fewer, steadier rounds for microsecond functions, and a
            # baseline of a few hundred kB rather than megabytes of samples.
            "--benchmark-min-time=0.0002",
            # A temporary directory of its own: pytest's clean-up of its shared numbered
            # directories races between processes that run side by side.
            f"--basetemp={self._raw(side, f'tmp-{k}')}",
            python=side.python,
        )
        return Launch(cmd, self._raw(side, f"timing-{k}.log"), env=side.environ(), cwd=side.root)

    def timing_data(self, k: int, side: Side, finished: Finished) -> dict[str, Any]:
        """What the k-th timing process of a side wrote, once it has finished."""
        if finished.returncode != 0:
            log = self._raw(side, f"timing-{k}.log")
            raise BenchError(f"{side.name}: timing pass failed (exit {finished.returncode}); see {log}")
        data: dict[str, Any] = json.loads(self._raw(side, f"timing-{k}.json").read_text(encoding="utf-8"))
        return data

    # -- pass 2: memory, and profiles beside it ---------------------------------------------
    def memory(self, side: Side = HEAD) -> None:
        """A side's ``benchmarks/test_memory_per_test.py`` alone: the suite under memray."""
        bins = self._raw(side, "memray")
        out = self._raw(side, "memory.json")
        log = self._raw(side, "memory.log")
        env = {**(side.environ() or os.environ), MEMRAY_DIR_ENV: str(bins)}
        cmd = pytest_cmd(
            str(side.benchmarks),
            "-q",
            "-m",
            "memory",
            "--benchmark-only",
            f"--benchmark-json={out}",
            f"--basetemp={self._raw(side, 'tmp-memory')}",
            python=side.python,
        )
        finished = spawn(cmd, log, env=env, cwd=side.root)
        if finished.returncode != 0:
            raise BenchError(f"{side.name}: memory pass failed (exit {finished.returncode}); see {log}")
        found = [
            e["extra_info"]["memray"]
            for e in json.loads(out.read_text(encoding="utf-8"))["benchmarks"]
            if "memray" in e.get("extra_info", {})
        ]
        if not found:
            raise BenchError(f"{side.name}: memory pass measured nothing; see {log}")
        peaks: dict[str, dict[str, int]] = defaultdict(dict)
        heaviest: list[tuple[int, str, Path]] = []
        for test, peak in found[0]["peaks"].items():
            version = version_of(test)
            if version is None:
                continue
            peaks[version][test] = int(peak)
            heaviest.append((int(peak), test, bins / f"run-{test}.bin"))
        heaviest.sort(reverse=True)
        got = self.got[side.name]
        got.heaviest = heaviest[:3]
        keep = {path for _, _, path in got.heaviest}
        for path in bins.glob("run-*.bin"):
            if path not in keep:
                path.unlink()  # several MB each: keep only what the flamegraphs need
        for version in self.versions:
            if peaks[version]:
                top = [{"test": t, "peak_bytes": p} for p, t, _ in heaviest if version_of(t) == version][:5]
                got.entries.append(
                    make_entry(
                        f"memory_per_test[{version}]",
                        "memory_per_test",
                        list(peaks[version].values()),
                        measure="memory",
                        version=version,
                        tests=len(peaks[version]),
                        heaviest=top,
                        peaks=peaks[version],  # by test id: an A/B comparison pairs tests
                    )
                )

    def profiles(self) -> list[str]:
        """pyinstrument profiles of each KPI's code path (runs beside the memory pass:
        neither measures time, and memray counts allocations, not seconds)."""
        out = self.o.reports / "profiles"
        out.mkdir(parents=True, exist_ok=True)
        suite = ["-m", "pytest", "-p", "no:cacheprovider", "-q", str(self.o.suite)]
        runs = {
            "kpis": [sys.executable, "-m", "framework.perf.profiles", str(out)],
            "test_execution": [
                sys.executable,
                "-m",
                "pyinstrument",
                "--renderer=html",
                f"--outfile={out / 'test_execution.html'}",
                *suite,
            ],
        }
        for name, cmd in runs.items():
            if spawn(cmd, self.o.raw / f"profile-{name}.log").returncode != 0:
                raise BenchError(f"profiling {name} failed; see {self.o.raw / f'profile-{name}.log'}")
        return ["config_load", "data_generation", "response_validation", "test_execution"]

    def flamegraphs(self) -> list[str]:
        """memray flamegraphs of the heaviest tests of this working tree's memory pass."""
        out = self.o.reports / "profiles"
        for old in out.glob("memray-*.html"):
            old.unlink()
        written = []
        for i, (_, test, path) in enumerate(self.got["head"].heaviest, 1):
            target = out / f"memray-{i}.html"
            cmd = [sys.executable, "-m", "memray", "flamegraph", "--force", "-o", str(target), str(path)]
            if spawn(cmd, self.o.raw / f"flamegraph-{i}.log").returncode != 0:
                raise BenchError(f"memray flamegraph of {test} failed; see {self.o.raw / f'flamegraph-{i}.log'}")
            written.append(f"memray-{i}.html ({test})")
        return written

    def memory_and_profiles(self) -> list[str]:
        """The memory passes and the profiles side by side on the two cores (memray counts
        allocations, which CPU contention does not change); then the flamegraphs."""
        with ThreadPoolExecutor(max_workers=len(self.sides) + 1) as pool:
            memory = [pool.submit(self.memory, side) for side in self.sides]
            profiles = pool.submit(self.profiles)
            for done in memory:
                done.result()
            written = profiles.result()
        return written + self.flamegraphs()

    # -- results and baselines --------------------------------------------------------------
    def results(self, side: Side = HEAD) -> Path:
        got = self.got[side.name]
        data = dict(got.timing)
        data["benchmarks"] = [*got.timing.get("benchmarks", []), *got.entries]
        data.setdefault("machine_info", {})["dynapi_machine_id"] = machine_id()
        data["dynapi"] = {"quick": self.o.quick, "timing_processes": self.processes, "side": side.name}
        path = self.o.reports / ("results.json" if side.name == "head" else f"{side.name}-results.json")
        atomic_write_json(path, data)
        return path

    def baseline_path(self) -> Path | None:
        """The newest baseline of this machine; else the newest of any machine (flagged)."""
        mine = sorted((self.o.baselines / machine_id()).glob("*.json"))
        if mine:
            return mine[-1]
        every = sorted(self.o.baselines.glob("*/*.json"), key=lambda p: p.name)
        return every[-1] if every else None

    def save_baseline(self, results: Path, now: dt.datetime | None = None) -> Path:
        """Copy ``results`` to ``baselines/<machine-id>/<UTC time>-<commit>.json``, atomically."""
        run = load_results(results)
        stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
        target = self.o.baselines / machine_id() / f"{stamp}-{run.commit}.json"
        if target.exists():
            raise BenchError(f"{target} exists; baselines are never overwritten, wait a second and save again")
        atomic_write_json(target, json.loads(results.read_text(encoding="utf-8")))
        return target


def run(options: Options) -> int:
    """Run every pass and the checker; return the exit code."""
    sides = [HEAD]
    base_tree = None
    if options.against:
        print(f"preparing base {options.against}: a git worktree and its own environment ...", flush=True)
        base_tree = prepare_base(options.against)
        head_python = prepare_head()
        print(
            f"      base {base_tree.sha[:12]} at {base_tree.path}; both sides in environments built alike", flush=True
        )
        sides = [Side("base", str(base_tree.python), base_tree.path), Side("head", str(head_python), HEAD.root)]
    runner = Runner(options, sides)
    options.raw.mkdir(parents=True, exist_ok=True)
    if options.profile_only:
        start = runner.step(1, 1, "profiles", "pyinstrument per KPI; memray flamegraphs of the heaviest tests")
        written = runner.memory_and_profiles()
        runner.done(start, ", ".join(written))
        return ExitCode.OK
    total = 3
    if base_tree is not None:
        what = f"benchmarks/ of base and head in turn, {runner.processes} fresh processes each (each runs the suite)"
    else:
        what = f"benchmarks/ in {runner.processes} fresh processes, each also running the suite once"
    start = runner.step(1, total, "timing", what)
    runner.timed()
    runner.done(
        start, f"{len(runner.got['head'].timing.get('benchmarks', []))} benchmarks, per-test durations recorded"
    )
    start = runner.step(2, total, "memory + profiles", "the suite under memray; pyinstrument per KPI beside it")
    written = runner.memory_and_profiles()
    runner.done(start, "per-test peaks read; profiles: " + ", ".join(written))
    start = runner.step(3, total, "check", "thresholds and " + ("base" if base_tree else "baseline"))
    results = runner.results(HEAD)
    thresholds = load_thresholds(options.thresholds)
    run_results = load_results(results)
    if base_tree is not None:
        base_results = load_results(runner.results(sides[0]))
        comparison = compare_ab(run_results, base_results, thresholds, ref=f"{options.against} ({base_tree.sha[:12]})")
    else:
        base_path = runner.baseline_path()
        baseline = load_results(base_path) if base_path else None
        comparison = compare(run_results, baseline, thresholds, gate_baseline=options.gate_baseline)
    atomic_write_json(options.reports / "summary.json", summary(comparison, run_results))
    report = write_report(options.reports, comparison, run_results, thresholds, options.baselines)
    runner.done(start, f"{results}, {options.reports / 'summary.json'}, {report}")
    if options.save_baseline:
        saved = runner.save_baseline(results)
        print(f"baseline saved: {saved}")
    print(render_table(comparison), flush=True)
    return comparison.exit_code


def main(argv: list[str] | None = None) -> int:
    """``dynapi-bench [--quick] [--against REF] [--save-baseline] [--profile-only] [--no-baseline-gate]``."""
    parser = argparse.ArgumentParser(prog="dynapi-bench", description="Benchmark every KPI and check it.")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and runs: coarser, faster")
    parser.add_argument(
        "--against", metavar="REF", help="compare with REF (HEAD~1, origin/main, a tag) measured in the same run"
    )
    parser.add_argument("--save-baseline", action="store_true", help="store this run as a new baseline")
    parser.add_argument("--profile-only", action="store_true", help="only write the profiles")
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="measure the gate itself: false alarms and detection of injected changes",
    )
    parser.add_argument("--cycles", type=int, default=14, help="self-test: processes per condition")
    parser.add_argument(
        "--no-baseline-gate", action="store_true", help="report baseline changes, fail only on thresholds"
    )
    parser.add_argument("--reports", type=Path, default=Options.reports)
    parser.add_argument("--baselines", type=Path, default=Options.baselines)
    parser.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS)
    args = parser.parse_args(argv)
    options = Options(
        quick=args.quick,
        against=args.against,
        save_baseline=args.save_baseline,
        profile_only=args.profile_only,
        gate_baseline=not args.no_baseline_gate,
        reports=args.reports,
        baselines=args.baselines,
        thresholds=args.thresholds,
    )
    try:
        return run(options)
    except FrameworkError as exc:
        print(f"dynapi-bench: error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
