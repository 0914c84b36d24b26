"""``dynapi-bench merge SHARD...``: the N shards of one run (``dynapi-bench run --shard K/N``,
:mod:`dynapi_bench.shards`) joined into one report and one verdict.

Each argument is a shard's reports folder, or its ``results.json`` (its ``base-results.json``
is read from beside it). The shards must be 1/N to N/N of one N, each once, of one commit,
run with the same options (``--against REF``, ``--quick``, ``--no-baseline-gate``) in one
environment; else one line names what is missing or mismatched (exit 2). Their rows join into
one run, each row as the one shard that measured it left it; a per-test row (memory per test)
joins every shard's tests. The reference joins alike, so every row keeps
its own shard's comparison: with ``--against``, that shard's base measured beside it (wall
time judged only within that shard's own pairs, never across runners; counts by their ratio;
memory test by test); against stored baselines, the newest baseline of the machine kind the
shard ran on. The exit code is ``run``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from dynapi_bench.baselines import newest_baseline
from dynapi_bench.collect import memory_rows
from dynapi_bench.counts import TOP_FUNCTIONS
from dynapi_bench.environment import changes
from dynapi_bench.errors import BenchError, ResultsError
from dynapi_bench.export import write_exports
from dynapi_bench.gating import wall_time_gates
from dynapi_bench.history import history_frame, write_history
from dynapi_bench.interrupts import committing
from dynapi_bench.judge import Judgement, judge
from dynapi_bench.measure import MemoryOutput
from dynapi_bench.pipeline import without_counts
from dynapi_bench.reference import BaseCommit, Baseline, Reference
from dynapi_bench.render import render_markdown, render_table, summary
from dynapi_bench.report import history, write_report
from dynapi_bench.results import Results, Row, atomic_write_json, load_results
from dynapi_bench.shards import Shard
from dynapi_bench.staging import staged
from dynapi_bench.thresholds import load_thresholds
from framework.files import atomic_write_text

__all__ = ["ShardResults", "check_shards", "join_results", "merge", "read_shard"]

# How each row's wall time was compared, as the merged report's first note says it.
_WALL_BASE = (
    "against that shard's own base, measured beside it: wall time is judged only within each shard's "
    "own pairs, never across runners"
)
_WALL_BASELINE = (
    "against the newest baseline of the machine kind that shard ran on: wall time is never compared across shards"
)


@dataclass(frozen=True)
class ShardResults:
    """One shard's results as its job wrote them: head's, base's (``--against``), how it ran."""

    shard: Shard
    head: Results
    base: Results | None
    options: Mapping[str, Any]  # against, quick, gated
    where: Path

    @property
    def label(self) -> str:
        return f"shard {self.shard} ({self.where})"

    def describe(self) -> str:
        """Its options as typed."""
        o = self.options
        words = [f"--against {o['against']}" if o.get("against") else "against a baseline"]
        words += ["--quick"] if o.get("quick") else []
        words += ["--no-baseline-gate"] if o.get("gated") is False else []
        return " ".join(words)


def read_shard(path: Path) -> ShardResults:
    """A shard's results from its reports folder or its ``results.json``."""
    file = path / "results.json" if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        raise ResultsError(
            f"{path}: no results.json in this folder; name a shard's reports folder "
            "(`dynapi-bench run --shard K/N --reports DIR`)"
        )
    head = load_results(file)
    info = head.extra.get("shard")
    if not isinstance(info, dict) or not isinstance(info.get("part"), str):
        raise ResultsError(
            f"{file}: not a shard's results (no dynapi.shard); measure each shard with `dynapi-bench run --shard K/N`"
        )
    try:
        shard = Shard.parse(info["part"])
    except BenchError:
        raise ResultsError(f"{file}: dynapi.shard.part {info['part']!r} is not K/N; the file is corrupt") from None
    beside = file.parent / "base-results.json"
    base = load_results(beside) if beside.is_file() else None
    if bool(info.get("against")) != (base is not None):
        what = (
            "ran --against but has no base-results.json beside it" if base is None else "has a stray base-results.json"
        )
        raise ResultsError(f"{file}: shard {shard} {what}; name the shard's whole reports folder")
    options = {key: info.get(key) for key in ("against", "quick", "gated")}
    return ShardResults(shard, head, base, options, path)


