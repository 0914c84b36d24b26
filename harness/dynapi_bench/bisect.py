"""``dynapi-bench bisect GOOD BAD --kpi KPI``: the first commit between two where a KPI moved.

The commits are the first-parent line from GOOD (exclusive) to BAD (inclusive), oldest
first. :func:`first_bad` binary-searches them: a pure function of that list and a callback
that calls a commit good, bad or one to skip (as ``git bisect skip``), taking at most
ceil(log2(n)) probes when none is skipped; BAD is known bad and never probed. Each commit is
measured in a git worktree of its own under ``.bench/`` with the environment ``--against``
would give it (:mod:`dynapi_bench.worktree`), never in the user's checkout, and judged
against GOOD by the run's judge, as ``--against GOOD`` judges a head:

- a KPI with instruction counts (the ``*_instructions`` KPIs, and the CPU-bound KPIs they
  count): its benchmark file, or for test_execution the suite's fixed slice, counted once per
  commit under callgrind (a count repeats: one pass is enough); GOOD and BAD side by side;
- memory_per_test: the memory pass once per commit, each test's peak paired with GOOD's;
- any other KPI (wall time): its benchmark file in :data:`~dynapi_bench.plan.AB_PAIRS`
  lockstep pairs of processes with GOOD for every commit probed, the paired ratio and the
  sign test.

The rule: the judge must call BAD against GOOD a ``regression`` (or ``improved``: a KPI that
got better), else there is nothing to look for; a commit is bad when the judge calls it the
same against GOOD: beyond the KPI's ``ab_allowed_change`` on any case or on their geometric
mean (a count exactly; time and memory significant too), or beyond the large-change factor.
So the commit found is the first that ``--against GOOD`` would have failed: of two steps
towards BAD, the first to cross the gate, not the one that brought the KPI closest to BAD.
"""

from __future__ import annotations

import enum
import math
import os
import shutil
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, Literal, TypeVar

from dynapi_bench import children
from dynapi_bench.collect import memory_rows, side_results
from dynapi_bench.counts import unavailable
from dynapi_bench.errors import BenchError, ExitCode
from dynapi_bench.judge import Verdict, judge
from dynapi_bench.measure import (
    MemoryOutput,
    count_benchmarks,
    count_startup,
    count_suite,
    measure_memory,
    measure_timing,
)
from dynapi_bench.plan import AB_PAIRS, Plan, Side
from dynapi_bench.project import Project
from dynapi_bench.reference import BaseCommit
from dynapi_bench.results import Results, Row, machine_id
from dynapi_bench.staging import staged
from dynapi_bench.thresholds import Thresholds, load_thresholds
from dynapi_bench.worktree import BaseTree, discard, environment, prepare_base

__all__ = [
    "BENCHMARK_FILES",
    "COUNTED",
    "Commit",
    "Mark",
    "Method",
    "Reading",
    "Search",
    "bisect",
    "compare",
    "first_bad",
    "max_steps",
    "method_for",
]

T = TypeVar("T")


class Mark(enum.StrEnum):
    """What a probe made of a commit."""

    GOOD = "good"
    BAD = "bad"
    SKIP = "skip"  # not measurable there (no harness/, no benchmark): as `git bisect skip`


@dataclass(frozen=True)
class Search(Generic[T]):
    """Where a search ended: the first bad commit (None when skipped commits hide it), the
    commits it is one of (itself alone when found), and the probes in order."""

    first: T | None
    candidates: tuple[T, ...]
    probes: tuple[tuple[T, Mark], ...]


def max_steps(n: int) -> int:
    """The probes :func:`first_bad` takes at most over ``n`` commits, none skipped: ceil(log2(n))."""
    return max(n - 1, 0).bit_length()


