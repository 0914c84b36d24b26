"""The regression checker: a run against its thresholds and its baseline, KPI by KPI.

Each benchmark row gets two verdicts: against the KPI's threshold (fail above it, warn
above the target) and against the same row of the baseline, where a change counts only
if it is larger than the KPI's ``allowed_change`` *and* significant (one-sided
Mann-Whitney U at ``alpha``: no assumption of normal timings) both on the raw samples and,
where the row ran in several processes, on the processes' medians. Samples inside one
process share its luck (timings here are bimodal between processes), so only the
process-level test sees the real spread; the raw-sample test alone would call a 10% drift
between two runs of the same code significant. A KPI's value is its slowest row; it
fails if any row does. Exit 0 when every KPI holds, 1 when one crossed, 2 on unusable
input (one line naming the file and the fix).

Run alone: ``dynapi-check RUN.json [BASELINE.json]`` or ``python -m framework.perf.checker``.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from framework.errors import ExitCode, FrameworkError
from framework.perf.ab import decide, estimate
from framework.perf.results import ResultsError, RunResults, atomic_write_json, load_results
from framework.perf.thresholds import DEFAULT_THRESHOLDS, KpiRule, Thresholds, load_thresholds
from framework.perf.units import dimension, scale

__all__ = ["Comparison", "compare", "compare_ab", "main", "render_table"]

_ORDER = {"pass": 0, "new": 0, "warn": 1, "fail": 2}


@dataclass
class Comparison:
    """The checker's findings: per row, per KPI, overall, and notes for the table."""

    rows: pd.DataFrame
    kpis: pd.DataFrame
    verdict: str
    notes: list[str] = field(default_factory=list)
    baseline: RunResults | None = None
    reference: str = "baseline"  # or "base <ref>" for a same-run comparison

    @property
    def exit_code(self) -> ExitCode:
        """1 when any KPI failed, else 0."""
        return ExitCode.REGRESSION if self.verdict == "fail" else ExitCode.OK


def _p_value(run: np.ndarray, base: np.ndarray, alternative: str) -> float:
    if len(run) < 2 or len(base) < 2:
        return math.nan  # one sample on a side: no test is possible, so nothing is "significant"
    if np.ptp(run) == 0 and np.ptp(base) == 0:
        # Constant samples (memory counts often are): equal means no change, else certain.
        differs = run[0] > base[0] if alternative == "greater" else run[0] < base[0]
        return 0.0 if differs else 1.0
    return float(mannwhitneyu(run, base, alternative=alternative).pvalue)


def _new_record(row: Any, rule: KpiRule) -> dict[str, Any]:
    """A row in the KPI's unit, judged against its threshold, not yet against a reference."""
    unit = scale(rule.unit)
    value = float(row.median) / unit
    return {
        "kpi": row.kpi,
        "name": row.name,
        "unit": rule.unit,
        "value": value,
        "n": len(row.samples),
        "samples": np.asarray(row.samples) / unit,
        "threshold_verdict": "fail" if value > rule.threshold else ("warn" if value > rule.target else "pass"),
        "baseline": math.nan,
        "change": math.nan,
        "p_value": math.nan,
        "baseline_verdict": "new",
        "baseline_samples": None,
    }


