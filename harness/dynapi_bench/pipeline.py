"""``dynapi-bench run``: plan -> measure -> collect -> judge -> write, once, at the end.

1. plan      the sides (this working tree; with ``--against`` a base worktree too) and
             their processes (:mod:`dynapi_bench.plan`)
2. timing    every side's benchmarks in fresh processes taken in turn (lockstep)
3. memory    the suite under memray per side, the profiles and the instruction counts beside it
             (none of them measures time)
4. write     results.json (and base-results.json), kept even if the judge refuses them
5. judge     the typed rows in memory -> one judge against a baseline or the base commit
             -> summary.json, summary.md, index.html, and the dashboards' exports
                (github-action-benchmark.json, bencher.json: :mod:`dynapi_bench.export`)
6. publish   all of it at once (:mod:`dynapi_bench.staging`): everything above is written
             into a staging folder; interrupted or failed, ``reports/`` stays as it was

Exit code: 0 every KPI holds, 1 a KPI crossed, 2 unusable input or a pass that could not run.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from dynapi_bench.baselines import newest_baseline, save_baseline
from dynapi_bench.collect import side_results
from dynapi_bench.counts import unavailable
from dynapi_bench.environment import describe, of_python
from dynapi_bench.errors import BenchError, ExitCode
from dynapi_bench.export import write_exports
from dynapi_bench.gating import wall_time_gates
from dynapi_bench.history import history_frame, write_history
from dynapi_bench.interrupts import committing
from dynapi_bench.judge import judge
from dynapi_bench.measure import (
    MemoryOutput,
    ProcessOutput,
    count_benchmarks,
    count_startup,
    count_suite,
    measure_memory,
    measure_timing,
)
from dynapi_bench.plan import Plan, Side
from dynapi_bench.profiles import Profile, flamegraphs, profile_kpis
from dynapi_bench.project import Project
from dynapi_bench.reference import BaseCommit, Baseline, Reference
from dynapi_bench.render import render_markdown, render_table, summary
from dynapi_bench.report import history, write_report
from dynapi_bench.results import Results, Row, atomic_write_json, load_results, machine_id
from dynapi_bench.shards import Shard, judge_shard, select
from dynapi_bench.staging import Stage, staged
from dynapi_bench.suite import UserSuite, require_same_suite
from dynapi_bench.thresholds import Thresholds, load_thresholds
from dynapi_bench.worktree import environments, prepare_base
from framework.files import atomic_write_text

__all__ = ["RunOptions", "profile", "run", "without_counts"]


@dataclass(frozen=True)
class RunOptions:
    """What one ``dynapi-bench run`` does; paths default to the project's."""

    quick: bool = False
    against: str | None = None
    save_baseline: bool = False
    gated: bool = True
    reports: Path | None = None
    baselines: Path | None = None
    thresholds: Path | None = None
    suite: UserSuite | None = None  # --suite: a user's suite, its KPIs only (baselines beside it)
    shard: Shard | None = None  # --shard K/N: this job's part of a matrix (dynapi_bench.shards)


class Progress:
    """``[i/n] what ...`` and ``done in X s: detail`` lines, as a run goes."""

    def __init__(self, total: int) -> None:
        self.total, self.i, self.start = total, 0, 0.0

    def step(self, name: str, what: str) -> None:
        self.i += 1
        self.start = time.perf_counter()
        print(f"[{self.i}/{self.total}] {name}: {what} ...", flush=True)

    def done(self, detail: str) -> None:
        print(f"      done in {time.perf_counter() - self.start:.1f} s: {detail}", flush=True)


def _sides(project: Project, against: str | None) -> tuple[tuple[Side, ...], str | None]:
    if against is None:
        return (Side("head", project.root),), None
    print(f"preparing base {against}: a git worktree and an environment ...", flush=True)
    base = prepare_base(against, project.root, project.cache)
    base_python, head_python = environments(base, project.root, project.cache)
    shared = "one environment, the same dependencies" if base_python == head_python else "environments built alike"
    print(f"      base {base.sha[:12]} at {base.path}; both sides in {shared}", flush=True)
    return (Side("base", base.path, base_python), Side("head", project.root, head_python)), base.sha


@dataclass(frozen=True)
class Untimed:
    """What the passes that measure no time found: memory per side, counts per side, profiles."""

    memory: dict[str, MemoryOutput]
    counts: dict[str, list[Row]]
    profiles: list[Profile]


def _start_counts(pool: ThreadPoolExecutor, plan: Plan) -> dict[str, list[Future[list[Row]]]]:
    """Each side's counting processes, queued on ``pool``: the suite's, the benchmarks', the
    start-up comparison's (a user's suite: the suite's alone)."""
    return {
        side.name: [pool.submit(count_suite, plan, side)]
        + (
            [pool.submit(count_benchmarks, plan, side), pool.submit(count_startup, plan, side)]
            if plan.suite is None
            else []
        )
        for side in plan.sides
    }


