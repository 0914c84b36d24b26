"""A pytest plugin that counts the dynamic suite under callgrind, one span per test.

Loaded with ``-p benchmarks.counting`` into a run of the suite that the harness starts under
``valgrind --tool=callgrind --instr-atstart=no``: each test's setup, call and teardown is one
counted span, labelled with its node id, API version and outcome; the labels are written at
the end to ``$DYNAPI_COUNT_SPANS``. Session fixtures are set up by the first test, so its run
is the session's start as well (a billion instructions of imports and app start-up): it runs
uncounted, and instrumentation stays on from the second test on (switching it per test
makes valgrind translate everything again: 3x slower).

Counting the whole suite takes minutes under callgrind, so a fixed slice runs: the tests
whose node id hashes (CRC-32) to 0 modulo :data:`COUNT_SLICE`, about one in four, spread
over every file, test and version; a test keeps its place in the slice whatever is added
around it, and the harness compares the tests that both sides counted. A user's suite
(``dynapi-bench run --suite``) is counted whole: ``$DYNAPI_COUNT_SLICE`` sets the modulus (1).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest
from _pytest.runner import runtestprotocol

from dynapi_bench.callgrind import Spans
from dynapi_bench.protocol import COUNT_ENV, COUNT_SLICE, COUNT_SLICE_ENV
from framework.recorder import api_version_of


class SuiteCounter:
    """The per-test spans of one session."""

    def __init__(self, spans: Spans, modulus: int = COUNT_SLICE) -> None:
        self.spans = spans
        self.modulus = modulus
        self.started = False

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Keep the slice; the rest is deselected (and reported so by pytest)."""
        kept = [item for item in items if zlib.crc32(item.nodeid.encode()) % self.modulus == 0]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        """Run the test's three phases inside one counted span, then report them as pytest would."""
        if not self.started:  # the session's start: not a test's cost; pytest runs it as usual
            self.started = True
            return None
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        reports: list[pytest.TestReport] = []

        def run() -> dict[str, str]:
            reports.extend(runtestprotocol(item, nextitem=nextitem, log=False))
            return {"outcome": next((r.outcome for r in reports if r.outcome != "passed"), "passed")}

        self.spans.count(run, row=item.nodeid, kpi="test_execution", api_version=api_version_of(item))
        for report in reports:
            item.ihook.pytest_runtest_logreport(report=report)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.spans.save()


def pytest_configure(config: pytest.Config) -> None:
    spans = Spans(Path(os.environ[COUNT_ENV]))
    modulus = int(os.environ.get(COUNT_SLICE_ENV) or COUNT_SLICE)
    config.pluginmanager.register(SuiteCounter(spans, modulus), "dynapi-suite-counter")
