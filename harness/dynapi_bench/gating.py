"""Which wall-time KPIs the same-run A/B may gate, from the self-test's own records.

``dynapi-bench selftest --save`` stores what it measured per timing KPI (A/A false alarms,
+10% caught, the A/A spread) under ``baselines/<machine>/selftest/``. A KPI is *proven* when
each of the three newest records met the bar (<= 1% A/A alarms, >= 95% of +10% caught):
``--against`` then gates it at its ``ab_allowed_change``. Otherwise its wall-time change is
reported and gated only beyond the largest A/A spread those records measured, and with no
record at all only beyond the large-change factor. The machine's mood decides a single
self-test run (one met the bar, the next missed it), hence three, at different hours.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynapi_bench.errors import ResultsError

__all__ = ["RECORDS", "WallTimeGate", "wall_time_gates"]

RECORDS = 3  # self-test runs that must all meet the bar


@dataclass(frozen=True)
class WallTimeGate:
    """One timing KPI's standing in the newest self-test records of this machine kind."""

    kpi: str
    runs: int = 0  # records that measured it (at most RECORDS)
    met: int = 0  # of which met the bar
    spread: float = math.nan  # the largest A/A change they measured (0.08 = +8%)

    @property
    def proven(self) -> bool:
        return self.runs >= RECORDS and self.met == self.runs

    def allowed(self, default: float) -> float:
        """The change beyond which ``--against`` flags this KPI's wall time."""
        if self.proven:
            return default
        if math.isfinite(self.spread):
            return max(default, self.spread)
        return math.inf  # nothing measured: only the large-change factor

    def describe(self, default: float, factor: float) -> str:
        if self.proven:
            return f"wall time: beyond {default:+.0%} (self-test met the bar {self.met}/{RECORDS})"
        if math.isfinite(self.spread):
            return (
                f"wall time: beyond the A/A spread {self.allowed(default):+.0%} "
                f"(self-test met the bar {self.met}/{self.runs} runs, needs {RECORDS}/{RECORDS})"
            )
        return f"wall time: beyond x{factor:g} only (no self-test record)"


def _record(path: Path) -> Mapping[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultsError(
            f"{path}: not a readable self-test record ({exc}); delete it or run the self-test again"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("kpis"), dict):
        raise ResultsError(f"{path}: no 'kpis' in this self-test record; delete it or run the self-test again")
    return data


def wall_time_gates(folder: Path) -> dict[str, WallTimeGate]:
    """Each timing KPI's gate from the :data:`RECORDS` newest records in ``folder``."""
    paths: Sequence[Path] = sorted(folder.glob("*.json"))[-RECORDS:] if folder.is_dir() else []
    found: dict[str, WallTimeGate] = {}
    for path in paths:
        for kpi, figures in _record(path)["kpis"].items():
            old = found.get(kpi, WallTimeGate(kpi))
            spread = float(figures.get("spread", math.nan))
            found[kpi] = WallTimeGate(
                kpi,
                runs=old.runs + 1,
                met=old.met + bool(figures.get("met")),
                spread=max(old.spread, spread) if math.isfinite(old.spread) else spread,
            )
    return found