def compare(
    run: RunResults, baseline: RunResults | None, thresholds: Thresholds, *, gate_baseline: bool = True
) -> Comparison:
    """Judge every row of ``run`` and aggregate per KPI (see the module docstring)."""
    notes: list[str] = []
    rules = thresholds.kpis
    _check_rules(run, thresholds)
    base_rows = baseline.rows.set_index("name") if baseline is not None else None
    if baseline is not None and baseline.machine != run.machine:
        notes.append(f"warning: baseline recorded on {baseline.machine}, this run on {run.machine}: compared anyway")
    records = []
    for row in run.rows.itertuples(index=False):
        rule = rules[row.kpi]
        unit = scale(rule.unit)
        record = _new_record(row, rule)
        samples, value = record["samples"], record["value"]
        if base_rows is not None and row.name in base_rows.index:
            base_samples = np.asarray(base_rows.loc[row.name, "samples"]) / unit
            base_value = float(base_rows.loc[row.name, "median"]) / unit
            change = value / base_value - 1 if base_value > 0 else (0.0 if value == 0 else math.inf)
            alternative = "greater" if change >= 0 else "less"
            p = _p_value(samples, base_samples, alternative)
            run_process, base_process = row.process, base_rows.loc[row.name, "process"]
            if run_process is not None and base_process is not None:
                # The process is the unit of replication: both tests must agree.
                p = max(p, _p_value(np.asarray(run_process) / unit, np.asarray(base_process) / unit, alternative))
            significant = not math.isnan(p) and p < thresholds.alpha
            if significant and change > rule.allowed_change:
                verdict = "regressed"
            elif significant and change < -rule.allowed_change:
                verdict = "improved"
            else:
                verdict = "same"
            record.update(
                baseline=base_value,
                change=change,
                p_value=p,
                baseline_verdict=verdict,
                baseline_samples=base_samples,
            )
        records.append(record)
    rows = pd.DataFrame.from_records(records)
    kpis = _aggregate(rows, thresholds, gate_baseline, baseline is not None)
    verdict = "fail" if (kpis["verdict"] == "fail").any() else ("warn" if (kpis["verdict"] == "warn").any() else "pass")
    if baseline is None:
        notes.append("no baseline: every KPI is new; save one with `nox -s bench -- --save-baseline`")
    elif not gate_baseline:
        notes.append("baseline changes are reported, not gated (only the thresholds fail the build)")
    return Comparison(rows, kpis, verdict, notes, baseline)


def _check_rules(run: RunResults, thresholds: Thresholds) -> None:
    for kpi, measure in run.rows[["kpi", "measure"]].drop_duplicates().itertuples(index=False):
        if kpi not in thresholds.kpis:
            raise ResultsError(
                f"{run.path}: KPI {kpi!r} has no rule in {thresholds.path}; add one (unit, target, threshold)"
            )
        unit = thresholds.kpis[kpi].unit
        if dimension(unit) != measure:
            raise ResultsError(f"{thresholds.path}: kpis.{kpi}.unit {unit!r} does not measure {measure}; fix the unit")


def compare_ab(head: RunResults, base: RunResults, thresholds: Thresholds, *, ref: str = "base") -> Comparison:
    """Judge a same-run comparison: every row of ``head`` against the same row of ``base``.

    The verdict rests on the head/base ratio of paired measurements (process pairs taken
    in turn; for memory, the same test on both sides): its estimate and interval, and a
    sign test, against the KPI's ``ab_allowed_change``
    (see :mod:`framework.perf.ab`). Thresholds apply to head as in :func:`compare`.
    """
    _check_rules(head, thresholds)
    base_rows = base.rows.set_index("name")
    records = []
    for row in head.rows.itertuples(index=False):
        rule = thresholds.kpis[row.kpi]
        unit = scale(rule.unit)
        record = _new_record(row, rule)
        record.update(ratio_low=math.nan, ratio_high=math.nan, pairs=0)
        if row.name in base_rows.index:
            other = base_rows.loc[row.name]
            if row.keyed is not None and other["keyed"] is not None:
                common = sorted(set(row.keyed) & set(other["keyed"]))
                b, h = [other["keyed"][k] for k in common], [row.keyed[k] for k in common]
            elif row.process is not None and other["process"] is not None:
                b, h = list(other["process"]), list(row.process)
            else:
                b, h = list(other["samples"]), list(row.samples)
            est = estimate(b, h)
            record.update(
                baseline=float(other["median"]) / unit,
                change=est.change,
                ratio_low=est.low,
                ratio_high=est.high,
                p_value=est.p_value,
                pairs=est.pairs,
                baseline_verdict=decide(est, alpha=thresholds.alpha, allowed_change=rule.ab_allowed_change),
                baseline_samples=np.asarray(other["samples"]) / unit,
            )
        records.append(record)
    rows = pd.DataFrame.from_records(records)
    kpis = _aggregate(rows, thresholds, True, True, ab=True)
    verdict = "fail" if (kpis["verdict"] == "fail").any() else ("warn" if (kpis["verdict"] == "warn").any() else "pass")
    notes = [f"same-run comparison: head against base {ref}, processes taken in turn; ratio = head/base"]
    return Comparison(rows, kpis, verdict, notes, base, reference=f"base {ref}")


