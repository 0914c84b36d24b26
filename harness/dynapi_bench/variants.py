"""The count gate's self-test: real edits to ``framework/`` in scratch worktrees, counted.

Each :class:`Variant` is HEAD checked out as a detached worktree under
``.bench/selftest/<name>`` with one edit made to ``framework/factory.py``: none (the
reference), a comment (A/A), a behaviour-neutral rename (A/A), or ``K`` more ``len(payload)``
calls per payload in ``_Plan.make`` (about +1%, +2% and +5% of a payload's instructions). Every
variant's CPU-bound benchmarks are counted once, two at a time (a count does not depend on
what runs beside it), and each is judged against the reference by the run's own judge, as
``--against`` would judge a pull request. Worktrees of equal path length, so that nothing
but the edit differs; all removed when the self-test ends, interrupted or not.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dynapi_bench import children
from dynapi_bench.errors import BenchError
from dynapi_bench.judge import Verdict, judge
from dynapi_bench.measure import count_benchmarks
from dynapi_bench.plan import Plan, Side
from dynapi_bench.reference import BaseCommit
from dynapi_bench.results import Results
from dynapi_bench.thresholds import Thresholds
from dynapi_bench.worktree import discard

__all__ = ["VARIANTS", "Variant", "count_matrix", "render_counts"]

FACTORY = Path("framework") / "factory.py"
_MAKE = "        payload = self.static.copy()\n"


def _extra_calls(calls: int) -> Callable[[str], str]:
    """``calls`` more ``len(payload)`` statements each payload: work whose result is thrown
    away, as a careless change would make (straight-line code: a loop's own set-up costs
    about 1,200 instructions, a quarter of the +5% step for the smallest payload)."""

    def edit(source: str) -> str:
        if _MAKE not in source:
            raise BenchError(f"{FACTORY}: `_Plan.make` no longer starts with `{_MAKE.strip()}`; update {__name__}")
        return source.replace(_MAKE, _MAKE + "        len(payload)\n" * calls, 1)

    return edit


def _comment(source: str) -> str:
    return source.replace(_MAKE, f"        # a payload starts from the plan's constants\n{_MAKE}", 1)


def _rename(source: str) -> str:
    if "_json_copy" not in source:
        raise BenchError(f"{FACTORY}: no `_json_copy` to rename; update {__name__}")
    return source.replace("_json_copy", "_copy_json_like")


@dataclass(frozen=True)
class Variant:
    """One edit of ``framework/factory.py`` and what it is expected to do to the counts."""

    name: str
    description: str
    edit: Callable[[str], str] | None
    expect_alarm: bool | None  # None: at the allowed change's edge, reported either way


VARIANTS = (
    Variant("ref", "HEAD as it is", None, False),
    Variant("aa-doc", "A/A: a comment added in _Plan.make", _comment, False),
    Variant("aa-name", "A/A: _json_copy renamed", _rename, False),
    Variant("plus1", "about +1%: one more len(payload) a payload", _extra_calls(1), None),
    Variant("plus2", "about +2%: 3 more len(payload) a payload", _extra_calls(3), True),
    Variant("plus5", "about +5%: 6 more len(payload) a payload", _extra_calls(6), True),
)


def _git(repo: Path, *args: str) -> None:
    done = children.run(["git", "-C", str(repo), *args])
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise BenchError(f"count self-test: git {' '.join(args[:2])} failed ({detail}); is {repo} a git checkout?")


def _worktree(repo: Path, path: Path, variant: Variant) -> Side:
    discard(repo, path)  # a killed self-test's, if any
    _git(repo, "worktree", "add", "--detach", "--force", str(path), "HEAD")
    if variant.edit is not None:
        source = path / FACTORY
        source.write_text(variant.edit(source.read_text(encoding="utf-8")), encoding="utf-8")
    return Side(variant.name, path, sys.executable)


def count_matrix(repo: Path, cache: Path, raw: Path, thresholds: Thresholds) -> dict[str, Any]:
    """Count every variant and judge each against the reference; the matrix as data. The
    scratch worktrees are removed on the way out, whatever ended it (an interruption too)."""
    folder = (cache / "selftest").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / v.name.ljust(8, "_") for v in VARIANTS]  # equal lengths: paths are strings the code handles
    try:
        sides = [_worktree(repo, path, v) for path, v in zip(paths, VARIANTS, strict=True)]
        plan = Plan(tuple(sides), 1, raw)
        with ThreadPoolExecutor(max_workers=2) as pool:
            rows = list(pool.map(lambda side: count_benchmarks(plan, side), sides))
    finally:
        for path in paths:
            discard(repo, path)
        shutil.rmtree(folder, ignore_errors=True)
    results = {
        v.name: Results(tuple(r), machine="selftest", commit=v.name, datetime="")
        for v, r in zip(VARIANTS, rows, strict=True)
    }
    reference = results["ref"]
    out: dict[str, Any] = {}
    for variant in VARIANTS[1:]:
        j = judge(results[variant.name], thresholds, BaseCommit(reference, "ref", "ref", interval=False))
        counts = j.rows[j.rows["unit"].str.contains("instructions")]
        alarms = sorted(set(counts.loc[counts["reference_verdict"] == Verdict.REGRESSION.value, "kpi"]))
        cases = counts[~counts["name"].str.contains("geomean") & (counts["kpi"] == "data_generation_instructions")]
        kpi = {
            str(r["kpi"]): float(r["ratio"]) for r in counts[counts["name"].str.contains("geomean")].to_dict("records")
        }
        out[variant.name] = {
            "description": variant.description,
            "expect_alarm": variant.expect_alarm,
            "alarms": alarms,
            "kpi_ratio": kpi,
            "case_ratio": {"min": float(cases["ratio"].min()), "max": float(cases["ratio"].max())},
            "data_generation": {
                str(r["name"]).rsplit("::", 2)[-2]: float(r["ratio"])
                for r in cases[cases["kpi"] == "data_generation_instructions"].to_dict("records")
            },
            "ok": variant.expect_alarm is None
            or (
                ("data_generation_instructions" in alarms) == variant.expect_alarm
                and (not variant.expect_alarm or alarms == ["data_generation_instructions"])
            ),
        }
    return out


def render_counts(matrix: dict[str, Any]) -> str:
    """The count matrix as text: per variant, its alarms and the count ratios it produced."""
    header = f"{'variant':9} {'data_generation x':>18} {'its cases x':>18}  {'alarms':27} verdict"
    lines = [header]
    for name, found in matrix.items():
        geo = found["kpi_ratio"].get("data_generation_instructions", float("nan"))
        span = f"{found['case_ratio']['min']:.4f}-{found['case_ratio']['max']:.4f}"
        alarms = ", ".join(found["alarms"]) or "none"
        verdict = "ok" if found["ok"] else "WRONG"
        lines.append(f"{name:9} {geo:18.4f} {span:>18}  {alarms:27} {verdict}  ({found['description']})")
    return "\n".join(lines)
