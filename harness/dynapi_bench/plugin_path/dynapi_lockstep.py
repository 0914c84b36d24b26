"""pytest plugin: run each test only on the coordinator's turn (``dynapi_bench.lockstep``).

Loaded by path (this directory on PYTHONPATH, ``-p dynapi_lockstep``) so that it works in
whichever environment a side runs in: a base's own virtualenv, or the one both sides share.
Standard library only.
Protocol, one line each way: ``ready <nodeid>`` -> ``go`` -> ``done``; at the end
``end`` -> ``go``, so that no process exits (and writes its JSON) while another measures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO

import pytest

ENV = "DYNAPI_LOCKSTEP_FDS"  # "<read fd>,<write fd>", inherited through pass_fds


class Turns:
    """This process's end of the turn-taking pipes, registered as a plugin when asked for."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._in: IO[str] = os.fdopen(read_fd, "r", encoding="utf-8")
        self._out: IO[str] = os.fdopen(write_fd, "w", encoding="utf-8")

    def _say(self, line: str) -> None:
        self._out.write(line + "\n")
        self._out.flush()

    def wait(self, what: str) -> None:
        """Announce ``what`` and block until the coordinator says go."""
        self._say(what)
        answer = self._in.readline().strip()
        if answer != "go":
            raise pytest.UsageError(f"dynapi_lockstep: the coordinator answered {answer!r} to {what!r}, not 'go'")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        self.wait(f"ready {item.nodeid}")
        yield
        self._say("done")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.wait("end")


def pytest_configure(config: pytest.Config) -> None:
    spec = os.environ.pop(ENV, None)  # popped: the suite a benchmark spawns must not take turns
    if spec:
        read_fd, write_fd = (int(fd) for fd in spec.split(","))
        config.pluginmanager.register(Turns(read_fd, write_fd), "dynapi_lockstep_turns")
