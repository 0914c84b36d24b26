"""Tests of dynapi_bench.measure on a tiny fake project: real pytest processes, fake workloads.

The fake ``benchmarks/`` has one real pytest-benchmark test, the suite's two runs (each
writes a recorder-shaped ``suite-N.json`` into ``$DYNAPI_RECORD_DIR``) and a memory test
(``memory.json``). ``FAKE_MODE`` in a side's environment breaks it on purpose. Each test
notes ``<side> <folder> <test>`` in ``$FAKE_EVENTS`` during its turn, so the tests here
assert the order of events, never a time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dynapi_bench.errors import PassError
from dynapi_bench.measure import ProcessOutput, count_startup, measure_memory, measure_timing, spawn
from dynapi_bench.plan import Plan, Side

PYPROJECT = """\
[tool.pytest.ini_options]
"""

CONFTEST = """\
def pytest_configure(config):
    config.addinivalue_line("markers", "memory: the memory pass")
"""

TESTS = """\
import json
import os
from pathlib import Path

import pytest

MODE = os.environ.get("FAKE_MODE", "")
RECORD = Path(os.environ["DYNAPI_RECORD_DIR"])

pytestmark = pytest.mark.skipif(MODE == "skip", reason="a side whose benchmarks all skip")


def note(what):
    with open(os.environ["FAKE_EVENTS"], "a") as f:
        f.write(f"{os.environ['FAKE_SIDE']} {RECORD.name} {what}\\n")


def test_config_load(benchmark):
    note("config_load")
    warm = Path(os.environ["DYNAPI_WARM_DIR"])  # what this side's earlier processes of the run left
    with open(os.environ["FAKE_EVENTS"] + ".warm", "a") as f:
        f.write(f"{os.environ['FAKE_SIDE']} {RECORD.name} {warm} {sorted(p.name for p in warm.iterdir())}\\n")
    (warm / RECORD.name).write_text("")
    assert MODE != "fail", "broken on purpose"
    benchmark.extra_info.update(kpi="config_load", side=os.environ["FAKE_SIDE"])
    benchmark(sum, [1, 2])


@pytest.mark.parametrize("run", [1, 2], ids=["run1", "run2"])
def test_suite(benchmark, run):
    note(f"suite{run}")
    text = "{" if MODE == "corrupt" else json.dumps(
        {
            "peak_rss_bytes": 1000 * run,
            "run": run,
            "folder": str(RECORD),
            "tests": {"tests/test_api.py::test_get[v1]": {"outcome": "passed", "api_version": "v1", "duration_s": 0.001}},
        }
    )
    (RECORD / f"suite-{run}.json").write_text(text)
    benchmark.pedantic(sum, args=([run],), rounds=1, iterations=1)
    benchmark.extra_info.update(kpi="suite_wall_time", row="test_suite")


@pytest.mark.memory
def test_memory():
    note("memory")
    assert MODE != "fail", "broken on purpose"
    if MODE == "nomemory":
        return
    tests = {} if MODE == "empty" else {
        "tests/test_api.py::test_get[v1]": {"api_version": "v1", "peak_bytes": 123, "capture": "x"}
    }
    (RECORD / "memory.json").write_text(json.dumps({"tests": tests}))
"""


def fake_project(tmp_path_factory: pytest.TempPathFactory, name: str, benchmarks: dict[str, str]) -> Path:
    """A project whose ``benchmarks/`` holds ``benchmarks`` (file name -> text)."""
    root = tmp_path_factory.mktemp(name)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "benchmarks").mkdir()
    for file, text in benchmarks.items():
        (root / "benchmarks" / file).write_text(text)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake project, shared: no test writes into it (each run writes under its own ``raw``)."""
    return fake_project(tmp_path_factory, "project", {"conftest.py": CONFTEST, "test_fake.py": TESTS})


def side(project: Path, events: Path, name: str, mode: str = "") -> Side:
    env = (("FAKE_SIDE", name), ("FAKE_EVENTS", str(events)), ("FAKE_MODE", mode))
    return Side(name, project, python=sys.executable, env=env)


def events_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


class LockstepRun:
    """One timing pass of two sides, two cycles, over a folder that an earlier run left behind."""

    def __init__(self, project: Path, tmp: Path) -> None:
        self.events = tmp / "events"
        self.a = side(project, self.events, "A")
        self.b = side(project, self.events, "B")
        self.plan = Plan((self.a, self.b), processes=2, raw=tmp / "raw")
        self.stale = self.plan.folder(self.a, "timing-0") / "suite-3.json"
        self.stale.parent.mkdir(parents=True)
        self.stale.write_text(json.dumps({"peak_rss_bytes": 1, "tests": {}, "run": 3, "folder": "stale"}))
        self.stale_warm = self.plan.folder(self.a, "warm") / "timing-9"
        self.stale_warm.parent.mkdir(parents=True)
        self.stale_warm.write_text("")
        self.outputs = measure_timing(self.plan)


@pytest.fixture(scope="module")
def lockstep(project: Path, tmp_path_factory: pytest.TempPathFactory) -> LockstepRun:
    """Run once for the tests that read it: four pytest processes."""
    return LockstepRun(project, tmp_path_factory.mktemp("lockstep"))


