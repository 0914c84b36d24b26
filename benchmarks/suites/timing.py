"""A neutral pytest plugin for the suites here: each test's setup + call + teardown duration, as
pytest's reports give it (seconds, unrounded), written as JSON to ``$DYNAPI_SUITE_TIMES`` at the
end; with both suites in one process, their tests taken in turn (framework, hand-written, ...),
so that each pair of tests meets the same moment of the machine."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from itertools import chain, zip_longest
from pathlib import Path

import pytest

_durations: dict[str, float] = defaultdict(float)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    framework = [i for i in items if "create_pets_framework" in i.nodeid]
    by_hand = [i for i in items if "create_pets_handwritten" in i.nodeid]
    if framework and by_hand:
        items[:] = [i for i in chain.from_iterable(zip_longest(framework, by_hand)) if i is not None]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _durations[report.nodeid] += report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get("DYNAPI_SUITE_TIMES")
    if target:
        Path(target).write_text(json.dumps(_durations), encoding="utf-8")