def first_bad(commits: Sequence[T], classify: Callable[[T], Mark]) -> Search[T]:
    """The first bad commit of ``commits`` (oldest first; the last one, BAD, is known bad and
    the one before the first, GOOD, known good), probing each commit at most once. A skipped
    commit is replaced by its nearest unskipped neighbour in the range still open."""
    if not commits:
        raise ValueError("first_bad needs at least one commit: BAD")
    lo, hi = 0, len(commits) - 1  # the first bad one is in commits[lo..hi]; commits[hi] is bad
    skipped: set[int] = set()
    probes: list[tuple[T, Mark]] = []
    while lo < hi:
        mid = _pick(lo, hi, skipped)
        if mid is None:  # every commit left before hi was skipped
            return Search(None, tuple(commits[lo : hi + 1]), tuple(probes))
        mark = classify(commits[mid])
        probes.append((commits[mid], mark))
        if mark is Mark.BAD:
            hi = mid
        elif mark is Mark.GOOD:
            lo = mid + 1
        else:
            skipped.add(mid)
    return Search(commits[lo], (commits[lo],), tuple(probes))


def _pick(lo: int, hi: int, skipped: set[int]) -> int | None:
    """The index of ``[lo, hi)`` nearest the middle that was not skipped (the lower on a tie)."""
    mid = (lo + hi) // 2
    order = sorted(range(lo, hi), key=lambda i: (abs(i - mid), i))
    return next((i for i in order if i not in skipped), None)


# Where each KPI is measured, under benchmarks/ (each file tags its benchmarks with their KPIs).
BENCHMARK_FILES: Mapping[str, str] = {
    "config_load": "test_config_load.py",
    "config_load_cached": "test_config_load.py",
    "data_generation": "test_data_generation.py",
    "response_validation": "test_response_validation.py",
    "test_execution": "test_test_execution.py",
    "suite_wall_time": "test_test_execution.py",
    "suite_peak_rss": "test_test_execution.py",
    "memory_per_test": "test_memory_per_test.py",
    "session_startup": "test_contenders.py",
    "session_startup_wall": "test_contenders.py",
    "session_startup_faults_ratio": "test_contenders.py",
    "per_test_ratio": "test_contenders.py",
    "failure_path_ratio": "test_contenders.py",
    "valid_path_ratio": "test_contenders.py",
    "factory_ratio": "test_contenders.py",
}
# The KPIs with instruction counts (``KPI_instructions``): bisected by their counts.
COUNTED = frozenset(
    {"config_load", "config_load_cached", "data_generation", "response_validation", "session_startup", "test_execution"}
)
_STARTUP = "session_startup"  # its two pytest processes counted whole (measure.count_startup)
_SUITE = "test_execution"  # counted as the suite's fixed slice, test by test (benchmarks/counting.py)

How = Literal["counts", "memory", "timing"]


@dataclass(frozen=True)
class Method:
    """How bisect measures a KPI: the KPI whose rows are judged, by what, and what a commit
    must hold for it (paths in the commit)."""

    kpi: str
    how: How
    file: str  # the benchmark file, under benchmarks/
    needs: tuple[str, ...]

    def describe(self) -> str:
        """The method in one line, for the output."""
        if self.how == "counts" and self.kpi == f"{_SUITE}_instructions":
            return "instruction counts: the suite's fixed slice counted test by test, once a commit, under callgrind"
        if self.how == "counts" and self.kpi == f"{_STARTUP}_instructions":
            return (
                "instruction counts: the start-up comparison's two pytest processes, each whole under cachegrind, "
                "once a commit"
            )
        if self.how == "counts":
            return f"instruction counts: benchmarks/{self.file} counted once a commit under callgrind"
        if self.how == "memory":
            return "memory: the memory pass (memray) once a commit, each test's peak paired with GOOD's"
        return (
            f"wall time: benchmarks/{self.file} in {AB_PAIRS} lockstep pairs of processes with GOOD for each commit, "
            "the median paired ratio and a sign test (as --against)"
        )


