"""Every process the harness starts, each in a process group of its own, so that none outlives it.

Timing and lockstep processes, valgrind, memray, pyinstrument, git, venv and pip all start
through :func:`popen` (or :func:`run`, its ``subprocess.run``), in a new session: a Ctrl-C
at the terminal reaches the harness alone, which then ends them itself, with whatever they
started (pytest's own children, a server). Each is registered until :func:`wait4` or
:func:`run` has reaped it. :func:`stop` (called by the signal handler, before the
interruption unwinds) refuses new children and sends SIGTERM to every live group, SIGKILL
after a grace; :func:`supervised` wraps a command and, on its way out, reaps what is left.
A clean-up that must still run while stopping (removing a worktree) says ``cleanup=True``.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dynapi_bench.interrupts import deferred

__all__ = ["GRACE", "Stopping", "live", "popen", "reap_all", "run", "stop", "supervised", "wait4"]

GRACE = 2.0  # seconds between SIGTERM and SIGKILL: pytest and valgrind exit at once on SIGTERM


@dataclass
class _Registry:
    """The children not reaped yet, and whether the harness is stopping."""

    live: dict[int, subprocess.Popen[Any]] = field(default_factory=dict)  # pid (= its process group) -> Popen
    stopped: set[int] = field(default_factory=set)  # the groups stop() signalled
    stopping: bool = False
    timer: threading.Timer | None = None  # stop()'s SIGKILL to come


_lock = threading.RLock()  # re-entrant: the signal handler may run while the main thread holds it
_children = _Registry()


class Stopping(RuntimeError):
    """The harness is stopping (interrupted): no new process starts."""


def popen(cmd: Sequence[str], *, cleanup: bool = False, **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(cmd, **kwargs)`` in a new session, registered until reaped. Once
    :func:`stop` ran, only a ``cleanup`` starts; anything else raises :class:`Stopping`."""
    # Deferred: a signal must not leave a child started but unregistered.
    with deferred(), _lock:
        if _children.stopping and not cleanup:
            raise Stopping(f"not starting {cmd[0]}: the harness is stopping")
        proc: subprocess.Popen[Any] = subprocess.Popen(list(cmd), start_new_session=True, **kwargs)
        _children.live[proc.pid] = proc
    return proc


def wait4(proc: subprocess.Popen[Any]) -> resource.struct_rusage:
    """Wait for ``proc``; set its ``returncode`` (so Popen neither warns nor waits again) and
    return its resource usage (``os.wait4``: the peak RSS). It is forgotten once reaped; if the
    wait is interrupted it stays registered, for :func:`reap_all`."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    _forget(proc)
    return usage


def run(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    cleanup: bool = False,
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run(cmd, capture_output=True, text=True)`` through :func:`popen`; on a
    timeout (``subprocess.TimeoutExpired``, re-raised) or any error its group is killed."""
    proc = popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cleanup=cleanup)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        _signal(proc.pid, signal.SIGKILL)
        proc.communicate()
        _forget(proc)
        raise
    _forget(proc)
    return subprocess.CompletedProcess(list(cmd), proc.returncode, out, err)


def live() -> list[int]:
    """The pids (and process groups) of the children not reaped yet."""
    with _lock:
        return sorted(_children.live)


def stop(grace: float = GRACE) -> None:
    """Start no child from now on; SIGTERM every live child's group now, and SIGKILL after
    ``grace`` in a daemon thread (the unwinding may wait on a child that ignores SIGTERM)."""
    with _lock:
        if _children.stopping:
            return
        _children.stopping = True
        groups = sorted(_children.live)
        _children.stopped.update(groups)
    for pgid in groups:
        _signal(pgid, signal.SIGTERM)
    if groups:
        timer = threading.Timer(grace, _kill, args=(groups,))
        timer.daemon = True  # never keeps the harness alive
        timer.start()
        _children.timer = timer


def reap_all(grace: float = GRACE) -> None:
    """:func:`stop`, then wait up to ``grace`` for every child, SIGKILL every group stopped or
    still live (a grandchild may ignore SIGTERM), and reap them: none is left running."""
    stop(grace)
    deadline = time.monotonic() + grace
    with _lock:
        procs = list(_children.live.values())
        groups = _children.stopped | set(_children.live)
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(max(0.0, deadline - time.monotonic()))
    _kill(sorted(groups))
    for proc in procs:
        proc.wait()
        _forget(proc)


@contextmanager
def supervised(grace: float = GRACE) -> Iterator[None]:
    """A command's life: whatever it started and did not reap is stopped and reaped on its way
    out (after an interruption or an error; after a clean run there is nothing)."""
    _reset()
    try:
        yield
    finally:
        with _lock:
            left = bool(_children.live) or _children.stopping
        if left:
            reap_all(grace)
        _reset()


def _forget(proc: subprocess.Popen[Any]) -> None:
    with _lock:
        _children.live.pop(proc.pid, None)


def _signal(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _kill(groups: Sequence[int]) -> None:
    for pgid in groups:
        _signal(pgid, signal.SIGKILL)


def _reset() -> None:
    with _lock:
        if _children.timer is not None:
            _children.timer.cancel()
        _children.stopping, _children.timer = False, None
        _children.stopped.clear()
