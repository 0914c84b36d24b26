"""An interrupted command end to end: ``dynapi-bench`` in a process of its own on a tiny fake
project, stopped by a real SIGINT or SIGTERM once its children run.

The fake ``benchmarks/`` blocks in the test named by ``$FAKE_BLOCK``: there it starts a
grandchild that ignores SIGTERM, writes ``<pid> <process group> <grandchild>`` into
``$FAKE_PIDS/<test>.pid`` and sleeps. The tests wait for those files, never for a time, then
send the signal and check what is left: the exit code, one line on stderr, the earlier
reports byte for byte, no staging folder, and no process of any group involved.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from dynapi_bench.staging import PREFIX

Ended = Callable[[Iterable[int]], list[int]]

CONFTEST = """\
import os, subprocess, sys, time
from pathlib import Path

import pytest

STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"


def pytest_configure(config):
    config.addinivalue_line("markers", "memory: the memory pass")


@pytest.fixture(autouse=True)
def block_here(request):
    name = request.node.name
    if name not in os.environ.get("FAKE_BLOCK", "").split(","):
        return
    grandchild = subprocess.Popen([sys.executable, "-c", STUBBORN], stdout=subprocess.PIPE, text=True)
    grandchild.stdout.readline()  # it ignores SIGTERM from here on
    pids = Path(os.environ["FAKE_PIDS"])
    (pids / f"{name}.tmp").write_text(f"{os.getpid()} {os.getpgid(0)} {grandchild.pid}")
    (pids / f"{name}.tmp").rename(pids / f"{name}.pid")
    time.sleep(600)
"""

TIMED = """\
def test_timed(benchmark):
    benchmark.extra_info.update(kpi="config_load")
    benchmark(sum, [1, 2])
"""

MEMORY = """\
import pytest


@pytest.mark.memory
def test_memory():
    pass
"""

PROFILED = """\
def test_profiled():
    pass
"""

EARLIER = {
    "results.json": "earlier results",
    "summary.md": "earlier summary",
    "index.html": "earlier page",
    "raw/head/timing-0/pytest.log": "earlier log",
    "profiles/config_load.html": "earlier profile",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake project, shared: the commands write only under each test's own folders."""
    root = tmp_path_factory.mktemp("project")
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    benchmarks = root / "benchmarks"
    benchmarks.mkdir()
    for name, text in {
        "conftest.py": CONFTEST,
        "test_timed.py": TIMED,
        "test_memory.py": MEMORY,
        "test_config_load.py": PROFILED,  # the file whose workload config_load's profile shows
        "thresholds.yaml": "kpis:\n  config_load: {unit: ms, target: 50, threshold: 100, allowed_change: 0.10}\n",
    }.items():
        (benchmarks / name).write_text(text)
    return root


def tree(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): None if p.is_dir() else p.read_bytes() for p in sorted(folder.rglob("*"))}


class Command:
    """``dynapi-bench ARGS`` started in a session of its own, in the fake project."""

    def __init__(self, project: Path, tmp: Path, args: list[str], block: str) -> None:
        self.reports, self.baselines, self.pids = tmp / "reports", tmp / "baselines", tmp / "pids"
        self.pids.mkdir()
        for name, text in EARLIER.items():
            path = self.reports / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        self.before = tree(self.reports)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
        env.update(FAKE_BLOCK=block, FAKE_PIDS=str(self.pids))
        self.stdout, self.stderr = tmp / "stdout", tmp / "stderr"
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dynapi_bench.cli", *args, "--reports", str(self.reports)],
                cwd=project,
                env=env,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def blocked(self, *tests: str) -> list[list[int]]:
        """``[pid, process group, grandchild]`` of each test's process, once all are blocked."""
        deadline = time.monotonic() + 120
        paths = [self.pids / f"{test}.pid" for test in tests]
        while not all(p.exists() for p in paths):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"the command never blocked in {tests}: {self.stderr.read_text()[-2000:]}")
            time.sleep(0.05)
        return [[int(x) for x in p.read_text().split()] for p in paths]

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            raise


def check_nothing_left(command: Command, processes: list[list[int]], ended: Ended) -> None:
    assert command.stderr.read_text().splitlines()[1:] == []  # one line, no traceback
    assert tree(command.reports) == command.before  # byte for byte, and no staging folder
    assert not list(command.reports.glob(f"{PREFIX}*"))
    assert not command.baselines.exists()  # nothing saved
    for pid, group, _ in processes:
        assert group == pid != command.proc.pid  # each child leads a group of its own
    assert ended([command.proc.pid, *(group for _, group, _ in processes)]) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_run_interrupted_while_timing(project: Path, tmp_path: Path, ended: Ended, signum: int) -> None:
    """The timing pass runs its processes from the main thread, in lockstep over pipes."""
    command = Command(project, tmp_path, ["run", "--quick", "--baselines", str(tmp_path / "baselines")], "test_timed")
    processes = command.blocked("test_timed")
    name = signal.Signals(signum).name
    assert command.stop(signum) == 128 + signum
    assert command.stderr.read_text() == f"interrupted ({name}): previous reports kept; nothing saved\n"
    check_nothing_left(command, processes, ended)


def test_profiles_interrupted_while_worker_threads_wait_on_children(
    project: Path, tmp_path: Path, ended: Ended
) -> None:
    """The memory pass and the profiles run side by side in worker threads, each waiting on a child."""
    command = Command(project, tmp_path, ["profile"], "test_memory,test_profiled")
    processes = command.blocked("test_memory", "test_profiled")
    assert command.stop(signal.SIGTERM) == 143
    assert command.stderr.read_text() == "interrupted (SIGTERM): previous reports kept; nothing saved\n"
    check_nothing_left(command, processes, ended)
