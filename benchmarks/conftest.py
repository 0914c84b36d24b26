"""Shared fixtures of the KPI benchmarks: the Pets config, a seeded factory, a validator.

Every benchmark tags itself with the KPI it measures (``extra_info["kpi"]``) and how
many items one round handles (``extra_info["items"]``), so the harness can turn
pytest-benchmark's per-round seconds into the KPI's unit per item.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.inject import slow_down, time_factor
from dynapi_bench.callgrind import Spans
from dynapi_bench.protocol import COUNT_ENV, COUNT_ITERATIONS, MEMORY_ENV, PROFILE_ENV, SUITE_ENV, TIME_ENV
from framework.config import DEFAULT_CONFIG_PATH, VersionConfig, load_config
from framework.factory import DataFactory
from framework.validator import ResponseValidator

ROOT = Path(__file__).resolve().parent.parent
PETS_CONFIG = ROOT / DEFAULT_CONFIG_PATH
SUITE = ROOT / "tests" / "integration"
# The suite that the suite's benchmarks run: the project's own, or a user's (``$DYNAPI_SUITE``,
# set by ``dynapi-bench run --suite``: its path and plugin options, and the folder it runs in).
_USER_SUITE = json.loads(os.environ[SUITE_ENV]) if os.environ.get(SUITE_ENV) else None
SUITE_ARGS: tuple[str, ...] = tuple(_USER_SUITE["args"]) if _USER_SUITE else (str(SUITE),)
SUITE_CWD = Path(_USER_SUITE["cwd"]) if _USER_SUITE else ROOT


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "memory: the memory pass (memray); never run beside timings")


def suite_cmd(*options: str) -> list[str]:
    """A fresh pytest process over the dynamic suite, in this interpreter, with ``options``
    (run it in :data:`SUITE_CWD`)."""
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *SUITE_ARGS, *options]


def tag(benchmark: object, kpi: str, items: int = 1, **extra: object) -> None:
    """Label a benchmark with its KPI and the number of items one round handles."""
    info = benchmark.extra_info  # type: ignore[attr-defined]
    info.update(kpi=kpi, items=items, **extra)


class Repeated(BenchmarkFixture):  # type: ignore[misc]
    """The ``benchmark`` fixture under a profiler: it runs the same workload over and over
    for ``seconds`` and measures nothing (pytest-benchmark pauses any profiler while it
    measures, so the profiles cannot go through it; it insists on its own class, so the
    instance is re-classed, as in ``benchmarks/inject.py``)."""

    seconds = 0.0

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._mode = "benchmark(...)"  # used: pytest-benchmark warns about an unused fixture
        end = time.perf_counter() + self.seconds
        result = fn(*args, **kwargs)
        while time.perf_counter() < end:
            result = fn(*args, **kwargs)
        return result

    def pedantic(
        self, fn: Callable[..., Any], args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        return self(fn, *args, **(kwargs or {}))


class Counted(BenchmarkFixture):  # type: ignore[misc]
    """The ``benchmark`` fixture under callgrind (``$DYNAPI_COUNT_SPANS``): three calls to
    fill caches, then one counted span of :data:`COUNT_ITERATIONS` calls.
    ``pedantic`` benchmarks (a 10,000-item stream, whole suite runs) are not counted: too
    long under callgrind, and their per-item work is the other benchmarks' (the suite is
    counted test by test by ``benchmarks/counting.py``)."""

    spans: Spans

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._mode = "benchmark(...)"
        for _ in range(3):
            result = fn(*args, **kwargs)
        iterations = int(self.extra_info.get("count_iterations", COUNT_ITERATIONS))

        def calls() -> None:
            for _ in range(iterations):
                fn(*args, **kwargs)

        label = {"row": self.fullname, **self.extra_info, "iterations": iterations}
        self.spans.count(calls, **label)
        return result

    def pedantic(self, *args: Any, **kwargs: Any) -> Any:
        self._mode = "benchmark.pedantic(...)"
        pytest.skip("not counted: a pedantic benchmark (whole runs); its per-item work is counted elsewhere")


_SPANS = Spans(Path(os.environ[COUNT_ENV])) if os.environ.get(COUNT_ENV) else None


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _SPANS is not None:
        _SPANS.save()


@pytest.fixture
def benchmark(benchmark: Any) -> Any:
    """pytest-benchmark's fixture; for the gate's self-test, slowed by an exact fraction; under
    the profiler (``$DYNAPI_PROFILE_SECONDS``), a :class:`Repeated` that measures nothing;
    under callgrind (``$DYNAPI_COUNT_SPANS``), a :class:`Counted` that counts spans."""
    if _SPANS is not None:
        benchmark.__class__ = Counted
        benchmark.spans = _SPANS
        return benchmark
    profile = os.environ.get(PROFILE_ENV)
    if profile:
        benchmark.__class__ = Repeated
        benchmark.seconds = float(profile)
        return benchmark
    factor = time_factor()
    return benchmark if factor is None else slow_down(benchmark, factor)


def inject_options() -> list[str]:
    """Options that carry the self-test's injection into a dynamic suite run, if any."""
    return ["-p", "benchmarks.inject"] if os.environ.get(TIME_ENV) or os.environ.get(MEMORY_ENV) else []


@pytest.fixture(scope="session")
def pets_config() -> VersionConfig:
    """The Pets API config, loaded once."""
    return load_config(PETS_CONFIG)


@pytest.fixture
def factory(pets_config: VersionConfig) -> DataFactory:
    """A factory seeded alike for every benchmark, so each measures the same data in every
    process. (One factory for the session made a benchmark's data depend on how many rounds
    the benchmarks before it had run, which depends on their speed: a response to validate
    differed between base and head and read as an 18% change with identical code.)"""
    return DataFactory(pets_config, seed=20261127, namespace="bench")


@pytest.fixture(scope="session")
def validator(pets_config: VersionConfig) -> ResponseValidator:
    """The fast validator, compiled once like in a test session."""
    return ResponseValidator(pets_config)


def cases(config: VersionConfig) -> list[tuple[str, str]]:
    """Every (version, resource) of the config."""
    return [(v, r) for v in config.get_supported_versions() for r in config.resources(v)]


CASES = cases(load_config(PETS_CONFIG))
CASE_IDS = [f"{v}-{r}" for v, r in CASES]
