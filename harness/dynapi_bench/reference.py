"""What a run is judged against: a stored baseline, or a base commit measured beside it.

Both are a :class:`Reference`: each finds the row to compare with, measures the change
with its own statistics (unpaired against a baseline from another hour; paired process
by process against a base taken in turn), says which changes fail the build
(:meth:`Reference.gates`, :meth:`Reference.gate`), and describes itself in one sentence that
the table, summary.json, the HTML and the Markdown all use. Instruction counts need no
statistics on either: a count is the same every time, so its change is the ratio, certain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from dynapi_bench.environment import changes
from dynapi_bench.gating import WallTimeGate
from dynapi_bench.results import Results, Row
from dynapi_bench.stats import estimate, unpaired_p
from dynapi_bench.thresholds import KpiRule
from dynapi_bench.units import dimension

__all__ = ["BaseCommit", "Baseline", "Change", "Reference", "no_ratio"]


@dataclass(frozen=True, slots=True)
class Change:
    """A row against its reference: the ratio (run over reference), its interval where the
    reference gives one, and one-sided p-values that it grew and that it shrank."""

    ratio: float
    low: float = math.nan
    high: float = math.nan
    p_up: float = math.nan
    p_down: float = math.nan
    n: int = 0  # processes or pairs behind it
    exact: bool = False  # an instruction count: the ratio is the change, no statistics behind it

    @property
    def change(self) -> float:
        return self.ratio - 1.0


class Reference(Protocol):
    """A kind of reference: how it compares a row, and how every report names it."""

    @property
    def kind(self) -> str:
        """The column header: ``baseline`` or ``base``."""
        ...

    @property
    def head(self) -> str:
        """The header of this run's column: ``value`` or ``head``."""
        ...

    @property
    def label(self) -> str:
        """The reference in a plot's legend."""
        ...

    @property
    def results(self) -> Results: ...

    def compare(self, row: Row, other: Row) -> Change: ...

    def allowed(self, rule: KpiRule) -> float: ...

    def gates(self, rule: KpiRule, ratio: float, factor: float) -> bool:
        """Whether a regression of a row of this KPI, by ``ratio``, fails the build."""
        ...

    def gate(self, rule: KpiRule, factor: float) -> str:
        """How this KPI is gated against this reference, in a few words (the report's column)."""
        ...

    def environment_changes(self, run: Results) -> list[str]:
        """What differs between the run's environment and the reference's, where it matters."""
        ...

    def describe(self, alpha: float) -> str: ...

    def confirm(self) -> str:
        """What would confirm an inconclusive change."""
        ...

    def format_change(self, change: float, low: float, high: float) -> str:
        """A change as this reference states it."""
        ...

    def info(self) -> dict[str, Any]:
        """Where the reference comes from, for summary.json."""
        ...


def _paired(row: Row, other: Row) -> tuple[list[float], list[float]] | None:
    """Memory per test: the same tests on both sides, in one order (None without peaks)."""
    if row.keyed is None or other.keyed is None:
        return None
    common = sorted(set(row.keyed) & set(other.keyed))
    return [other.keyed[k] for k in common], [row.keyed[k] for k in common]


def no_ratio(row: Row, other: Row) -> bool:
    """A difference (ours minus a contender's) at or below zero on either side has no ratio to
    its reference: -45 ms against -79 ms is no change of x0.57, nor of xinf."""
    return row.measure == "difference" and (row.value <= 0 or other.value <= 0)


def counted(row: Row, other: Row) -> Change:
    """Two counts: the ratio, certain either way (tests both sides counted, where keyed)."""
    if row.keyed is not None and other.keyed is not None:
        common = sorted(set(row.keyed) & set(other.keyed))
        head, base = sum(row.keyed[k] for k in common), sum(other.keyed[k] for k in common)
    else:
        head, base = row.value, other.value
    ratio = head / base if base > 0 else (1.0 if head == 0 else math.inf)
    return certain(ratio)