def _aggregate(
    rows: pd.DataFrame, thresholds: Thresholds, gate_baseline: bool, has_baseline: bool, *, ab: bool = False
) -> pd.DataFrame:
    out = []
    for kpi, group in rows.groupby("kpi", sort=False):
        rule = thresholds.kpis[str(kpi)]
        worst = group.loc[group["value"].idxmax()]
        regressed = group[group["baseline_verdict"] == "regressed"]
        shown = regressed.loc[regressed["change"].idxmax()] if len(regressed) else worst
        base_value = float(group["baseline"].max()) if group["baseline"].notna().any() else math.nan
        verdict = str(worst["threshold_verdict"])
        reasons = []
        if verdict == "fail":
            reasons.append(f"{worst['name']} {worst['value']:.4g} {rule.unit} > threshold {rule.threshold:g}")
        elif verdict == "warn":
            reasons.append(f"{worst['name']} above target {rule.target:g}")
        allowed = rule.ab_allowed_change if ab else rule.allowed_change
        if len(regressed):
            against = (
                f"x{shown['change'] + 1:.3f} [{shown['ratio_low']:.3f}, {shown['ratio_high']:.3f}] vs base"
                if ab
                else f"{shown['change']:+.1%} vs baseline"
            )
            reasons.append(f"{shown['name']} {against} (p={shown['p_value']:.2g}, allowed {allowed:+.0%})")
            verdict = max(verdict, "fail" if gate_baseline else "warn", key=_ORDER.__getitem__)
        if has_baseline and group["baseline_verdict"].eq("new").all():
            reasons.append("new: not in the baseline")
        out.append(
            {
                "kpi": kpi,
                "unit": rule.unit,
                "value": float(worst["value"]),
                "target": rule.target,
                "threshold": rule.threshold,
                "goal": rule.goal if rule.goal is not None else math.nan,
                "goal_met": bool(rule.goal is None or worst["value"] <= rule.goal),
                "baseline": base_value,
                "change": float(shown["change"]),
                "p_value": float(shown["p_value"]),
                "ratio": float(shown["change"]) + 1,
                "ratio_low": float(shown["ratio_low"]) if "ratio_low" in shown else math.nan,
                "ratio_high": float(shown["ratio_high"]) if "ratio_high" in shown else math.nan,
                "rows": len(group),
                "regressed": len(regressed),
                "verdict": verdict,
                "why": "; ".join(reasons),
            }
        )
    return pd.DataFrame.from_records(out)