# -- timing -----------------------------------------------------------------------------------------
def test_outputs_per_side_in_cycle_order(lockstep: LockstepRun) -> None:
    assert list(lockstep.outputs) == ["A", "B"]
    for s in (lockstep.a, lockstep.b):
        outputs = lockstep.outputs[s.name]
        assert len(outputs) == 2
        for k, output in enumerate(outputs):
            assert isinstance(output, ProcessOutput)
            assert {r["folder"] for r in output.suite_runs} == {str(lockstep.plan.folder(s, f"timing-{k}"))}
            sides = {b["extra_info"]["side"] for b in output.benchmark_json["benchmarks"] if "side" in b["extra_info"]}
            assert sides == {s.name}


def test_sides_take_turns_test_by_test_in_balanced_orders(lockstep: LockstepRun) -> None:
    tests = ["config_load", "suite1", "suite2"]
    cycle0 = [f"{s} timing-0 {t}" for t in tests for s in "AB"]
    cycle1 = [f"{s} timing-1 {t}" for t in tests for s in "BA"]  # the second cycle starts with B
    assert events_of(lockstep.events) == cycle0 + cycle1


def test_suite_runs_are_read_in_run_order(lockstep: LockstepRun) -> None:
    for outputs in lockstep.outputs.values():
        assert [[r["run"] for r in output.suite_runs] for output in outputs] == [[1, 2], [1, 2]]


def test_benchmark_json_is_pytest_benchmarks(lockstep: LockstepRun) -> None:
    output = lockstep.outputs["A"][0]
    names = [b["name"] for b in output.benchmark_json["benchmarks"]]
    assert sorted(names) == ["test_config_load", "test_suite[run1]", "test_suite[run2]"]
    load = next(b for b in output.benchmark_json["benchmarks"] if b["name"] == "test_config_load")
    assert len(load["stats"]["data"]) >= 10  # --benchmark-save-data and the plan's minimum rounds
    assert "machine_info" in output.benchmark_json
    assert "commit_info" in output.benchmark_json


def test_a_sides_processes_share_one_warm_folder_a_run(lockstep: LockstepRun) -> None:
    """The start-up benchmark's first runs are paid once a run: each side's later processes
    see what its first left, never another side's or an earlier run's."""
    seen = Path(f"{lockstep.events}.warm").read_text().splitlines()
    assert seen == [
        f"{s.name} timing-{k} {lockstep.plan.folder(s, 'warm')} {['timing-0'] if k else []}"
        for k, s in [(0, lockstep.a), (0, lockstep.b), (1, lockstep.b), (1, lockstep.a)]
    ]


def test_what_an_earlier_run_left_is_gone_not_read(lockstep: LockstepRun) -> None:
    assert not lockstep.stale.exists()
    assert all(r["folder"] != "stale" for o in lockstep.outputs["A"] for r in o.suite_runs)


def test_a_failing_process_names_its_log(project: Path, tmp_path: Path) -> None:
    events = tmp_path / "events"
    plan = Plan((side(project, events, "A"), side(project, events, "B", "fail")), processes=1, raw=tmp_path / "raw")
    log = tmp_path / "raw" / "B" / "timing-0" / "pytest.log"
    with pytest.raises(PassError) as caught:
        measure_timing(plan)
    assert str(caught.value) == f"B: timing process 0 failed (exit 1); see {log}"
    assert "broken on purpose" in log.read_text()
    # the side that works ran to its end beside it, in turn
    assert events_of(events)[:2] == ["A timing-0 config_load", "B timing-0 config_load"]
    assert events_of(events)[2:] == ["A timing-0 suite1", "B timing-0 suite1", "A timing-0 suite2", "B timing-0 suite2"]


def test_a_process_that_writes_no_json(project: Path, tmp_path: Path) -> None:
    plan = Plan((side(project, tmp_path / "events", "A", "skip"),), processes=1, raw=tmp_path / "raw")
    folder = tmp_path / "raw" / "A" / "timing-0"
    folder.mkdir(parents=True)
    (folder / "benchmarks.json").write_text(json.dumps({"benchmarks": []}))  # an earlier run's
    with pytest.raises(PassError) as caught:
        measure_timing(plan)
    assert str(caught.value) == (
        f"A: the timing process wrote no readable benchmarks.json ([Errno 2] No such file or directory: "
        f"'{folder / 'benchmarks.json'}'); see {folder / 'pytest.log'}"
    )


def test_a_suite_run_that_writes_corrupt_json(project: Path, tmp_path: Path) -> None:
    plan = Plan((side(project, tmp_path / "events", "A", "corrupt"),), processes=1, raw=tmp_path / "raw")
    folder = tmp_path / "raw" / "A" / "timing-0"
    with pytest.raises(PassError) as caught:
        measure_timing(plan)
    assert str(caught.value) == (
        "A: the dynamic suite wrote no readable suite-1.json (Expecting property name enclosed in double "
        f"quotes: line 1 column 2 (char 1)); see {folder / 'pytest.log'}"
    )


