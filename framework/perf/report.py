"""``reports/index.html``: the KPI table, a plot per KPI against baseline and threshold,
the history across saved baselines, and links to the profiles. Offline: plots are inline
SVG from matplotlib, the page is rendered by a Jinja2 template, no CDN.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render to SVG only

import matplotlib.pyplot as plt
import numpy as np
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.patches import Patch

from framework.errors import FrameworkError
from framework.files import atomic_write_text
from framework.perf.checker import Comparison, compare
from framework.perf.results import RunResults, load_results, machine_id
from framework.perf.thresholds import Thresholds

__all__ = ["history", "render_template", "write_report"]

_ENV = Environment(loader=PackageLoader("framework.perf", "templates"), autoescape=select_autoescape(["html"]))


def render_template(name: str, **context: Any) -> str:
    """Render one of the package's Jinja2 templates."""
    return _ENV.get_template(name).render(**context)


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog: the SVG sits inside HTML


def distribution_plot(rows: Any, unit: str, target: float, threshold: float) -> str:
    """Box plots of each row's samples, this run beside the baseline, with target and threshold."""
    names = list(rows["name"])
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.2))
    positions = np.arange(len(names))
    run = [np.asarray(s) for s in rows["samples"]]
    ax.boxplot(
        run,
        positions=positions + 0.18,
        widths=0.3,
        orientation="horizontal",
        patch_artist=True,
        boxprops={"facecolor": "#4c9be8"},
        showfliers=False,
    )
    base = [np.asarray(s) if s is not None else np.array([]) for s in rows["baseline_samples"]]
    if any(len(b) for b in base):
        shown = [(p, b) for p, b in zip(positions, base, strict=True) if len(b)]
        ax.boxplot(
            [b for _, b in shown],
            positions=[p - 0.18 for p, _ in shown],
            widths=0.3,
            orientation="horizontal",
            patch_artist=True,
            boxprops={"facecolor": "#bbbbbb"},
            showfliers=False,
        )
    ax.axvline(threshold, color="#d62728", linestyle="--", label=f"threshold {threshold:g} {unit}")
    ax.axvline(target, color="#ff7f0e", linestyle=":", label=f"target {target:g} {unit}")
    ax.set_yticks(positions, names, fontsize=8)
    values = np.concatenate([r for r in run if len(r)] + [threshold * np.ones(1)])
    if values.max() / max(values[values > 0].min(), 1e-12) > 50:
        ax.set_xscale("log")
    ax.set_xlabel(unit)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color="#4c9be8", label="this run"), Patch(color="#bbbbbb", label="baseline")]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    return _svg(fig)


def history(baselines: Path, thresholds: Thresholds) -> tuple[dict[str, list[tuple[str, float]]], list[str]]:
    """Each KPI's value in every saved baseline of this machine, oldest first; and notes."""
    notes: list[str] = []
    series: dict[str, list[tuple[str, float]]] = {}
    for path in sorted((baselines / machine_id()).glob("*.json")):
        try:
            past = compare(load_results(path), None, thresholds)
        except FrameworkError as exc:
            notes.append(f"history skips {path.name}: {exc}")
            continue
        for kpi, value in zip(past.kpis["kpi"], past.kpis["value"], strict=True):
            series.setdefault(str(kpi), []).append((path.name[:16], float(value)))
    return series, notes


def history_plot(points: list[tuple[str, float]], current: float, unit: str, threshold: float) -> str:
    labels = [p[0] for p in points] + ["this run"]
    values = [p[1] for p in points] + [current]
    fig, ax = plt.subplots(figsize=(8, 2.2))
    ax.plot(labels, values, marker="o", color="#4c9be8")
    ax.axhline(threshold, color="#d62728", linestyle="--", linewidth=0.8)
    ax.set_ylabel(unit)
    ax.set_ylim(bottom=0, top=max(max(values) * 1.3, 1e-12) if max(values) < threshold / 3 else None)
    ax.tick_params(axis="x", labelsize=7, rotation=20)
    return _svg(fig)


def _fmt(value: Any, spec: str = ".4g") -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "-"
    return format(value, spec)


def write_report(
    reports: Path, comparison: Comparison, run: RunResults, thresholds: Thresholds, baselines: Path
) -> Path:
    """Render ``reports/index.html`` and return its path."""
    series, notes = history(baselines, thresholds)
    profiles = reports / "profiles"
    sections = []
    for k in comparison.kpis.to_dict("records"):
        rule = thresholds.kpis[k["kpi"]]
        rows = comparison.rows[comparison.rows["kpi"] == k["kpi"]]
        profile_links = [p.name for p in sorted(profiles.glob(f"{k['kpi']}.html"))]
        if k["kpi"] == "memory_per_test":
            profile_links += [p.name for p in sorted(profiles.glob("memray-*.html"))]
        sections.append(
            {
                "kpi": k,
                "description": rule.description,
                "plot": distribution_plot(rows, rule.unit, rule.target, rule.threshold),
                "history": history_plot(series.get(k["kpi"], []), k["value"], rule.unit, rule.threshold),
                "history_count": len(series.get(k["kpi"], [])),
                "rows": [
                    {
                        "name": r["name"],
                        "value": _fmt(r["value"]),
                        "n": r["n"],
                        "baseline": _fmt(r["baseline"]),
                        "change": _fmt(r["change"], "+.1%"),
                        "p": _fmt(r["p_value"], ".2g"),
                        "threshold_verdict": r["threshold_verdict"],
                        "baseline_verdict": r["baseline_verdict"],
                    }
                    for r in rows.to_dict("records")
                ],
                "profiles": profile_links,
            }
        )
    base = comparison.baseline
    html = _ENV.get_template("report.html.j2").render(
        verdict=comparison.verdict,
        run=run,
        baseline=base,
        notes=[*comparison.notes, *notes],
        kpis=comparison.kpis.to_dict("records"),
        sections=sections,
        fmt=_fmt,
        alpha=thresholds.alpha,
        reference=comparison.reference,
    )
    path = reports / "index.html"
    atomic_write_text(path, html)
    return path