def render_table(comparison: Comparison) -> str:
    """The KPI table as text, with the notes above it."""
    k = comparison.kpis
    ab = comparison.reference != "baseline"
    if ab:
        ratio = [
            "-" if math.isnan(r) else f"x{r:.3f} [{lo:.3f}, {hi:.3f}]"
            for r, lo, hi in zip(k["ratio"], k["ratio_low"], k["ratio_high"], strict=True)
        ]
    table = pd.DataFrame(
        {
            "KPI": k["kpi"],
            "unit": k["unit"],
            "value": k["value"].map(lambda v: f"{v:.4g}"),
            "target": k["target"].map(lambda v: f"{v:g}"),
            "threshold": k["threshold"].map(lambda v: f"{v:g}"),
            "goal": [
                f"{g:g} {'met' if m else 'missed'}" if not math.isnan(g) else "-"
                for g, m in zip(k["goal"], k["goal_met"], strict=True)
            ],
            "base" if ab else "baseline": k["baseline"].map(lambda v: "-" if math.isnan(v) else f"{v:.4g}"),
            "head/base [CI]" if ab else "change": ratio
            if ab
            else k["change"].map(lambda v: "-" if math.isnan(v) else f"{v:+.1%}"),
            "p": k["p_value"].map(lambda v: "-" if math.isnan(v) else f"{v:.2g}"),
            "verdict": k["verdict"].str.upper(),
            "why": k["why"],
        }
    )
    lines = [*comparison.notes, table.to_string(index=False), f"overall: {comparison.verdict.upper()}"]
    return "\n".join(lines)


def summary(comparison: Comparison, run: RunResults) -> dict[str, Any]:
    """The machine-readable verdict: ``reports/summary.json``."""

    def clean(v: Any) -> Any:
        return None if isinstance(v, float) and (math.isnan(v) or math.isinf(v)) else v

    kpis = [
        {
            "name": r["kpi"],
            "unit": r["unit"],
            "value": clean(r["value"]),
            "target": r["target"],
            "threshold": r["threshold"],
            "goal": clean(r["goal"]),
            "goal_met": r["goal_met"],
            "baseline": clean(r["baseline"]),
            "change": clean(r["change"]),
            "p_value": clean(r["p_value"]),
            "ratio": clean(r["ratio"]),
            "ratio_low": clean(r["ratio_low"]),
            "ratio_high": clean(r["ratio_high"]),
            "verdict": r["verdict"],
            "why": r["why"],
        }
        for r in comparison.kpis.to_dict("records")
    ]
    if comparison.reference != "baseline":
        for kpi in kpis:
            kpi["base"], kpi["head"] = kpi["baseline"], kpi["value"]
    base = comparison.baseline
    return {
        "verdict": comparison.verdict,
        "reference": comparison.reference,
        "run": {
            "path": str(run.path),
            "machine": run.machine,
            "commit": run.commit,
            "datetime": run.datetime,
        },
        "baseline": None
        if base is None
        else {
            "path": str(base.path),
            "machine": base.machine,
            "commit": base.commit,
            "datetime": base.datetime,
        },
        "notes": comparison.notes,
        "kpis": kpis,
        "rows": [
            {k: clean(v) for k, v in r.items() if k not in ("samples", "baseline_samples", "keyed")}
            for r in comparison.rows.to_dict("records")
        ],
    }


def main(argv: list[str] | None = None) -> int:
    """``dynapi-check RUN [BASELINE]``: print the KPI table, exit 0, 1 or 2."""
    parser = argparse.ArgumentParser(prog="dynapi-check", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("run", type=Path, help="results JSON of this run (pytest-benchmark format)")
    parser.add_argument("baseline", type=Path, nargs="?", help="results JSON to compare with")
    parser.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS, help="thresholds YAML")
    parser.add_argument("--summary", type=Path, help="also write the verdict as JSON here")
    parser.add_argument(
        "--no-baseline-gate", action="store_true", help="report baseline changes without failing on them"
    )
    args = parser.parse_args(argv)
    try:
        thresholds = load_thresholds(args.thresholds)
        run = load_results(args.run)
        baseline = load_results(args.baseline) if args.baseline else None
        comparison = compare(run, baseline, thresholds, gate_baseline=not args.no_baseline_gate)
    except FrameworkError as exc:
        print(f"dynapi-check: error: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    print(render_table(comparison))
    if args.summary:
        atomic_write_json(args.summary, summary(comparison, run))
    return comparison.exit_code


if __name__ == "__main__":
    sys.exit(main())
