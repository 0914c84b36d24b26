"""Measured rows, typed, and their file form: pytest-benchmark's JSON.

A :class:`Row` is one benchmark of one KPI: every sample in base units (seconds, bytes or
instructions) per item, each process's median (the unit of replication), and for memory each test's peak
by its node id; its value is, for time, its fastest process's median (:attr:`Row.value`).
:class:`Results` is one side of a run, or a stored baseline. The harness builds them in
memory and writes them once; :func:`load_results` reads a file back for ``dynapi-bench
check`` and for baselines, and turns anything unusable into one line naming the file, the
place and the fix (:class:`~dynapi_bench.errors.ResultsError`).
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pytest_benchmark.stats import Stats

from dynapi_bench.errors import ResultsError
from framework.files import atomic_write_text

__all__ = ["MEASURES", "Measure", "Results", "Row", "atomic_write_json", "load_results", "machine_id"]

Measure = Literal["time", "memory", "instructions", "ratio", "difference"]
MEASURES: tuple[Measure, ...] = ("time", "memory", "instructions", "ratio", "difference")
"""``ratio`` and ``difference``: ours against a contender in the same run (a difference is a time)."""


@dataclass(frozen=True, eq=False)
class Row:
    """One benchmark of one KPI, in base units per item."""

    kpi: str
    name: str
    samples: np.ndarray
    measure: Measure = "time"
    process: np.ndarray | None = None  # each process's (or each run's) median, in run order
    keyed: Mapping[str, float] | None = None  # per test id (memory per test): pairs tests
    items: int = 1
    info: Mapping[str, Any] = field(default_factory=dict)  # extra_info beyond the harness's own keys

    @property
    def value(self) -> float:
        """For time, the fastest process's median where several processes ran: noise on a
        shared machine only adds time, and here it comes in spells that last whole processes
        (between runs of one commit the median of the process medians moved by up to x1.63
        per KPI, the fastest process by up to x1.45; docs/methodology.md). For memory, for a
        comparison with a contender (noise hits both of its sides), and for a row without
        processes, the median."""
        values = self.process if self.process is not None else self.samples
        return float(np.min(values) if self.measure == "time" and self.process is not None else np.median(values))

    def entry(self) -> dict[str, Any]:
        """This row as a pytest-benchmark entry (stats by pytest-benchmark's own ``Stats``)."""
        raw = [float(v) * self.items for v in self.samples]
        stats = Stats()
        for value in raw:
            stats.update(value)
        data = stats.as_dict()
        data["data"] = raw
        extra: dict[str, Any] = {**self.info, "kpi": self.kpi, "items": self.items, "measure": self.measure}
        if self.process is not None:
            extra["process_medians"] = [float(v) * self.items for v in self.process]
        if self.keyed is not None:
            extra["peaks"] = {k: float(v) * self.items for k, v in self.keyed.items()}
        return {
            "group": self.kpi,
            "name": self.name,
            "fullname": self.name,
            "params": None,
            "param": None,
            "extra_info": extra,
            "options": {},
            "stats": data,
        }


@dataclass(frozen=True, eq=False)
class Results:
    """One side of a run (or a stored baseline): where and when, and its rows by name."""

    rows: tuple[Row, ...]
    machine: str
    commit: str
    datetime: str
    path: Path | None = None
    machine_info: Mapping[str, Any] = field(default_factory=dict)
    commit_info: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)  # the harness's own notes (side, processes)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for row in self.rows:
            if row.name in seen:
                raise ResultsError(
                    f"{self.where}: benchmark {row.name!r} appears twice; every benchmark must be one row "
                    "(a merged or hand-edited file? measure again, or remove one of them)"
                )
            seen.add(row.name)

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else f"results of {self.commit}"

    @property
    def by_name(self) -> dict[str, Row]:
        return {row.name: row for row in self.rows}

    @property
    def kpis(self) -> list[str]:
        return list(dict.fromkeys(row.kpi for row in self.rows))

    def to_json(self) -> dict[str, Any]:
        """pytest-benchmark's JSON shape, with the harness's notes under ``dynapi``."""
        return {
            "machine_info": {**self.machine_info, "dynapi_machine_id": self.machine},
            "commit_info": {**self.commit_info, "id": self.commit_info.get("id", self.commit)},
            "datetime": self.datetime,
            "version": "dynapi-bench",
            "benchmarks": [row.entry() for row in self.rows],
            "dynapi": dict(self.extra),
        }

    def save(self, path: Path) -> None:
        atomic_write_json(path, self.to_json())


def machine_id(info: Mapping[str, Any] | None = None) -> str:
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


def atomic_write_json(path: Path, data: Any) -> None:
    """Write compact JSON atomically: never a half-written results or baseline file."""
    atomic_write_text(path, json.dumps(data, separators=(",", ":")) + "\n")


def load_results(path: Path) -> Results:
    """Read a results file; :class:`ResultsError` (one line, the fix) if it is unusable."""
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
    rows = [r for i, entry in enumerate(raw["benchmarks"]) if (r := _row(path, i, entry)) is not None]
    if not rows:
        raise ResultsError(f"{path}: no benchmark is tagged with a KPI (extra_info.kpi); nothing to check")
    machine_info = raw["machine_info"] if isinstance(raw.get("machine_info"), dict) else {}
    commit_info = raw["commit_info"] if isinstance(raw.get("commit_info"), dict) else {}
    return Results(
        rows=tuple(rows),
        machine=str(machine_info.get("dynapi_machine_id") or machine_info.get("node") or "unknown"),
        commit=str(commit_info.get("id") or "unknown")[:12],
        datetime=str(raw.get("datetime") or ""),
        path=path,
        machine_info=machine_info,
        commit_info=commit_info,
        extra=raw["dynapi"] if isinstance(raw.get("dynapi"), dict) else {},
    )


def _finite(value: Any) -> bool:
    """A JSON number that is a finite float (a 400-digit integer is valid JSON, but not a figure)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _numbers(values: Iterable[Any], *, signed: bool = False) -> bool:
    return all(_finite(v) and (signed or v >= 0) for v in values)


def _row(path: Path, i: int, entry: Any) -> Row | None:
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
    if not all(_finite(v) for v in data):
        raise ResultsError(
            f"{where}: stats.data holds NaN, infinity or a number too large for a float; "
            "the file is corrupt, run the benchmarks again"
        )
    if measure != "difference" and any(v < 0 for v in data):  # a difference may be below zero
        raise ResultsError(
            f"{where}: stats.data holds a negative {measure}; the file is corrupt, run the benchmarks again"
        )
    medians = info.get("process_medians")
    signed = measure == "difference"
    if medians is not None and (not isinstance(medians, list) or not medians or not _numbers(medians, signed=signed)):
        raise ResultsError(f"{where}: extra_info.process_medians must be a list of numbers >= 0; the file is corrupt")
    keyed = info.get("peaks")
    if keyed is not None and (not isinstance(keyed, dict) or not _numbers(keyed.values())):
        raise ResultsError(f"{where}: extra_info.peaks must map test ids to numbers >= 0; the file is corrupt")
    own = {"kpi", "items", "measure", "process_medians", "peaks"}
    return Row(
        kpi=str(info["kpi"]),
        name=str(name),
        samples=np.asarray(data, dtype=float) / items,
        measure=measure,
        process=np.asarray(medians, dtype=float) / items if medians else None,
        keyed={str(k): float(v) / items for k, v in keyed.items()} if keyed else None,
        items=items,
        info={k: v for k, v in info.items() if k not in own},
    )
