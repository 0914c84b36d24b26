"""Per-test duration and peak traced memory, written into each test's report.

Enabled with ``--record-perf`` (``time``, ``memory`` or ``both``): time with
``time.perf_counter`` around setup, call and teardown; memory as the peak that
``tracemalloc`` saw above the level at which the test started. Time and memory are
best taken in separate runs, since tracing allocations slows the code it watches.
The figures go into the teardown report's ``user_properties`` (so they cross
pytest-xdist and reach junit XML) and, with ``--record-perf-json``, into a JSON file keyed
by node id, with each test's outcome and API version (its ``api_version`` parameter), so a
reader needs to parse nothing.
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from framework.files import atomic_write_text

__all__ = ["API_VERSION", "DURATION", "PEAK_MEMORY", "PerfRecorder", "api_version_of", "peak_rss"]

API_VERSION = "dynapi_api_version"
DURATION = "dynapi_duration_s"
PEAK_MEMORY = "dynapi_peak_memory_bytes"
_PHASES = ("setup", "call", "teardown")


class PerfRecorder:
    """A pytest plugin object: measures each test and collects the figures."""

    def __init__(self, mode: str, json_path: Path | None) -> None:
        self.time = mode in ("time", "both")
        self.memory = mode in ("memory", "both")
        self.json_path = json_path
        self.records: dict[str, dict[str, Any]] = {}
        self._phases: dict[str, float] = {}
        self._base = 0
        self._started_tracing = False
        self._outcomes: dict[str, str] = {}

    def pytest_sessionstart(self) -> None:
        if self.memory and not tracemalloc.is_tracing():
            tracemalloc.start()
            self._started_tracing = True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self._started_tracing:
            tracemalloc.stop()
        if self.json_path is not None and not hasattr(session.config, "workerinput"):
            data = {
                "mode": "both" if self.time and self.memory else ("time" if self.time else "memory"),
                "peak_rss_bytes": peak_rss(),
                "tests": self.records,
            }
            atomic_write_text(self.json_path, json.dumps(data, indent=1))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        self._phases = {}
        item.user_properties.append((API_VERSION, api_version_of(item)))
        if self.memory:
            tracemalloc.reset_peak()
            self._base = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            self._phases["setup"] = time.perf_counter() - start

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            self._phases["call"] = time.perf_counter() - start

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        start = time.perf_counter()
        try:
            return (yield)
        finally:
            self._phases["teardown"] = time.perf_counter() - start
            if self.time:
                item.user_properties.append((DURATION, sum(self._phases.values())))
                for phase in _PHASES:
                    item.user_properties.append((f"dynapi_{phase}_s", self._phases.get(phase, 0.0)))
            if self.memory:
                peak = tracemalloc.get_traced_memory()[1]
                item.user_properties.append((PEAK_MEMORY, max(peak - self._base, 0)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            if report.outcome != "passed":  # the teardown report says "passed" for a failed test
                self._outcomes[report.nodeid] = report.outcome
            return
        outcome = self._outcomes.pop(report.nodeid, "passed") if report.passed else report.outcome
        props = dict(report.user_properties)
        if DURATION not in props and PEAK_MEMORY not in props:
            return
        record: dict[str, Any] = {"outcome": outcome}
        record.update({k.removeprefix("dynapi_"): v for k, v in props.items() if k.startswith("dynapi_")})
        self.records[report.nodeid] = record

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.records:
            return
        tr = terminalreporter
        tr.write_sep("-", "dynapi: per-test figures")
        if self.time:
            ds = [r["duration_s"] for r in self.records.values() if "duration_s" in r]
            tr.write_line(f"time per test: median {statistics.median(ds) * 1e3:.3f} ms over {len(ds)} tests")
        if self.memory:
            ms = [r["peak_memory_bytes"] for r in self.records.values() if "peak_memory_bytes" in r]
            tr.write_line(
                f"peak traced memory per test: median {statistics.median(ms) / 1024:.1f} KiB, "
                f"max {max(ms) / 1024:.1f} KiB over {len(ms)} tests"
            )


def api_version_of(item: pytest.Item) -> str | None:
    """The API version a test runs against: its ``api_version`` parameter, or None."""
    callspec = getattr(item, "callspec", None)
    version = callspec.params.get("api_version") if callspec is not None else None
    return str(version) if version is not None else None


def peak_rss() -> int | None:
    """This process's peak resident memory in bytes (``VmHWM``), or None where unknown.

    Not ``getrusage``: its ``ru_maxrss`` keeps the peak of the process before ``exec``,
    so a child started from a big parent reports the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