def certain(ratio: float) -> Change:
    """A count's change: the ratio itself, with no test behind it (no p-value to show)."""
    return Change(ratio, n=1, exact=True)


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True)
class Baseline:
    """A stored run of another hour: the ratio of the rows' values (fastest processes);
    significance where both the raw samples and the process medians (the unit of
    replication) say so. Memory per test is paired test by test: it does not drift, and
    unpaired peaks of tests of very different sizes hide a uniform growth."""

    results: Results
    kind: str = "baseline"
    head: str = "value"

    @property
    def label(self) -> str:
        return "baseline"

    def compare(self, row: Row, other: Row) -> Change:
        if row.measure == "instructions":
            return counted(row, other)
        if no_ratio(row, other):
            return Change(math.nan)
        paired = _paired(row, other)
        if paired is not None:
            up = estimate(*paired)
            down = estimate(paired[1], paired[0], interval=False)
            return Change(up.ratio, up.low, up.high, up.p_value, down.p_value, up.pairs)
        ratio = row.value / other.value if other.value > 0 else (1.0 if row.value == 0 else math.inf)
        p = {}
        for alternative in ("greater", "less"):
            found = unpaired_p(row.samples, other.samples, alternative)
            if row.process is not None and other.process is not None:
                # The process is the unit of replication: where it allows no test, nothing is significant.
                by_process = unpaired_p(row.process, other.process, alternative)
                found = math.nan if math.isnan(by_process) else max(found, by_process)
            p[alternative] = found
        n = len(row.process) if row.process is not None else len(row.samples)
        return Change(ratio, p_up=p["greater"], p_down=p["less"], n=n)

    def allowed(self, rule: KpiRule) -> float:
        return rule.allowed_change

    def gates(self, rule: KpiRule, ratio: float, factor: float) -> bool:
        return dimension(rule.unit) != "time" or ratio > factor

    def gate(self, rule: KpiRule, factor: float) -> str:
        kind = dimension(rule.unit)
        if kind == "instructions":
            return f"counts: beyond {rule.allowed_change:+.0%}"
        if kind == "memory":
            return f"beyond {rule.allowed_change:+.0%}, significant"
        return f"wall time: beyond x{factor:g} only"

    def environment_changes(self, run: Results) -> list[str]:
        return changes(self.results.extra.get("environment") or {}, run.extra.get("environment") or {})

    def describe(self, alpha: float) -> str:
        r = self.results
        name = r.path.name if r.path is not None else r.commit
        return (
            f"baseline {name} (commit {r.commit}, {r.datetime[:19]}, machine {r.machine}): time values are each "
            f"row's fastest process; a change counts when it is larger than the KPI's allowed change and significant "
            f"(one-sided Mann-Whitney U on raw samples and on process medians, p < {alpha:g}; memory per test compared "
            f"test by test), or larger than the large-change factor whatever the statistics; instruction counts "
            f"change by their ratio, with no statistics, and are the gate of the CPU-bound KPIs (their wall time is "
            f"reported; a KPI without counts fails on wall time only beyond the large-change factor)"
        )

    def confirm(self) -> str:
        return "confirm with a full run (5 processes) or --against"

    def format_change(self, change: float, low: float, high: float) -> str:
        return f"{change:+.1%}" if _finite(change) else "-"

    def info(self) -> dict[str, Any]:
        r = self.results
        return {
            "machine": r.machine,
            "commit": r.commit,
            "datetime": r.datetime,
            "path": str(r.path) if r.path else None,
        }


@dataclass(frozen=True)
class BaseCommit:
    """A base commit measured in the same run, its processes taken in turn with head's:
    the median of paired head/base ratios, a bootstrap interval and a one-sided sign test."""

    results: Results
    ref: str
    sha: str
    kind: str = "base"
    head: str = "head"
    interval: bool = True  # False skips the bootstrap: the self-test judges thousands of comparisons
    wall_time: Mapping[str, WallTimeGate] | None = None  # None: every wall-time KPI gated at ab_allowed_change
    quick: bool = False  # 3 pairs: wall time gated only beyond the large-change factor

    @property
    def label(self) -> str:
        return f"base {self.sha[:12]}"

    def compare(self, row: Row, other: Row) -> Change:
        if row.measure == "instructions":
            return counted(row, other)
        if no_ratio(row, other):
            return Change(math.nan)
        paired = _paired(row, other)
        if paired is not None:
            base, head = paired
        elif row.process is not None and other.process is not None:
            base, head = list(other.process), list(row.process)
        else:
            base, head = list(other.samples), list(row.samples)
        up = estimate(base, head, interval=self.interval)
        down = estimate(head, base, interval=False)
        return Change(up.ratio, up.low, up.high, up.p_value, down.p_value, up.pairs)

    def _wall(self, rule: KpiRule) -> WallTimeGate | None:
        if self.wall_time is None or dimension(rule.unit) != "time":
            return None
        return self.wall_time.get(rule.name) or WallTimeGate(rule.name)

    def allowed(self, rule: KpiRule) -> float:
        if self.quick and dimension(rule.unit) == "time":
            return math.inf
        wall = self._wall(rule)
        return rule.ab_allowed_change if wall is None else wall.allowed(rule.ab_allowed_change)

    def gates(self, rule: KpiRule, ratio: float, factor: float) -> bool:
        return True

    def gate(self, rule: KpiRule, factor: float) -> str:
        kind = dimension(rule.unit)
        if kind == "instructions":
            return f"counts: beyond {rule.ab_allowed_change:+.0%}"
        if self.quick and kind == "time":
            return f"wall time: beyond x{factor:g} only (--quick: 3 pairs)"
        wall = self._wall(rule)
        if wall is None:
            return f"beyond {rule.ab_allowed_change:+.0%}, significant" + (
                " (paired by test)" if kind == "memory" else ""
            )
        return wall.describe(rule.ab_allowed_change, factor)

    def environment_changes(self, run: Results) -> list[str]:
        return []  # the base's environment is built from its own commit: a change there is the change under test

    def describe(self, alpha: float) -> str:
        return (
            f"base {self.ref} (commit {self.sha[:12]}) measured in this run, processes taken in turn: time values are "
            f"each side's fastest process, the change is the median of the paired head/base ratios (its 98% "
            f"interval in brackets); a change counts when it is larger than the KPI's allowed change and a "
            f"one-sided sign test agrees (p < {alpha:g}), or when it is larger than the large-change factor; "
            f"instruction counts of both sides change by their ratio, with no statistics"
        )

    def confirm(self) -> str:
        return "run --against again to add pairs"

    def format_change(self, change: float, low: float, high: float) -> str:
        if not _finite(change):
            return "-"
        interval = f" [{low:.3f}, {high:.3f}]" if _finite(low) and _finite(high) else ""
        return f"x{change + 1:.3f}{interval}"

    def info(self) -> dict[str, Any]:
        return {"ref": self.ref, "sha": self.sha}
