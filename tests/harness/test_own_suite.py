"""Tests of ``dynapi-bench run --suite``: the options and their one-line errors, the processes
a plan for a user's suite starts (each with the plugin's options), what a run of one reads and
writes, and a quick run of the example suite (tests/examples/own_suite, on the Kennel API)."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dynapi_bench import cli, measure, pipeline, profiles
from dynapi_bench.cli import main
from dynapi_bench.counts import unavailable
from dynapi_bench.errors import BenchError, PassError, ThresholdsError
from dynapi_bench.lockstep import Finished
from dynapi_bench.measure import MemoryOutput, count_suite, measure_memory
from dynapi_bench.pipeline import RunOptions, Untimed, run
from dynapi_bench.plan import SUITE_TIMING, Plan, Side
from dynapi_bench.profiles import Profile, profile_kpis
from dynapi_bench.project import Project
from dynapi_bench.protocol import COUNT_SLICE_ENV, SUITE_ENV
from dynapi_bench.results import Results, load_results
from dynapi_bench.suite import BASELINES_FOLDER, SUITE_KPIS, UserSuite, require_same_suite
from dynapi_bench.thresholds import load_thresholds

ROOT = Path(__file__).resolve().parents[2]
KENNEL_CONFIG = ROOT / "tests" / "kennel" / "version_config.yaml"
KENNEL_APP = "tests.kennel.app:create_app()"
EXAMPLE = ROOT / "tests" / "examples" / "own_suite"


class Recorder:
    """Stands in for ``run``: keeps its arguments, returns 0."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> int:
        self.calls.append(args)
        return 0


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project (pyproject.toml beside benchmarks/) holding a suite and its config; the cwd
    is its ``work/`` folder, so that paths typed there are not paths from the root."""
    root = (tmp_path / "proj").resolve()
    (root / "benchmarks").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (root / "work" / "suite").mkdir(parents=True)
    shutil.copy(KENNEL_CONFIG, root / "work" / "kennel.yaml")
    monkeypatch.chdir(root / "work")
    return root


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(cli, "run", recorder)
    return recorder


def free_port() -> int:
    """A loopback port that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the options ------------------------------------------------------------------------------------
def test_the_options_become_a_suite_with_paths_from_where_they_were_typed(project: Path, recorded: Recorder) -> None:
    argv = ["run", "--quick", "--suite", "suite", "--version-config", "kennel.yaml", "--asgi-app", KENNEL_APP]
    assert main(argv) == 0
    here = project / "work"
    suite = UserSuite(here / "suite", here / "kennel.yaml", here, asgi_app=KENNEL_APP)
    assert recorded.calls == [(Project(project), RunOptions(quick=True, suite=suite))]
    assert suite.plugin_options == (f"--version-config={here / 'kennel.yaml'}", f"--asgi-app={KENNEL_APP}")
    assert suite.baselines == here / "suite" / BASELINES_FOLDER
    assert suite.uncounted() is None


def test_a_live_server_that_answers_is_taken_and_not_counted(
    project: Path, recorded: Recorder, answering_url: str
) -> None:
    url = answering_url
    assert main(["--suite", "suite", "--version-config", "kennel.yaml", "--api-url", url]) == 0
    suite = recorded.calls[0][1].suite
    assert suite.plugin_options[1] == f"--api-url={url}"
    assert suite.uncounted() == (
        "instruction counts skipped: --api-url: the server's work is in another process, which callgrind "
        "does not count; measure with --asgi-app to count it"
    )


