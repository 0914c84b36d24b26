"""Tests of dynapi_bench.plan: processes per side, balanced orders, rounds, folders."""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from dynapi_bench.plan import AB_PAIRS, FULL_PROCESSES, QUICK_PROCESSES, Plan, Side


def sides(*names: str) -> tuple[Side, ...]:
    return tuple(Side(name, Path("/checkouts") / name) for name in names)


# -- processes per side ---------------------------------------------------------------------------
def test_a_run_on_its_own_has_five_processes() -> None:
    plan = Plan.for_run(sides("head"), Path("raw"))
    assert (plan.processes, plan.quick) == (FULL_PROCESSES, False)
    assert FULL_PROCESSES == 5


def test_quick_on_its_own_has_three_processes() -> None:
    plan = Plan.for_run(sides("head"), Path("raw"), quick=True)
    assert (plan.processes, plan.quick) == (QUICK_PROCESSES, True)
    assert QUICK_PROCESSES == 3


@pytest.mark.parametrize("quick", [False, True])
def test_two_sides_run_ab_pairs_with_full_rounds(quick: bool) -> None:
    plan = Plan.for_run(sides("base", "head"), Path("raw"), quick=quick)
    # Quick beside a base: 3 pairs, its wall time gated only beyond the large-change factor.
    assert (plan.processes, plan.quick) == (QUICK_PROCESSES if quick else AB_PAIRS, False)
    assert AB_PAIRS == 12
    assert plan.rounds == ("0.05", "10")  # quick's shorter rounds never apply beside a base


# -- cycles -------------------------------------------------------------------------------------
def test_one_side_runs_alone_every_cycle() -> None:
    (head,) = sides("head")
    assert Plan.for_run((head,), Path("raw")).cycles() == [[head]] * FULL_PROCESSES


def test_two_sides_alternate_which_goes_first() -> None:
    base, head = sides("base", "head")
    cycles = Plan.for_run((base, head), Path("raw")).cycles()
    assert cycles == [[base, head], [head, base]] * (AB_PAIRS // 2)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_cycles_are_balanced(n: int) -> None:
    every = sides(*(f"s{i}" for i in range(n)))
    plan = Plan(every, processes=AB_PAIRS, raw=Path("raw"))
    cycles = plan.cycles()
    assert len(cycles) == AB_PAIRS
    assert all(sorted(c, key=lambda s: s.name) == list(every) for c in cycles)  # each side once a cycle
    places = Counter((place, side.name) for cycle in cycles for place, side in enumerate(cycle))
    assert len(places) == n * n
    assert set(places.values()) == {AB_PAIRS // n}  # every side in every place equally often


def test_cycles_repeat_the_orders_beyond_one_square() -> None:
    a, b, c = sides("a", "b", "c")
    cycles = Plan((a, b, c), processes=7, raw=Path("raw")).cycles()
    assert len(cycles) == 7
    assert cycles[6] == cycles[0]  # three sides: six orders, then again from the first


# -- rounds and folders ---------------------------------------------------------------------------
def test_rounds() -> None:
    assert Plan.for_run(sides("head"), Path("raw")).rounds == ("0.05", "10")
    assert Plan.for_run(sides("head"), Path("raw"), quick=True).rounds == ("0.01", "5")


def test_folder_is_absolute_under_raw_per_side(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    base, head = sides("base", "head")
    plan = Plan.for_run((base, head), Path("raw"))
    assert plan.folder(head, "timing-3") == tmp_path.resolve() / "raw" / "head" / "timing-3"
    assert plan.folder(base, "memory") == tmp_path.resolve() / "raw" / "base" / "memory"


# -- sides ----------------------------------------------------------------------------------------
def test_side_benchmarks_and_defaults() -> None:
    side = Side("head", Path("/checkouts/head"))
    assert side.benchmarks == Path("/checkouts/head/benchmarks")
    assert side.python == sys.executable


def test_side_environ_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNAPI_TEST_LAYER", "os")
    monkeypatch.setenv("DYNAPI_TEST_OTHER", "os")
    side = Side("head", Path("."), env=(("DYNAPI_TEST_LAYER", "side"), ("DYNAPI_TEST_SIDE", "side")))
    env = side.environ(DYNAPI_TEST_SIDE="extra")
    assert env["DYNAPI_TEST_OTHER"] == "os"
    assert env["DYNAPI_TEST_LAYER"] == "side"  # the side's variables over the environment
    assert env["DYNAPI_TEST_SIDE"] == "extra"  # and the call's over the side's
    assert "DYNAPI_TEST_SIDE" not in os.environ  # a copy: the harness's own environment is untouched
