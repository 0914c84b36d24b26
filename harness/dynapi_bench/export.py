"""A judged run in the formats dashboards read: github-action-benchmark's and Bencher's.

One entry per judged row, with its own verdict (a row missing from the run has no figure
and no entry): every case, so that each of a dashboard's series is one case from run to
run (a KPI's deciding row, which ``summary.md`` shows, can change between runs). Its name is
the KPI and the case as the tables show it (``config_load_instructions/test_config_load_cold``;
just the case where it already starts with the KPI's name: ``factory_ratio[v2-user]``). Its
spread, where known, is the lowest and highest process median of that row (the processes are
the unit of replication; a time row's value is the lowest of them); a row of one process or
without processes has none. Every KPI is smaller-is-better.

- ``github-action-benchmark``: the ``customSmallerIsBetter`` tool's input, a JSON array of
  ``{name, unit, value, range?, extra?}``: value and unit as the KPI's (thresholds.yaml's
  unit, no conversion: each entry carries its unit); ``range`` the spread as text, ``extra``
  the verdict (with why), the commit, the machine and the row's full name.
- ``bencher``: Bencher Metric Format, ``{benchmark: {measure: {value, lower_value?,
  upper_value?}}}``. A Bencher measure has one unit for every benchmark, and BMF carries
  none, so each value is converted to its measure's: ``latency`` (Bencher's own, in
  nanoseconds) for times, ``latency-difference`` (nanoseconds) for a start-up difference,
  ``memory`` in bytes, ``instructions`` in instructions, ``ratio`` in x (unchanged).
  Bencher creates a measure it does not know from its slug.

Figures are kept to 12 significant digits (a change of unit adds float noise, nothing else).
Sources: https://github.com/benchmark-action/github-action-benchmark (README, src/extract.ts),
https://bencher.dev/docs/reference/bencher-metric-format/ and
https://bencher.dev/docs/how-to/track-custom-benchmarks/ (built-in measures and their units).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np

from dynapi_bench.errors import BenchError
from dynapi_bench.judge import Judgement, judge
from dynapi_bench.reference import Baseline
from dynapi_bench.render import case_of
from dynapi_bench.results import Measure, load_results
from dynapi_bench.thresholds import load_thresholds
from dynapi_bench.units import scale
from framework.files import atomic_write_text

__all__ = [
    "BENCHER_MEASURES",
    "FILES",
    "FORMATS",
    "Entry",
    "Format",
    "bencher",
    "entries",
    "export_results",
    "export_text",
    "github_action_benchmark",
    "write_exports",
]

Format = Literal["github-action-benchmark", "bencher"]
FORMATS: tuple[Format, ...] = get_args(Format)
FILES: dict[Format, str] = {"github-action-benchmark": "github-action-benchmark.json", "bencher": "bencher.json"}
"""What ``dynapi-bench run`` names each export in the reports folder."""

BENCHER_MEASURES: dict[Measure, tuple[str, float]] = {
    "time": ("latency", 1e-9),  # Bencher's built-in Latency measure is in nanoseconds
    "difference": ("latency-difference", 1e-9),
    "memory": ("memory", 1.0),  # bytes
    "instructions": ("instructions", 1.0),
    "ratio": ("ratio", 1.0),
}
"""Each measure of the harness as a Bencher measure: its slug and the size of its unit in base units."""


@dataclass(frozen=True)
class Entry:
    """One judged row, in its KPI's unit; ``low`` and ``high`` its spread, if known."""

    name: str
    kpi: str
    row: str
    measure: Measure
    unit: str
    value: float
    verdict: str
    why: str
    low: float | None = None
    high: float | None = None
    processes: int = 0


def entries(j: Judgement) -> list[Entry]:
    """Every judged row of ``j``, each under a name that stays the same from run to run (a
    dashboard's series), with its own verdict; a row without a figure is left out."""
    measures = {row.kpi: row.measure for row in j.run.rows}  # one measure per KPI (the judge checks its unit)
    found = []
    for r in j.rows.to_dict("records"):
        value = float(r["value"])
        if not math.isfinite(value):
            continue
        kpi, case, unit = str(r["kpi"]), case_of(str(r["name"])), str(r["unit"])
        row = j.run.by_name.get(str(r["name"]))
        medians = row.process / scale(unit) if row is not None and row.process is not None else np.empty(0)
        spread = len(medians) > 1
        found.append(
            Entry(
                name=case if case.startswith(kpi) else f"{kpi}/{case}",
                kpi=kpi,
                row=str(r["name"]),
                measure=measures[kpi],
                unit=unit,
                value=value,
                verdict=str(r["verdict"]),
                why=str(r["why"]),
                low=float(np.min(medians)) if spread else None,
                high=float(np.max(medians)) if spread else None,
                processes=len(medians),
            )
        )
    return found


def _figure(value: float) -> float:
    """``value`` to 12 significant digits: without the float noise of a change of unit
    (15.91665, not 15.916649999999999), far finer than any measurement here."""
    return float(f"{value:.12g}")


def github_action_benchmark(j: Judgement) -> list[dict[str, Any]]:
    """``j`` as github-action-benchmark's ``customSmallerIsBetter`` input."""
    out = []
    for e in entries(j):
        verdict = f"verdict: {e.verdict}" + (f" ({e.why})" if e.why else "")
        item: dict[str, Any] = {"name": e.name, "unit": e.unit, "value": _figure(e.value)}
        if e.low is not None and e.high is not None:
            item["range"] = f"{e.low:.4g} to {e.high:.4g} (the medians of {e.processes} processes)"
        item["extra"] = "\n".join([verdict, f"commit: {j.run.commit}", f"machine: {j.run.machine}", f"row: {e.row}"])
        out.append(item)
    return out


def bencher(j: Judgement) -> dict[str, dict[str, dict[str, float]]]:
    """``j`` in Bencher Metric Format, each value in its Bencher measure's unit."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for e in entries(j):
        slug, size = BENCHER_MEASURES[e.measure]
        factor = scale(e.unit) / size
        metric = {"value": _figure(e.value * factor)}
        if e.low is not None and e.high is not None:
            metric |= {"lower_value": _figure(e.low * factor), "upper_value": _figure(e.high * factor)}
        out[e.name] = {slug: metric}
    return out


def export_text(j: Judgement, fmt: Format) -> str:
    """The export of ``j`` in ``fmt`` as JSON text."""
    data = github_action_benchmark(j) if fmt == "github-action-benchmark" else bencher(j)
    return json.dumps(data, indent=2) + "\n"


def write_exports(j: Judgement, folder: Path) -> list[Path]:
    """Both exports of ``j`` into ``folder`` (atomically), named as :data:`FILES` says."""
    paths = []
    for fmt in FORMATS:
        path = folder / FILES[fmt]
        atomic_write_text(path, export_text(j, fmt))
        paths.append(path)
    return paths


def export_results(run: Path, baseline: Path | None, thresholds: Path, fmt: Format, output: Path | None = None) -> int:
    """``dynapi-bench export``: judge ``run`` (against ``baseline`` if named, as ``check`` does,
    which decides each KPI's row) and print or write its export; 0 whatever the verdicts."""
    rules = load_thresholds(thresholds)
    results = load_results(run)
    reference = Baseline(load_results(baseline)) if baseline is not None else None
    text = export_text(judge(results, rules, reference), fmt)
    if output is None:
        print(text, end="")
        return 0
    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise BenchError(f"-o {output}: cannot be written ({exc.strerror}); name a file in a writable folder") from None
    return 0
