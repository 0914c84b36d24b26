"""Tests of dynapi_bench.cli: subcommands, exit codes, one-line errors, paths from the cwd.

``run``, ``selftest`` and ``profile`` are replaced by recorders: these tests check what the
command line hands them, never run a measurement.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from dynapi_bench import children, cli
from dynapi_bench.cli import check_main, main, selftest_main
from dynapi_bench.pipeline import RunOptions
from dynapi_bench.project import Project

Factory = Callable[..., Path]
Ended = Callable[[Iterable[int]], list[int]]


class Recorder:
    """Stands in for a command: keeps its arguments, returns ``code``."""

    def __init__(self, code: int = 0) -> None:
        self.code = code
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        self.calls.append((args, kwargs))
        return self.code


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root (pyproject.toml beside benchmarks/); the cwd is a subfolder of it."""
    root = (tmp_path / "proj").resolve()
    (root / "benchmarks").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "docs").mkdir()
    monkeypatch.chdir(root / "docs")
    return root


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(cli, "run", recorder)
    return recorder


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The stderr of a usage error, after checking it exits 2 and prints nothing else."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    return err


# -- usage errors: one line, exit 2 -----------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--bogus"], ["run", "--bogus"], ["check", "run.json", "--bogus"]])
def test_unknown_option(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert usage_error(argv, capsys) == (
        "dynapi-bench: error: unrecognized arguments: --bogus; see dynapi-bench --help\n"
    )


def test_unknown_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert usage_error(["bench"], capsys) == (
        "dynapi-bench: error: argument command: invalid choice: 'bench' "
        "(choose from 'run', 'check', 'selftest', 'profile', 'bisect', 'history', 'export', 'merge'); see dynapi-bench --help\n"
    )


def test_check_needs_a_results_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert usage_error(["check"], capsys) == (
        "dynapi-bench check: error: the following arguments are required: run; see dynapi-bench check --help\n"
    )


def test_help_is_not_taken_for_run(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert "{run,check,selftest,profile,bisect,history,export,merge}" in out


# -- run: what the options become ---------------------------------------------------------------------
def test_no_subcommand_means_run_with_defaults(project: Path, run: Recorder) -> None:
    assert main([]) == 0
    assert run.calls == [((Project(project), RunOptions()), {})]


def test_options_first_mean_run(project: Path, run: Recorder) -> None:
    run.code = 1
    argv = ["--save-baseline", "--no-baseline-gate"]
    argv += ["--reports", "out", "--baselines", "../stored", "--thresholds", "rules.yaml"]
    assert main(argv) == 1  # run's exit code, passed through
    assert run.calls == [
        (
            (
                Project(project),
                RunOptions(
                    quick=False,
                    against=None,
                    save_baseline=True,
                    gated=False,
                    reports=project / "docs" / "out",  # from the cwd, not from the project root
                    baselines=project / "stored",
                    thresholds=project / "docs" / "rules.yaml",
                ),
            ),
            {},
        )
    ]


def test_against(project: Path, run: Recorder) -> None:
    assert main(["run", "--against", "origin/main"]) == 0
    assert run.calls == [((Project(project), RunOptions(against="origin/main")), {})]


def test_quick_against_is_the_ci_gate(project: Path, run: Recorder) -> None:
    """Counts on both sides, 3 pairs whose wall time gates only beyond the large-change factor."""
    assert main(["--quick", "--against", "HEAD~1"]) == 0
    assert run.calls == [((Project(project), RunOptions(quick=True, against="HEAD~1")), {})]


def test_run_outside_a_project_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = (tmp_path / "nowhere").resolve()
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    assert main(["--quick"]) == 2
    assert run.calls == []
    assert capsys.readouterr().err == (
        f"dynapi-bench: error: {nowhere}: not inside a project (no pyproject.toml beside a benchmarks/ folder "
        "above it, and not a git checkout); run the command from the project\n"
    )


def test_profile(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = Recorder()
    monkeypatch.setattr(cli, "profile", profile)
    assert main(["profile", "--reports", "out"]) == 0
    assert profile.calls == [((Project(project), project / "docs" / "out"), {})]


# -- check, on synthetic results files ----------------------------------------------------------------
def test_check_passes(make_results: Factory, thresholds_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_file = make_results("run.json", seed=2)
    base_file = make_results("base.json", seed=1)
    assert main(["check", str(run_file), str(base_file), "--thresholds", str(thresholds_file)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "data_generation" in out


def test_check_twice_the_data_generation_time_fails(
    make_results: Factory, thresholds_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_file = make_results("run.json", seed=2, factors={"data_generation": 2.0})
    base_file = make_results("base.json", seed=1)
    summary = tmp_path / "summary.json"
    argv = ["check", str(run_file), str(base_file), "--thresholds", str(thresholds_file), "--summary", str(summary)]
    assert main(argv) == 1
    line = next(line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("data_generation"))
    assert "REGRESSION" in line
    assert "data_generation" in json.dumps(json.loads(summary.read_text()))


def test_check_with_the_gate_off_reports_only(make_results: Factory, thresholds_file: Path) -> None:
    run_file = make_results("run.json", seed=2, factors={"data_generation": 2.0})
    base_file = make_results("base.json", seed=1)
    argv = ["check", str(run_file), str(base_file), "--thresholds", str(thresholds_file), "--no-baseline-gate"]
    assert main(argv) == 0


def test_check_a_baseline_with_a_duplicate_benchmark(
    make_results: Factory, thresholds_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_file = make_results("run.json", seed=2)
    base_file = make_results("base.json", seed=1)
    data = json.loads(base_file.read_text())
    data["benchmarks"].append(data["benchmarks"][1])
    base_file.write_text(json.dumps(data))
    assert main(["check", str(run_file), str(base_file), "--thresholds", str(thresholds_file)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"dynapi-bench: error: {base_file}: benchmark 'data_generation[case]' appears twice; every benchmark must "
        "be one row (a merged or hand-edited file? measure again, or remove one of them)\n"
    )


def test_check_thresholds_that_are_not_yaml(
    make_results: Factory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_file = make_results("run.json", seed=2)
    rules = tmp_path / "rules.yaml"
    rules.write_text("alpha: 0.01\nkpis:\n  config_load: {unit: ms, target: 50\n  data_generation: {}\n")
    assert main(["check", str(run_file), "--thresholds", str(rules)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"dynapi-bench: error: {rules}:4:18: not valid YAML: expected ',' or '}}', but got ':' "
        "(while parsing a flow mapping); fix the YAML there\n"
    )


def test_check_paths_from_the_cwd(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check = Recorder()
    monkeypatch.setattr(cli, "check", check)
    assert main(["check", "run.json", "--thresholds", "rules.yaml"]) == 0
    assert main(["check", "run.json", "base.json"]) == 0
    assert check.calls == [
        ((Path("run.json"), None, project / "docs" / "rules.yaml"), {"summary_path": None, "gated": True}),
        # no --thresholds: the project's, found from the cwd
        (
            (Path("run.json"), Path("base.json"), project / "benchmarks" / "thresholds.yaml"),
            {"summary_path": None, "gated": True},
        ),
    ]


# -- the aliases --------------------------------------------------------------------------------------
def test_check_main(make_results: Factory, thresholds_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_file = make_results("run.json", seed=2)
    assert check_main([str(run_file), "--thresholds", str(thresholds_file)]) == 0
    missing = run_file.with_name("missing.json")
    assert check_main([str(missing), "--thresholds", str(thresholds_file)]) == 2
    assert capsys.readouterr().err == (
        f"dynapi-check: error: {missing}: not found; run `nox -s bench` first, or name an existing results file\n"
    )


def test_check_main_reads_sys_argv(
    make_results: Factory, thresholds_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_file = make_results("run.json", seed=2, factors={"data_generation": 2.0})
    base_file = make_results("base.json", seed=1)
    monkeypatch.setattr(
        sys, "argv", ["dynapi-check", str(run_file), str(base_file), "--thresholds", str(thresholds_file)]
    )
    assert check_main(None) == 1  # as the console script calls it (typed as taking argv, so None here)


def test_selftest_main(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    selftest = Recorder()
    monkeypatch.setattr(cli, "run_selftest", selftest)
    assert selftest_main(["--pairs", "4", "--cycles", "10", "--thresholds", "rules.yaml"]) == 0
    assert selftest_main(["--counts-only", "--save", "--baselines", "../stored"]) == 0
    defaults = {"counts_only": False, "save": False, "baselines": None}
    assert selftest.calls == [
        (
            (Project(project),),
            {
                "reports": None,
                "thresholds": project / "docs" / "rules.yaml",
                "cycles": 10,
                "pairs": 4,
                "comparisons": 300,
                **defaults,
            },
        ),
        (
            (Project(project),),
            {
                "reports": None,
                "thresholds": None,
                "cycles": None,
                "pairs": None,
                "comparisons": 300,
                "counts_only": True,
                "save": True,
                "baselines": project / "stored",
            },
        ),
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--quick", "--save-baseline"],
            "argument --save-baseline: not allowed with argument --quick (a baseline of 3 processes can never be "
            "significant against a quick run)",
        ),
        (
            ["--against", "HEAD~1", "--save-baseline"],
            "argument --save-baseline: not allowed with argument --against (processes taken in turn with a base "
            "are not a baseline)",
        ),
        (
            ["--against", "HEAD~1", "--no-baseline-gate"],
            "argument --no-baseline-gate: not allowed with argument --against (--against judges against the base "
            "commit, not a baseline)",
        ),
    ],
)
def test_conflicting_options_are_one_line_and_exit_2(
    argv: list[str], message: str, run: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == f"dynapi-bench run: error: {message}; see dynapi-bench run --help\n"
    assert run.calls == []  # nothing was measured


# -- interrupted: SIGINT and SIGTERM alike ------------------------------------------------------------
@pytest.mark.usefixtures("project")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_children_and_ends_the_command_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    ended: Ended,
    signum: int,
    code: int,
) -> None:
    started: list[int] = []
    cleaned: list[bool] = []

    def interrupted_run(*args: Any) -> int:
        child = children.popen([sys.executable, "-c", "import time; time.sleep(600)"], stdout=subprocess.DEVNULL)
        started.append(child.pid)
        try:
            signal.raise_signal(signum)
            return 0
        finally:
            cleaned.append(True)  # every `finally` runs on the way out

    monkeypatch.setattr(cli, "run", interrupted_run)
    previous = signal.getsignal(signal.SIGTERM)
    assert main(["run"]) == code
    assert (
        capsys.readouterr().err
        == f"interrupted ({signal.Signals(signum).name}): previous reports kept; nothing saved\n"
    )
    assert cleaned == [True]
    assert ended(started) == []
    assert children.live() == []
    assert signal.getsignal(signal.SIGTERM) is previous  # the handlers are the command's alone
