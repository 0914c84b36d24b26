"""``dynapi-bench``: one command with subcommands, in the style of asv and pyperf.

    dynapi-bench run [--quick] [--against REF] [--save-baseline] [--no-baseline-gate]
                     (--save-baseline not with --quick or --against; --no-baseline-gate not with --against)
    dynapi-bench run --suite PATH --version-config FILE (--asgi-app MOD:ATTR | --api-url URL) [--quick] ...
    dynapi-bench check RUN.json [BASELINE.json] [--summary PATH]
    dynapi-bench selftest [--cycles N] [--pairs K] [--comparisons M]
    dynapi-bench profile
    dynapi-bench history [--baselines DIR] [--reports DIR]
    dynapi-bench export --format {github-action-benchmark,bencher} RUN.json [BASELINE.json] [-o OUT]
    dynapi-bench bisect GOOD BAD --kpi KPI
    dynapi-bench run --shard K/N [--quick] [--against REF] ...; dynapi-bench merge SHARD... [--reports DIR]

``dynapi-bench`` alone, or with options first, means ``run``; ``dynapi-check`` and
``dynapi-selftest`` stay as aliases of ``check`` and ``selftest``. Every error is one line
on stderr and exit 2; exit 1 means a KPI crossed, nothing else. SIGINT and SIGTERM end a
command alike (:mod:`dynapi_bench.interrupts`): its children stopped, its staging folder and
half-made worktrees removed, one line on stderr, exit 130 or 143 (128 + the signal).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dynapi_bench import children
from dynapi_bench.bisect import bisect
from dynapi_bench.check import check
from dynapi_bench.errors import BenchError, ExitCode
from dynapi_bench.export import FORMATS, export_results
from dynapi_bench.history import stored_history
from dynapi_bench.interrupts import Interrupted, handling
from dynapi_bench.merge import merge
from dynapi_bench.pipeline import RunOptions, profile, run
from dynapi_bench.project import Project
from dynapi_bench.selftest import run_selftest
from dynapi_bench.shards import Shard
from dynapi_bench.suite import UserSuite, add_options
from dynapi_bench.thresholds import load_thresholds

__all__ = ["check_main", "main", "selftest_main"]

_SUBCOMMANDS = ("run", "check", "selftest", "profile", "export", "history", "bisect", "merge")


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line and exit 2 (argparse's own code for them)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(ExitCode.BAD_INPUT, f"{self.prog}: error: {message}; see {self.prog} --help\n")


# Options of `run` that cannot go together, and why (argparse's groups cannot say it).
_CONFLICTS = (
    ("quick", "save_baseline", "a baseline of 3 processes can never be significant against a quick run"),
    ("against", "save_baseline", "processes taken in turn with a base are not a baseline"),
    ("against", "no_baseline_gate", "--against judges against the base commit, not a baseline"),
    ("suite", "against", "your suite is measured in this working tree only; judge it against a baseline saved earlier"),
    ("shard", "save_baseline", "a shard measures a part of the KPIs: not a baseline"),
    ("suite", "shard", "your suite is measured whole by one job"),
)


def _shard(text: str) -> Shard:
    """``--shard K/N`` as argparse's type: a bad one is argparse's one-line error."""
    try:
        return Shard.parse(text)
    except BenchError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--shard ")) from None


def _conflict(args: argparse.Namespace) -> str | None:
    for first, second, why in _CONFLICTS:
        if getattr(args, first) and getattr(args, second):
            return f"argument --{second.replace('_', '-')}: not allowed with argument --{first} ({why})"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="dynapi-bench", description="Benchmark every KPI, judge it, and report.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="measure every KPI, judge it against thresholds and a reference")
    run.add_argument(
        "--quick",
        action="store_true",
        help="3 timing processes (with --against, 3 pairs) and fewer rounds: coarser, faster; "
        "counts and memory gate as usual, wall time only beyond the large-change factor",
    )
    run.add_argument(
        "--against",
        metavar="REF",
        help="judge against REF (HEAD~1, origin/main, a tag) measured in this run, processes taken in turn",
    )
    run.add_argument("--save-baseline", action="store_true", help="store this run as a new baseline")
    run.add_argument(
        "--no-baseline-gate",
        action="store_true",
        help="report timing changes against the baseline; thresholds and memory still gate",
    )
    run.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="measure the K-th of N parts (a CI matrix's job); `dynapi-bench merge` joins the N reports",
    )
    _paths(run, reports=True, baselines=True)
    add_options(run)  # --suite PATH --version-config FILE (--asgi-app MOD:ATTR | --api-url URL)

    check = sub.add_parser("check", help="judge a results file against thresholds and, if named, a baseline")
    check.add_argument("run", type=Path, help="results JSON of a run (pytest-benchmark format)")
    check.add_argument("baseline", type=Path, nargs="?", help="results JSON to judge it against")
    check.add_argument("--summary", type=Path, help="also write the verdict as JSON here")
    check.add_argument("--no-baseline-gate", action="store_true", help="report timing changes without failing on them")
    _paths(check)

    selftest = sub.add_parser("selftest", help="measure the gate: A/A false alarms, detection of injected changes")
    selftest.add_argument("--cycles", type=int, help="processes per condition (default: pairs + 6)")
    selftest.add_argument("--pairs", type=int, help="process pairs per comparison (default: as --against)")
    selftest.add_argument("--comparisons", type=int, default=300, help="comparisons behind each figure")
    selftest.add_argument(
        "--counts-only", action="store_true", help="only the count matrix: real edits counted in worktrees (~2 min)"
    )
    selftest.add_argument(
        "--save",
        action="store_true",
        help="store the wall-time record under baselines/<machine>/selftest/ (--against reads the 3 newest)",
    )
    _paths(selftest, reports=True, baselines=True)

    profile = sub.add_parser("profile", help="only the profiles: pyinstrument per KPI, memray flamegraphs")
    _paths(profile, reports=True, thresholds=False)

    find = sub.add_parser("bisect", help="the first commit after GOOD, up to BAD, where a KPI moved")
    find.add_argument("good", metavar="GOOD", help="a commit where the KPI was as it should be")
    find.add_argument("bad", metavar="BAD", help="a later commit where it moved (on GOOD's line of history)")
    find.add_argument("--kpi", required=True, help="the KPI (data_generation, suite_wall_time, ...)")
    _paths(find, reports=True)

    history = sub.add_parser("history", help="reports/history.html: every KPI over every stored baseline, by commit")
    _paths(history, reports=True, baselines=True)

    export = sub.add_parser("export", help="a results file judged, in a dashboard's format (one entry per KPI)")
    export.add_argument("--format", required=True, choices=FORMATS, help="github-action-benchmark or Bencher's BMF")
    export.add_argument("run", type=Path, help="results JSON of a run (pytest-benchmark format)")
    export.add_argument("baseline", type=Path, nargs="?", help="results JSON to judge it against, as check does")
    export.add_argument("-o", "--output", type=Path, metavar="OUT", help="write here (default: standard output)")
    _paths(export)

    join = sub.add_parser("merge", help="join the N shards of one run (run --shard K/N) into one report and verdict")
    join.add_argument("shards", type=Path, nargs="+", metavar="SHARD", help="a shard's reports folder (results.json)")
    _paths(join, reports=True, baselines=True)
    return parser


def _paths(
    parser: argparse.ArgumentParser, *, reports: bool = False, baselines: bool = False, thresholds: bool = True
) -> None:
    if reports:
        parser.add_argument("--reports", type=Path, help="where to write (default: the project's reports/)")
    if baselines:
        parser.add_argument("--baselines", type=Path, help="stored baselines (default: the project's baselines/)")
    if thresholds:
        parser.add_argument("--thresholds", type=Path, help="the gate's rules (default: benchmarks/thresholds.yaml)")


def _absolute(path: Path | None) -> Path | None:
    """A path the user typed, resolved from where they typed it (the project root may differ)."""
    return path.resolve() if path is not None else None


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "check":
        return check(
            args.run,
            args.baseline,
            _absolute(args.thresholds) or Project.find().thresholds,
            summary_path=args.summary,
            gated=not args.no_baseline_gate,
        )
    if args.command == "export":
        thresholds = _absolute(args.thresholds) or Project.find().thresholds
        return export_results(args.run, args.baseline, thresholds, args.format, args.output)
    project = Project.find()
    if args.command == "run":
        options = RunOptions(
            quick=args.quick,
            against=args.against,
            save_baseline=args.save_baseline,
            gated=not args.no_baseline_gate,
            reports=_absolute(args.reports),
            baselines=_absolute(args.baselines),
            thresholds=_absolute(args.thresholds),
            suite=UserSuite.from_options(args.suite, args.version_config, args.asgi_app, args.api_url),
            shard=args.shard,
        )
        return run(project, options)
    if args.command == "merge":
        return merge(
            [path.resolve() for path in args.shards],
            reports=_absolute(args.reports) or project.reports,
            thresholds=_absolute(args.thresholds) or project.thresholds,
            baselines=_absolute(args.baselines) or project.baselines,
        )
    if args.command == "history":
        rules = load_thresholds(_absolute(args.thresholds) or project.thresholds)
        page = stored_history(
            _absolute(args.baselines) or project.baselines, _absolute(args.reports) or project.reports, rules
        )
        print(page)
        return int(ExitCode.OK)
    if args.command == "bisect":
        return bisect(
            project,
            args.good,
            args.bad,
            args.kpi,
            thresholds=_absolute(args.thresholds),
            reports=_absolute(args.reports),
        )
    if args.command == "selftest":
        return run_selftest(
            project,
            reports=_absolute(args.reports),
            thresholds=_absolute(args.thresholds),
            cycles=args.cycles,
            pairs=args.pairs,
            comparisons=args.comparisons,
            counts_only=args.counts_only,
            save=args.save,
            baselines=_absolute(args.baselines),
        )
    return profile(project, _absolute(args.reports))


def main(argv: list[str] | None = None, *, prog: str = "dynapi-bench") -> int:
    """The ``dynapi-bench`` command; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, "run")  # `dynapi-bench --quick` reads as `dynapi-bench run --quick`
    parser = _parser()
    parsed = parser.parse_args(args)
    conflict = _conflict(parsed) if parsed.command == "run" else None
    if conflict:
        print(f"{prog} run: error: {conflict}; see {prog} run --help", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)
    try:
        # A signal stops the children at once, then unwinds: every `finally` runs, and
        # `supervised` reaps what is left before the handlers go.
        with handling(on_signal=children.stop), children.supervised():
            return _dispatch(parsed)
    except Interrupted as exc:
        print(exc.message, file=sys.stderr)
        return exc.exit_code
    except BenchError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return int(ExitCode.BAD_INPUT)


def check_main(argv: list[str] | None = None) -> int:
    """``dynapi-check``: ``dynapi-bench check``."""
    return main(["check", *(sys.argv[1:] if argv is None else argv)], prog="dynapi-check")


def selftest_main(argv: list[str] | None = None) -> int:
    """``dynapi-selftest``: ``dynapi-bench selftest``."""
    return main(["selftest", *(sys.argv[1:] if argv is None else argv)], prog="dynapi-selftest")


if __name__ == "__main__":
    sys.exit(main())
