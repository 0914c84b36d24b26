"""One judge: every row of a run against its KPI's thresholds and against a reference.

A row's verdict against the reference (:mod:`dynapi_bench.reference`) follows one rule:

- ``regression`` when the change is beyond the large-change factor, whatever the
  statistics (asv's rule: stored runs of one commit drift by up to x1.45 per KPI here, so
  a change beyond that is not drift), or larger than the allowed change *and* significant;
- ``inconclusive`` when it is larger than the allowed change but the samples cannot
  confirm it (shown with its figures and what would confirm it, never a silent pass);
- ``improved`` when the mirror image holds; ``pass`` otherwise; ``new`` without a reference row.

Each KPI with several cases also gets a row of its own, ``KPI[geomean of N]``, the geometric
mean of its cases' ratios, held to the KPI factor (``large_change.kpi``); any single case is
held to the case factor (a case alone is noisier). A single-case KPI holds its case to the
KPI factor. Against thresholds a row fails above the threshold and warns above the target.
A KPI's verdict is its most severe row's, and its value, reference and change are all that
row's, named in the table.

Which regressions fail the build is the reference's call (:meth:`Reference.gates`): counts
and memory always; wall time against a stored baseline only beyond the large-change factor
(the counts are the gate of the CPU-bound KPIs, and wall time drifts between runs), against
a base commit as far as the self-test proved (:mod:`dynapi_bench.gating`). Counts are not
gated when the environment differs from the baseline's (:mod:`dynapi_bench.environment`):
the table names what changed. Exit 1 only when a KPI fails or a gated row regresses.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dynapi_bench.errors import ExitCode, ResultsError
from dynapi_bench.reference import Change, Reference, certain, no_ratio
from dynapi_bench.results import Results, Row
from dynapi_bench.thresholds import KpiRule, LargeChange, Thresholds
from dynapi_bench.units import dimension, scale

__all__ = ["Judgement", "Verdict", "judge", "verdict_of"]


class Verdict(enum.StrEnum):
    """The closed set of verdicts, most severe first (:attr:`severity`)."""

    FAIL = "fail"  # above the KPI's threshold
    REGRESSION = "regression"  # worse than the reference, beyond doubt or beyond the factor
    INCONCLUSIVE = "inconclusive"  # larger than allowed, not confirmed by the samples
    WARN = "warn"  # above the KPI's target
    MISSING = "missing"  # in the reference, not in this run
    IMPROVED = "improved"
    PASS = "pass"
    NEW = "new"  # nothing to compare with: below pass, so one new case hides no comparison

    @property
    def severity(self) -> int:
        return len(Verdict) - list(Verdict).index(self)


def verdict_of(
    change: Change, *, allowed: float, alpha: float, factor: float, confirm: str = "confirm with more processes"
) -> tuple[Verdict, str]:
    """A change against a reference as a verdict and its reason (empty for a plain pass)."""
    ratio = change.ratio
    if math.isnan(ratio):
        return Verdict.NEW, "no figure to compare"
    p_up = f"p={change.p_up:.2g}" if not math.isnan(change.p_up) else "no test possible"
    if ratio > factor:
        return Verdict.REGRESSION, f"x{ratio:.3f} is beyond the large-change factor x{factor:g} ({p_up})"
    if change.exact:  # a count: the same every time, so no test of significance
        if ratio - 1 > allowed:
            return Verdict.REGRESSION, f"x{ratio:.3f} > allowed {allowed:+.0%} (an instruction count: exact)"
        if ratio - 1 < -allowed:
            return Verdict.IMPROVED, f"x{ratio:.3f}"
        return Verdict.PASS, ""
    if ratio - 1 > allowed:
        if change.p_up < alpha:
            return Verdict.REGRESSION, f"x{ratio:.3f} > allowed {allowed:+.0%}, significant ({p_up} < {alpha:g})"
        return Verdict.INCONCLUSIVE, (
            f"x{ratio:.3f} > allowed {allowed:+.0%} but not confirmed ({p_up}, needs < {alpha:g}); {confirm}"
        )
    if ratio < 1 / factor or (ratio - 1 < -allowed and change.p_down < alpha):
        return Verdict.IMPROVED, f"x{ratio:.3f}"
    return Verdict.PASS, ""


def _threshold(value: float, rule: KpiRule) -> tuple[Verdict, str]:
    if value > rule.threshold:
        return Verdict.FAIL, f"{value:.4g} {rule.unit} > threshold {rule.threshold:g}"
    if value > rule.target:
        return Verdict.WARN, f"{value:.4g} {rule.unit} > target {rule.target:g}"
    return Verdict.PASS, ""


@dataclass
class Judgement:
    """The judged rows and KPIs of one run, and what they were judged against."""

    run: Results
    thresholds: Thresholds
    rows: pd.DataFrame  # one line per row (cases and geomean rows), see _ROW_COLUMNS
    kpis: pd.DataFrame  # one line per KPI: its deciding row's figures and verdict
    reference: Reference | None = None
    gated: bool = True
    notes: list[str] = field(default_factory=list)

    environment: list[str] = field(default_factory=list)  # what differs from the baseline's environment

    @property
    def failed(self) -> list[str]:
        """KPIs that fail the build: a row above a threshold, or a gated row regressed."""
        bad = (self.rows["verdict"] == Verdict.FAIL.value) | (
            (self.rows["verdict"] == Verdict.REGRESSION.value) & self.rows["gated"].astype(bool)
        )
        return list(dict.fromkeys(str(k) for k in self.rows.loc[bad, "kpi"]))

    @property
    def verdict(self) -> Verdict:
        """The run's verdict: ``fail`` when a KPI fails the build, ``warn`` when one needs a
        look (above target, inconclusive, missing, an ungated regression), else ``pass``."""
        if self.failed:
            return Verdict.FAIL
        look = {Verdict.WARN, Verdict.REGRESSION, Verdict.INCONCLUSIVE, Verdict.MISSING}
        return Verdict.WARN if any(Verdict(v) in look for v in self.kpis["verdict"]) else Verdict.PASS

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.REGRESSION if self.failed else ExitCode.OK

    def describe(self) -> str:
        """What the run was judged against, in one sentence."""
        if self.reference is None:
            return "no baseline of this machine kind: thresholds only; save one with `nox -s bench -- --save-baseline`"
        return self.reference.describe(self.thresholds.alpha)


def _check_rules(run: Results, thresholds: Thresholds) -> None:
    for row in run.rows:
        rule = thresholds.kpis.get(row.kpi)
        if rule is None:
            raise ResultsError(
                f"{run.where}: KPI {row.kpi!r} has no rule in {thresholds.path}; add one (unit, target, threshold)"
            )
        if dimension(rule.unit) != ("time" if row.measure == "difference" else row.measure):
            raise ResultsError(
                f"{thresholds.path}: kpis.{row.kpi}.unit {rule.unit!r} does not measure {row.measure}; fix the unit"
            )


def judge(run: Results, thresholds: Thresholds, reference: Reference | None = None, *, gated: bool = True) -> Judgement:
    """Judge every row of ``run``; see the module docstring for the rule."""
    _check_rules(run, thresholds)
    notes: list[str] = []
    others = reference.results.by_name if reference is not None else {}
    mine = run.by_name
    if reference is not None:
        if not set(others) & set(mine):
            raise ResultsError(
                f"{reference.results.where}: shares no benchmark with this run, so the gate would judge nothing; "
                "name a baseline of this project, or save a new one with `nox -s bench -- --save-baseline`"
            )
        if reference.results.machine != run.machine:
            notes.append(
                f"{reference.kind} recorded on {reference.results.machine}, this run on {run.machine}: compared anyway"
            )
        if not gated:
            notes.append(
                f"timing changes against the {reference.kind} are reported, not gated "
                "(thresholds, memory and counts still fail the build)"
            )
    environment = reference.environment_changes(run) if reference is not None else []
    if environment:
        notes.append(
            "environment differs from the baseline's: "
            + ", ".join(environment[:6])
            + ("" if len(environment) <= 6 else f" and {len(environment) - 6} more")
            + "; instruction counts are reported, not gated (run --against to judge the code)"
        )
    # CPU-bound KPIs counted on both sides, in one environment: the counts are their verdict
    # against a stored baseline, and their wall time is reported only.
    counted = {
        k.removesuffix("_instructions")
        for k in run.kpis
        if k.endswith("_instructions") and reference is not None and k in reference.results.kpis and not environment
    }
    policy = _Policy(reference, gated, bool(environment), frozenset(counted))
    records: list[dict[str, Any]] = []
    for kpi in run.kpis:
        rule = thresholds.kpis[kpi]
        rows = [r for r in run.rows if r.kpi == kpi]
        factor = thresholds.large_change.kpi if len(rows) == 1 else thresholds.large_change.case
        changes: list[tuple[float, float]] = []  # (value, ratio) of each compared case
        for row in rows:
            other = others.get(row.name)
            change = reference.compare(row, other) if reference is not None and other is not None else None
            if change is not None:
                changes.append((row.value, change.ratio))
            records.append(
                _record(
                    name=row.name,
                    kpi=kpi,
                    rule=rule,
                    value_base=row.value,
                    row=row,
                    other=other,
                    change=change,
                    thresholds=thresholds,
                    reference=reference,
                    factor=factor,
                    policy=policy,
                )
            )
        if len(rows) > 1 and len(changes) > 1 and reference is not None:
            # The value is over the same cases as the ratio, so that value / ratio is their reference.
            usable = [(v, c) for v, c in changes if c > 0 and math.isfinite(c)]
            ratios = [c for _, c in usable]
            geo = Change(float(np.exp(np.mean(np.log(ratios)))), n=len(usable)) if usable else Change(math.nan)
            if usable and rows[0].measure == "instructions":
                geo = certain(geo.ratio)
            value = float(np.exp(np.mean(np.log([max(v, 1e-300) for v, _ in usable])))) if usable else math.nan
            name = f"{kpi}[geomean of {len(usable)}]"
            records.append(
                _record(
                    name=name,
                    kpi=kpi,
                    rule=rule,
                    value_base=value,
                    row=None,
                    other=None,
                    change=geo,
                    thresholds=thresholds,
                    reference=reference,
                    factor=thresholds.large_change.kpi,
                    policy=policy,
                )
            )
        missing = [n for n, o in others.items() if o.kpi == kpi and n not in mine]
        if missing:
            notes.append(f"{kpi}: {len(missing)} case(s) of the reference not in this run: {', '.join(missing[:3])}")
    for kpi in dict.fromkeys(o.kpi for o in others.values()):
        if kpi not in run.kpis and kpi in thresholds.kpis:
            records.append(_missing(kpi, thresholds.kpis[kpi], others))
    rows_frame = pd.DataFrame.from_records(records)
    kpis = _kpis(rows_frame, thresholds)
    kpis["gate"] = [policy.describe(thresholds.kpis[str(k)], thresholds.large_change) for k in kpis["kpi"]]
    return Judgement(run, thresholds, rows_frame, kpis, reference, gated, notes, environment)


@dataclass(frozen=True)
class _Policy:
    """Which rows fail the build: the reference's rule, less what the run's options and its
    environment take away (``--no-baseline-gate`` for wall time; a changed environment for counts)."""

    reference: Reference | None
    gated: bool
    environment_changed: bool
    counted: frozenset[str] = frozenset()  # KPIs whose counts gate them against a baseline

    def _by_counts(self, rule: KpiRule) -> bool:
        return self.reference is not None and self.reference.kind == "baseline" and rule.name in self.counted

    def gates(self, rule: KpiRule, ratio: float, factor: float) -> bool:
        kind = dimension(rule.unit)
        if rule.contender:  # measured beside its contender: the threshold is the gate
            return False
        if self.reference is None or (kind == "time" and (not self.gated or self._by_counts(rule))):
            return False
        if kind == "instructions" and self.environment_changed:
            return False
        return self.reference.gates(rule, ratio, factor)

    def describe(self, rule: KpiRule, large: LargeChange) -> str:
        kind = dimension(rule.unit)
        if rule.contender:
            return f"threshold: beside {rule.contender}, in this run"
        if self.reference is None:
            return "thresholds only" if math.isfinite(rule.threshold) else "no reference"
        if kind == "time" and not self.gated:
            return "reported, not gated"
        if kind == "time" and self._by_counts(rule):
            return f"wall time reported; counts gate it ({rule.name}_instructions)"
        if kind == "instructions" and self.environment_changed:
            return "reported: the environment changed"
        return self.reference.gate(rule, large.kpi)


def _record(
    *,
    name: str,
    kpi: str,
    rule: KpiRule,
    value_base: float,
    row: Row | None,
    other: Row | None,
    change: Change | None,
    thresholds: Thresholds,
    reference: Reference | None,
    factor: float,
    policy: _Policy,
) -> dict[str, Any]:
    unit = scale(rule.unit)
    value = value_base / unit
    by_threshold, threshold_why = _threshold(value, rule) if row is not None else (Verdict.PASS, "")
    if reference is None:  # thresholds only: nothing is new, there is nothing to be new to
        by_reference, reference_why = Verdict.PASS, ""
    elif change is None:
        by_reference, reference_why = Verdict.NEW, "not in the reference"
    elif row is not None and other is not None and no_ratio(row, other):  # compare() gave no ratio
        by_reference, reference_why = Verdict.PASS, "no ratio to a difference at or below zero"
    else:
        by_reference, reference_why = verdict_of(
            change,
            allowed=reference.allowed(rule),
            alpha=thresholds.alpha,
            factor=factor,
            confirm=reference.confirm(),
        )
    verdict = max(by_threshold, by_reference, key=lambda v: v.severity)
    if by_threshold is Verdict.PASS and by_reference is Verdict.NEW:
        verdict = Verdict.NEW  # a row of its own that is new, though new ranks below pass in a KPI
    why = threshold_why if verdict is by_threshold and verdict is not Verdict.PASS else reference_why
    return {
        "kpi": kpi,
        "name": name,
        "unit": rule.unit,
        "value": value,
        "reference": other.value / unit
        if other is not None
        else (math.nan if row is not None or change is None else value / change.ratio),
        "ratio": change.ratio if change is not None else math.nan,
        "change": change.change if change is not None else math.nan,
        "low": change.low if change is not None else math.nan,
        "high": change.high if change is not None else math.nan,
        "p_value": change.p_up if change is not None else math.nan,
        "n": change.n if change is not None else 0,
        "samples": row.samples / unit if row is not None else None,
        "reference_samples": other.samples / unit if other is not None else None,
        "threshold_verdict": by_threshold.value,
        "reference_verdict": by_reference.value,
        "verdict": verdict.value,
        "why": why,
        "factor": factor,
        "gated": verdict is Verdict.FAIL
        or (verdict is Verdict.REGRESSION and change is not None and policy.gates(rule, change.ratio, factor)),
    }


def _missing(kpi: str, rule: KpiRule, others: dict[str, Row]) -> dict[str, Any]:
    names = [n for n, o in others.items() if o.kpi == kpi]
    return {
        "kpi": kpi,
        "name": names[0],
        "unit": rule.unit,
        "value": math.nan,
        "reference": others[names[0]].value / scale(rule.unit),
        "ratio": math.nan,
        "change": math.nan,
        "low": math.nan,
        "high": math.nan,
        "p_value": math.nan,
        "n": 0,
        "samples": None,
        "reference_samples": others[names[0]].samples / scale(rule.unit),
        "threshold_verdict": Verdict.PASS.value,
        "reference_verdict": Verdict.MISSING.value,
        "verdict": Verdict.MISSING.value,
        "why": f"in the reference ({len(names)} case(s)), not measured in this run",
        "factor": math.nan,
        "gated": False,
    }


def _kpis(rows: pd.DataFrame, thresholds: Thresholds) -> pd.DataFrame:
    """One line per KPI: its deciding row (most severe verdict; then the largest change for
    a change verdict, else the largest value), with every figure from that same row."""
    out = []
    for kpi, group in rows.groupby("kpi", sort=False):
        rule = thresholds.kpis[str(kpi)]
        ranked = group.assign(
            _severity=[Verdict(v).severity for v in group["verdict"]],
            _size=[
                r if v in (Verdict.REGRESSION, Verdict.INCONCLUSIVE, Verdict.IMPROVED) else val
                for v, r, val in zip(group["verdict"], group["ratio"].fillna(0), group["value"].fillna(0), strict=True)
            ],
        ).sort_values(["_severity", "_size"], ascending=False)
        top = ranked.iloc[0]
        if Verdict(top["verdict"]) is Verdict.IMPROVED:
            top = ranked.sort_values(["_severity", "_size"], ascending=[False, True]).iloc[0]
        out.append(
            {
                "kpi": kpi,
                "row": top["name"],
                "unit": rule.unit,
                "value": top["value"],
                "target": rule.target,
                "threshold": rule.threshold,
                "goal": rule.goal if rule.goal is not None else math.nan,
                "goal_met": bool(rule.goal is None or group["value"].max() <= rule.goal),
                "reference": top["reference"],
                "ratio": top["ratio"],
                "change": top["change"],
                "low": top["low"],
                "high": top["high"],
                "p_value": top["p_value"],
                "cases": int(group["samples"].notna().sum()),
                "verdict": top["verdict"],
                "why": top["why"],
            }
        )
    return pd.DataFrame.from_records(out)
