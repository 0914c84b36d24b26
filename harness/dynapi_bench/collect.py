"""From what the measuring processes wrote to typed rows, in memory.

- pytest-benchmark entries of every process, pooled per benchmark: every sample kept, and
  one value per run in process order (a benchmark tagged ``row=NAME`` several times in one
  process, like the suite's two runs, gives one row with a value per run);
- the suite's recordings: ``test_execution`` (every passed test of every version, one value
  per run: the median of that run) and ``suite_peak_rss``;
- the memory pass: ``memory_per_test[VERSION]``, each test's peak keyed by node id, so a
  comparison pairs tests;
- the counting processes' rows (:mod:`dynapi_bench.counts`), as they are.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from dynapi_bench.errors import PassError, ResultsError
from dynapi_bench.measure import MemoryOutput, ProcessOutput
from dynapi_bench.results import Results, Row, machine_id

__all__ = ["contender_rows", "memory_rows", "side_results", "startup_rows", "suite_rows", "timing_rows"]

_OWN = {"kpi", "items", "measure", "row"}


def timing_rows(outputs: Sequence[ProcessOutput]) -> list[Row]:
    """One row per benchmark (or per ``row`` tag) over every process of a side."""
    samples: dict[str, list[float]] = defaultdict(list)
    values: dict[str, list[float]] = defaultdict(list)
    first: dict[str, dict[str, Any]] = {}
    for k, output in enumerate(outputs):
        seen: set[str] = set()
        for entry in output.benchmark_json.get("benchmarks", []):
            info = entry.get("extra_info") or {}
            if "kpi" not in info:
                continue
            name = str(info.get("row") or entry["fullname"])
            # A `row` tag may gather several runs of one process; anything else seen twice is a mistake.
            if (name in seen and not info.get("row")) or first.setdefault(name, entry)["extra_info"]["kpi"] != info[
                "kpi"
            ]:
                raise ResultsError(
                    f"process {k}: benchmark {name!r} appears twice (or under two KPIs); give each benchmark "
                    "its own name, or the same `row` tag and KPI to its runs"
                )
            seen.add(name)
            data = [float(v) for v in entry["stats"]["data"]]
            samples[name].extend(data)
            values[name].append(float(np.median(data)))
    rows = []
    for name, entry in first.items():
        info = entry["extra_info"]
        items = int(info.get("items", 1))
        rows.append(
            Row(
                kpi=str(info["kpi"]),
                name=name,
                samples=np.asarray(samples[name]) / items,
                process=np.asarray(values[name]) / items,
                items=items,
                info={k: v for k, v in info.items() if k not in _OWN},
            )
        )
    return rows


def suite_rows(outputs: Sequence[ProcessOutput]) -> list[Row]:
    """``test_execution`` and ``suite_peak_rss`` from the recorder's files, one value per run."""
    durations: list[float] = []
    run_medians: list[float] = []
    rss: list[float] = []
    per_test: dict[str, list[float]] = defaultdict(list)
    version_of: dict[str, str] = {}
    for k, output in enumerate(outputs):
        for recorded in output.suite_runs:
            this_run = []
            for nodeid, record in recorded["tests"].items():
                if record["outcome"] == "passed" and record.get("api_version") is not None:
                    this_run.append(float(record["duration_s"]))
                    per_test[nodeid].append(float(record["duration_s"]))
                    version_of[nodeid] = str(record["api_version"])
            if not this_run:  # a run without a passed test would leave base's and head's runs out of line
                raise PassError(
                    f"a run of the dynamic suite passed no versioned test (process {k}); run the suite to see why"
                )
            durations.extend(this_run)
            run_medians.append(statistics.median(this_run))
            rss.append(recorded.get("peak_rss_bytes") or math.nan)  # null where the OS does not tell
    if not durations:
        return []
    medians = {k: statistics.median(v) for k, v in per_test.items()}
    by_version: dict[str, list[float]] = defaultdict(list)
    for nodeid, median in medians.items():
        by_version[version_of[nodeid]].append(median)
    slowest = sorted(((m, k) for k, m in medians.items()), reverse=True)[:5]
    rows = [
        Row(
            kpi="test_execution",
            name="test_execution",
            samples=np.asarray(durations),
            process=np.asarray(run_medians),
            info={
                "tests": len(medians),
                "median_by_version_s": {v: statistics.median(ms) for v, ms in sorted(by_version.items())},
                "slowest": [{"test": k, "median_s": m} for m, k in slowest],
            },
        )
    ]
    if rss and not any(math.isnan(v) for v in rss):  # all runs or none: values stay paired by run
        rows.append(
            Row(
                kpi="suite_peak_rss",
                name="suite_peak_rss",
                samples=np.asarray(rss),
                measure="memory",
                process=np.asarray(rss),
            )
        )
    return rows


