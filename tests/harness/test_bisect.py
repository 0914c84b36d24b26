"""Tests of dynapi_bench.bisect: the search alone (seeded bad commits, probes, skips), the
KPI table against the project's benchmarks, bad input as one line and exit 2, and, end to
end, ``dynapi-bench bisect`` finding a slowdown seeded into a scratch copy of this project.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynapi_bench import bisect as bisect_module
from dynapi_bench.bisect import (
    BENCHMARK_FILES,
    COUNTED,
    Commit,
    Mark,
    Reading,
    compare,
    first_bad,
    max_steps,
    method_for,
)
from dynapi_bench.cli import main
from dynapi_bench.counts import unavailable
from dynapi_bench.errors import BenchError, PassError
from dynapi_bench.judge import Verdict
from dynapi_bench.results import Results, Row
from dynapi_bench.thresholds import Thresholds, load_thresholds

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = ROOT / "benchmarks" / "thresholds.yaml"


class Line:
    """A line of commits whose first bad one is ``bad``; records what was probed."""

    def __init__(self, n: int, bad: int, skip: frozenset[int] = frozenset()) -> None:
        self.commits = list(range(n))
        self.bad, self.skip = bad, skip
        self.probed: list[int] = []

    def __call__(self, commit: int) -> Mark:
        self.probed.append(commit)
        if commit in self.skip:
            return Mark.SKIP
        return Mark.BAD if commit >= self.bad else Mark.GOOD


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_every_seeded_bad_commit_is_found_in_at_most_ceil_log2_n_probes(n: int) -> None:
    for bad in range(n):
        line = Line(n, bad)
        found = first_bad(line.commits, line)
        assert found.first == bad
        assert found.candidates == (bad,)
        assert len(line.probed) <= max_steps(n) == math.ceil(math.log2(n))
        assert len(set(line.probed)) == len(line.probed)  # no commit probed twice
        assert n - 1 not in line.probed  # BAD is known bad: never probed
        assert [c for c, _ in found.probes] == line.probed


def test_a_power_of_two_takes_exactly_log2_n_probes() -> None:
    for bad in range(8):
        line = Line(8, bad)
        first_bad(line.commits, line)
        assert len(line.probed) == 3


def test_the_marks_drive_the_search() -> None:
    line = Line(8, 4)
    found = first_bad(line.commits, line)
    assert found.probes == ((3, Mark.GOOD), (5, Mark.BAD), (4, Mark.BAD))


def test_a_skipped_commit_is_replaced_by_its_nearest_neighbour() -> None:
    line = Line(8, 5, skip=frozenset({3}))
    found = first_bad(line.commits, line)
    assert found.first == 5
    assert line.probed[:2] == [3, 2]  # 3 skipped: 2 and 4 are as near; the lower first
    assert len(set(line.probed)) == len(line.probed)


def test_skipped_commits_next_to_the_answer_leave_candidates() -> None:
    line = Line(6, 3, skip=frozenset({2, 3}))
    found = first_bad(line.commits, line)
    assert found.first is None
    assert found.candidates == (2, 3, 4)  # the first bad is one of these; 4 was probed bad
    assert (4, Mark.BAD) in found.probes


def test_bad_alone_needs_no_probe() -> None:
    line = Line(1, 0)
    assert first_bad(line.commits, line).first == 0
    assert line.probed == []
    with pytest.raises(ValueError, match="at least one commit"):
        first_bad([], line)


def test_every_kpi_of_the_thresholds_has_a_method() -> None:
    thresholds = load_thresholds(THRESHOLDS)
    for kpi in thresholds.kpis:
        method = method_for(kpi, thresholds)
        assert (method.how == "counts") == (kpi.removesuffix("_instructions") in COUNTED)
        assert method.kpi in thresholds.kpis
        assert (ROOT / "benchmarks" / method.file).is_file()
    for kpi, file in BENCHMARK_FILES.items():  # each file names the KPIs it measures
        assert re.search(rf"\b{kpi}\b", (ROOT / "benchmarks" / file).read_text(encoding="utf-8")), (kpi, file)
    assert method_for("data_generation", thresholds) == method_for("data_generation_instructions", thresholds)
    assert method_for("suite_wall_time", thresholds).how == "timing"
    assert method_for("memory_per_test", thresholds).how == "memory"
    with pytest.raises(BenchError, match=r"--kpi 'nope': not a KPI bisect can measure; name one of config_load, "):
        method_for("nope", thresholds)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, message: str, edit: Callable[[Path], None] | None = None) -> str:
    if edit is not None:
        edit(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    return path


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project without a harness in its first commit, with one in the next two; on a side
    branch, one more. The cwd is its root."""
    repo = new_repo(tmp_path / "small")
    (repo / "benchmarks").mkdir()
    shutil.copy(THRESHOLDS, repo / "benchmarks" / "thresholds.yaml")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    commit(repo, "no harness yet")
    git(repo, "tag", "old")

    def harness(root: Path) -> None:
        (root / "harness").mkdir()
        (root / "harness" / "pyproject.toml").write_text("")
        for name in ("conftest.py", "counting.py", "test_data_generation.py"):
            (root / "benchmarks" / name).write_text("")

    commit(repo, "the harness", harness)
    git(repo, "tag", "good")
    commit(repo, "more", lambda root: (root / "README.md").write_text("x\n"))
    git(repo, "checkout", "-q", "-b", "side", "good")
    commit(repo, "aside", lambda root: (root / "README.md").write_text("y\n"))
    git(repo, "checkout", "-q", "-")
    monkeypatch.chdir(repo)
    return repo


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["nope", "HEAD"], "GOOD 'nope': no such commit in "),
        (["good", "HEAD~9"], "BAD 'HEAD~9': no such commit in "),
        (["HEAD", "good"], "is not an ancestor of BAD"),
        (["side", "HEAD"], "is not an ancestor of BAD"),
        (["good", "good"], "GOOD and BAD are the same commit"),
        (["old", "HEAD"], "(no harness yet) has no harness/pyproject.toml, so data_generation_instructions cannot"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    small: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["bisect", *argv, "--kpi", "data_generation"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("dynapi-bench: error: ")
    assert message in err
    assert err.count("\n") == 1
    assert out == ""  # refused before anything was measured or printed
    assert not (small / ".bench").exists()


def test_unknown_kpi_lists_the_known_ones(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bisect", "good", "HEAD", "--kpi", "data_gen"]) == 2
    err = capsys.readouterr().err
    assert "--kpi 'data_gen': not a KPI bisect can measure; name one of " in err
    assert "suite_wall_time" in err
    assert "data_generation_instructions" in err
    assert err.count("\n") == 1


def test_the_kpi_is_required(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["bisect", "good", "HEAD"])
    assert caught.value.code == 2
    assert "--kpi" in capsys.readouterr().err


def counted(commit: str, **per_case: float) -> Results:
    """Count rows of data_generation_instructions, one a case, in instructions per payload."""
    rows = tuple(
        Row(
            "data_generation_instructions",
            f"test_build[{case}]::instructions",
            np.asarray([value]),
            measure="instructions",
            process=np.asarray([value]),
        )
        for case, value in per_case.items()
    )
    return Results(rows, "m", commit, "")


def test_a_reading_is_the_judges_verdict_on_counts() -> None:
    thresholds = load_thresholds(THRESHOLDS)
    good = counted("good", pet=20_000.0, user=10_000.0)
    one_case = compare(counted("x", pet=20_400.0, user=10_000.0), good, KPI, thresholds, interval=False)
    assert Verdict.REGRESSION in one_case.reasons  # one case +2%: beyond +1%, whatever the mean (+1.0%)
    assert one_case.note(Verdict.REGRESSION, exact=True) == "1 of 2 cases, the most x1.020"
    assert one_case.value == pytest.approx(math.sqrt(20_400 * 10_000) / 1e3)  # k instructions
    assert one_case.reference == pytest.approx(math.sqrt(20_000 * 10_000) / 1e3)
    assert one_case.change == "+1.0%"
    within = compare(counted("y", pet=20_150.0, user=10_050.0), good, KPI, thresholds, interval=False)
    assert set(within.reasons) == {Verdict.PASS}  # +0.75% and +0.5%: within +1%
    better = compare(counted("z", pet=18_000.0, user=9_000.0), good, KPI, thresholds, interval=False)
    assert Verdict.IMPROVED in better.reasons
    assert better.note(Verdict.IMPROVED, exact=True) == "2 of 2 cases, the most x0.900"
    assert better.change == "-10.0%"


KPI = "data_generation_instructions"
SLOW = {"slow": 1.30, "slower": 1.32}  # a commit's count over GOOD's, by the subject's first word


class FakeMeasure:
    """Stands in for the measuring: a commit's count is GOOD's times its subject's factor."""

    def __init__(self, method: Any, thresholds: Thresholds, trees: Any, raw: Path, good: Commit) -> None:
        self.thresholds, self.good = thresholds, counted(good.short, pet=20_000.0)
        self.measured: list[str] = []

    def start(self, bad: Commit) -> Reading:
        return self.against_good(bad)

    def against_good(self, commit: Commit) -> Reading:
        self.measured.append(commit.subject)
        if commit.subject.startswith("broken"):
            raise PassError(f"the counting process of {commit.short} failed (exit 1); its log: raw/counts/pytest.log")
        factor = SLOW.get(commit.subject.split()[0], 1.0)
        return compare(counted(commit.short, pet=20_000.0 * factor), self.good, KPI, self.thresholds, interval=False)


LineOf = Callable[[list[str]], Path]


@pytest.fixture
def line_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LineOf:
    """``line_of(subjects)``: a project with a harness, GOOD (tagged ``good``) and a commit per
    subject; a subject starting with ``gone`` has no benchmarks/counting.py. Measuring is
    faked (:class:`FakeMeasure`); the cwd is the project."""

    def make(subjects: list[str]) -> Path:
        repo = new_repo(tmp_path / "line")
        (repo / "benchmarks").mkdir()
        (repo / "harness").mkdir()
        shutil.copy(THRESHOLDS, repo / "benchmarks" / "thresholds.yaml")
        for name in ("pyproject.toml", "harness/pyproject.toml", "benchmarks/conftest.py", "benchmarks/counting.py"):
            (repo / name).write_text("")
        (repo / "benchmarks" / "test_data_generation.py").write_text("")
        commit(repo, "GOOD")
        git(repo, "tag", "good")
        counting = repo / "benchmarks" / "counting.py"
        for k, subject in enumerate(subjects):
            if subject.startswith("gone"):
                counting.unlink()
            elif not counting.exists():
                counting.write_text("")
            commit(repo, subject, _append("README.md", f"{k}\n"))
        monkeypatch.chdir(repo)
        return repo

    monkeypatch.setattr(bisect_module, "_Measure", FakeMeasure)
    monkeypatch.setattr(bisect_module, "unavailable", lambda: None)
    return make


LINE = ["same 1", "same 2", "gone 3", "same 4", "same 5", "slow 6: the seeded one", "slower 7", "slower 8", "slower 9"]


def steps_of(out: str) -> list[tuple[str, str, str]]:
    return re.findall(r"^step (\d+) +[0-9a-f]{12}  (\w+ \d).*?  (good|bad|skip)", out, re.MULTILINE)


def test_bisect_prints_its_steps_and_the_first_bad_commit(line_of: LineOf, capsys: pytest.CaptureFixture[str]) -> None:
    repo = line_of(LINE)
    assert main(["bisect", "good", "HEAD", "--kpi", "data_generation"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("bisect data_generation_instructions: 9 commits after GOOD ")
    assert lines[0].endswith("(first parents), at most 4 steps")
    assert lines[1].startswith("method: instruction counts: benchmarks/test_data_generation.py counted once")
    assert re.match(r"GOOD +[0-9a-f]{12}  GOOD +20 k instructions$", lines[2])
    assert re.match(r"BAD +[0-9a-f]{12}  slower 9 .* \+32\.0%  bad .*\(1 of 1 cases, the most x1\.320\)$", lines[3])
    assert steps_of(out) == [("1", "same 5", "good"), ("2", "slower 7", "bad"), ("3", "slow 6", "bad")]
    assert f"first bad commit: {git(repo, 'rev-parse', 'HEAD~3')[:12]}  slow 6: the seeded one" in out
    assert lines[-1].startswith("data_generation_instructions: 20 -> 26 k instructions (+30.0%) against GOOD ")
    assert lines[-1].endswith("found in 3 steps")
    assert git(repo, "status", "--porcelain") == ""  # the checkout as it was
    assert not list(repo.glob(".bench/bisect-*"))
    assert not list(repo.glob("reports/.run-*"))


def test_a_commit_without_the_benchmark_is_skipped(line_of: LineOf, capsys: pytest.CaptureFixture[str]) -> None:
    repo = line_of(LINE)
    assert main(["bisect", "good", "HEAD~3", "--kpi", "data_generation"]) == 0  # BAD: the seeded one
    out = capsys.readouterr().out
    skipped_first = [("1", "gone 3", "skip"), ("2", "same 2", "good"), ("3", "same 4", "good"), ("4", "same 5", "good")]
    assert steps_of(out) == skipped_first
    assert re.search(r"^step 1 +[0-9a-f]{12}  gone 3 +skip: no benchmarks/counting.py in this commit$", out, re.M)
    assert f"first bad commit: {git(repo, 'rev-parse', 'HEAD~3')[:12]}" in out


def test_a_commit_that_does_not_run_is_skipped_with_its_reason(
    line_of: LineOf, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = line_of(["same 1", "same 2", "broken 3", "same 4", "slow 5", "slower 6"])
    assert main(["bisect", "good", "HEAD", "--kpi", "data_generation"]) == 0
    out = capsys.readouterr().out
    assert ("1", "broken 3", "skip") in steps_of(out)
    assert re.search(
        r"^step 1 +[0-9a-f]{12}  broken 3 +skip: the counting process of \w+ failed \(exit 1\); its log", out, re.M
    )
    assert f"first bad commit: {git(repo, 'rev-parse', 'HEAD~1')[:12]}  slow 5" in out


def test_skipped_commits_that_hide_the_answer_are_one_line_and_exit_2(
    line_of: LineOf, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = line_of(["same 1", "gone 2", "slow 3", "slower 4"])
    assert main(["bisect", "good", "HEAD", "--kpi", "data_generation"]) == 2
    out, err = capsys.readouterr()
    assert steps_of(out) == [("1", "gone 2", "skip"), ("2", "same 1", "good"), ("3", "slow 3", "bad")]
    gone, slow = git(repo, "rev-parse", "HEAD~2")[:12], git(repo, "rev-parse", "HEAD~1")[:12]
    assert err == (
        f"dynapi-bench: error: the first bad commit is one of {gone}, {slow}: the commits before the last "
        "could not be measured (skipped above); bisect a range without them\n"
    )


def test_a_bad_that_did_not_move_is_one_line_and_exit_2(line_of: LineOf, capsys: pytest.CaptureFixture[str]) -> None:
    line_of(LINE)
    assert main(["bisect", "good", "HEAD~4", "--kpi", "data_generation"]) == 2  # BAD: same 5
    out, err = capsys.readouterr()
    assert re.search(r"^BAD +[0-9a-f]{12}  same 5 .* \+0\.0%  good ", out, re.MULTILINE)
    assert "data_generation_instructions +0.0% against GOOD is not a change the judge confirms" in err
    assert "nothing to bisect: name a BAD where it moved" in err
    assert err.count("\n") == 1
    assert not re.search(r"^step", out, re.MULTILINE)


# -- end to end: a scratch copy of this project with a seeded slowdown --------------------------

_MAKE = "        payload = self.static.copy()\n"


def _append(path: str, text: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        with (root / path).open("a", encoding="utf-8") as out:
            out.write(text)

    return edit


def _comment_in_make(root: Path) -> None:
    source = root / "framework" / "factory.py"
    text = source.read_text(encoding="utf-8")
    assert _MAKE in text
    source.write_text(text.replace(_MAKE, "        # the constants first\n" + _MAKE, 1), encoding="utf-8")


def _deep_copy_in_make(root: Path) -> None:
    """The seeded slowdown: every payload deep-copies the plan's constants (several times the
    instructions of the shallow copy it replaces)."""
    source = root / "framework" / "factory.py"
    text = source.read_text(encoding="utf-8")
    text = text.replace(_MAKE, "        payload = copy.deepcopy(self.static)\n", 1)
    text = text.replace("import functools\n", "import copy\nimport functools\n", 1)
    source.write_text(text, encoding="utf-8")


# The commits after GOOD, in order; the fifth (index 4) seeds the slowdown.
EDITS: list[tuple[str, Callable[[Path], None]]] = [
    ("README: a line", _append("README.md", "\nA line.\n")),
    ("Factory: a comment in _Plan.make", _comment_in_make),
    ("Pets API: a comment", _append("petstore/__init__.py", "\n# a comment\n")),
    ("Docs: a line", _append("docs/methodology.md", "\nA line.\n")),
    ("Factory: deep-copy the plan's constants", _deep_copy_in_make),
    ("Tests: a comment", _append("tests/integration/conftest.py", "\n# a comment\n")),
    ("README: another line", _append("README.md", "\nAnother line.\n")),
    ("Docs: another line", _append("docs/architecture.md", "\nAnother line.\n")),
]
SEEDED = 4


def scratch_project(path: Path) -> tuple[Path, str, list[str]]:
    """This project's tracked files (as they are in the working tree, without baselines/ and
    reports/) committed as GOOD, then :data:`EDITS` one commit each."""
    repo = new_repo(path)
    for name in git(ROOT, "ls-files").splitlines():
        if name.startswith(("baselines/", "reports/")) or not (ROOT / name).is_file():
            continue
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    good = commit(repo, "GOOD: this project")
    return repo, good, [commit(repo, message, edit) for message, edit in EDITS]


@pytest.mark.skipif(unavailable() is not None, reason="needs valgrind on x86-64 Linux")
def test_bisect_finds_the_seeded_slowdown_in_ceil_log2_n_steps(tmp_path: Path) -> None:
    repo, good, shas = scratch_project(tmp_path / "scratch")
    command = Path(sys.executable).with_name("dynapi-bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    done = subprocess.run(
        [str(command), "bisect", good, "HEAD", "--kpi", "data_generation"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    print(done.stdout, done.stderr)  # the run, for the record (-s shows it)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "method: instruction counts: benchmarks/test_data_generation.py counted once a commit" in out
    steps = re.findall(r"^step \d+ +([0-9a-f]{12}) .*  (good|bad) ", out, re.MULTILINE)
    assert len(steps) == max_steps(len(EDITS)) == 3
    assert {sha for sha, _ in steps} <= {s[:12] for s in shas[:-1]}  # neither GOOD nor BAD probed
    assert [mark for _, mark in steps] == ["good", "bad", "bad"]
    assert f"first bad commit: {shas[SEEDED][:12]}  Factory: deep-copy the plan's constants" in out
    change = re.search(r"^data_generation_instructions: \S+ -> \S+ k instructions \(\+(\d+\.\d)%\)", out, re.MULTILINE)
    assert change is not None, out
    assert float(change.group(1)) > 10  # far beyond the allowed +1%
    # Nothing left behind: no worktree, no staging folder; the checkout untouched.
    assert git(repo, "worktree", "list").count("\n") == 0
    assert not list((repo / ".bench").glob("bisect-*"))
    assert not (repo / "reports").exists() or not list((repo / "reports").glob(".run-*"))
    assert git(repo, "status", "--porcelain") == ""