# -- spawn and memory -------------------------------------------------------------------------------
def test_spawn_logs_and_reaps_its_process(tmp_path: Path) -> None:
    """Popen must learn the exit code spawn reaped with wait4: else its ``__del__`` warns that
    the process still runs (an error here) and polls the pid again, which another child may own."""
    log = tmp_path / "logs" / "child.log"
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    finished = spawn([sys.executable, "-c", code], log)
    assert finished.returncode == 3
    assert sorted(log.read_text().splitlines()) == ["err", "out"]


# -- memory -----------------------------------------------------------------------------------------
def test_memory_pass_runs_only_the_memory_tests(project: Path, tmp_path: Path) -> None:
    events = tmp_path / "events"
    a = side(project, events, "A")
    plan = Plan((a,), processes=1, raw=tmp_path / "raw")
    memory = measure_memory(plan, a)
    assert memory.tests == {"tests/test_api.py::test_get[v1]": {"api_version": "v1", "peak_bytes": 123, "capture": "x"}}
    assert events_of(events) == ["A memory memory"]  # no benchmark ran beside it


def test_a_failing_memory_pass_names_its_log(project: Path, tmp_path: Path) -> None:
    a = side(project, tmp_path / "events", "A", "fail")
    plan = Plan((a,), processes=1, raw=tmp_path / "raw")
    log = tmp_path / "raw" / "A" / "memory" / "pytest.log"
    with pytest.raises(PassError) as caught:
        measure_memory(plan, a)
    assert str(caught.value) == f"A: memory pass failed (exit 1); see {log}"
    assert "broken on purpose" in log.read_text()


def test_a_memory_pass_that_measured_nothing(project: Path, tmp_path: Path) -> None:
    a = side(project, tmp_path / "events", "A", "empty")
    plan = Plan((a,), processes=1, raw=tmp_path / "raw")
    with pytest.raises(PassError) as caught:
        measure_memory(plan, a)
    assert (
        str(caught.value)
        == f"A: the memory pass measured no test; see {tmp_path / 'raw' / 'A' / 'memory' / 'pytest.log'}"
    )


def test_a_memory_json_an_earlier_run_left_is_not_read(project: Path, tmp_path: Path) -> None:
    a = side(project, tmp_path / "events", "A", "nomemory")
    plan = Plan((a,), processes=1, raw=tmp_path / "raw")
    folder = tmp_path / "raw" / "A" / "memory"
    folder.mkdir(parents=True)
    (folder / "memory.json").write_text(json.dumps({"tests": {"stale": {"api_version": "v1", "peak_bytes": 1}}}))
    with pytest.raises(PassError) as caught:
        measure_memory(plan, a)
    assert str(caught.value) == (
        f"A: the memory pass wrote no readable memory.json ([Errno 2] No such file or directory: "
        f"'{folder / 'memory.json'}'); see {folder / 'pytest.log'}"
    )


# -- the start-up count -----------------------------------------------------------------------------
STARTUP = """\
import json
import os
from pathlib import Path

def test_session_startup(benchmark):
    prefix = json.loads(os.environ["DYNAPI_STARTUP_COUNT"])
    assert os.environ["FAKE_MODE"] != "fail", "broken on purpose"
    if os.environ["FAKE_MODE"] == "old":  # benchmarks from before the count: pairs timed instead
        return
    record = {"kpi": "session_startup_instructions", "row": "session_startup_instructions",
              "measure": "instructions", "values": [40e6], "info": {"ours": 2040e6, "theirs": 2000e6, "prefix": prefix}}
    path = Path(os.environ["DYNAPI_RECORD_DIR"]) / "contender-session_startup_instructions.json"
    path.write_text(json.dumps(record))
"""


@pytest.fixture(scope="module")
def startup_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fake_project(tmp_path_factory, "startup", {"test_contenders.py": STARTUP})


def test_the_start_up_count_is_one_row_of_instructions(startup_project: Path, tmp_path: Path) -> None:
    head = side(startup_project, tmp_path / "events", "head")
    (row,) = count_startup(Plan((head,), processes=1, raw=tmp_path / "raw"), head)
    assert (row.kpi, row.name, row.measure, list(row.samples)) == (
        "session_startup_instructions",
        "session_startup_instructions",
        "instructions",
        [40e6],
    )
    assert (row.info["ours"], row.info["theirs"]) == (2040e6, 2000e6)
    prefix = row.info["prefix"]  # the whole process under cachegrind, its out file where the test says
    assert "--tool=cachegrind" in prefix
    assert any("{out}" in part for part in prefix)


def test_no_start_up_count_from_benchmarks_that_predate_it_and_a_failure_names_its_log(
    startup_project: Path, tmp_path: Path
) -> None:
    old = side(startup_project, tmp_path / "events", "base", mode="old")
    assert count_startup(Plan((old,), processes=1, raw=tmp_path / "raw"), old) == []
    broken = side(startup_project, tmp_path / "events", "head", mode="fail")
    with pytest.raises(PassError, match=r"^head: counting the start-up failed \(exit 1\); see .*pytest.log$"):
        count_startup(Plan((broken,), processes=1, raw=tmp_path / "raw"), broken)
