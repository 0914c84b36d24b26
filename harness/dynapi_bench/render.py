"""The text forms of one :class:`~dynapi_bench.judge.Judgement`: the table printed at the end
of a run, ``reports/summary.json`` and ``reports/summary.md``.

All three (and the HTML page of :mod:`dynapi_bench.report`) show the same KPI lines, built
once by :func:`kpi_lines`: each KPI's deciding row, its value, its reference and its change,
all from that one row, with the reference's own sentence from ``Judgement.describe()``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from dynapi_bench.judge import Judgement, Verdict
from dynapi_bench.reference import Reference
from dynapi_bench.units import dimension

__all__ = [
    "case_of",
    "change_text",
    "kpi_lines",
    "moved_functions",
    "profiles_of",
    "reference_header",
    "render_markdown",
    "render_table",
    "render_template",
    "summary",
]

# ``*.html.j2`` must be autoescaped too: select_autoescape looks at the name's last suffix.
_ENV = Environment(
    loader=PackageLoader("dynapi_bench", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=False),
    keep_trailing_newline=True,
)

_SAMPLES = ("samples", "reference_samples")  # arrays: in the plots, not in summary.json


def render_template(name: str, **context: Any) -> str:
    """Render one of the package's Jinja2 templates (HTML ones autoescaped)."""
    return _ENV.get_template(name).render(**context)


def reference_header(reference: Reference | None) -> str:
    """The reference column's header: its kind (``baseline`` or ``base``), ``-`` without one."""
    return reference.kind if reference is not None else "-"


