"""The statistics of both references: paired ratios of a same-run A/B comparison (head
against base, measured in turn), and the unpaired test against a stored baseline.

The unit of replication is the process: base and head run as pairs of fresh processes,
side by side in lockstep, so drift of the machine hits both sides of a pair. Per
benchmark, each pair gives one log ratio ``ln(head / base)`` of the two processes'
medians; the estimate is the median of those (robust to the bimodal process that shared
machines produce), its confidence interval comes from a bootstrap of that median (scipy),
and significance from a one-sided sign test on the log ratios (scipy's exact binomial
test): a pair in which one side drew a 1.7x slow spell counts as one wrong sign, however
large, where it would take the top rank of a Wilcoxon signed-rank test and, in 10 pairs,
keep a real +25% above p = 0.01 (measured by the self-test). For memory, where one process
measures every test, the pairs are the tests themselves.

Against a stored baseline nothing is paired: :func:`unpaired_p` is a one-sided
Mann-Whitney U test (no assumption of normal timings). How a change becomes a verdict is
:mod:`dynapi_bench.judge`'s business, not this module's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binomtest, bootstrap, mannwhitneyu

__all__ = ["RatioEstimate", "estimate", "sign_test", "unpaired_p"]


@dataclass(frozen=True, slots=True)
class RatioEstimate:
    """Head over base: the ratio, its confidence interval, and how sure the slowdown is."""

    ratio: float
    low: float
    high: float
    p_value: float
    pairs: int

    @property
    def change(self) -> float:
        """The ratio as a change: +0.10 is 10% slower or bigger."""
        return self.ratio - 1.0


def estimate(base: ArrayLike, head: ArrayLike, *, confidence: float = 0.98, interval: bool = True) -> RatioEstimate:
    """The head/base ratio of paired measurements (process medians, or per-test peaks).

    ``interval=False`` skips the bootstrap (the bounds come back unbounded): the verdict
    needs only the ratio and the test, and the self-test makes thousands of them.

    Pairs with a zero on either side carry no ratio and are left out; with fewer than two
    pairs left, the interval is unbounded and nothing is significant.
    """
    b = np.asarray(base, dtype=float)
    h = np.asarray(head, dtype=float)
    n = min(len(b), len(h))
    b, h = b[:n], h[:n]
    usable = (b > 0) & (h > 0)
    logs = np.log(h[usable] / b[usable])
    if len(logs) == 0:
        return RatioEstimate(math.nan, math.nan, math.nan, math.nan, 0)
    ratio = float(np.exp(np.median(logs)))
    if len(logs) < 2 or np.ptp(logs) == 0:
        # Identical pairs (memory often is): the ratio is exact; a constant shift is certain.
        exact = len(logs) >= 2
        p = (0.0 if logs[0] > 0 else 1.0) if exact else math.nan
        bound = ratio if exact else math.nan
        return RatioEstimate(ratio, bound if exact else -math.inf, bound if exact else math.inf, p, len(logs))
    p = sign_test(logs)
    if not interval:
        return RatioEstimate(ratio, -math.inf, math.inf, p, len(logs))
    bounds = bootstrap(
        (logs,),
        np.median,
        confidence_level=confidence,
        method="percentile",
        n_resamples=2000,
        rng=np.random.default_rng(0),  # the same data always gives the same interval
    ).confidence_interval
    return RatioEstimate(ratio, float(np.exp(bounds.low)), float(np.exp(bounds.high)), p, len(logs))


def sign_test(logs: np.ndarray) -> float:
    """One-sided p-value that head is slower: the share of positive log ratios against a
    fair coin (ties dropped). With n pairs the smallest p is 2**-n."""
    nonzero = logs[logs != 0]
    if len(nonzero) == 0:
        return 1.0
    return float(binomtest(int((nonzero > 0).sum()), len(nonzero), 0.5, alternative="greater").pvalue)


def unpaired_p(run: ArrayLike, base: ArrayLike, alternative: str) -> float:
    """One-sided Mann-Whitney U p-value of ``run`` against ``base`` (``greater`` or
    ``less``); NaN with fewer than two values a side (no test is possible). Constant
    samples on both sides (memory often is): 0 when they differ that way, else 1."""
    r, b = np.asarray(run, dtype=float), np.asarray(base, dtype=float)
    if len(r) < 2 or len(b) < 2:
        return math.nan
    if np.ptp(r) == 0 and np.ptp(b) == 0:
        differs = r[0] > b[0] if alternative == "greater" else r[0] < b[0]
        return 0.0 if differs else 1.0
    return float(mannwhitneyu(r, b, alternative=alternative).pvalue)
