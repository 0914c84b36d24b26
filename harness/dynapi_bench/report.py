"""``reports/index.html``: one judged run as a page. The KPI table (the lines of
:func:`dynapi_bench.render.kpi_lines`), the sentence naming the reference, then per KPI a
box plot of this run's samples beside the reference's, its judged rows and its history
across saved baselines. Offline: plots are inline SVG from matplotlib, no CDN.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to SVG only

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import LogFormatter

from dynapi_bench.history import THIS_RUN
from dynapi_bench.judge import Judgement
from dynapi_bench.reference import Reference
from dynapi_bench.render import (
    change_text,
    kpi_lines,
    moved_functions,
    profiles_of,
    reference_header,
    render_template,
)
from framework.files import atomic_write_text

__all__ = [
    "History",
    "distribution_plot",
    "history",
    "reference_label",
    "render_template",
    "write_report",
]

History = dict[str, list[tuple[str, float]]]  # KPI -> (commit and date, level), oldest first

_RUN, _REFERENCE = "#4c9be8", "#bbbbbb"


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):  # text as text: smaller, searchable, selectable
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog: the SVG sits inside HTML


def reference_label(reference: Reference | None) -> str:
    """The reference's name in a legend: ``baseline``, or ``base <sha>`` for a base commit."""
    return reference.label if reference is not None else "reference"


def _arrays(column: pd.Series) -> list[np.ndarray]:
    return [np.asarray(s, dtype=float) if s is not None else np.array([]) for s in column]


def distribution_plot(rows: pd.DataFrame, unit: str, target: float, threshold: float, reference: str) -> str:
    """Box plots of each row's samples, this run beside the reference's, with the KPI's
    target and threshold; rows without samples (geomean rows) are left out."""
    rows = rows[
        [s is not None or r is not None for s, r in zip(rows["samples"], rows["reference_samples"], strict=True)]
    ]
    names = list(rows["name"])
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.2))
    positions = np.arange(len(names), dtype=float)
    for column, shift, colour in (("samples", 0.18, _RUN), ("reference_samples", -0.18, _REFERENCE)):
        shown = [(p, s) for p, s in zip(positions, _arrays(rows[column]), strict=True) if len(s)]
        if shown:
            ax.boxplot(
                [s for _, s in shown],
                positions=[p + shift for p, _ in shown],
                widths=0.3,
                orientation="horizontal",
                patch_artist=True,
                boxprops={"facecolor": colour},
                showfliers=False,
            )
    ax.axvline(threshold, color="#d62728", linestyle="--", label=f"threshold {threshold:g} {unit}")
    ax.axvline(target, color="#ff7f0e", linestyle=":", label=f"target {target:g} {unit}")
    ax.set_yticks(positions, names, fontsize=8)
    values = np.concatenate([*_arrays(rows["samples"]), *_arrays(rows["reference_samples"]), np.array([threshold])])
    positive = values[values > 0]
    if len(positive) and positive.max() / positive.min() > 50:
        ax.set_xscale("log")
        # Labels as plain numbers (0.01, 1, 100): the default 10^n labels go through mathtext,
        # which parsed them in a fifth of the report's plotting time.
        ax.xaxis.set_major_formatter(LogFormatter())
    ax.set_xlabel(unit)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=_RUN, label="this run"), Patch(color=_REFERENCE, label=reference)]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    return _svg(fig)


def history(frame: pd.DataFrame, machine: str) -> History:
    """Each KPI's levels on ``machine`` (rows of :func:`~dynapi_bench.history.history_frame`):
    its stored baselines, oldest first, labelled by commit and date, then ``this run``."""
    series: History = {}
    for r in frame[frame["machine"] == machine].to_dict("records"):
        label = THIS_RUN if r["source"] == THIS_RUN else str(r["label"])
        series.setdefault(str(r["kpi"]), []).append((label, float(r["value"])))
    return series


def _row_lines(j: Judgement, rows: pd.DataFrame) -> list[dict[str, Any]]:
    def fmt(value: Any, spec: str = ".4g") -> str:
        return format(float(value), spec) if value is not None and np.isfinite(value) else "-"

    return [
        {
            "name": r["name"],
            "value": fmt(r["value"]),
            "n": len(r["samples"]) if r["samples"] is not None else "-",
            "reference": fmt(r["reference"]),
            "change": change_text(j.reference, r["ratio"], r["low"], r["high"]),
            "p": fmt(r["p_value"], ".2g"),
            "threshold_verdict": r["threshold_verdict"],
            "reference_verdict": r["reference_verdict"],
            "verdict": r["verdict"],
            "why": r["why"],
        }
        for r in rows.to_dict("records")
    ]


def write_report(
    reports: Path,
    j: Judgement,
    history: History,
    profiles: list[str],
    *,
    notes: Sequence[str] = (),
) -> Path:
    """Render ``reports/index.html`` from the judgement and return its path. ``profiles``
    are paths relative to ``reports``; ``notes`` adds lines such as :func:`history`'s."""
    label = reference_label(j.reference)
    lines = kpi_lines(j)
    sections = []
    for line in lines:
        rule = j.thresholds.kpis[line["kpi"]]
        rows = j.rows[j.rows["kpi"] == line["kpi"]]
        points = history.get(line["kpi"], [])
        sections.append(
            {
                "line": line,
                "description": rule.description,
                "plot": distribution_plot(rows, rule.unit, rule.target, rule.threshold, label),
                "history_count": sum(label != THIS_RUN for label, _ in points),
                "rows": _row_lines(j, rows),
                "profiles": profiles_of(line["kpi"], rule.unit, profiles),
            }
        )
    html = render_template(
        "report.html.j2",
        verdict=j.verdict.value,
        run=j.run,
        describe=j.describe(),
        notes=[*j.notes, *notes],
        header=reference_header(j.reference),
        reference_label=label,
        lines=lines,
        sections=sections,
        moved=moved_functions(j),
        profiles=[(Path(p).stem, p) for p in profiles],
    )
    path = reports / "index.html"
    atomic_write_text(path, html)
    return path
