"""``dynapi-bench check RUN [BASELINE]``: the judge alone, on results files."""

from __future__ import annotations

from pathlib import Path

from dynapi_bench.errors import BenchError
from dynapi_bench.judge import judge
from dynapi_bench.reference import Baseline
from dynapi_bench.render import render_table, summary
from dynapi_bench.results import atomic_write_json, load_results
from dynapi_bench.thresholds import load_thresholds

__all__ = ["check"]


def check(
    run: Path, baseline: Path | None, thresholds: Path, *, summary_path: Path | None = None, gated: bool = True
) -> int:
    """Print the KPI table of ``run`` judged against ``baseline``; return 0, 1 (or raise, for 2)."""
    rules = load_thresholds(thresholds)
    results = load_results(run)
    reference = Baseline(load_results(baseline)) if baseline is not None else None
    judgement = judge(results, rules, reference, gated=gated)
    print(render_table(judgement))
    if summary_path is not None:
        try:
            atomic_write_json(summary_path, summary(judgement))
        except OSError as exc:
            raise BenchError(
                f"--summary {summary_path}: cannot be written ({exc.strerror}); name a file in a writable folder"
            ) from None
    return int(judgement.exit_code)