def method_for(kpi: str, thresholds: Thresholds) -> Method:
    """The method of ``--kpi KPI``: counts where the KPI has them; :class:`BenchError` naming
    the known KPIs for one bisect cannot measure."""
    base = kpi.removesuffix("_instructions")
    counted = base in COUNTED  # data_generation or data_generation_instructions: its counts
    name = f"{base}_instructions" if counted else kpi
    if name not in thresholds.kpis or (not counted and kpi not in BENCHMARK_FILES):
        known = [k for k in BENCHMARK_FILES if k in thresholds.kpis]
        known += [
            f"{k}_instructions" for k in BENCHMARK_FILES if k in COUNTED and f"{k}_instructions" in thresholds.kpis
        ]
        raise BenchError(f"--kpi {kpi!r}: not a KPI bisect can measure; name one of {', '.join(known)}")
    file = BENCHMARK_FILES[base]
    needs = ("harness/pyproject.toml", "benchmarks/conftest.py", f"benchmarks/{file}")
    if counted:
        # A commit from before counts has no benchmarks/counting.py (nor a conftest that counts).
        suite = ("benchmarks/counting.py", "tests/integration") if base == _SUITE else ("benchmarks/counting.py",)
        return Method(name, "counts", file, (*needs, *suite))
    return Method(name, "memory" if name == "memory_per_test" else "timing", file, needs)


@dataclass(frozen=True)
class Commit:
    """A commit of the line: its id and subject."""

    sha: str
    subject: str

    @property
    def short(self) -> str:
        return self.sha[:12]

    def line(self, width: int = 44) -> str:
        subject = self.subject if len(self.subject) <= width else self.subject[: width - 3] + "..."
        return f"{self.short}  {subject:{width}}"


@dataclass(frozen=True)
class Reading:
    """One commit against GOOD for the KPI, from the judge: its value and GOOD's in the KPI's
    unit (the geometric mean of its cases where it has several) and their ratio; per verdict
    its rows got, the first reason given and the ratios of the cases that got it."""

    value: float
    reference: float
    ratio: float
    unit: str
    cases: int
    reasons: Mapping[Verdict, str]
    ratios: Mapping[Verdict, tuple[float, ...]]

    @property
    def change(self) -> str:
        return f"{self.ratio - 1:+.1%}" if math.isfinite(self.ratio) else "-"

    def figures(self) -> str:
        return f"{self.value:10.4g} {self.unit}  {self.change:>8}"

    def note(self, verdict: Verdict, *, exact: bool) -> str:
        """Why the rows got ``verdict``: for counts, how many cases and the largest move (a
        count's reason is its ratio); otherwise the judge's first reason (with its p-value)."""
        if not exact:
            return self.reasons.get(verdict, "")
        moved = self.ratios.get(verdict, ())
        if not moved:
            return "their geometric mean" if verdict in self.reasons else ""
        extreme = max(moved) if verdict is Verdict.REGRESSION else min(moved)
        return f"{len(moved)} of {self.cases} cases, the most x{extreme:.3f}"


def compare(results: Results, good: Results, kpi: str, thresholds: Thresholds, *, interval: bool) -> Reading:
    """``results`` judged against ``good`` as ``--against`` would (every wall-time KPI at its
    ``ab_allowed_change``), for ``kpi`` alone."""
    judged = judge(results, thresholds, BaseCommit(good, "GOOD", good.commit, interval=interval))
    rows = judged.rows[judged.rows["kpi"] == kpi].to_dict("records")
    cases = [r for r in rows if r["samples"] is not None]  # a geometric-mean row has no samples of its own
    # The change is the judge's (its geometric-mean row's, else the case's); the figures are the
    # geometric means of both sides' values over the cases compared, each as measured.
    summary = ([r for r in rows if r["samples"] is None] or cases or rows)[0]
    compared = [r for r in cases if math.isfinite(r["ratio"]) and r["reference"] > 0 and r["value"] > 0]
    reasons: dict[Verdict, str] = {}
    ratios: dict[Verdict, tuple[float, ...]] = {}
    for row in rows:
        verdict = Verdict(row["reference_verdict"])
        reasons.setdefault(verdict, str(row["why"]))
        if row["samples"] is not None:
            ratios[verdict] = (*ratios.get(verdict, ()), float(row["ratio"]))
    return Reading(
        value=_geomean([r["value"] for r in compared]),
        reference=_geomean([r["reference"] for r in compared]),
        ratio=float(summary["ratio"]),
        unit=thresholds.kpis[kpi].unit,
        cases=len(cases),
        reasons=reasons,
        ratios=ratios,
    )


