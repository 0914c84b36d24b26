"""Injected regressions for the gate's self-test: calibrated extra work around measured calls.

Nothing here touches ``framework/``: the harness itself makes the measured code look
slower or bigger, by an exact fraction of what it measured, so that the self-test knows
the true effect it asks the gate to find.

- ``DYNAPI_INJECT_TIME=0.10``: every benchmarked call (through the ``benchmark`` fixture of
  ``conftest.py``) and every dynamic test (this module as a pytest plugin,
  ``-p benchmarks.inject``; after its teardown) is followed by busy work lasting 10% of its
  own duration. The work itself perturbs what follows it (caches, branch predictors), so
  the effect measured is at least the nominal one: the self-test reports both.
- ``DYNAPI_INJECT_MEMORY=path.json``: ``{test id: bytes}``; each dynamic test holds that
  many extra bytes during its call (where memray measures it).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from dynapi_bench.protocol import MEMORY_ENV, TIME_ENV


def time_factor() -> float | None:
    """The injected slowdown (0.10 = +10%), or None when the harness injects nothing."""
    value = os.environ.get(TIME_ENV)
    return float(value) if value else None


def spin(seconds: float) -> None:
    """Busy-wait: CPU work, like the code it stands in for (a sleep would yield the core)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def slowed(fn: Callable[..., Any], factor: float) -> Callable[..., Any]:
    """``fn`` followed by ``factor`` times its own duration of busy work.

    The duration counts the wrapper's own cost too (calibrated once per process), so that a
    microsecond call measured through the wrapper grows by ``factor``, not by less.
    """
    overhead = wrapper_overhead()

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        spin(factor * (time.perf_counter() - start + overhead))
        return result

    return call


@functools.cache
def wrapper_overhead() -> float:
    """Seconds a wrapped call costs beyond the call itself, outside the span it times."""

    def noop() -> None:
        return None

    def wrapped() -> None:
        start = time.perf_counter()
        noop()
        spin(0.0 * (time.perf_counter() - start))

    def median(fn: Callable[[], None]) -> float:
        times = []
        for _ in range(2000):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return sorted(times)[len(times) // 2]

    return max(median(wrapped) - median(noop), 0.0)


class SlowedBenchmark(BenchmarkFixture):  # type: ignore[misc]
    """pytest-benchmark's fixture with every measured call slowed by ``inject_factor``
    (pytest-benchmark insists on its own class, so instances are re-classed, not wrapped)."""

    inject_factor = 0.0

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return super().__call__(slowed(fn, self.inject_factor), *args, **kwargs)

    def pedantic(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return super().pedantic(slowed(fn, self.inject_factor), *args, **kwargs)


def slow_down(benchmark: Any, factor: float) -> Any:
    """Turn a benchmark fixture into one whose measured calls are ``factor`` slower."""
    benchmark.__class__ = SlowedBenchmark
    benchmark.inject_factor = factor
    return benchmark


# -- as a pytest plugin inside the dynamic suite ---------------------------------------------
_SPENT = pytest.StashKey[float]()


def _phase(item: pytest.Item) -> Generator[None, None, None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        item.stash[_SPENT] = item.stash.get(_SPENT, 0.0) + time.perf_counter() - start


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    return (yield from _phase(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    """After the teardown, busy work worth ``factor`` of the test's setup + call + teardown."""
    try:
        return (yield from _phase(item))
    finally:
        factor = time_factor()
        if factor:
            spin(factor * item.stash.get(_SPENT, 0.0))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    path = os.environ.get(MEMORY_ENV)
    if not path:
        return
    extra: dict[str, int] = json.loads(Path(path).read_text(encoding="utf-8"))
    for item in items:
        size = extra.get(item.nodeid)
        if size and isinstance(item, pytest.Function):
            item.obj = _holding(item.obj, size)


def _holding(fn: Callable[..., Any], size: int) -> Callable[..., Any]:
    """``fn`` holding ``size`` extra bytes while it runs (allocated inside the measured call)."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            _ballast = bytearray(size)  # lives until the test returns
            return await fn(*args, **kwargs)

        return run_async

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        _ballast = bytearray(size)  # lives until the test returns
        return fn(*args, **kwargs)

    return run
