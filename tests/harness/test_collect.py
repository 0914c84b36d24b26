"""Tests of dynapi_bench.collect: what the processes wrote, pooled into typed rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from dynapi_bench.collect import contender_rows, memory_rows, side_results, startup_rows, suite_rows, timing_rows
from dynapi_bench.errors import PassError, ResultsError
from dynapi_bench.measure import MemoryOutput, ProcessOutput
from dynapi_bench.results import Row


def entry(fullname: str, data: list[float], **extra_info: Any) -> dict[str, Any]:
    """One benchmark as pytest-benchmark writes it (the fields the harness reads, and a few more)."""
    return {
        "group": None,
        "name": fullname.rsplit("::", 1)[-1],
        "fullname": fullname,
        "extra_info": extra_info,
        "stats": {"min": min(data), "max": max(data), "rounds": len(data), "data": data},
    }


def process(
    *entries: dict[str, Any], suite: tuple[dict[str, Any], ...] = (), commit: str = "0123456789abcdef"
) -> ProcessOutput:
    return ProcessOutput(
        {
            "machine_info": {"node": "box", "python_version": "3.11.7"},
            "commit_info": {"id": commit, "branch": "main", "dirty": False},
            "datetime": "2026-11-29T08:00:00+00:00",
            "version": "5.3.1",
            "benchmarks": list(entries),
        },
        suite,
    )


def recorded(tests: dict[str, tuple[str, str | None, float]], peak_rss: int | None = 100_000_000) -> dict[str, Any]:
    """One run of the suite as the recorder writes it: node id -> (outcome, api_version, duration_s)."""
    return {
        "peak_rss_bytes": peak_rss,
        "tests": {
            nodeid: {"outcome": outcome, "api_version": version, "duration_s": duration}
            for nodeid, (outcome, version, duration) in tests.items()
        },
    }


def by_name(rows: list[Row]) -> dict[str, Row]:
    return {row.name: row for row in rows}


LOAD = "benchmarks/test_config_load.py::test_load[v1]"
GEN = "benchmarks/test_data_generation.py::test_generate[pet]"
SUITE_RUN1 = "benchmarks/test_test_execution.py::test_suite[run1]"
SUITE_RUN2 = "benchmarks/test_test_execution.py::test_suite[run2]"


# -- timing_rows ------------------------------------------------------------------------------------
def test_every_sample_is_kept_and_each_process_gives_one_value() -> None:
    outputs = [
        process(entry(LOAD, [1.0, 2.0, 3.0], kpi="config_load")),
        process(entry(LOAD, [10.0, 20.0, 30.0, 40.0], kpi="config_load")),
        process(entry(LOAD, [5.0], kpi="config_load")),
    ]
    (row,) = timing_rows(outputs)
    assert (row.kpi, row.name, row.measure, row.items) == ("config_load", LOAD, "time", 1)
    np.testing.assert_array_equal(row.samples, [1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 40.0, 5.0])
    assert row.process is not None
    np.testing.assert_array_equal(row.process, [2.0, 25.0, 5.0])  # each process's median, in process order
    assert row.value == 2.0  # the fastest process's median, not the median of the pooled samples (10.0)


def test_benchmarks_without_a_kpi_are_left_out() -> None:
    outputs = [process(entry("benchmarks/test_x.py::test_helper", [1.0]), entry(LOAD, [1.0], kpi="config_load"))]
    assert [row.name for row in timing_rows(outputs)] == [LOAD]


def test_rows_keep_the_order_of_first_appearance() -> None:
    outputs = [
        process(entry(GEN, [1.0], kpi="data_generation"), entry(LOAD, [1.0], kpi="config_load")),
        process(entry(LOAD, [1.0], kpi="config_load"), entry(GEN, [1.0], kpi="data_generation")),
    ]
    assert [row.name for row in timing_rows(outputs)] == [GEN, LOAD]


def test_a_row_tag_merges_the_suite_runs_with_one_value_per_run_in_order() -> None:
    def suite(run1: float, run2: float) -> ProcessOutput:
        return process(
            entry(SUITE_RUN1, [run1], kpi="suite_wall_time", items=1, row="test_suite"),
            entry(SUITE_RUN2, [run2], kpi="suite_wall_time", items=1, row="test_suite"),
        )

    (row,) = timing_rows([suite(2.0, 2.2), suite(1.8, 2.4)])
    assert (row.kpi, row.name) == ("suite_wall_time", "test_suite")
    assert row.process is not None
    np.testing.assert_array_equal(row.process, [2.0, 2.2, 1.8, 2.4])
    np.testing.assert_array_equal(row.samples, [2.0, 2.2, 1.8, 2.4])
    assert "row" not in row.info


def test_items_divide_samples_and_process_values() -> None:
    outputs = [
        process(entry(GEN, [100.0, 300.0], kpi="data_generation", items=100)),
        process(entry(GEN, [500.0], kpi="data_generation", items=100)),
    ]
    (row,) = timing_rows(outputs)
    assert row.items == 100
    np.testing.assert_allclose(row.samples, [1.0, 3.0, 5.0])
    assert row.process is not None
    np.testing.assert_allclose(row.process, [2.0, 5.0])


def test_extra_info_beyond_the_harness_keys_is_kept() -> None:
    outputs = [process(entry(LOAD, [1.0], kpi="config_load", items=1, measure="time", version="v2", cached=False))]
    (row,) = timing_rows(outputs)
    assert dict(row.info) == {"version": "v2", "cached": False}


def test_no_process_no_rows() -> None:
    assert timing_rows([]) == []
    assert timing_rows([process()]) == []


# -- suite_rows -------------------------------------------------------------------------------------
A = "tests/integration/test_pets.py::test_get[v1]"
B = "tests/integration/test_pets.py::test_get[v2]"
C = "tests/integration/test_pets.py::test_list[v2]"


def test_suite_rows_one_value_per_run_the_median_of_the_run() -> None:
    outputs = [
        process(
            suite=(
                recorded({A: ("passed", "v1", 1.0), B: ("passed", "v2", 2.0), C: ("passed", "v2", 9.0)}),
                recorded({A: ("passed", "v1", 3.0), B: ("passed", "v2", 4.0), C: ("passed", "v2", 5.0)}),
            )
        ),
        process(suite=(recorded({A: ("passed", "v1", 7.0), B: ("passed", "v2", 6.0), C: ("passed", "v2", 8.0)}),)),
    ]
    rows = by_name(suite_rows(outputs))
    execution = rows["test_execution"]
    assert (execution.kpi, execution.measure) == ("test_execution", "time")
    assert execution.process is not None
    np.testing.assert_array_equal(execution.process, [2.0, 4.0, 7.0])  # run by run, in order
    np.testing.assert_array_equal(execution.samples, [1.0, 2.0, 9.0, 3.0, 4.0, 5.0, 7.0, 6.0, 8.0])
    assert execution.info["tests"] == 3
    # per test: A 3.0, B 4.0, C 8.0; per version the median of its tests' medians
    assert execution.info["median_by_version_s"] == {"v1": 3.0, "v2": 6.0}
    assert execution.info["slowest"] == [
        {"test": C, "median_s": 8.0},
        {"test": B, "median_s": 4.0},
        {"test": A, "median_s": 3.0},
    ]


def test_failed_and_unversioned_tests_are_left_out() -> None:
    run = recorded(
        {
            A: ("passed", "v1", 1.0),
            B: ("failed", "v2", 100.0),
            C: ("skipped", "v2", 200.0),
            "tests/integration/test_plain.py::test_helper": ("passed", None, 300.0),
        }
    )
    execution = by_name(suite_rows([process(suite=(run,))]))["test_execution"]
    np.testing.assert_array_equal(execution.samples, [1.0])
    assert execution.process is not None
    np.testing.assert_array_equal(execution.process, [1.0])
    assert execution.info["tests"] == 1
    assert execution.info["median_by_version_s"] == {"v1": 1.0}


def test_a_run_without_a_counted_test_is_an_error() -> None:
    # Dropping the run would put base's and head's runs out of line: the k-th pairs with the k-th.
    outputs = [process(suite=(recorded({A: ("failed", "v1", 50.0)}), recorded({A: ("passed", "v1", 2.0)})))]
    with pytest.raises(PassError) as info:
        suite_rows(outputs)
    assert str(info.value) == (
        "a run of the dynamic suite passed no versioned test (process 0); run the suite to see why"
    )


def test_suite_peak_rss_one_value_per_run() -> None:
    outputs = [
        process(suite=(recorded({A: ("passed", "v1", 1.0)}, 100), recorded({A: ("passed", "v1", 1.0)}, 300))),
        process(suite=(recorded({A: ("passed", "v1", 1.0)}, 250), recorded({A: ("passed", "v1", 1.0)}, 200))),
    ]
    rss = by_name(suite_rows(outputs))["suite_peak_rss"]
    assert (rss.kpi, rss.measure) == ("suite_peak_rss", "memory")
    np.testing.assert_array_equal(rss.samples, [100.0, 300.0, 250.0, 200.0])
    assert rss.process is not None
    np.testing.assert_array_equal(rss.process, [100.0, 300.0, 250.0, 200.0])
    assert rss.value == 225.0  # memory: the median, not the smallest run


def test_no_peak_rss_no_row() -> None:
    # One run where the OS did not tell: no row at all, rather than values out of line by run.
    outputs = [process(suite=(recorded({A: ("passed", "v1", 1.0)}, None), recorded({A: ("passed", "v1", 1.0)}, 9)))]
    assert [row.name for row in suite_rows(outputs)] == ["test_execution"]


def test_no_suite_run_no_suite_rows() -> None:
    assert suite_rows([process()]) == []


def test_the_same_benchmark_twice_in_a_process_is_an_error() -> None:
    twice = entry("benchmarks/test_a.py::test_x", [1.0], kpi="config_load")
    with pytest.raises(ResultsError) as info:
        timing_rows([process(twice, twice)])
    assert str(info.value) == (
        "process 0: benchmark 'benchmarks/test_a.py::test_x' appears twice (or under two KPIs); give each "
        "benchmark its own name, or the same `row` tag and KPI to its runs"
    )


# -- memory_rows ------------------------------------------------------------------------------------
def test_memory_rows_per_version_keyed_by_node_id() -> None:
    memory = MemoryOutput(
        {
            A: {"api_version": "v1", "peak_bytes": 1000, "capture": "a.bin"},
            B: {"api_version": "v2", "peak_bytes": 3000, "capture": "b.bin"},
            C: {"api_version": "v2", "peak_bytes": 2000, "capture": "c.bin"},
            "tests/integration/test_plain.py::test_helper": {"api_version": None, "peak_bytes": 9e9},
        }
    )
    rows = memory_rows(memory)
    assert [row.name for row in rows] == ["memory_per_test[v1]", "memory_per_test[v2]"]
    v1, v2 = rows
    assert all((row.kpi, row.measure) == ("memory_per_test", "memory") for row in rows)
    assert v1.keyed == {A: 1000.0}
    assert v2.keyed == {B: 3000.0, C: 2000.0}
    np.testing.assert_array_equal(v2.samples, [3000.0, 2000.0])
    assert v2.info == {
        "version": "v2",
        "tests": 2,
        "heaviest": [{"test": B, "peak_bytes": 3000.0}, {"test": C, "peak_bytes": 2000.0}],
    }


def test_no_versioned_test_no_memory_rows() -> None:
    assert memory_rows(MemoryOutput({})) == []


# -- side_results -----------------------------------------------------------------------------------
def test_side_results_rows_and_where_and_when(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNAPI_MACHINE_ID", "test-box")
    outputs = [
        process(entry(LOAD, [1.0], kpi="config_load"), suite=(recorded({A: ("passed", "v1", 1.0)}),)),
        process(entry(LOAD, [2.0], kpi="config_load"), commit="fedcba9876543210"),
    ]
    memory = MemoryOutput({A: {"api_version": "v1", "peak_bytes": 1000}})
    results = side_results("head", outputs, memory, ref="HEAD~1")
    assert [row.name for row in results.rows] == [LOAD, "test_execution", "suite_peak_rss", "memory_per_test[v1]"]
    assert results.machine == "test-box"
    assert results.commit == "0123456789ab"  # the first process's, shortened to 12
    assert results.datetime == "2026-11-29T08:00:00+00:00"
    assert results.machine_info == {"node": "box", "python_version": "3.11.7"}
    assert results.commit_info["branch"] == "main"
    assert results.extra == {"side": "head", "processes": 2, "ref": "HEAD~1"}


def test_side_results_without_processes() -> None:
    results = side_results("head", [], MemoryOutput({A: {"api_version": "v1", "peak_bytes": 1000}}))
    assert (results.commit, results.datetime) == ("unknown", "")
    assert [row.name for row in results.rows] == ["memory_per_test[v1]"]
    assert results.extra == {"side": "head", "processes": 0}


def test_side_results_duplicate_names() -> None:
    # A benchmark tagged with the name of the suite's own row: two rows of one name.
    outputs = [
        process(
            entry(SUITE_RUN1, [1.0], kpi="test_execution", row="test_execution"),
            suite=(recorded({A: ("passed", "v1", 1.0)}),),
        )
    ]
    with pytest.raises(ResultsError) as caught:
        side_results("head", outputs, MemoryOutput({}))
    assert str(caught.value) == (
        "results of 0123456789ab: benchmark 'test_execution' appears twice; every benchmark must be one row "
        "(a merged or hand-edited file? measure again, or remove one of them)"
    )


def test_contender_rows_keep_every_round_and_take_the_median_of_process_medians() -> None:
    """A same-run comparison: every round's ratio of every process is a sample, each process's
    median a value, and the row's value is their median (not the smallest, as for time)."""
    record = {"kpi": "valid_path_ratio", "row": "valid_path_ratio[v2-pet]", "measure": "ratio", "info": {}}
    outputs = [
        ProcessOutput({}, (), ({**record, "values": [1.0, 1.2, 1.4]},)),
        ProcessOutput({}, (), ({**record, "values": [1.1, 1.3, 1.5]},)),
        ProcessOutput({}, (), ({**record, "values": [0.9, 1.0, 1.1]},)),
    ]
    (row,) = contender_rows(outputs)
    assert (row.kpi, row.name, row.measure) == ("valid_path_ratio", "valid_path_ratio[v2-pet]", "ratio")
    assert list(row.samples) == [1.0, 1.2, 1.4, 1.1, 1.3, 1.5, 0.9, 1.0, 1.1]
    assert list(row.process) == [1.2, 1.3, 1.0]  # type: ignore[arg-type]
    assert row.value == 1.2
    difference = {"kpi": "session_startup_wall", "row": "session_startup_wall", "measure": "difference", "info": {}}
    (startup,) = contender_rows([ProcessOutput({}, (), ({**difference, "values": [-0.002, 0.004, 0.010]},))])
    assert startup.value == 0.004