def _geomean(values: Sequence[float]) -> float:
    return statistics.geometric_mean(values) if values else math.nan


def _git(repo: Path, *args: str) -> str | None:
    """git's output, or None when it fails."""
    done = children.run(["git", "-C", str(repo), *args])
    return done.stdout if done.returncode == 0 else None


def _resolve(label: str, ref: str, repo: Path) -> Commit:
    found = _git(repo, "log", "-1", "--format=%H%x00%s", f"{ref}^{{commit}}", "--") if ref else None
    if not found:
        raise BenchError(
            f"{label} {ref!r}: no such commit in {repo}; name a branch, tag or commit (`git log --oneline` lists them)"
        )
    sha, _, subject = found.strip().partition("\0")
    return Commit(sha, subject)


def _line(repo: Path, good: Commit, bad: Commit) -> list[Commit]:
    """The first-parent commits after GOOD up to BAD, oldest first."""
    if _git(repo, "merge-base", "--is-ancestor", good.sha, bad.sha) is None:
        raise BenchError(
            f"GOOD {good.short} is not an ancestor of BAD {bad.short}: name the older commit first "
            "(dynapi-bench bisect GOOD BAD), both on one line of history"
        )
    out = _git(repo, "log", "--first-parent", "--reverse", "--format=%H%x00%s", f"{good.sha}..{bad.sha}", "--") or ""
    commits = [Commit(*line.split("\0", 1)) for line in out.splitlines() if line]
    if not commits:
        raise BenchError(f"GOOD and BAD are the same commit ({good.short}): nothing lies between them")
    return commits


def _lacks(repo: Path, commit: Commit, method: Method) -> str | None:
    """The first path ``method`` needs that ``commit`` does not have."""
    return next((p for p in method.needs if _git(repo, "cat-file", "-e", f"{commit.sha}:{p}") is None), None)


@dataclass
class _Trees:
    """The worktrees of one bisect, under ``.bench/bisect-<pid>/``, each run by the Python
    ``--against`` would give it; all removed when the bisect ends, whatever ends it."""

    project: Project
    folder: Path
    made: list[BaseTree] = field(default_factory=list)
    environments: list[Path] = field(default_factory=list)

    def side(self, name: str, commit: Commit) -> Side:
        tree = prepare_base(commit.sha, self.project.root, self.folder)
        self.made.append(tree)
        before = set(self._envs())
        python = environment(tree, self.project.root, self.project.cache)
        # An environment built here installs this worktree, which goes at the end: it goes too
        # (kept, a later --against of that commit would find it marked and import nothing).
        self.environments += [env for env in self._envs() if env not in before]
        return Side(name, tree.path, python)

    def _envs(self) -> list[Path]:
        folder = self.project.cache / "envs"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def close(self) -> None:
        for tree in self.made:
            discard(self.project.root, tree.path)
        discard(self.project.root, self.folder)  # and anything a failed checkout left in it
        for env in self.environments:
            shutil.rmtree(env, ignore_errors=True)


@contextmanager
def _trees(project: Project) -> Iterator[_Trees]:
    trees = _Trees(project, (project.cache / f"bisect-{os.getpid()}").resolve())
    try:
        yield trees
    finally:
        trees.close()