@dataclass(frozen=True)
class _Queued:
    """The passes that measure no time, queued on a pool: counts, memory, then profiles."""

    counting: dict[str, list[Future[list[Row]]]]
    memory: dict[str, Future[MemoryOutput]]
    profiles: Future[list[Profile]]


def _queue_untimed(pool: ThreadPoolExecutor, plan: Plan, reports: Path, *, counts: bool) -> _Queued:
    """Each side's counting processes (``counts``) and memory pass, then head's profiles, in
    this order on ``pool`` (memray counts allocations, which contention does not change; the
    profiles show shares of time; callgrind counts instructions, which it does not change either)."""
    return _Queued(
        _start_counts(pool, plan) if counts else {},
        {side.name: pool.submit(measure_memory, plan, side) for side in plan.sides},
        pool.submit(profile_kpis, plan, plan.sides[-1], reports / "profiles"),
    )


def _untimed(plan: Plan, project: Project, reports: Path, queued: _Queued | None = None) -> Untimed:
    """What the ``queued`` passes found (without them, the memory passes and the profiles,
    queued here on both cores), then the flamegraphs of head's memory pass."""
    if queued is None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return _untimed(plan, project, reports, _queue_untimed(pool, plan, reports, counts=False))
    head = plan.sides[-1]
    found = {name: job.result() for name, job in queued.memory.items()}
    rows = {name: [row for job in jobs for row in job.result()] for name, jobs in queued.counting.items()}
    written = queued.profiles.result()
    written += flamegraphs(head, found[head.name], reports / "profiles", plan.raw)
    for side in plan.sides:  # several MB a test; the flamegraphs are made
        shutil.rmtree(plan.folder(side, "memory") / "captures", ignore_errors=True)
    return Untimed(found, rows, written)


def without_counts(results: Results) -> Results:
    """``results`` less its instruction counts (for a run that could not count)."""
    return replace(results, rows=tuple(row for row in results.rows if row.measure != "instructions"))


def _skip_counts(
    sides: tuple[Side, ...], baseline: Baseline | None, suite: UserSuite | None = None
) -> tuple[str | None, Baseline | None]:
    """Why counts cannot be taken (printed once), and the baseline to judge against then:
    without its counts, so that they are not `missing` in the table."""
    skipped = unavailable() or _predates_counts(sides) or (suite.uncounted() if suite is not None else None)
    if skipped is None:
        return None, baseline
    print(skipped, flush=True)
    return skipped, Baseline(without_counts(baseline.results)) if baseline is not None else None


def _predates_counts(sides: tuple[Side, ...]) -> str | None:
    """Counts need ``benchmarks/counting.py`` on every side: a base from before them has none."""
    old = [side.name for side in sides if not (side.benchmarks / "counting.py").is_file()]
    if not old:
        return None
    return f"instruction counts skipped: {', '.join(old)} predates them (no benchmarks/counting.py)"


def _baseline(baselines: Path) -> Baseline | None:
    """The newest baseline of this machine kind, read before anything is measured, so that
    an unusable one costs no run."""
    path = newest_baseline(baselines, machine_id())
    return Baseline(load_results(path)) if path is not None else None


def _measure(
    plan: Plan, project: Project, out: Path, progress: Progress, *, counts: bool, quick: bool
) -> tuple[dict[str, list[ProcessOutput]], Untimed]:
    """Steps 1 and 2 of a run: timing, then memory, profiles and (``counts``) instruction counts."""
    sides = plan.sides
    each = " in turn with base's" if len(sides) > 1 else ""
    # The timing processes run one at a time: the counts take the other core from the start
    # (they gate the CPU-bound KPIs; wall time beside them is reported, or with --quick
    # --against gated only beyond the large-change factor). A full --against's wall-time A/B
    # is a gate as far as the self-test proved it: there the counts wait for it.
    beside = counts and (len(sides) == 1 or quick)
    measured = f"{plan.suite.path} (timed by benchmarks/{plan.files[0]})" if plan.suite is not None else "benchmarks/"
    what = f"{measured} in {plan.processes} fresh processes{each}, each running the suite twice"
    progress.step("timing", what + (" (counts, memory and profiles beside them)" if beside else ""))
    timed = threading.Event()
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        queued = None
        if beside:
            # One worker waits for the timing to end, so that beside it only the other core
            # works: it counts, then runs the memory pass and the profiles; what is left when
            # the timing ends runs on both cores.
            pool.submit(timed.wait)
            queued = _queue_untimed(pool, plan, out, counts=True)
        try:
            timing = measure_timing(plan)
        finally:
            timed.set()
        progress.done(f"{plan.processes * len(sides)} processes")
        if queued is None:  # nothing ran beside the timing: all of it now, on both cores
            queued = _queue_untimed(pool, plan, out, counts=counts)
        progress.step(
            "memory + counts + profiles" if counts else "memory + profiles",
            "the suite under memray; " + ("instructions under callgrind; " if counts else "") + "pyinstrument per KPI",
        )
        untimed = _untimed(plan, project, out, queued)
    finally:
        timed.set()
        pool.shutdown(wait=True, cancel_futures=True)
    progress.done("profiles: " + ", ".join(f"{p.path} ({p.shows})" for p in untimed.profiles))
    return timing, untimed


