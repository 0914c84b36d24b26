"""Run several pytest processes in lockstep: one test at a time, each in turn.

Timings on this kind of machine drift in phases of seconds (a neighbour's load, a slow
spell), so two processes run one after the other can see different machines. Run side
by side and taking turns test by test (A's test 1, B's test 1, A's test 2, ...), base and
head measure each benchmark within a second of each other and a slow phase hits both.
Only one process runs at a time: the others wait on a pipe, so none competes for a core.
The processes load ``plugin_path/dynapi_lockstep.py``, which speaks the protocol; they start
through :mod:`dynapi_bench.children`, so an interrupted run ends them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dynapi_bench import children

__all__ = ["PLUGIN", "PLUGIN_PATH", "Finished", "Launch", "balanced_orders", "run_in_lockstep"]

PLUGIN = "dynapi_lockstep"
PLUGIN_PATH = Path(__file__).resolve().parent / "plugin_path"
FDS_ENV = "DYNAPI_LOCKSTEP_FDS"  # as in the plugin, which imports nothing of ours


@dataclass(frozen=True)
class Launch:
    """One process to run: its command (a pytest run), log, environment and directory."""

    cmd: Sequence[str]
    log: Path
    env: dict[str, str] | None = None
    cwd: Path | None = None


@dataclass(frozen=True)
class Finished:
    """A finished child process: exit code, wall seconds, peak RSS in bytes (from wait4,
    so it includes the parent's size at fork time: prefer the child's own VmHWM)."""

    returncode: int
    wall: float
    max_rss: int


class _Child:
    """A started process and the coordinator's ends of its two pipes."""

    def __init__(self, launch: Launch) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(launch.env if launch.env is not None else os.environ)
        env[FDS_ENV] = f"{to_child_r},{from_child_w}"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PLUGIN_PATH), env.get("PYTHONPATH", "")) if p)
        launch.log.parent.mkdir(parents=True, exist_ok=True)
        self._log = launch.log.open("wb")
        self.start = time.perf_counter()
        self.proc = children.popen(
            [*launch.cmd, "-p", PLUGIN],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=launch.cwd,
            pass_fds=(to_child_r, from_child_w),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._to: IO[str] = os.fdopen(to_child_w, "w", encoding="utf-8")
        self._from: IO[str] = os.fdopen(from_child_r, "r", encoding="utf-8")
        self.pending = ""

    def read(self) -> str:
        """The child's next line; ``"end"`` when it has exited (or crashed)."""
        line = self._from.readline()
        return line.strip() if line else "end"

    def go(self) -> None:
        with contextlib.suppress(BrokenPipeError):  # it died meanwhile: finish() tells how
            self._to.write("go\n")
            self._to.flush()

    def turn(self) -> None:
        """Let the child run its pending test; return once it waits again."""
        self.go()
        self.read()  # "done" (or "end" if it died in the test)
        self.pending = self.read()

    def finish(self) -> Finished:
        usage = children.wait4(self.proc)
        wall = time.perf_counter() - self.start
        for stream in (self._to, self._from, self._log):
            with contextlib.suppress(BrokenPipeError):
                stream.close()
        return Finished(self.proc.returncode, wall, usage.ru_maxrss * 1024)  # ru_maxrss: KiB on Linux


def balanced_orders(n: int) -> list[list[int]]:
    """Orders of ``n`` sides, one per cycle, balanced (a Williams design): over the list
    every side takes every position equally often and follows every other side equally
    often, so neither a place in the round nor a neighbour favours one side. Two sides:
    ``[[0, 1], [1, 0]]``. Even ``n`` gives ``n`` orders, odd ``n`` twice as many."""
    if n < 1:
        raise ValueError(f"balanced_orders needs at least one side, not {n}")
    first = [0]
    low, high = 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    square = [[(x + i) % n for x in first] for i in range(n)]
    return square if n % 2 == 0 else square + [row[::-1] for row in square]


def run_in_lockstep(launches: Sequence[Launch]) -> list[Finished]:
    """Run ``launches`` side by side, one test at a time in the given order, round after
    round; start measuring only when every process has collected, and let them exit only
    when all are done. Returns each one's :class:`Finished`, in order."""
    children = [_Child(launch) for launch in launches]
    for child in children:
        child.pending = child.read()  # once all have collected, only one runs at a time
    while any(child.pending != "end" for child in children):
        for child in children:
            if child.pending != "end":
                child.turn()
    for child in children:
        child.go()  # the end barrier: all may write their results now
    return [child.finish() for child in children]