def contender_rows(outputs: Sequence[ProcessOutput]) -> list[Row]:
    """Each same-run comparison with a contender: every round's ratio (or difference) of every
    process as samples, each process's median as its value (the row's value is their median);
    the first process's info, with its per-round lists extended by the other processes'."""
    samples: dict[str, list[float]] = defaultdict(list)
    medians: dict[str, list[float]] = defaultdict(list)
    first: dict[str, dict[str, Any]] = {}
    for output in outputs:
        for record in output.contenders:
            name = str(record["row"])
            values = [float(v) for v in record["values"]]
            if not values:
                continue
            if name in first:  # per-round lists (a side's times) go on, process after process
                merged = first[name]["info"]
                for key, more in (record.get("info") or {}).items():
                    if isinstance(more, list) and isinstance(merged.get(key), list):
                        merged[key] = [*merged[key], *more]
            else:
                first[name] = {**record, "info": dict(record.get("info") or {})}
            samples[name].extend(values)
            medians[name].append(statistics.median(values))
    return [
        Row(
            kpi=str(record["kpi"]),
            name=name,
            samples=np.asarray(samples[name]),
            measure=record["measure"],
            process=np.asarray(medians[name]),
            info=dict(record.get("info") or {}),
        )
        for name, record in first.items()
    ]


def startup_rows(contenders: Sequence[Row], counts: Sequence[Row]) -> list[Row]:
    """``session_startup`` (ms): the start-up comparison's counted difference at this run's
    speed: per timed pair, the difference in instructions times the seconds per instruction of
    that pair's hand-written process. The count does not drift, where the wall difference of
    two one-second processes swings by hundreds of milliseconds here (docs/methodology.md); the
    timed processes bring only the machine's speed. None without both (counts skipped)."""
    wall = next((row for row in contenders if row.name == "session_startup_wall"), None)
    counted = next((row for row in counts if row.name == "session_startup_instructions"), None)
    if wall is None or counted is None or not wall.info.get("theirs") or not counted.info.get("theirs"):
        return []
    seconds_per_instruction = np.asarray(wall.info["theirs"], dtype=float) / float(counted.info["theirs"])
    estimates = counted.value * seconds_per_instruction
    return [
        Row(
            kpi="session_startup",
            name="session_startup",
            samples=estimates,
            measure="difference",
            process=estimates,
            info={
                "instructions": counted.value,
                "ns_per_instruction": float(np.median(seconds_per_instruction)) * 1e9,
                "pairs": len(estimates),
            },
        )
    ]


def memory_rows(memory: MemoryOutput) -> list[Row]:
    """``memory_per_test[VERSION]``: each versioned test's peak, keyed by node id."""
    peaks: dict[str, dict[str, float]] = defaultdict(dict)
    for nodeid, record in memory.tests.items():
        if record.get("api_version") is not None:
            peaks[str(record["api_version"])][nodeid] = float(record["peak_bytes"])
    rows = []
    for version, tests in sorted(peaks.items()):
        heaviest = sorted(((p, t) for t, p in tests.items()), reverse=True)[:5]
        rows.append(
            Row(
                kpi="memory_per_test",
                name=f"memory_per_test[{version}]",
                samples=np.asarray(list(tests.values())),
                measure="memory",
                keyed=tests,
                info={
                    "version": version,
                    "tests": len(tests),
                    "heaviest": [{"test": t, "peak_bytes": p} for p, t in heaviest],
                },
            )
        )
    return rows


def side_results(
    name: str, outputs: Sequence[ProcessOutput], memory: MemoryOutput, counts: Sequence[Row] = (), **extra: Any
) -> Results:
    """One side's :class:`Results`: its rows (the counts' beside the timings'), and where and
    when from its first process."""
    meta = outputs[0].benchmark_json if outputs else {}
    commit_info = meta.get("commit_info") or {}
    contenders = contender_rows(outputs)
    return Results(
        rows=(
            *timing_rows(outputs),
            *suite_rows(outputs),
            *contenders,
            *startup_rows(contenders, counts),
            *memory_rows(memory),
            *counts,
        ),
        machine=machine_id(),
        commit=str(commit_info.get("id") or "unknown")[:12],
        datetime=str(meta.get("datetime") or ""),
        machine_info=meta.get("machine_info") or {},
        commit_info=commit_info,
        extra={"side": name, "processes": len(outputs), **extra},
    )
