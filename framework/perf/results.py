"""Benchmark results in pytest-benchmark's JSON format, read into a pandas DataFrame.

A results file (a run or a baseline) is pytest-benchmark's ``--benchmark-json`` output
with raw samples (``stats.data``); rows the runner measures itself (test execution,
memory) are written in the same shape. ``extra_info`` tags each row: ``kpi``, ``items``
(how many items one sample covers) and ``measure`` (``time`` in seconds, ``memory`` in
bytes). Anything unusable raises :class:`ResultsError` with one line naming the fix.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pytest_benchmark.stats import Stats

from framework.errors import FrameworkError
from framework.files import atomic_write_text

__all__ = [
    "ResultsError",
    "RunResults",
    "atomic_write_json",
    "load_results",
    "machine_id",
    "make_entry",
]

MEASURES = ("time", "memory")


class ResultsError(FrameworkError):
    """A results or baseline file is missing, truncated or malformed."""


@dataclass(frozen=True)
class RunResults:
    """One results file: where it came from, and one DataFrame row per benchmark."""

    path: Path
    machine: str
    commit: str
    datetime: str
    rows: pd.DataFrame  # kpi, name, measure, items, samples, process, median, n
    # samples: every raw sample in base units per item; process: each process's median (or None);
    # keyed: samples by test id where a row has them (memory per test), for pairing;
    # median: the median of the process medians when a row ran in several processes.


def machine_id(info: dict[str, Any] | None = None) -> str:
    """A stable name for this kind of machine: OS, architecture, cores, CPU model, Python.

    ``DYNAPI_MACHINE_ID`` overrides it. The host name is left out on purpose: CI machines
    of one kind get a new one every time.
    """
    override = os.environ.get("DYNAPI_MACHINE_ID")
    if override:
        return override
    brand = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            brand = next((line.split(":", 1)[1] for line in f if line.startswith("model name")), "")
    except OSError:
        brand = platform.processor()
    slug = re.sub(r"[^a-z0-9]+", "-", brand.lower()).strip("-")[:40] or "cpu"
    py = ".".join(platform.python_version_tuple()[:2])
    return f"{platform.system().lower()}-{platform.machine()}-{os.cpu_count()}cpu-{slug}-py{py}"


def make_entry(
    name: str, kpi: str, samples: Sequence[float], *, measure: str = "time", items: int = 1, **extra: Any
) -> dict[str, Any]:
    """A benchmark entry in pytest-benchmark's shape, for figures measured outside it."""
    stats = Stats()  # pytest-benchmark computes the stats, as for its own rows
    for value in samples:
        stats.update(float(value))
    data = stats.as_dict()
    data["data"] = [float(v) for v in samples]
    return {
        "group": kpi,
        "name": name,
        "fullname": f"{kpi}::{name}",
        "params": None,
        "param": None,
        "extra_info": {"kpi": kpi, "items": items, "measure": measure, **extra},
        "options": {},
        "stats": data,
    }


