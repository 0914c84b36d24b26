"""Tests of dynapi_bench.children: every child in a group of its own, and none left behind.

The children are real processes; each test waits for what a child reports (its pid file),
never for a time, and checks that processes ended through /proc (``ended``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from dynapi_bench import children

Ended = Callable[[Iterable[int]], list[int]]

# A child that starts a grandchild ignoring SIGTERM, writes "<its pid> <grandchild pid>", and waits.
PARENT = """
import subprocess, sys, time
stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"
grandchild = subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE, text=True)
grandchild.stdout.readline()  # its SIGTERM is ignored from here on
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(f"{__import__('os').getpid()} {grandchild.pid}")
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(600)
"""


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    """Each test in a supervised scope: the registry starts empty and nothing outlives the test."""
    with children.supervised(grace=0.2):
        yield


def pids_of(path: Path) -> list[int]:
    """What the child wrote, once it has (it writes the file whole, by a rename)."""
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"the child never wrote {path}"
        time.sleep(0.02)
    return [int(p) for p in path.read_text().split()]


def test_a_child_runs_in_a_process_group_of_its_own_until_reaped() -> None:
    proc = children.popen([sys.executable, "-c", "import os; print(os.getpgid(0))"], stdout=subprocess.PIPE, text=True)
    assert children.live() == [proc.pid]
    assert int(proc.stdout.read()) == proc.pid != os.getpgid(0)
    proc.stdout.close()
    usage = children.wait4(proc)
    assert proc.returncode == 0
    assert usage.ru_maxrss > 0
    assert children.live() == []


def test_run_is_subprocess_run_with_output_captured() -> None:
    code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    done = children.run([sys.executable, "-c", code])
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
    assert children.live() == []


def test_a_timeout_kills_the_child_and_is_raised() -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        children.run([sys.executable, "-c", "import time; time.sleep(600)"], timeout=0.2)
    assert children.live() == []


def test_reap_all_ends_every_group_even_a_grandchild_that_ignores_sigterm(tmp_path: Path, ended: Ended) -> None:
    proc = children.popen([sys.executable, "-c", PARENT, str(tmp_path / "pids")])
    pid, grandchild = pids_of(tmp_path / "pids")
    assert pid == proc.pid
    assert os.getpgid(grandchild) == pid  # the grandchild is in the child's group
    children.reap_all(grace=0.2)
    assert proc.returncode == -15  # SIGTERM ended the child; the grandchild needed SIGKILL
    assert ended([pid]) == []
    assert children.live() == []


def test_once_stopping_no_child_starts_but_a_clean_up(tmp_path: Path) -> None:
    children.stop(grace=0.2)
    with pytest.raises(children.Stopping, match=r"not starting .*: the harness is stopping"):
        children.popen([sys.executable, "-c", "pass"])
    assert children.run([sys.executable, "-c", "print('tidied')"], cleanup=True).stdout == "tidied\n"


def failing_command(pids: Path) -> None:
    with children.supervised(grace=0.2):
        children.popen([sys.executable, "-c", PARENT, str(pids)])
        pids_of(pids)
        raise RuntimeError("the command failed with its child running")


def test_leaving_a_supervised_command_by_an_error_ends_its_children(tmp_path: Path, ended: Ended) -> None:
    with pytest.raises(RuntimeError):
        failing_command(tmp_path / "pids")
    pid, _ = pids_of(tmp_path / "pids")
    assert ended([pid]) == []
    assert children.live() == []