def test_without_suite_the_run_is_the_projects(project: Path, recorded: Recorder) -> None:
    assert main([]) == 0
    assert recorded.calls == [(Project(project), RunOptions())]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--suite", "nowhere", "--version-config", "kennel.yaml", "--asgi-app", KENNEL_APP],
            "--suite nowhere: {here}/nowhere does not exist; name your suite's folder or test file",
        ),
        (
            ["--suite", "suite", "--asgi-app", KENNEL_APP],
            "--suite needs --version-config FILE: the version config of the API it tests",
        ),
        (
            ["--suite", "suite", "--version-config", "missing.yaml", "--asgi-app", KENNEL_APP],
            "--version-config missing.yaml: {here}/missing.yaml does not exist; name your suite's version config YAML",
        ),
        (
            ["--suite", "suite", "--version-config", "kennel.yaml"],
            "--suite needs its target: --asgi-app MODULE:ATTR (the app in-process) or --api-url URL (a live server)",
        ),
        (
            ["--suite", "suite", "--version-config", "kennel.yaml", "--asgi-app", KENNEL_APP, "--api-url", "http://x"],
            "--asgi-app and --api-url: give one, the app in-process or a live server, not both",
        ),
        (
            ["--suite", "suite", "--version-config", "kennel.yaml", "--asgi-app", "kennel"],
            "--asgi-app 'kennel': expected 'module:attr' or 'module:factory()'",
        ),
        (
            ["--suite", "suite", "--version-config", "kennel.yaml", "--api-url", "localhost:8000"],
            "--api-url 'localhost:8000': expected an http:// or https:// URL",
        ),
        (
            ["--version-config", "kennel.yaml", "--api-url", "http://x"],
            "--version-config, --api-url without --suite PATH: they point a suite of yours at its API "
            "(the project's own suite has its config); add --suite PATH",
        ),
    ],
    ids=["no-suite-path", "no-config", "no-config-file", "no-target", "two-targets", "bad-app", "bad-url", "no-suite"],
)
def test_bad_options_are_one_line_and_exit_2(
    project: Path, recorded: Recorder, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    assert capsys.readouterr().err == f"dynapi-bench: error: {message.format(here=project / 'work')}\n"
    assert recorded.calls == []


def test_a_broken_config_is_its_own_line(project: Path, recorded: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "work" / "kennel.yaml").write_text("versions: {v1: {base_url: /v1}\n")
    assert main(["--suite", "suite", "--version-config", "kennel.yaml", "--asgi-app", KENNEL_APP]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dynapi-bench: error: --version-config: {project / 'work' / 'kennel.yaml'}:")
    assert err.count("\n") == 1
    assert recorded.calls == []


def test_a_server_that_does_not_answer_is_one_line(
    project: Path, recorded: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert main(["--suite", "suite", "--version-config", "kennel.yaml", "--api-url", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dynapi-bench: error: --api-url {url}: no answer (ConnectError")
    assert err.endswith("; start the server, or measure with --asgi-app\n")
    assert err.count("\n") == 1
    assert recorded.calls == []


def test_against_is_refused_with_a_suite(project: Path, recorded: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--suite", "suite", "--version-config", "kennel.yaml", "--asgi-app", KENNEL_APP, "--against", "HEAD~1"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "dynapi-bench run: error: argument --against: not allowed with argument --suite (your suite is measured in "
        "this working tree only; judge it against a baseline saved earlier); see dynapi-bench run --help\n"
    )
    assert recorded.calls == []


# -- the plan: which processes, with which options ----------------------------------------------------
@pytest.fixture
def suite(tmp_path: Path) -> UserSuite:
    folder = tmp_path / "mine"
    folder.mkdir()
    found = UserSuite.from_options(str(folder), str(KENNEL_CONFIG), KENNEL_APP, None, cwd=tmp_path)
    assert found is not None
    return found


def plan_for(suite: UserSuite | None, tmp_path: Path) -> tuple[Plan, Side]:
    head = Side("head", ROOT)
    return Plan.for_run((head,), tmp_path / "raw", suite=suite), head


def test_a_timing_process_runs_only_the_suite_benchmark_and_names_the_suite(suite: UserSuite, tmp_path: Path) -> None:
    plan, head = plan_for(suite, tmp_path)
    assert plan.files == (SUITE_TIMING,)
    launch = measure._timing_launch(plan, head, 0)
    benchmarks = str(ROOT / "benchmarks")  # (the interpreter may live in the project too: .nox/)
    assert [a for a in launch.cmd if a.startswith(benchmarks)] == [str(ROOT / "benchmarks" / SUITE_TIMING)]
    assert launch.env is not None
    assert json.loads(launch.env[SUITE_ENV]) == {
        "args": [str(suite.path), f"--version-config={KENNEL_CONFIG}", f"--asgi-app={KENNEL_APP}"],
        "cwd": str(tmp_path),
    }


def test_the_projects_own_plan_runs_every_benchmark_and_names_no_suite(tmp_path: Path) -> None:
    plan, head = plan_for(None, tmp_path)
    launch = measure._timing_launch(plan, head, 0)
    assert str(ROOT / "benchmarks") in launch.cmd
    assert launch.env is not None
    assert SUITE_ENV not in launch.env
    assert plan.suite_run(head) == ((str(ROOT / "tests" / "integration"),), ROOT)


class Spawned:
    """Stands in for ``spawn``: keeps each command, its environment and folder, and fails it
    (nothing is measured here)."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, str], Path | None]] = []

    def __call__(self, cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
        self.calls.append((list(cmd), dict(env or {}), cwd))
        return Finished(1, 0.0, 0)


def test_the_memory_pass_names_the_suite(suite: UserSuite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spawned = Spawned()
    monkeypatch.setattr(measure, "spawn", spawned)
    plan, head = plan_for(suite, tmp_path)
    with pytest.raises(PassError, match="memory pass failed"):
        measure_memory(plan, head)
    [(cmd, env, _)] = spawned.calls
    assert cmd[cmd.index("-m", 3) + 1] == "memory"
    assert json.loads(env[SUITE_ENV])["args"] == list(suite.args)


def test_the_suite_is_counted_whole_with_its_options_where_it_runs(
    suite: UserSuite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned = Spawned()
    monkeypatch.setattr(measure, "spawn", spawned)
    plan, head = plan_for(suite, tmp_path)
    with pytest.raises(PassError, match="counting process failed"):
        count_suite(plan, head)
    [(cmd, env, cwd)] = spawned.calls
    plugin = cmd.index("benchmarks.counting")
    assert cmd[plugin - 1 :] == ["-p", "benchmarks.counting", *suite.args]
    assert env[COUNT_SLICE_ENV] == "1"
    assert cwd == suite.cwd


def test_only_the_suite_is_profiled(suite: UserSuite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], Path | None]] = []

    def succeed(cmd: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None) -> Finished:
        calls.append((cmd, cwd))
        return Finished(0, 0.0, 0)

    monkeypatch.setattr(profiles, "spawn", succeed)
    plan, head = plan_for(suite, tmp_path)
    assert profile_kpis(plan, head, tmp_path / "profiles") == [
        Profile("profiles/test_execution.html", "test_execution")
    ]
    [(cmd, cwd)] = calls
    assert cmd[-len(suite.args) :] == list(suite.args)
    assert cwd == suite.cwd


def test_only_the_suite_is_counted(suite: UserSuite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    monkeypatch.setattr(pipeline, "count_suite", lambda plan, side: started.append("suite") or [])
    monkeypatch.setattr(pipeline, "count_benchmarks", lambda plan, side: started.append("benchmarks") or [])
    for plan_suite, expected in ((suite, ["suite"]), (None, ["suite", "benchmarks"])):
        started.clear()
        plan, _ = plan_for(plan_suite, tmp_path)
        with pipeline.ThreadPoolExecutor(max_workers=1) as pool:
            jobs = pipeline._start_counts(pool, plan)
            for job in jobs["head"]:
                job.result()
        assert started == expected


def test_the_benchmarks_run_the_suite_the_harness_names(suite: UserSuite, tmp_path: Path) -> None:
    """The protocol's two ends: benchmarks/conftest.py reads what UserSuite.environ() wrote."""
    code = "from benchmarks.conftest import SUITE_CWD, suite_cmd; print(SUITE_CWD); print(suite_cmd('-x')[6:])"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, **suite.environ()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    cwd, args = done.stdout.splitlines()
    assert cwd == str(tmp_path)
    assert args == repr([*suite.args, "-x"])


# -- rules and baselines ----------------------------------------------------------------------------
def test_thresholds_without_a_suite_kpi_are_refused_before_measuring(suite: UserSuite, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("kpis:\n  test_execution: {unit: ms, target: 100, threshold: 500, allowed_change: 0.5}\n")
    with pytest.raises(ThresholdsError, match=r"no rule for suite_wall_time, suite_peak_rss, memory_per_test, which"):
        suite.require_rules(load_thresholds(rules), counted=False)
    suite.require_rules(load_thresholds(ROOT / "benchmarks" / "thresholds.yaml"), counted=True)  # the default
    assert SUITE_KPIS[-1] == "test_execution_instructions"


def test_a_baseline_of_another_suite_is_refused(suite: UserSuite, tmp_path: Path) -> None:
    def baseline(**extra: Any) -> Results:
        return Results((), machine="m", commit="c", datetime="", extra=extra)

    require_same_suite(suite, baseline(suite=suite.info()))
    require_same_suite(None, baseline())
    live = {**suite.info(), "asgi_app": None, "api_url": "http://127.0.0.1:8000"}
    with pytest.raises(BenchError, match=r"a baseline of .*mine \(live\), but this run measures .*mine \(in-process\)"):
        require_same_suite(suite, baseline(suite=live))
    with pytest.raises(BenchError, match=r"a baseline of the project's own suite, but this run measures"):
        require_same_suite(suite, baseline())
    with pytest.raises(BenchError, match=r"but this run measures the project's own suite"):
        require_same_suite(None, baseline(suite=suite.info()))
    # the same suite saved from another checkout (a moved clone, a CI runner's folder) is the same suite
    elsewhere = {**suite.info(), "path": "/home/runner/work/project/mine"}
    require_same_suite(suite, baseline(suite=elsewhere))
    with pytest.raises(BenchError, match=r"a baseline of other \(in-process\)"):
        require_same_suite(suite, baseline(suite={**elsewhere, "relative": "other"}))


def test_a_run_reads_the_suites_baselines_and_records_the_suite(
    suite: UserSuite,
    tmp_path: Path,
    synthetic: Callable[..., Results],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The measuring passes replaced: what the run plans, reads, prints and writes."""
    plans: list[Plan] = []
    read: list[Path] = []
    monkeypatch.setattr(pipeline, "unavailable", lambda: None)
    monkeypatch.setattr(pipeline, "measure_timing", lambda plan: plans.append(plan) or {"head": []})
    monkeypatch.setattr(pipeline, "_queue_untimed", lambda *a, **k: None)  # no pass beside the timing
    monkeypatch.setattr(pipeline, "_untimed", lambda *a, **k: Untimed({"head": MemoryOutput({})}, {}, []))
    monkeypatch.setattr(
        pipeline, "side_results", lambda *a, **k: dataclasses.replace(synthetic(seed=1), extra={"suite": k["suite"]})
    )
    original = pipeline._baseline
    monkeypatch.setattr(pipeline, "_baseline", lambda folder: read.append(folder) or original(folder))
    options = RunOptions(quick=True, reports=tmp_path / "reports", suite=suite)
    assert run(Project(ROOT), options) == 0
    assert read == [suite.path / BASELINES_FOLDER]
    assert [p.suite for p in plans] == [suite]
    out = capsys.readouterr().out
    assert f"your suite: {suite.path} with version_config.yaml, in-process {KENNEL_APP}\n" in out
    assert (
        f"thresholds {ROOT / 'benchmarks' / 'thresholds.yaml'} (the default: its suite KPIs; --thresholds FILE "
        f"for your own); baselines {suite.path / BASELINES_FOLDER}\n"
    ) in out
    assert load_results(tmp_path / "reports" / "results.json").extra["suite"] == suite.info()


# -- the example suite, measured ------------------------------------------------------------------------
@pytest.mark.slow  # about a minute: three timing processes, the memory pass, the counts under callgrind
def test_a_quick_run_of_the_example_suite(tmp_path: Path) -> None:
    """The README's command with --quick: only the suite KPIs, and every test of the example
    suite, none of the project's own, measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    cmd = [
        str(Path(sys.executable).with_name("dynapi-bench")),
        "run",
        "--quick",
        "--suite",
        "tests/examples/own_suite",
        "--version-config",
        "tests/kennel/version_config.yaml",
        "--asgi-app",
        KENNEL_APP,
        "--reports",
        str(tmp_path / "reports"),
        "--baselines",
        str(tmp_path / "baselines"),
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = load_results(tmp_path / "reports" / "results.json")
    counted = unavailable() is None
    assert set(results.kpis) == set(SUITE_KPIS if counted else SUITE_KPIS[:-1])
    tests = {node for row in results.rows if row.kpi == "memory_per_test" for node in row.keyed or {}}
    options = [f"--version-config={KENNEL_CONFIG}", f"--asgi-app={KENNEL_APP}"]
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q", str(EXAMPLE), *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests == {line for line in collected.stdout.splitlines() if "::" in line}
    assert all(node.startswith("tests/examples/own_suite/") for node in tests)
    assert results.extra["suite"]["path"] == str(EXAMPLE)
    if counted:
        assert {r.name for r in results.rows if r.kpi == "test_execution_instructions"} == {
            "test_execution_instructions[v1]",
            "test_execution_instructions[v2]",
        }
    assert not (EXAMPLE / BASELINES_FOLDER).exists()  # --baselines named another folder; nothing saved