def pool_entries(runs: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One entry per benchmark from several processes' pytest-benchmark entries: every
    sample kept, stats over all of them, each process's median in ``process_medians``."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entries in runs:
        for entry in entries:
            by_name.setdefault(entry["fullname"], []).append(entry)
    pooled = []
    for group in by_name.values():
        first = group[0]
        data = [float(v) for e in group for v in e["stats"]["data"]]
        medians = [float(np.median(e["stats"]["data"])) for e in group]
        entry = make_entry(first["name"], first["extra_info"]["kpi"], data, process_medians=medians)
        entry["extra_info"] = {**first["extra_info"], "process_medians": medians}
        entry["stats"]["iterations"] = first["stats"].get("iterations", 1)
        pooled.append({**first, "extra_info": entry["extra_info"], "stats": entry["stats"]})
    return pooled


def atomic_write_json(path: Path, data: Any) -> None:
    """Write compact JSON atomically: never a half-written results or baseline file."""
    atomic_write_text(path, json.dumps(data, separators=(",", ":")) + "\n")


def load_results(path: Path) -> RunResults:
    """Read a results file into a :class:`RunResults`; :class:`ResultsError` if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found; run `nox -s bench` first, or name an existing results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot be read ({exc}); name a results JSON file") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(
            f"{path}: not valid JSON at line {exc.lineno} column {exc.colno}: truncated or corrupt; "
            "run the benchmarks again"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("benchmarks"), list):
        raise ResultsError(f"{path}: no 'benchmarks' list; expected pytest-benchmark JSON (--benchmark-json)")
    records = [_row(path, i, entry) for i, entry in enumerate(raw["benchmarks"])]
    rows = [r for r in records if r is not None]
    if not rows:
        raise ResultsError(f"{path}: no benchmark is tagged with a KPI (extra_info.kpi); nothing to check")
    machine_info: dict[str, Any] = raw["machine_info"] if isinstance(raw.get("machine_info"), dict) else {}
    commit_info: dict[str, Any] = raw["commit_info"] if isinstance(raw.get("commit_info"), dict) else {}
    frame = pd.DataFrame(
        rows, columns=["kpi", "name", "measure", "items", "samples", "process", "keyed", "median", "n"]
    )
    return RunResults(
        path=path,
        machine=str(machine_info.get("dynapi_machine_id") or machine_info.get("node") or "unknown"),
        commit=str(commit_info.get("id") or "unknown")[:12],
        datetime=str(raw.get("datetime") or ""),
        rows=frame,
    )


def _row(path: Path, i: int, entry: Any) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        raise ResultsError(f"{path}: benchmarks[{i}]: expected an object; the file is corrupt")
    name = entry.get("fullname") or entry.get("name")
    where = f"{path}: benchmarks[{i}] ({name})"
    info = entry.get("extra_info") or {}
    if not isinstance(info, dict) or "kpi" not in info:
        return None  # a benchmark that measures no KPI: not the gate's business
    measure = info.get("measure", "time")
    if measure not in MEASURES:
        raise ResultsError(f"{where}: unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
    items = info.get("items", 1)
    if not isinstance(items, int) or isinstance(items, bool) or items < 1:
        raise ResultsError(f"{where}: extra_info.items must be a whole number >= 1, got {items!r}")
    stats = entry.get("stats")
    data = stats.get("data") if isinstance(stats, dict) else None
    if not isinstance(data, list) or not data:
        raise ResultsError(f"{where}: no raw samples in stats.data; run pytest-benchmark with --benchmark-save-data")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in data):
        raise ResultsError(f"{where}: stats.data holds a value that is not a number; the file is corrupt")
    if any(math.isnan(v) or math.isinf(v) for v in data):
        raise ResultsError(f"{where}: stats.data holds NaN or infinity; the file is corrupt, run the benchmarks again")
    if any(v < 0 for v in data):
        raise ResultsError(
            f"{where}: stats.data holds a negative {measure}; the file is corrupt, run the benchmarks again"
        )
    samples = np.asarray(data, dtype=float) / items
    medians = info.get("process_medians")
    if medians is not None and (
        not isinstance(medians, list)
        or not medians
        or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in medians
        )
    ):
        raise ResultsError(f"{where}: extra_info.process_medians must be a list of numbers >= 0; the file is corrupt")
    # The value: the median of the processes' medians where there are several processes,
    # so that one unlucky process (they are bimodal on shared machines) cannot decide it.
    process = np.asarray(medians, dtype=float) / items if medians else None
    keyed = info.get("peaks")
    if keyed is not None and (
        not isinstance(keyed, dict)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in keyed.values())
    ):
        raise ResultsError(f"{where}: extra_info.peaks must map test ids to numbers >= 0; the file is corrupt")
    value = float(np.median(process)) if process is not None else float(np.median(samples))
    return {
        "kpi": str(info["kpi"]),
        "name": str(name),
        "measure": measure,
        "items": items,
        "samples": samples,
        "process": process,
        "keyed": {str(k): float(v) / items for k, v in keyed.items()} if keyed else None,
        "median": value,
        "n": len(samples),
    }
