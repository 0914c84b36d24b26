"""Tests of ``dynapi-bench run --shard K/N`` and ``dynapi-bench merge``: the split (every unit
once, stable, balanced), the plugin that splits the suite in a child pytest, the join of the
shards' results and its verdict, the one-line refusals; and, opt-in, the real check: three
quick shards merged against one unsharded quick run of the same commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynapi_bench.cli import main
from dynapi_bench.errors import BenchError
from dynapi_bench.judge import judge
from dynapi_bench.lockstep import PLUGIN_PATH
from dynapi_bench.merge import join_results
from dynapi_bench.plan import Side
from dynapi_bench.project import Project
from dynapi_bench.reference import Baseline
from dynapi_bench.results import Results, Row, load_results
from dynapi_bench.shards import COUNTS, PLUGIN, Shard, select
from dynapi_bench.thresholds import load_thresholds

# Names shaped like the real benchmark functions.
UNITS = [f"test_{f}.py::test_{g}" for f in ("config", "contenders", "data", "validation") for g in "abc"]
# Two processes that count the same work agree within this (README: "within about 0.3%").
COUNT_JITTER = 0.005


# -- the split -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "index", "count"), [("1/1", 1, 1), ("2/3", 2, 3), ("3/3", 3, 3)])
def test_a_shard_is_k_of_n(text: str, index: int, count: int) -> None:
    assert Shard.parse(text) == Shard(index, count)
    assert str(Shard.parse(text)) == text


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "3", "a/b", "1/2/3", "-1/3", ""])
def test_a_bad_shard_is_one_line_naming_the_fix(text: str) -> None:
    with pytest.raises(BenchError) as raised:
        Shard.parse(text)
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(f"--shard {text}:")


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 12])
def test_dealing_covers_every_unit_exactly_once_in_even_parts(count: int) -> None:
    slow = {UNITS[1], UNITS[4], UNITS[7]}
    parts = [Shard(k, count).deal(UNITS, tiers=(slow,)) for k in range(1, count + 1)]
    dealt = Counter(unit for part in parts for unit in part)
    assert set(dealt) == set(UNITS)
    assert set(dealt.values()) == {1}
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    # The first tier is dealt before the rest: no shard holds two slow units while another has none.
    per = [len(slow & set(part)) for part in parts]
    assert max(per) - min(per) <= 1


def test_dealing_depends_on_the_names_not_their_order_nor_the_process() -> None:
    shard = Shard(2, 3)
    assert shard.deal(UNITS) == shard.deal(list(reversed(UNITS))) == shard.deal(UNITS + UNITS[:3])
    code = (
        "import json, sys; from dynapi_bench.shards import Shard; "
        "print(json.dumps([Shard(k, 3).deal(json.loads(sys.argv[1])) for k in (1, 2, 3)]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # str hashes differ from this process's
    child = subprocess.run(
        [sys.executable, "-c", code, json.dumps(UNITS)], capture_output=True, text=True, env=env, check=False
    )
    assert child.returncode == 0, child.stderr
    assert json.loads(child.stdout) == [Shard(k, 3).deal(UNITS) for k in (1, 2, 3)]


@pytest.fixture(scope="module")
def suite_ids() -> list[str]:
    """The dynamic suite's node ids, as pytest collects them."""
    root = Project.find().root
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", "tests/integration"]
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.mark.parametrize("count", [2, 3, 4, 5])
def test_the_suite_splits_every_test_once_and_evenly_enough(count: int, suite_ids: list[str]) -> None:
    owners = [[k for k in range(1, count + 1) if Shard(k, count).keeps(test)] for test in suite_ids]
    assert all(len(found) == 1 for found in owners)
    sizes = Counter(found[0] for found in owners)
    mean = len(suite_ids) / count
    assert len(suite_ids) > 300
    assert all(abs(sizes[k] - mean) <= 0.25 * mean for k in range(1, count + 1)), sizes


def test_the_suites_split_is_not_the_count_slices(suite_ids: list[str]) -> None:
    """BLAKE2b, not CRC-32 again: a shard gets its part of the tests the count slice keeps too."""
    sliced = [test for test in suite_ids if zlib.crc32(test.encode()) % 4 == 0]
    for count in (2, 4):
        sizes = Counter(k for test in sliced for k in range(1, count + 1) if Shard(k, count).keeps(test))
        assert min(sizes[k] for k in range(1, count + 1)) >= 0.5 * len(sliced) / count, sizes


