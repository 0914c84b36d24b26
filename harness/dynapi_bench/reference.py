"""What a run is judged against: a stored baseline, or a base commit measured beside it.

Both are a :class:`Reference`: each finds the row to compare with, measures the change
with its own statistics (unpaired against a baseline from another hour; paired process
by process against a base taken in turn), and describes itself in one sentence that the
table, summary.json, the HTML and the Markdown all use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from dynapi_bench.results import Results, Row
from dynapi_bench.stats import estimate, unpaired_p
from dynapi_bench.thresholds import KpiRule

__all__ = ["BaseCommit", "Baseline", "Change", "Reference"]


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

    @property
    def change(self) -> float:
        return self.ratio - 1.0


class Reference(Protocol):
    """A kind of reference: how it compares a row and how it says so."""

    # Read-only, so that frozen dataclasses (Baseline, BaseCommit) satisfy the protocol.
    @property
    def kind(self) -> str:
        """``baseline`` or ``base``: the column header."""
        ...

    @property
    def results(self) -> Results: ...

    def compare(self, row: Row, other: Row) -> Change: ...

    def allowed(self, rule: KpiRule) -> float: ...

    def describe(self, alpha: float) -> str: ...


@dataclass(frozen=True)
class Baseline:
    """A stored run of another hour: the ratio of medians; significance where both sides'
    process medians (the unit of replication) and raw samples agree."""

    results: Results
    kind: str = "baseline"

    def compare(self, row: Row, other: Row) -> Change:
        ratio = row.value / other.value if other.value > 0 else (1.0 if row.value == 0 else math.inf)
        p = {}
        for alternative in ("greater", "less"):
            found = unpaired_p(row.samples, other.samples, alternative)
            if row.process is not None and other.process is not None:
                found = max(found, unpaired_p(row.process, other.process, alternative))
            p[alternative] = found
        n = len(row.process) if row.process is not None else len(row.samples)
        return Change(ratio, p_up=p["greater"], p_down=p["less"], n=n)

    def allowed(self, rule: KpiRule) -> float:
        return rule.allowed_change

    def describe(self, alpha: float) -> str:
        r = self.results
        name = r.path.name if r.path is not None else r.commit
        return (
            f"baseline {name} (commit {r.commit}, {r.datetime[:19]}, machine {r.machine}): a change counts when it "
            f"is larger than the KPI's allowed change and significant (one-sided Mann-Whitney U on raw samples and "
            f"on process medians, p < {alpha:g}), or larger than the large-change factor whatever the statistics"
        )


@dataclass(frozen=True)
class BaseCommit:
    """A base commit measured in the same run, its processes taken in turn with head's:
    the median of paired head/base ratios, a bootstrap interval and a one-sided sign test."""

    results: Results
    ref: str
    sha: str
    kind: str = "base"
    interval: bool = True  # False skips the bootstrap: the self-test judges thousands of comparisons

    def compare(self, row: Row, other: Row) -> Change:
        if row.keyed is not None and other.keyed is not None:  # memory: the same test on both sides
            common = sorted(set(row.keyed) & set(other.keyed))
            base, head = [other.keyed[k] for k in common], [row.keyed[k] for k in common]
        elif row.process is not None and other.process is not None:
            base, head = list(other.process), list(row.process)
        else:
            base, head = list(other.samples), list(row.samples)
        up = estimate(base, head, interval=self.interval)
        down = estimate(head, base, interval=False)
        return Change(up.ratio, up.low, up.high, up.p_value, down.p_value, up.pairs)

    def allowed(self, rule: KpiRule) -> float:
        return rule.ab_allowed_change

    def describe(self, alpha: float) -> str:
        return (
            f"base {self.ref} (commit {self.sha[:12]}) measured in this run, processes taken in turn: a change "
            f"counts when the median of paired head/base ratios is larger than the KPI's allowed change and a "
            f"one-sided sign test agrees (p < {alpha:g}), or when it is larger than the large-change factor"
        )