def check_shards(shards: Sequence[ShardResults]) -> list[ShardResults]:
    """The shards in order, once each: 1/N to N/N of one N, one commit, one set of options and
    one environment; :class:`BenchError` naming the first thing missing or mismatched."""
    if not shards:
        raise BenchError("merge: no shard named; name every shard's reports folder")
    first = shards[0]
    for other in shards[1:]:
        if other.shard.count != first.shard.count:
            raise BenchError(
                f"shards of different splits: {first.label} and {other.label}; merge the N shards of one matrix"
            )
    seen: dict[int, ShardResults] = {}
    for found in shards:
        if found.shard.index in seen:
            raise BenchError(
                f"shard {found.shard} named twice: {seen[found.shard.index].where} and {found.where}; "
                "name each shard once"
            )
        seen[found.shard.index] = found
    count = first.shard.count
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        given = ", ".join(str(s.shard) for s in sorted(shards, key=lambda s: s.shard))
        raise BenchError(f"shard {', '.join(missing)} missing (named: {given}); name every shard's reports folder")
    ordered = [seen[k] for k in range(1, count + 1)]
    first = ordered[0]
    for other in ordered[1:]:
        if other.head.commit != first.head.commit:
            raise BenchError(
                f"shards of different commits: {first.label} measured {first.head.commit}, {other.label} "
                f"{other.head.commit}; merge the shards of one commit"
            )
        if other.options != first.options:
            raise BenchError(
                f"shards run with different options: {first.label} {first.describe()}, {other.label} "
                f"{other.describe()}; merge the shards of one run"
            )
        if first.base is not None and other.base is not None and other.base.commit != first.base.commit:
            raise BenchError(
                f"shards against different base commits: {first.label} {first.base.commit}, {other.label} "
                f"{other.base.commit}; merge the shards of one run"
            )
        moved = changes(first.head.extra.get("environment") or {}, other.head.extra.get("environment") or {})
        if moved:
            raise BenchError(
                f"shards measured in different environments: {other.label} has {', '.join(moved[:3])} against "
                f"shard {first.shard}; counts of two environments do not join: build every shard's alike"
            )
    return ordered


def _tests(name: str, found: Sequence[tuple[str, Row]]) -> dict[str, float]:
    """A per-test row's tests over its shards: each test from the one shard that measured it."""
    keyed: dict[str, float] = {}
    owner: dict[str, str] = {}
    for part, row in found:
        for test, value in (row.keyed or {}).items():
            if test in keyed:
                raise ResultsError(
                    f"{name}: test {test!r} measured by shards {owner[test]} and {part}; "
                    "were the shards run by one version of dynapi-bench? measure them again"
                )
            keyed[test], owner[test] = value, part
    return keyed


def _join_tests(name: str, found: Sequence[tuple[str, Row]]) -> Row:
    """One per-test row from its shards' parts, built as one process would have built it:
    memory by :func:`~dynapi_bench.collect.memory_rows`; a count row (as
    :mod:`dynapi_bench.counts` makes it) with the mean test as its value and each function's
    instructions per test averaged over all the tests."""
    first = found[0][1]
    keyed = _tests(name, found)
    if first.measure == "memory" and first.info.get("version") is not None:
        version = first.info["version"]
        tests = {test: {"api_version": version, "peak_bytes": peak * first.items} for test, peak in keyed.items()}
        (row,) = memory_rows(MemoryOutput(tests))
        return row
    if first.measure == "instructions":
        functions: dict[str, float] = {}
        for _, row in found:
            share = len(row.keyed or {}) / len(keyed)
            for function, value in (row.info.get("functions") or {}).items():
                functions[function] = functions.get(function, 0.0) + float(value) * share
        top = sorted(functions.items(), key=lambda item: item[1], reverse=True)[:TOP_FUNCTIONS]
        values = np.asarray(list(keyed.values()))
        info = {**first.info, "tests": len(keyed), "functions": dict(top)}
        return replace(first, samples=values, process=np.asarray([float(np.mean(values))]), keyed=keyed, info=info)
    raise ResultsError(f"{name}: per-test rows of measure {first.measure!r} cannot be joined across shards")