@dataclass
class _Measure:
    """Each commit measured by ``method`` and judged against GOOD: GOOD measured once (counts,
    memory: they repeat) or beside every commit, in pairs taken in turn (wall time)."""

    method: Method
    thresholds: Thresholds
    trees: _Trees
    raw: Path
    good: Commit
    good_side: Side | None = None  # wall time: GOOD's checkout, run beside every commit
    good_results: Results | None = None  # counts, memory: GOOD's rows, measured once

    def start(self, bad: Commit) -> Reading:
        """GOOD and BAD: counted (or their memory passes) side by side; wall time in pairs."""
        good_side = self.trees.side("good", self.good)
        if self.method.how == "timing":
            self.good_side = good_side
            return self.against_good(bad, "bad")
        bad_side = self.trees.side("bad", bad)
        with ThreadPoolExecutor(max_workers=2) as pool:
            good_job = pool.submit(self._results, good_side, self.good)
            bad_job = pool.submit(self._results, bad_side, bad)
            self.good_results = good_job.result()
            return self._judge(bad_job.result(), self.good_results, interval=False)

    def against_good(self, commit: Commit, name: str | None = None) -> Reading:
        """``commit`` measured and judged against GOOD."""
        side = self.trees.side(name or commit.short, commit)
        if self.good_results is not None:
            return self._judge(self._results(side, commit), self.good_results, interval=False)
        if self.good_side is None:
            raise RuntimeError("against_good before start")
        good, probe = replace(self.good_side, name="good"), replace(side, name="probe")
        timing = measure_timing(Plan((good, probe), AB_PAIRS, self.raw, files=(self.method.file,)))
        found = {s.name: side_results(s.name, timing[s.name], MemoryOutput({})) for s in (good, probe)}
        return self._judge(self._only(found["probe"], commit), self._only(found["good"], self.good), interval=True)

    def _results(self, side: Side, commit: Commit) -> Results:
        """One commit's rows of the KPI: counted once, or its memory pass."""
        plan = Plan((side,), 1, self.raw)
        rows: Sequence[Row]
        if self.method.how == "memory":
            rows = memory_rows(measure_memory(plan, side))
        elif self.method.kpi == f"{_SUITE}_instructions":
            rows = count_suite(plan, side)
        elif self.method.kpi == f"{_STARTUP}_instructions":
            rows = count_startup(plan, side)
        else:
            rows = count_benchmarks(plan, side, (self.method.file,))
        return self._only(Results(tuple(rows), machine_id(), commit.short, ""), commit)

    def _only(self, results: Results, commit: Commit) -> Results:
        """``results`` less every other KPI's rows; a :class:`BenchError` when none is the KPI's."""
        rows = tuple(r for r in results.rows if r.kpi == self.method.kpi)
        if not rows:
            raise BenchError(
                f"{commit.short} ({commit.subject}): benchmarks/{self.method.file} measured no {self.method.kpi}; "
                "bisect from a GOOD that measures it"
            )
        return replace(results, rows=rows, commit=commit.short)

    def _judge(self, results: Results, good: Results, *, interval: bool) -> Reading:
        return compare(results, good, self.method.kpi, self.thresholds, interval=interval)


@dataclass
class _Steps:
    """The search's callback: each commit measured against GOOD, marked bad when the judge
    moved it as it moved BAD, and printed as one line; the readings kept by commit."""

    method: Method
    measure: _Measure
    direction: Verdict
    repo: Path
    readings: dict[str, Reading]
    step: int = 0

    def __call__(self, commit: Commit) -> Mark:
        self.step += 1
        began = time.perf_counter()
        lacking = _lacks(self.repo, commit, self.method)
        if lacking:
            print(f"step {self.step:<3} {commit.line()}  skip: no {lacking} in this commit", flush=True)
            return Mark.SKIP
        try:
            reading = self.readings[commit.sha] = self.measure.against_good(commit)
        except BenchError as exc:  # a commit that does not build or run, as a bisect meets: skipped
            print(f"step {self.step:<3} {commit.line()}  skip: {exc}", flush=True)
            return Mark.SKIP
        mark = self.mark(reading)
        print(f"step {self.step:<3} {commit.line()}  {self.figures(reading, mark, began)}", flush=True)
        return mark

    def mark(self, reading: Reading) -> Mark:
        """Bad when the judge moved ``reading`` as it moved BAD (no move of BAD's: all good)."""
        return Mark.BAD if self.direction is not Verdict.PASS and self.direction in reading.reasons else Mark.GOOD

    def figures(self, reading: Reading, mark: Mark, began: float) -> str:
        why = reading.note(self.direction, exact=self.method.how == "counts") if mark is Mark.BAD else ""
        return f"{reading.figures()}  {mark.value:4}  {_took(began)}" + (f"  ({why})" if why else "")


