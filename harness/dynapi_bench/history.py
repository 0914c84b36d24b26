"""``reports/history.html``: every KPI across every stored baseline, of every machine kind,
and this run, by commit, on one page that reads at a glance.

A KPI's level in one run is the geometric mean of its cases (:func:`kpi_levels`), so runs
whose deciding row differs stay comparable. The page opens with one small plot per KPI (a
line per machine kind, the threshold dashed), then per KPI a larger plot with the commits
on its axis and the table of its points. Offline: inline SVG from matplotlib, no script.
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

from dynapi_bench.baselines import saved_baselines
from dynapi_bench.errors import BenchError
from dynapi_bench.render import render_template
from dynapi_bench.results import Results, load_results
from dynapi_bench.thresholds import Thresholds
from dynapi_bench.units import scale
from framework.files import atomic_write_text

__all__ = ["THIS_RUN", "history_frame", "kpi_levels", "stored_history", "write_history"]

THIS_RUN = "this run"
_COLUMNS = ["kpi", "machine", "commit", "datetime", "source", "label", "value"]
_COLOURS = ("#4c9be8", "#e8834c", "#5cb85c", "#9b59b6", "#7f8c8d")


def kpi_levels(results: Results, thresholds: Thresholds) -> dict[str, float]:
    """Each KPI's level in its unit: the geometric mean of its cases' values, so that runs
    with different deciding rows stay comparable in a history."""
    levels = {}
    for kpi in results.kpis:
        rule = thresholds.kpis.get(kpi)
        values = [r.value for r in results.rows if r.kpi == kpi and r.value > 0]
        if rule is not None and values:
            levels[kpi] = float(np.exp(np.mean(np.log(values)))) / scale(rule.unit)
    return levels


def _machines(baselines: Path) -> list[str]:
    if not baselines.is_dir():
        return []
    return sorted(p.name for p in baselines.iterdir() if p.is_dir() and any(p.glob("*.json")))


def history_frame(baselines: Path, run: Results | None, thresholds: Thresholds) -> tuple[pd.DataFrame, list[str]]:
    """One row per (KPI, stored baseline) over every machine kind's baselines, then this
    run's (if any); and a note for each file that could not be read (skipped, not fatal)."""
    records: list[dict[str, Any]] = []
    notes: list[str] = []
    sources: list[tuple[str, Results | Path]] = [
        (m, p) for m in _machines(baselines) for p in saved_baselines(baselines, m)
    ]
    if run is not None:
        sources.append((THIS_RUN, run))
    for source, item in sources:
        try:
            results = item if isinstance(item, Results) else load_results(item)
        except BenchError as exc:
            notes.append(f"history skips {item.name if isinstance(item, Path) else item}: {exc}")
            continue
        label = f"{results.commit[:12]} {results.datetime[:16].replace('T', ' ')}"  # two of one day stay two
        for kpi, value in kpi_levels(results, thresholds).items():
            records.append(
                {
                    "kpi": kpi,
                    "machine": results.machine if source == THIS_RUN else source,  # where it is stored
                    "commit": results.commit,
                    "datetime": results.datetime,
                    "source": "baseline" if source != THIS_RUN else THIS_RUN,
                    "label": label if source != THIS_RUN else f"{label} (this run)",
                    "value": value,
                }
            )
    frame = pd.DataFrame.from_records(records, columns=_COLUMNS)
    return frame.sort_values(["datetime", "source"], kind="stable", ignore_index=True), notes


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none"}):  # text as text: smaller, searchable
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _plot(points: pd.DataFrame, unit: str, threshold: float, colours: dict[str, str], *, small: bool) -> str:
    """The KPI's level by commit (in time order), one line per machine kind (its colour the
    same on every plot), its threshold dashed."""
    labels = list(dict.fromkeys(points["label"]))  # every run once, oldest first
    x = {label: i for i, label in enumerate(labels)}
    fig, ax = plt.subplots(figsize=(3.4, 1.5) if small else (9, 2.8))
    for machine, group in points.groupby("machine", sort=True):
        ax.plot(
            [x[label] for label in group["label"]],
            group["value"],
            marker="o",
            markersize=3 if small else 5,
            color=colours[str(machine)],
            label=str(machine),
        )
        mine = group[group["source"] == THIS_RUN]
        ax.plot(
            [x[label] for label in mine["label"]], mine["value"], marker="*", markersize=12, linestyle="", color="k"
        )
    ax.axhline(threshold, color="#d62728", linestyle="--", linewidth=0.8)
    top = float(points["value"].max())
    ax.set_ylim(bottom=0, top=max(top * 1.3, 1e-12) if top < threshold / 3 else None)
    if small:
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    else:
        ax.set_xticks(range(len(labels)), [label.replace(" ", "\n", 1) for label in labels], fontsize=7)
        ax.set_ylabel(unit)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(fig)


def _glance(points: pd.DataFrame) -> dict[str, str]:
    """The newest level, its change from the run before on the same machine kind, and the range."""
    newest = points.iloc[-1]
    same = points[points["machine"] == newest["machine"]]
    before = same.iloc[-2]["value"] if len(same) > 1 else np.nan
    change = f"{newest['value'] / before - 1:+.1%}" if np.isfinite(before) and before > 0 else "-"
    return {
        "newest": f"{newest['value']:.4g}",
        "where": f"{newest['label']} on {newest['machine']}",
        "change": change,
        "range": f"{points['value'].min():.4g} to {points['value'].max():.4g}",
    }


def write_history(reports: Path, frame: pd.DataFrame, thresholds: Thresholds, *, notes: Sequence[str] = ()) -> Path:
    """Render ``reports/history.html`` from :func:`history_frame`'s rows; return its path."""
    machines = sorted(frame["machine"].unique())
    colours = {m: _COLOURS[i % len(_COLOURS)] for i, m in enumerate(machines)}
    kpis = []
    for kpi, rule in thresholds.kpis.items():
        points = frame[frame["kpi"] == kpi]
        if points.empty:
            continue
        kpis.append(
            {
                "kpi": kpi,
                "unit": rule.unit,
                "threshold": f"{rule.threshold:g}",
                "description": rule.description,
                "glance": _glance(points),
                "small": _plot(points, rule.unit, rule.threshold, colours, small=True),
                "plot": _plot(points, rule.unit, rule.threshold, colours, small=False),
                "points": [
                    {"label": r["label"], "machine": r["machine"], "commit": r["commit"], "value": f"{r['value']:.4g}"}
                    for r in points.to_dict("records")
                ][::-1],  # newest first in the table
            }
        )
    runs = frame.drop_duplicates(["machine", "commit", "datetime", "source"])
    html = render_template(
        "history.html.j2",
        kpis=kpis,
        notes=list(notes),
        runs=len(runs),
        machines=[(m, colours[m]) for m in machines],
    )
    path = reports / "history.html"
    atomic_write_text(path, html)
    return path


def stored_history(baselines: Path, reports: Path, thresholds: Thresholds) -> Path:
    """``reports/history.html`` from the stored baselines alone (``dynapi-bench history``)."""
    frame, notes = history_frame(baselines, None, thresholds)
    if frame.empty:
        raise BenchError(f"{baselines}: no stored baselines; save one with `dynapi-bench run --save-baseline`")
    try:
        reports.mkdir(parents=True, exist_ok=True)
        return write_history(reports, frame, thresholds, notes=notes)
    except OSError as exc:
        raise BenchError(
            f"{reports}: cannot write history.html ({exc.strerror}); name another --reports folder"
        ) from None