def _finite(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and math.isfinite(float(value))


def _fmt(value: Any, spec: str = ".4g") -> str:
    return format(float(value), spec) if _finite(value) else "-"


def change_text(reference: Reference | None, ratio: float, low: float, high: float) -> str:
    """A change as its reference states it (``x1.103 [1.050, 1.160]`` against a base commit,
    ``+10.3%`` against a baseline), ``-`` without a figure."""
    if reference is None or not _finite(ratio):
        return "-"
    return reference.format_change(float(ratio) - 1, float(low), float(high))


def case_of(row: str) -> str:
    """A row's case as the tables show it: without its file, nor a count row's suffix."""
    return row.removesuffix("::instructions").rsplit("::", 1)[-1]


def kpi_lines(j: Judgement) -> list[dict[str, Any]]:
    """One formatted line per KPI (strings, as shown), plus its raw ``kpi`` and ``verdict``."""
    lines = []
    for k in j.kpis.to_dict("records"):
        goal = f"{k['goal']:g} {'met' if k['goal_met'] else 'missed'}" if _finite(k["goal"]) else "-"
        lines.append(
            {
                "kpi": str(k["kpi"]),
                "verdict": str(k["verdict"]),
                "unit": str(k["unit"]),
                "row": str(k["row"]),
                "case": case_of(str(k["row"])),
                "value": _fmt(k["value"]),
                "target": _fmt(k["target"], "g"),
                "threshold": _fmt(k["threshold"], "g"),
                "goal": goal,
                "reference": _fmt(k["reference"]),
                "change": change_text(j.reference, k["ratio"], k["low"], k["high"]),
                "p": _fmt(k["p_value"], ".2g"),
                "why": str(k["why"]),
                "gate": str(k["gate"]),
            }
        )
    return lines


def moved_functions(j: Judgement, top: int = 5, rows: int = 3) -> list[dict[str, Any]]:
    """For the ``rows`` count rows that moved most beyond their allowed change, the functions
    that gained or lost the most instructions per item, from both sides' callgrind figures
    (each side keeps its top functions, so a function below that cut counts as 0 there)."""
    if j.reference is None:
        return []
    others = j.reference.results.by_name
    moved = j.rows[
        j.rows["verdict"].isin(["regression", "inconclusive", "improved"]) & j.rows["name"].isin(list(j.run.by_name))
    ]
    out: list[dict[str, Any]] = []
    # The rows that moved most, first: a reviewer needs the few largest, not every case.
    ranked = sorted(moved.to_dict("records"), key=lambda r: -abs(math.log(r["ratio"])) if r["ratio"] > 0 else 0)
    for record in ranked:
        if len(out) == rows:
            break
        row, other = j.run.by_name[record["name"]], others.get(record["name"])
        if row.measure != "instructions" or other is None:
            continue
        after, before = row.info.get("functions") or {}, other.info.get("functions") or {}
        deltas = sorted(
            ((after.get(f, 0.0) - before.get(f, 0.0), f) for f in set(after) | set(before)),
            key=lambda t: -abs(t[0]),
        )[:top]
        out.append(
            {
                "row": record["name"],
                "change": change_text(j.reference, record["ratio"], record["low"], record["high"]),
                "functions": [
                    {"function": f, "before": before.get(f, 0.0), "after": after.get(f, 0.0), "delta": d}
                    for d, f in deltas
                    if d
                ],
            }
        )
    return out


def _moved_text(j: Judgement) -> list[str]:
    lines = []
    for moved in moved_functions(j):
        parts = ", ".join(f"{m['function']} {m['delta']:+,.0f}" for m in moved["functions"])
        parts = parts or "no function above the cut moved"
        lines.append(f"where {moved['row']} changed ({moved['change']}), instructions per item: {parts}")
    return lines


def render_table(j: Judgement) -> str:
    """The table printed at the end of a run: notes, what it was judged against, one line
    per KPI, and the overall verdict."""
    header = reference_header(j.reference)
    table = pd.DataFrame(
        [
            {
                "KPI": line["kpi"],
                "unit": line["unit"],
                "case": line["case"],
                "value": line["value"],
                "target": line["target"],
                "threshold": line["threshold"],
                "goal": line["goal"],
                header: line["reference"],
                "change": line["change"],
                "p": line["p"],
                "verdict": line["verdict"].upper(),
                "gate": line["gate"],
                "why": line["why"],
            }
            for line in kpi_lines(j)
        ]
    )
    return "\n".join(
        [*j.notes, j.describe(), table.to_string(index=False), *_moved_text(j), f"overall: {j.verdict.value.upper()}"]
    )


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python ones, NaN and infinity as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _results_info(r: Any) -> dict[str, Any]:
    return {
        "machine": r.machine,
        "commit": r.commit,
        "datetime": r.datetime,
        "path": str(r.path) if r.path is not None else None,
    }


def _reference_info(j: Judgement) -> dict[str, Any]:
    ref = j.reference
    info: dict[str, Any] = {"kind": ref.kind if ref is not None else None, "description": j.describe()}
    return info | (ref.info() if ref is not None else {})


def summary(j: Judgement) -> dict[str, Any]:
    """The machine-readable verdict, ``reports/summary.json``: every KPI's deciding row and
    every judged row (without samples); NaN and infinity become null."""
    kpis = [
        {
            "name": k["kpi"],
            "row": k["row"],
            "unit": k["unit"],
            "value": _plain(k["value"]),
            "reference": _plain(k["reference"]),
            "change": _plain(k["change"]),
            "ratio": _plain(k["ratio"]),
            "low": _plain(k["low"]),
            "high": _plain(k["high"]),
            "p_value": _plain(k["p_value"]),
            "target": _plain(k["target"]),
            "threshold": _plain(k["threshold"]),
            "goal": _plain(k["goal"]),
            "goal_met": bool(k["goal_met"]),
            "verdict": k["verdict"],
            "why": k["why"],
            "gate": k["gate"],  # how a regression of this KPI against the reference fails the build
        }
        for k in j.kpis.to_dict("records")
    ]
    rows = [{key: _plain(v) for key, v in r.items() if key not in _SAMPLES} for r in j.rows.to_dict("records")]
    return {
        "verdict": j.verdict.value,
        "exit_code": int(j.exit_code),
        "reference": _reference_info(j),
        "run": _results_info(j.run),
        "notes": list(j.notes),
        "environment_changes": list(j.environment),
        "kpis": kpis,
        "rows": rows,
        "moved_functions": moved_functions(j),
    }


def _md(text: Any) -> str:
    """A Markdown table cell: pipes escaped, one line."""
    return str(text).replace("|", r"\|").replace("\n", " ")


_ENV.filters["md"] = _md


def profiles_of(kpi: str, unit: str, profiles: Sequence[str]) -> list[tuple[str, str]]:
    """The profiles of one KPI: named after it, and memray's flame graphs for a memory KPI."""
    found = []
    for p in profiles:
        stem = Path(p).stem
        if stem == kpi or stem.startswith(f"{kpi}-") or (dimension(unit) == "memory" and stem.startswith("memray-")):
            found.append((stem, p))
    return found


_ATTENTION = (Verdict.FAIL, Verdict.REGRESSION, Verdict.INCONCLUSIVE, Verdict.MISSING, Verdict.WARN)


def _flagged(line: dict[str, Any]) -> str:
    """Why a KPI is in the headline: its level against the bar it crossed (fail, warn), else
    its change against the reference."""
    if line["verdict"] in (Verdict.FAIL, Verdict.WARN) and line["why"]:
        return str(line["why"])
    return str(line["change"]) if line["change"] != "-" else f"{line['value']} {line['unit']}"


def headline(j: Judgement) -> str:
    """The verdict in one line: how many KPIs need a look, and which, with their change."""
    lines = kpi_lines(j)
    flagged = [line for line in lines if Verdict(line["verdict"]) in _ATTENTION]
    if not flagged:
        improved = sum(line["verdict"] == Verdict.IMPROVED for line in lines)
        return f"{len(lines)} KPIs hold" + (f", {improved} improved" if improved else "")
    counts = pd.Series([line["verdict"] for line in flagged]).value_counts()
    order = [v.value for v in _ATTENTION if v.value in counts]
    named = ", ".join(
        f"{line['kpi']} {_flagged(line)}"
        for line in sorted(flagged, key=lambda line: -Verdict(line["verdict"]).severity)
    )
    tally = ", ".join(f"{counts[v]} {v}" for v in order)
    return f"{tally} of {len(lines)} KPIs: {named}"


def render_markdown(j: Judgement, profiles: Sequence[str] = ()) -> str:
    """``reports/summary.md``: one table a reviewer reads in ten seconds (the KPIs that need a
    look first, each with its change, its interval against a base commit, the one line that
    explains it and links to its profiles), then how it was judged, folded. Paths of profiles
    are relative to the file."""
    ref = j.reference
    lines = sorted(
        (line | {"profiles": profiles_of(line["kpi"], line["unit"], profiles)} for line in kpi_lines(j)),
        key=lambda line: -Verdict(line["verdict"]).severity,  # stable: the judge's order within a verdict
    )
    return render_template(
        "summary.md.j2",
        verdict=j.verdict.value,
        headline=headline(j),
        describe=j.describe(),
        notes=j.notes,
        reference=reference_header(ref) if ref is not None else None,
        head=ref.head if ref is not None else "value",
        lines=lines,
        moved=moved_functions(j),
        profiles=[(Path(p).stem, p) for p in profiles],
    )