def _ends(repo: Path, good: str, bad: str, method: Method) -> tuple[Commit, Commit, list[Commit]]:
    """GOOD, BAD and the commits after GOOD up to BAD; :class:`BenchError` when GOOD or BAD
    cannot be measured."""
    first, last = _resolve("GOOD", good, repo), _resolve("BAD", bad, repo)
    commits = _line(repo, first, last)
    for label, commit in (("GOOD", first), ("BAD", last)):
        lacking = _lacks(repo, commit, method)
        if lacking:
            raise BenchError(
                f"{label} {commit.short} ({commit.subject}) has no {lacking}, so {method.kpi} cannot be measured "
                f"there; name a {label} that has it"
            )
    if method.how == "counts" and (why := unavailable()) is not None:
        raise BenchError(f"--kpi {method.kpi}: bisected by its instruction counts, which cannot be taken here ({why})")
    return first, last, commits


def bisect(
    project: Project, good: str, bad: str, kpi: str, *, thresholds: Path | None = None, reports: Path | None = None
) -> int:
    """Find and print the first commit after GOOD, up to BAD, where ``kpi`` moved as it did
    from GOOD to BAD; exit 0 when found, :class:`BenchError` (exit 2) on bad input."""
    rules = load_thresholds(thresholds or project.thresholds)
    method = method_for(kpi, rules)
    first, last, commits = _ends(project.root, good, bad, method)
    print(
        f"bisect {method.kpi}: {len(commits)} commits after GOOD {first.short} up to BAD {last.short} "
        f"(first parents), at most {max_steps(len(commits))} step{'' if max_steps(len(commits)) == 1 else 's'}",
        flush=True,
    )
    print(f"method: {method.describe()}", flush=True)
    with staged(reports or project.reports) as stage, _trees(project) as trees:  # nothing is published
        measure = _Measure(method, rules, trees, stage.path / "raw", first)
        began = time.perf_counter()
        moved = measure.start(last)
        direction = next((v for v in (Verdict.REGRESSION, Verdict.IMPROVED) if v in moved.reasons), Verdict.PASS)
        steps = _Steps(method, measure, direction, project.root, {last.sha: moved})
        print(f"GOOD      {first.line()}  {moved.reference:10.4g} {moved.unit}", flush=True)
        print(f"BAD       {last.line()}  {steps.figures(moved, steps.mark(moved), began)}", flush=True)
        if direction is Verdict.PASS:
            reasons = "; ".join(why for why in moved.reasons.values() if why) or "within the allowed change"
            raise BenchError(
                f"BAD {last.short}: {method.kpi} {moved.change} against GOOD is not a change the judge confirms "
                f"({reasons}); nothing to bisect: name a BAD where it moved"
            )
        exact = "(a count: exact)" if method.how == "counts" else "and significant"
        print(
            f"bad: a commit judged '{direction}' against GOOD, as BAD was: a case or their geometric mean "
            f"beyond {rules.kpis[method.kpi].ab_allowed_change:+.0%} {exact}, or beyond the large-change factor",
            flush=True,
        )
        found = first_bad(commits, steps)
    if found.first is None:
        raise BenchError(
            "the first bad commit is one of "
            + ", ".join(c.short for c in found.candidates)
            + ": the commits before the last could not be measured (skipped above); bisect a range without them"
        )
    reading = steps.readings[found.first.sha]
    print(f"first bad commit: {found.first.short}  {found.first.subject}")
    print(
        f"{method.kpi}: {reading.reference:.4g} -> {reading.value:.4g} {reading.unit} ({reading.change}) "
        f"against GOOD {first.short}, found in {len(found.probes)} step{'' if len(found.probes) == 1 else 's'}"
    )
    return int(ExitCode.OK)


def _took(start: float) -> str:
    return f"[{time.perf_counter() - start:.0f} s]"