# -- the plugin, in a pytest of its own ----------------------------------------------------------------------
def test_the_plugin_keeps_the_shards_tests_of_the_suite_and_no_others(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = pytester.mkpydir("suite")
    (suite / "test_suite.py").write_text(
        "import pytest\n\n@pytest.mark.parametrize('v', range(30))\ndef test_one(v):\n    pass\n"
    )
    other = pytester.mkpydir("other")
    (other / "test_other.py").write_text("def test_spawns_the_suite():\n    pass\n")
    pytester.syspathinsert(PLUGIN_PATH)
    monkeypatch.setenv("DYNAPI_SHARD_TESTS", str(suite))
    passed: list[set[str]] = []
    for k in (1, 2, 3):
        monkeypatch.setenv("DYNAPI_SHARD", f"{k}/3")
        reports = pytester.inline_run("-p", PLUGIN, "-q", "-p", "no:cacheprovider")
        passed.append({r.nodeid for r in reports.listoutcomes()[0]})
    ids = {f"suite/test_suite.py::test_one[{v}]" for v in range(30)}
    every = Counter(test for part in passed for test in part)
    assert {test for test in every if test in ids} == ids
    assert all(every[test] == 1 for test in ids)
    assert every["other/test_other.py::test_spawns_the_suite"] == 3  # outside the suite: run by every shard
    assert all(Shard(k, 3).keeps(test) for k, part in enumerate(passed, 1) for test in part & ids)


def test_the_plugin_lists_each_benchmark_function_once_with_its_slow_mark(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_bench="""
        import pytest

        @pytest.mark.parametrize("case", ["a", "b", "c"])
        def test_cases(case):
            pass

        @pytest.mark.slow
        def test_whole_runs():
            pass

        class TestGroup:
            def test_inner(self):
                pass
        """
    )
    pytester.makeini("[pytest]\nmarkers =\n    slow: slow")
    pytester.syspathinsert(PLUGIN_PATH)
    target = pytester.path / "units.json"
    monkeypatch.setenv("DYNAPI_SHARD_UNITS", str(target))
    pytester.inline_run("-p", PLUGIN, "--collect-only", "-p", "no:cacheprovider")
    units = json.loads(target.read_text())["units"]
    assert [(Path(u["file"]).name, u["name"], u["slow"]) for u in units] == [
        ("test_bench.py", "test_cases", False),
        ("test_bench.py", "test_cases", False),
        ("test_bench.py", "test_cases", False),
        ("test_bench.py", "test_whole_runs", True),
        ("test_bench.py", "TestGroup::test_inner", False),
    ]


def _benchmarks(root: Path, *names: str) -> Path:
    """A project whose benchmarks/ holds one test function per name (``slow_...`` marked slow)."""
    (root / "benchmarks").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\nmarkers = ["slow: slow", "memory: memory"]\n')
    lines = ["import pytest\n"]
    for name in names:
        lines += (["@pytest.mark.slow"] if name.startswith("slow_") else []) + [f"def test_{name}():\n    pass\n"]
    (root / "benchmarks" / "test_all.py").write_text("\n".join(lines))
    return root


def test_select_deals_the_union_of_both_sides_so_base_and_head_agree(tmp_path: Path) -> None:
    names = ["slow_a", "slow_b", "c", "d", "e", "f", "g", "h"]
    base = _benchmarks(tmp_path / "base", *names)
    head = _benchmarks(tmp_path / "head", *names, "new")  # head adds a benchmark
    sides = (Side("base", base), Side("head", head))
    works = [select(Shard(k, 2), sides, tmp_path / f"raw{k}") for k in (1, 2)]
    heads = [set(w.benchmarks["head"]) for w in works]
    assert heads[0].isdisjoint(heads[1])
    assert heads[0] | heads[1] == {f"test_all.py::test_{n}" for n in [*names, "new"]}
    for work in works:  # a base runs the same functions as its head, less the new one
        assert set(work.benchmarks["base"]) == set(work.benchmarks["head"]) - {"test_all.py::test_new"}
        assert len({"test_all.py::test_slow_a", "test_all.py::test_slow_b"} & set(work.benchmarks["head"])) == 1
    assert sorted(key for w in works for key in w.counts) == sorted(COUNTS)  # each counting process once
    assert works[0].timed(sides[1]) == [str(head / "benchmarks" / u) for u in works[0].benchmarks["head"]]


def test_a_shard_without_a_benchmark_of_its_own_is_refused_in_one_line(tmp_path: Path) -> None:
    sides = (Side("head", _benchmarks(tmp_path / "head", "a")),)
    with pytest.raises(BenchError) as raised:
        select(Shard(1, 3), sides, tmp_path / "raw")  # 2 counting processes, then 1 function, over 3
    assert "\n" not in str(raised.value)
    assert "use fewer shards" in str(raised.value)


# -- the merge ---------------------------------------------------------------------------------------------
RULES = """\
alpha: 0.01
kpis:
  config_load: {unit: ms, target: 50, threshold: 100, allowed_change: 0.10}
  data_generation: {unit: ms, target: 1, threshold: 5, allowed_change: 0.10}
  memory_per_test: {unit: MB, target: 10, threshold: 50, allowed_change: 0.10}
  test_execution_instructions: {unit: M instructions, allowed_change: 0.03}
"""
TESTS = [f"tests/integration/test_x.py::test_{i}[v1]" for i in range(12)]


def _run(seed: int, *, slower: float = 1.0, counts: float = 1.0) -> Results:
    """One whole run: a config load, three data cases, memory per test and the suite's counts."""
    rng = np.random.default_rng(seed)
    rows = [Row("config_load", "config_load", 0.004 * slower * rng.lognormal(0, 0.02, 30), process=None)]
    for case in "abc":
        samples = 4e-6 * rng.lognormal(0, 0.02, 30)
        rows.append(Row("data_generation", f"data_generation[{case}]", samples, process=np.sort(samples)[:3]))
    peaks = {t: float(rng.integers(50_000, 70_000)) for t in TESTS}
    rows.append(
        Row(
            "memory_per_test",
            "memory_per_test[v1]",
            np.asarray(list(peaks.values())),
            "memory",
            keyed=peaks,
            info={"version": "v1", "tests": 12},
        )
    )
    counted = {t: 9e6 * counts * (1 + i / 100) for i, t in enumerate(TESTS)}
    values = np.asarray(list(counted.values()))
    functions = {"_PyEval_EvalFrameDefault": 4e6 * counts, "lookdict": 1e6}
    rows.append(
        Row(
            "test_execution_instructions",
            "test_execution_instructions[v1]",
            values,
            "instructions",
            process=np.asarray([float(np.mean(values))]),
            keyed=counted,
            info={"version": "v1", "tests": 12, "functions": functions},
        )
    )
    return Results(tuple(rows), machine="m", commit="abc123", datetime="2026-11-30T10:00:00", extra={"side": "head"})


def _cut(run: Results, k: int, n: int = 3) -> Results:
    """Shard k of n of ``run``: timing rows dealt by name, the memory row's tests by the suite's
    split, the count row whole with shard 1 (a counting process is one shard's)."""
    rows = []
    for row in run.rows:
        if row.measure == "memory" and row.keyed is not None:
            keep = {t: v for t, v in row.keyed.items() if Shard(k, n).keeps(t)}
            assert keep, "every shard holds some of the 12 tests"
            rows.append(Row(row.kpi, row.name, np.asarray(list(keep.values())), "memory", keyed=keep, info=row.info))
        elif row.measure == "instructions":
            if k == 1:
                rows.append(row)
        elif row.name in Shard(k, n).deal(r.name for r in run.rows if r.keyed is None):
            rows.append(row)
    return Results(tuple(rows), run.machine, run.commit, run.datetime, extra=dict(run.extra))


def _save(folder: Path, results: Results, part: str, against: str | None = None, **extra: Any) -> Path:
    folder.mkdir(parents=True)
    info = {"part": part, "against": against, "quick": True, "gated": True, **extra}
    Results(
        results.rows, results.machine, results.commit, results.datetime, extra={**results.extra, "shard": info}
    ).save(folder / "results.json")
    return folder


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


def _merge(
    capsys: pytest.CaptureFixture[str], rules: Path, out: Path, *folders: Path, baselines: Path
) -> tuple[int, str]:
    code = main(
        ["merge", *map(str, folders), "--reports", str(out), "--thresholds", str(rules), "--baselines", str(baselines)]
    )
    return code, capsys.readouterr().err


def _baseline(folder: Path, results: Results) -> Path:
    path = folder / results.machine / "20261129T000000Z-base.json"
    path.parent.mkdir(parents=True)
    results.save(path)
    return folder


def test_three_shards_merged_give_the_rows_and_verdicts_of_the_whole_run(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = _run(1, slower=1.5, counts=1.05)  # config load beyond its factor? no: x1.5 < x1.6; counts +5%
    baselines = _baseline(tmp_path / "baselines", _run(2))
    folders = [_save(tmp_path / f"shard-{k}", _cut(whole, k), f"{k}/3") for k in (1, 2, 3)]
    code, err = _merge(capsys, rules, tmp_path / "merged", *reversed(folders), baselines=baselines)
    assert err == ""
    merged = load_results(tmp_path / "merged" / "results.json")
    assert sorted(merged.by_name) == sorted(whole.by_name)
    assert merged.by_name["memory_per_test[v1]"].keyed == whole.by_name["memory_per_test[v1]"].keyed
    summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    expected = judge(whole, load_thresholds(rules), Baseline(load_results(next(baselines.glob("*/*.json")))))
    assert {r["name"]: r["verdict"] for r in summary["rows"]} == dict(
        zip(expected.rows["name"], expected.rows["verdict"], strict=True)
    )
    assert summary["verdict"] == expected.verdict.value
    assert code == int(expected.exit_code) == 1
    assert summary["notes"][0].startswith("merged from 3 shards (1/3, 2/3, 3/3) of commit abc123")
    assert [s["shard"] for s in summary["merged"]["shards"]] == ["1/3", "2/3", "3/3"]
    for page in ("summary.md", "index.html"):
        assert "merged from 3 shards" in (tmp_path / "merged" / page).read_text()
    # the dashboards' exports and the history page, as a run writes them, of the merged verdict
    exported = json.loads((tmp_path / "merged" / "github-action-benchmark.json").read_text())
    assert {e["name"].split("/")[0].split("[")[0] for e in exported} == set(expected.kpis["kpi"])
    assert set(json.loads((tmp_path / "merged" / "bencher.json").read_text())) == {e["name"] for e in exported}
    assert "Every KPI over" in (tmp_path / "merged" / "history.html").read_text()


def test_shards_against_a_base_keep_each_rows_own_base_and_say_so(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head, base = _run(3), _run(4)
    folders = []
    for k in (1, 2, 3):
        folder = _save(tmp_path / f"shard-{k}", _cut(head, k), f"{k}/3", against="HEAD~1")
        _cut(base, k).save(folder / "base-results.json")
        folders.append(folder)
    code, err = _merge(capsys, rules, tmp_path / "merged", *folders, baselines=tmp_path / "none")
    assert (code, err) == (0, "")
    summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert summary["reference"]["kind"] == "base"
    assert summary["reference"]["ref"] == "HEAD~1"
    assert "wall time is judged only within each shard's own pairs" in summary["notes"][0]
    assert sorted(load_results(tmp_path / "merged" / "base-results.json").by_name) == sorted(base.by_name)


def test_shards_on_two_machine_kinds_are_each_judged_against_their_own_kinds_baseline(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = _run(8)
    kinds = {1: "m", 2: "n", 3: "n"}
    folders = []
    for k, kind in kinds.items():
        part = _cut(whole, k)
        folders.append(_save(tmp_path / f"shard-{k}", Results(part.rows, kind, part.commit, part.datetime), f"{k}/3"))
    baselines = _baseline(tmp_path / "baselines", _run(9))  # kind m only
    code, err = _merge(capsys, rules, tmp_path / "merged", *folders, baselines=baselines)
    assert (code, err) == (0, "")
    summary = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert summary["run"]["machine"] == "m + n"
    assert any(note.startswith("shard 2/3 ran on n, which has no baseline") for note in summary["notes"])
    verdicts = {r["name"]: r["verdict"] for r in summary["rows"]}
    for row in _cut(whole, 1).rows:  # shard 1 against kind m's baseline, test by test for memory
        assert verdicts[row.name] != "new", row.name
    for row in _cut(whole, 2).rows:
        if row.keyed is None:
            assert verdicts[row.name] == "new", row.name  # kind n has no baseline: nothing to compare with
    n_baseline = _run(10)
    _baseline(baselines, Results(n_baseline.rows, "n", "base-n", n_baseline.datetime))
    code, err = _merge(capsys, rules, tmp_path / "merged-2", *folders, baselines=baselines)
    summary = json.loads((tmp_path / "merged-2" / "summary.json").read_text())
    assert (code, err) == (0, "")
    assert "new" not in {r["verdict"] for r in summary["rows"]}
    assert summary["reference"]["commit"] == "abc123 + base-n"  # two baselines, each for its own shards' rows


def test_a_row_measured_by_two_shards_is_refused() -> None:
    run = _run(5)
    with pytest.raises(BenchError, match="'config_load' measured by shards 1/2 and 2/2"):
        join_results([("1/2", run), ("2/2", run)])


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (
            {"shard-1": "1/3", "shard-2": "2/3"},
            "shard 3/3 missing (named: 1/3, 2/3); name every shard's reports folder",
        ),
        ({"shard-1": "1/3", "shard-2": "1/3", "shard-3": "3/3"}, "shard 1/3 named twice"),
        ({"shard-1": "1/3", "shard-2": "2/4", "shard-3": "3/3"}, "shards of different splits"),
        ({"shard-1": "1/2", "shard-2": "2/2", "other": None}, "not a shard's results (no dynapi.shard)"),
    ],
)
def test_an_unusable_set_of_shards_is_one_line_and_exit_2(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str], layout: dict[str, str | None], message: str
) -> None:
    run = _run(6)
    folders = []
    for name, part in layout.items():
        if part is None:
            (tmp_path / name).mkdir()
            run.save(tmp_path / name / "results.json")  # an unsharded run's
            folders.append(tmp_path / name)
        else:
            folders.append(_save(tmp_path / name, _cut(run, 1, 4), part))
    code, err = _merge(capsys, rules, tmp_path / "merged", *folders, baselines=tmp_path / "none")
    assert (code, err.count("\n")) == (2, 1)
    assert message in err
    assert not (tmp_path / "merged").exists()


def test_shards_of_two_commits_or_two_runs_are_refused(
    tmp_path: Path, rules: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one = _run(7)
    other = Results(one.rows, one.machine, "def456", one.datetime, extra=dict(one.extra))
    folders = [_save(tmp_path / "a", _cut(one, 1, 2), "1/2"), _save(tmp_path / "b", _cut(other, 2, 2), "2/2")]
    code, err = _merge(capsys, rules, tmp_path / "merged", *folders, baselines=tmp_path / "none")
    assert code == 2
    assert err.count("\n") == 1
    assert "shards of different commits" in err
    assert "def456" in err
    folders[1] = _save(tmp_path / "c", _cut(one, 2, 2), "2/2", against="HEAD~1")
    _cut(one, 2, 2).save(folders[1] / "base-results.json")
    code, err = _merge(capsys, rules, tmp_path / "merged", *folders, baselines=tmp_path / "none")
    assert (code, err.count("\n")) == (2, 1)
    assert "shards run with different options" in err


def test_run_refuses_a_bad_shard_and_a_shard_saved_as_a_baseline_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["run", "--shard", "4/3"])
    err = capsys.readouterr().err
    assert raised.value.code == 2
    assert err.count("\n") == 1
    assert "argument --shard: 4/3: K must be from 1 to N" in err
    assert main(["run", "--shard", "1/3", "--save-baseline"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--save-baseline: not allowed with argument --shard" in err


# -- the real check (opt-in: about 8 minutes of both cores) ------------------------------------------------
@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("DYNAPI_SHARDS_REAL") != "1",
    reason="three quick shards, their merge and one unsharded quick run take ~8 min: set DYNAPI_SHARDS_REAL=1",
)
def test_three_real_shards_merged_give_the_verdicts_of_one_unsharded_run(tmp_path: Path) -> None:
    """``dynapi-bench run --quick --shard K/3`` for K = 1..3, merged, against one unsharded
    ``--quick`` run of the same tree: the same KPI rows; every count within the jitter of two
    processes that count the same work, so the same verdict for every counted row but one that
    sits within that jitter of its gate (wall time is not compared: each shard judges its own)."""
    project = Project.find()
    rules = load_thresholds(project.thresholds)
    bench = [sys.executable, "-m", "dynapi_bench.cli"]
    common = ["--quick", "--baselines", str(project.baselines)]

    def dynapi_bench(*args: str) -> int:
        return subprocess.run([*bench, *args], cwd=project.root, check=False).returncode

    for k in (1, 2, 3):
        assert dynapi_bench("run", *common, "--shard", f"{k}/3", "--reports", str(tmp_path / f"shard-{k}")) in (0, 1)
    assert dynapi_bench("run", *common, "--reports", str(tmp_path / "whole")) in (0, 1)
    shards = [str(tmp_path / f"shard-{k}") for k in (1, 2, 3)]
    merged = tmp_path / "merged"
    assert dynapi_bench("merge", *shards, "--reports", str(merged), "--baselines", str(project.baselines)) in (0, 1)
    one, joined = (
        {r["name"]: r for r in json.loads((p / "summary.json").read_text())["rows"]}
        for p in (tmp_path / "whole", merged)
    )
    assert sorted(one) == sorted(joined)
    counted = [name for name, r in one.items() if "instructions" in r["unit"]]
    assert counted
    for name in counted:
        assert abs(joined[name]["value"] / one[name]["value"] - 1) <= COUNT_JITTER, name
        allowed = rules.kpis[one[name]["kpi"]].allowed_change
        ratios = [r[name]["ratio"] for r in (one, joined) if r[name]["ratio"] is not None]
        at_gate = any(abs(abs(ratio - 1) - allowed) <= COUNT_JITTER for ratio in ratios)
        assert at_gate or joined[name]["verdict"] == one[name]["verdict"], name
