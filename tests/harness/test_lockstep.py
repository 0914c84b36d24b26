"""Tests of dynapi_bench.lockstep: processes take turns test by test, never overlap."""

from __future__ import annotations

import itertools
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from dynapi_bench.lockstep import FDS_ENV, Launch, balanced_orders, run_in_lockstep

TESTS = """
import os, subprocess, sys
import pytest

LOG = {log!r}

def note(what):
    with open(LOG, "a") as f:
        f.write(f"{{os.environ['SIDE']}} {{what}}\\n")

@pytest.mark.parametrize("i", range({n}))
def test_step(i):
    note(f"start {{i}}")
    child = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get({env!r}, 'none'))"],
                           capture_output=True, text=True, check=True)
    note(f"child-sees {{child.stdout.strip()}}")
    note(f"end {{i}}")
"""

CONFTEST = """
import os

def pytest_sessionfinish(session):
    with open({log!r}, "a") as f:
        f.write(f"{{os.environ['SIDE']}} finish\\n")
"""


def side(tmp_path: Path, name: str, tests: int, log: Path) -> Launch:
    root = tmp_path / name
    root.mkdir()
    (root / "test_steps.py").write_text(TESTS.format(log=str(log), n=tests, env=FDS_ENV))
    (root / "conftest.py").write_text(CONFTEST.format(log=str(log)))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)]
    return Launch(cmd, tmp_path / f"{name}.log", env={**os.environ, "SIDE": name}, cwd=root)


def test_sides_take_turns_test_by_test_and_finish_together(tmp_path: Path) -> None:
    log = tmp_path / "events"
    finished = run_in_lockstep([side(tmp_path, "A", 3, log), side(tmp_path, "B", 3, log)])
    assert [f.returncode for f in finished] == [0, 0]
    events = [line for line in log.read_text().splitlines() if "child-sees" not in line]
    tests = events[:-2]
    assert tests == [f"{s} {what} {i}" for i in range(3) for s in "AB" for what in ("start", "end")]
    assert sorted(events[-2:]) == ["A finish", "B finish"]  # nobody exits while another measures


def test_the_turn_pipes_stay_out_of_what_a_test_spawns(tmp_path: Path) -> None:
    log = tmp_path / "events"
    run_in_lockstep([side(tmp_path, "A", 1, log)])
    assert "A child-sees none" in log.read_text().splitlines()


def test_sides_with_different_tests_all_run(tmp_path: Path) -> None:
    log = tmp_path / "events"
    finished = run_in_lockstep([side(tmp_path, "A", 1, log), side(tmp_path, "B", 3, log)])
    assert [f.returncode for f in finished] == [0, 0]
    starts = [line for line in log.read_text().splitlines() if " start " in line]
    assert starts == ["A start 0", "B start 0", "B start 1", "B start 2"]


def test_a_process_that_dies_does_not_hang_the_others(tmp_path: Path) -> None:
    log = tmp_path / "events"
    broken = side(tmp_path, "A", 2, log)
    assert broken.cwd is not None
    (broken.cwd / "test_steps.py").write_text("this is not python\n")
    finished = run_in_lockstep([broken, side(tmp_path, "B", 2, log)])
    assert finished[0].returncode != 0
    assert finished[1].returncode == 0
    assert [line for line in log.read_text().splitlines() if " start " in line] == ["B start 0", "B start 1"]


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_balanced_orders_give_no_side_a_place_or_a_neighbour(n: int) -> None:
    orders = balanced_orders(n)
    assert all(sorted(order) == list(range(n)) for order in orders)
    per_place = Counter((place, side) for order in orders for place, side in enumerate(order))
    assert set(per_place.values()) == {len(orders) // n}
    follows = Counter((a, b) for order in orders for a, b in itertools.pairwise(order))
    if n > 1:
        assert len(follows) == n * (n - 1)  # every ordered pair of sides occurs
        assert len(set(follows.values())) == 1  # and equally often
    assert balanced_orders(2) == [[0, 1], [1, 0]]


def test_balanced_orders_need_a_side() -> None:
    with pytest.raises(ValueError, match="at least one side"):
        balanced_orders(0)
