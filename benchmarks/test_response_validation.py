"""KPI response_validation: one response per resource and version, valid and invalid."""

from __future__ import annotations

import pytest

from benchmarks.conftest import CASE_IDS, CASES, tag
from framework.factory import DataFactory
from framework.validator import ResponseValidator


@pytest.mark.parametrize(("version", "resource"), CASES, ids=CASE_IDS)
def test_valid(
    benchmark,
    factory: DataFactory,
    validator: ResponseValidator,
    version: str,
    resource: str,  # type: ignore[no-untyped-def]
) -> None:
    """A valid response: field sets equal, compiled schema passes (formats checked)."""
    tag(benchmark, "response_validation", resource=resource, version=version, verdict="valid")
    data = factory.build_response(resource, version)
    result = benchmark(validator.validate, data, version, resource)
    assert result.ok


@pytest.mark.parametrize(("version", "resource"), CASES, ids=CASE_IDS)
def test_invalid(
    benchmark,
    factory: DataFactory,
    validator: ResponseValidator,
    version: str,
    resource: str,  # type: ignore[no-untyped-def]
) -> None:
    """An invalid response (a malformed id, a missing and an extra field): every problem explained."""
    tag(benchmark, "response_validation", resource=resource, version=version, verdict="invalid")
    data = factory.build_response(resource, version, id="not-a-uuid", unexpected=1)
    del data["created_at"]
    result = benchmark(validator.validate, data, version, resource)
    assert len(result.problems) >= 3