def join_results(parts: Sequence[tuple[str, Results]], **extra: Any) -> Results:
    """The shards' results as one run's: every row from the one shard that measured it (a
    per-test row from each, for its own tests), in shard order; where and when from the first
    shard, machine kinds joined with `` + `` where they differ; ``extra`` added to its notes."""
    rows: dict[str, Row | list[tuple[str, Row]]] = {}
    owner: dict[str, str] = {}
    for part, results in parts:
        for row in results.rows:
            if row.keyed is not None:
                held = rows.setdefault(row.name, [])
                if isinstance(held, list):
                    held.append((part, row))
                    continue
            if row.name in rows:
                raise ResultsError(
                    f"row {row.name!r} measured by shards {owner[row.name]} and {part}; "
                    "were they split by one version of dynapi-bench? measure them again"
                )
            rows[row.name], owner[row.name] = row, part
    joined = tuple(held if isinstance(held, Row) else _join_tests(name, held) for name, held in rows.items())
    first = parts[0][1]
    notes = {key: value for key, value in first.extra.items() if key != "shard"}
    return Results(
        rows=joined,
        machine=" + ".join(sorted({results.machine for _, results in parts})),
        commit=first.commit,
        datetime=min(results.datetime for _, results in parts),
        machine_info=first.machine_info,
        commit_info=first.commit_info,
        extra={**notes, **extra},
    )


def _cut(baseline: Results, measured: Results) -> tuple[Row, ...]:
    """The rows of ``baseline`` that one shard measured, a per-test row cut to that shard's tests."""
    mine = measured.by_name
    rows = []
    for row in baseline.rows:
        own = mine.get(row.name)
        if own is None:
            continue
        if row.keyed is not None and own.keyed is not None:
            tests = {test: value for test, value in row.keyed.items() if test in own.keyed}
            if not tests:
                continue
            rows.append(_join_tests(row.name, [("baseline", replace(row, keyed=tests))]))
        else:
            rows.append(row)
    return tuple(rows)


def _baselines(shards: Sequence[ShardResults], run: Results, folder: Path) -> tuple[Reference | None, list[str]]:
    """Each shard's rows against the newest baseline of the machine kind it ran on: one
    baseline whole when all shards share it (as one run would be judged), else each shard's
    part of its own, and the rows no shard measured from the first one (shown missing)."""
    found = {s.shard: newest_baseline(folder, s.head.machine) for s in shards}
    paths = set(found.values())
    if len(paths) == 1:
        (path,) = paths
        return (Baseline(load_results(path)) if path is not None else None), []
    loaded = {path: load_results(path) for path in paths if path is not None}
    notes = [
        f"shard {s.shard} ran on {s.head.machine}, which has no baseline in {folder}: its rows are new"
        for s in shards
        if found[s.shard] is None
    ]
    parts = [
        (str(s.shard), replace(loaded[path], rows=_cut(loaded[path], s.head)))
        for s in shards
        if (path := found[s.shard]) is not None
    ]
    first = loaded[next(path for path in found.values() if path is not None)]
    unmeasured = tuple(row for row in first.rows if row.name not in run.by_name)
    joined = join_results([*parts, ("unmeasured", replace(first, rows=unmeasured))])
    environments = [dict(r.extra.get("environment") or {}) for r in loaded.values()]
    # A count is gated only where the environment is the baseline's: one that differs decides.
    environment = next((e for e in environments if changes(e, run.extra.get("environment") or {})), environments[0])
    reference = replace(
        joined,
        commit=" + ".join(sorted({r.commit for r in loaded.values()})),
        extra={**joined.extra, "environment": environment},
    )
    return Baseline(reference), notes


def _reference(
    shards: Sequence[ShardResults], run: Results, baselines: Path
) -> tuple[Reference | None, list[str], str]:
    """The merged run's reference, notes on it, and what it means for wall time (one phrase)."""
    first = shards[0]
    if first.base is None:
        reference, notes = _baselines(shards, run, baselines)
        return reference, notes, _WALL_BASELINE
    base = join_results([(str(s.shard), s.base) for s in shards if s.base is not None])
    machines = sorted({s.head.machine for s in shards})
    notes = []
    if len(machines) == 1:
        wall_time = wall_time_gates(baselines / machines[0] / "selftest")
    else:
        wall_time = {}
        notes.append(
            f"shards ran on {len(machines)} machine kinds ({', '.join(machines)}): no one self-test record "
            "holds for all, so wall time is gated only beyond the large-change factor"
        )
    sha = str(base.commit_info.get("id") or base.commit)
    against = str(first.options.get("against"))
    reference = BaseCommit(base, against, sha, wall_time=wall_time, quick=bool(first.options.get("quick")))
    return reference, notes, _WALL_BASE


