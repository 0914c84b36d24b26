"""The gate's rules per KPI, read from ``benchmarks/thresholds.yaml``: data, not code.

Besides each KPI's unit, target, threshold and allowed changes, the file sets the
large-change factors: a change beyond them fails whatever the statistics say (asv's rule),
since stored baselines of one commit drift by up to x1.45 per KPI on this machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import yaml

from dynapi_bench.errors import ThresholdsError
from dynapi_bench.units import UNITS

__all__ = ["KpiRule", "LargeChange", "Thresholds", "load_thresholds"]

_KEYS = {"alpha", "kpis", "large_change"}
_RULE_KEYS = {"description", "unit", "target", "threshold", "goal", "allowed_change", "ab_allowed_change", "contender"}


@dataclass(frozen=True, slots=True)
class KpiRule:
    """One KPI's unit, limits and the change against the baseline it may make."""

    name: str
    unit: str
    target: float  # math.inf where the KPI has none (instruction counts: judged by change only)
    threshold: float
    allowed_change: float
    goal: float | None = None
    description: str = ""
    ab_allowed_change: float = 0.05
    contender: str = ""  # a same-run comparison with this: judged by its threshold, its change reported


@dataclass(frozen=True, slots=True)
class LargeChange:
    """Factors beyond which a change fails without significance: ``kpi`` for the geometric
    mean of a KPI's cases (or its single case), ``case`` for any one case."""

    kpi: float = 1.6
    case: float = 2.2


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every KPI's rule, the significance level, and the large-change factors."""

    path: Path
    alpha: float
    kpis: dict[str, KpiRule]
    large_change: LargeChange = LargeChange()


def load_thresholds(path: Path) -> Thresholds:
    """Read and check the thresholds file; every problem is one line naming the fix."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ThresholdsError(f"{path}: not found; pass --thresholds PATH") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ThresholdsError(f"{path}: cannot be read ({exc}); name a thresholds YAML file") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = exc.problem or "not valid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise ThresholdsError(f"{where}: not valid YAML: {problem}{context}; fix the YAML there") from None
    except yaml.YAMLError as exc:
        raise ThresholdsError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("kpis"), dict) or not raw["kpis"]:
        raise ThresholdsError(f"{path}: expected a mapping with 'alpha' and 'kpis: {{name: rule}}'")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ThresholdsError(f"{path}: unknown keys {sorted(unknown)}; expected {sorted(_KEYS)}")
    alpha = raw.get("alpha", 0.01)
    if not _number(alpha) or not 0 < alpha < 1:
        raise ThresholdsError(f"{path}: alpha: expected a number between 0 and 1, got {alpha!r}")
    rules = {str(name): _rule(path, str(name), rule) for name, rule in raw["kpis"].items()}
    return Thresholds(path, float(alpha), rules, _large_change(path, raw.get("large_change")))


def _large_change(path: Path, raw: Any) -> LargeChange:
    if raw is None:
        return LargeChange()
    if not isinstance(raw, dict) or set(raw) - {"kpi", "case"}:
        raise ThresholdsError(f"{path}: large_change: expected a mapping with 'kpi' and 'case' factors, got {raw!r}")
    found = LargeChange(**{k: raw.get(k, getattr(LargeChange(), k)) for k in ("kpi", "case")})
    for key in ("kpi", "case"):
        value = getattr(found, key)
        if not _number(value) or value <= 1:
            raise ThresholdsError(f"{path}: large_change.{key}: expected a factor above 1 (1.6 = +60%), got {value!r}")
    return found


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _rule(path: Path, name: str, rule: Any) -> KpiRule:
    where = f"{path}: kpis.{name}"
    if not isinstance(rule, dict):
        raise ThresholdsError(f"{where}: expected a mapping with unit, target, threshold, allowed_change")
    unknown = set(rule) - _RULE_KEYS
    if unknown:
        raise ThresholdsError(f"{where}: unknown keys {sorted(unknown)}; expected {sorted(_RULE_KEYS)}")
    unit = rule.get("unit")
    if unit not in UNITS:
        raise ThresholdsError(f"{where}.unit: unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    # A count has no absolute limit in the seed document: only its change is judged.
    limits = ("target", "threshold") if UNITS[unit][0] != "instructions" or "target" in rule else ()
    contender = rule.get("contender", "")
    if not isinstance(contender, str):
        raise ThresholdsError(f"{where}.contender: expected text naming what the KPI is measured beside")
    if contender:  # a same-run comparison: the threshold is its gate, a change is reported only
        rule = {"allowed_change": 0.5, **rule}
    for key in (*limits, "allowed_change"):
        value = rule.get(key)
        if not _number(value) or value < 0:
            raise ThresholdsError(f"{where}.{key}: expected a number >= 0, got {value!r}")
    ab_allowed = rule.get("ab_allowed_change", 0.05)
    if not _number(ab_allowed) or ab_allowed < 0:
        raise ThresholdsError(f"{where}.ab_allowed_change: expected a number >= 0, got {ab_allowed!r}")
    goal = rule.get("goal")
    if goal is not None and (not _number(goal) or goal < 0):
        raise ThresholdsError(f"{where}.goal: expected a number >= 0, got {goal!r}")
    target, threshold = (float(rule["target"]), float(rule["threshold"])) if limits else (math.inf, math.inf)
    if target > threshold:
        raise ThresholdsError(f"{where}: target {target:g} is above threshold {threshold:g}; swap them")
    return KpiRule(
        name=name,
        unit=unit,
        target=target,
        threshold=threshold,
        goal=float(goal) if goal is not None else None,
        allowed_change=float(rule["allowed_change"]),
        description=str(rule.get("description", "")),
        ab_allowed_change=float(ab_allowed),
        contender=contender,
    )