def _own_suite(options: RunOptions, thresholds: Thresholds, baselines: Path, *, counted: bool) -> None:
    """A user's suite: its KPIs have rules (checked before measuring), and which rules and
    which baselines judge it, said once."""
    assert options.suite is not None
    options.suite.require_rules(thresholds, counted=counted)
    rules = "" if options.thresholds else " (the default: its suite KPIs; --thresholds FILE for your own)"
    print(f"      thresholds {thresholds.path}{rules}; baselines {baselines}", flush=True)


def run(project: Project, options: RunOptions) -> int:
    """Measure every KPI, judge it, write the reports; return the exit code."""
    reports = options.reports or project.reports
    thresholds = load_thresholds(options.thresholds or project.thresholds)  # bad input fails before measuring
    with staged(reports) as stage:
        return _run(project, options, thresholds, stage)


def _run(project: Project, options: RunOptions, thresholds: Thresholds, stage: Stage) -> int:
    """:func:`run`, writing into ``stage`` and publishing it at the end."""
    out = stage.path
    baselines = options.baselines or (options.suite.baselines if options.suite is not None else project.baselines)
    baseline = None if options.against else _baseline(baselines)
    if baseline is not None:
        require_same_suite(options.suite, baseline.results)
    wall_time = wall_time_gates(baselines / machine_id() / "selftest") if options.against else {}
    sides, base_sha = _sides(project, options.against)
    work = select(options.shard, sides, out / "raw") if options.shard is not None else None
    plan = Plan.for_run(sides, out / "raw", quick=options.quick, suite=options.suite, shard=work)
    progress = Progress(3)
    if options.suite is not None:
        print(f"your suite: {options.suite.describe()}", flush=True)
    skipped, baseline = _skip_counts(sides, baseline, options.suite)
    if options.suite is not None:
        _own_suite(options, thresholds, baselines, counted=skipped is None)
    timing, untimed = _measure(plan, project, out, progress, counts=skipped is None, quick=options.quick)
    progress.step(
        "write and judge",
        "results first, then the verdict: thresholds and "
        + ("the base commit" if base_sha else "the newest baseline of this machine kind"),
    )
    results = {
        side.name: side_results(
            side.name,
            timing[side.name],
            untimed.memory[side.name],
            untimed.counts.get(side.name, []),
            environment=describe() if side.python == sys.executable else of_python(side.python),
            quick=plan.quick,
            **({"suite": options.suite.info()} if options.suite is not None else {}),
            **({"shard": work.info(against=options.against, quick=options.quick, gated=options.gated)} if work else {}),
        )
        for side in sides
    }
    written = []
    for name, side in results.items():  # the measurements are kept even if the judge refuses them
        path = out / ("results.json" if name == "head" else f"{name}-results.json")
        side.save(path)
        written.append(path)
    if base_sha is None:
        stage.drop("base-results.json")  # an earlier --against's, not this run's
    reference: Reference | None = (
        BaseCommit(results["base"], options.against, base_sha, wall_time=wall_time, quick=options.quick)
        if base_sha and options.against
        else baseline
    )
    try:
        judgement = (
            judge_shard(work, results["head"], thresholds, reference, gated=options.gated)
            if work is not None
            else judge(results["head"], thresholds, reference, gated=options.gated)
        )
    except BenchError:
        with committing():
            stage.publish()  # the results, without a verdict
        raise
    paths = [p.path for p in untimed.profiles]
    # A shard's levels are of its part of each KPI's cases: its history shows the baselines only.
    frame, notes = history_frame(baselines, results["head"] if work is None else None, thresholds)
    atomic_write_json(out / "summary.json", summary(judgement))
    atomic_write_text(out / "summary.md", render_markdown(judgement, paths))
    written += [out / "summary.json", out / "summary.md", *write_exports(judgement, out)]
    written.append(write_report(out, judgement, history(frame, results["head"].machine), paths, notes=notes))
    written.append(write_history(out, frame, thresholds, notes=notes))
    with committing():  # whole or not at all: the reports, then the baseline
        stage.publish()
        saved = save_baseline(results["head"], baselines) if options.save_baseline else None
    progress.done(", ".join(str(stage.final(p)) for p in written))
    if saved is not None:
        print(f"baseline saved: {saved}")
    print(render_table(judgement), flush=True)
    return int(judgement.exit_code)


def profile(project: Project, reports: Path | None = None) -> int:
    """Only the profiles: pyinstrument per KPI and memray flamegraphs of the heaviest tests
    (published, with their ``raw/``, as a run publishes)."""
    with staged(reports or project.reports) as stage:
        plan = Plan.for_run((Side("head", project.root),), stage.path / "raw")
        progress = Progress(1)
        progress.step("profiles", "the suite under memray; pyinstrument per KPI beside it")
        untimed = _untimed(plan, project, stage.path)
        with committing():
            stage.publish()
    progress.done(", ".join(f"{p.path} ({p.shows})" for p in untimed.profiles))
    return int(ExitCode.OK)