def _wall(*pairs: tuple[float, float]) -> list[ProcessOutput]:
    """Timing processes of one start-up pair each: (difference, the hand-written process's seconds)."""
    record = {"kpi": "session_startup_wall", "row": "session_startup_wall", "measure": "difference"}
    return [ProcessOutput({}, (), ({**record, "values": [d], "info": {"theirs": [t]}},)) for d, t in pairs]


def _counted(difference: float, theirs: float) -> Row:
    values = np.asarray([difference])
    info = {"ours": theirs + difference, "theirs": theirs}
    return Row(
        "session_startup_instructions", "session_startup_instructions", values, "instructions", values, info=info
    )


def test_the_start_up_is_its_counted_difference_at_each_pairs_speed() -> None:
    """Per timed pair: the instructions' difference times that pair's hand-written process's
    seconds per instruction; the wall differences themselves play no part."""
    contenders = contender_rows(_wall((0.300, 0.8), (-0.250, 1.0), (0.010, 1.2)))
    (wall,) = contenders
    assert wall.info["theirs"] == [0.8, 1.0, 1.2]  # every process's, not the first's alone
    (row,) = startup_rows(contenders, [_counted(40e6, 2000e6)])
    assert (row.kpi, row.name, row.measure) == ("session_startup", "session_startup", "difference")
    assert np.allclose(row.samples, [0.016, 0.020, 0.024])  # 40 M at 0.4, 0.5 and 0.6 ns each
    assert row.value == pytest.approx(0.020)
    assert row.info == {"instructions": 40e6, "ns_per_instruction": pytest.approx(0.5), "pairs": 3}
    doubled = startup_rows(contenders, [_counted(80e6, 2000e6)])[0]
    assert doubled.value == pytest.approx(0.040)  # twice the instructions, twice the estimate


def test_without_counts_or_timed_pairs_there_is_no_start_up_estimate() -> None:
    contenders = contender_rows(_wall((0.3, 0.8)))
    assert startup_rows(contenders, []) == []
    assert startup_rows([], [_counted(40e6, 2000e6)]) == []
    rows = side_results("head", _wall((0.3, 0.8)), MemoryOutput({}), [_counted(40e6, 2000e6)]).rows
    assert [r.name for r in rows if r.name.startswith("session_startup")] == [
        "session_startup_wall",
        "session_startup",
        "session_startup_instructions",
    ]