def _without_counts(reference: Reference | None, run: Results) -> tuple[Reference | None, list[str]]:
    """As a run that could not count: a baseline without its counts when no shard counted."""
    if not isinstance(reference, Baseline) or any(row.measure == "instructions" for row in run.rows):
        return reference, []
    return Baseline(without_counts(reference.results)), [
        "no shard counted instructions: the baseline's counts are left out"
    ]


def merge(inputs: Sequence[Path], *, reports: Path, thresholds: Path, baselines: Path) -> int:
    """Join the shards ``inputs`` name, judge them as one run, write one report to ``reports``;
    return the exit code (0 every KPI holds, 1 a KPI crossed)."""
    rules = load_thresholds(thresholds)
    shards = check_shards([read_shard(path) for path in inputs])
    target = reports.resolve()
    for s in shards:
        folder = s.where if s.where.is_dir() else s.where.parent
        if folder.resolve() == target:
            raise BenchError(
                f"--reports {reports}: that is shard {s.shard}'s folder; write the merged report elsewhere"
            )
    parts = [str(s.shard) for s in shards]
    run = join_results([(str(s.shard), s.head) for s in shards], merged={"shards": parts, **shards[0].options})
    order = {kpi: i for i, kpi in enumerate(rules.kpis)}  # the table in the rules' order, not the shards'
    run = replace(run, rows=tuple(sorted(run.rows, key=lambda row: order.get(row.kpi, len(order)))))
    reference, notes, wall = _reference(shards, run, baselines)
    reference, skipped = _without_counts(reference, run)
    judgement = judge(run, rules, reference, gated=shards[0].options.get("gated") is not False)
    machines = sorted({s.head.machine for s in shards})
    judgement.notes[:0] = [
        f"merged from {len(shards)} shards ({', '.join(parts)}) of commit {run.commit}: every row as the one shard "
        f"that measured it left it (memory per test from every shard, each for its own tests), {wall}; counts by "
        f"their ratio and memory test by test, as in one run",
        *(
            [
                f"shards ran on {len(machines)} machine kinds: "
                + ", ".join(f"{s.shard} {s.head.machine}" for s in shards)
            ]
            if len(machines) > 1
            else []
        ),
        *notes,
        *skipped,
        "profiles: in each shard's own reports folder",
    ]
    _write(reports, judgement, shards, baselines)
    print(render_table(judgement), flush=True)
    return int(judgement.exit_code)


def _write(reports: Path, judgement: Judgement, shards: Sequence[ShardResults], baselines: Path) -> None:
    """The merged run's results and reports, published whole (:mod:`dynapi_bench.staging`)."""
    with staged(reports) as stage:
        out = stage.path
        judgement.run.save(out / "results.json")
        if isinstance(judgement.reference, BaseCommit):
            judgement.reference.results.save(out / "base-results.json")
        else:
            stage.drop("base-results.json")
        frame, notes = history_frame(baselines, judgement.run, judgement.thresholds)
        merged = {
            "shards": [
                {"shard": str(s.shard), "machine": s.head.machine, "datetime": s.head.datetime, "from": str(s.where)}
                for s in shards
            ],
            "wall_time": _WALL_BASE if shards[0].base is not None else _WALL_BASELINE,
        }
        atomic_write_json(out / "summary.json", {**summary(judgement), "merged": merged})
        atomic_write_text(out / "summary.md", render_markdown(judgement, []))
        written = [out / "results.json", out / "summary.json", out / "summary.md", *write_exports(judgement, out)]
        written.append(write_report(out, judgement, history(frame, judgement.run.machine), [], notes=notes))
        written.append(write_history(out, frame, judgement.thresholds, notes=notes))
        with committing():
            stage.publish()
    for path in written:
        print(f"wrote {stage.final(path)}")
