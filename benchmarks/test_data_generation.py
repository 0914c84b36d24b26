"""KPI data_generation: one valid payload per resource and version, and a 10,000-item stream."""

from __future__ import annotations

from collections import deque

import pytest

from benchmarks.conftest import CASE_IDS, CASES, tag
from framework.factory import DataFactory

STREAM_ITEMS = 10_000


@pytest.mark.parametrize(("version", "resource"), CASES, ids=CASE_IDS)
def test_build(benchmark, factory: DataFactory, version: str, resource: str) -> None:  # type: ignore[no-untyped-def]
    """One create payload with every optional field."""
    tag(benchmark, "data_generation", resource=resource, version=version)
    payload = benchmark(factory.build, resource, version)
    assert payload


def test_stream(benchmark, factory: DataFactory) -> None:  # type: ignore[no-untyped-def]
    """10,000 v2 pets from a stream, consumed without being held (per item)."""
    tag(benchmark, "data_generation", items=STREAM_ITEMS, resource="pet", version="v2")

    def consume() -> None:
        deque(factory.stream("pet", "v2", STREAM_ITEMS), maxlen=0)

    benchmark.pedantic(consume, rounds=5, iterations=1, warmup_rounds=1)
