"""KPI config_load: a fresh manager reads, parses and validates the Pets config; and a cached load."""

from __future__ import annotations

import pytest

from benchmarks.conftest import PETS_CONFIG, tag
from framework.config import VersionConfig, clear_cache, load_config


# Raised rounds: the self-test found a few ms of YAML parsing too noisy between processes
# to catch +10% with the default ten rounds a process.
@pytest.mark.benchmark(min_rounds=40)
def test_config_load_cold(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Read, parse (C loader) and validate the file, with nothing cached."""
    tag(benchmark, "config_load")

    def cold() -> VersionConfig:
        clear_cache()
        return load_config(PETS_CONFIG)

    config = benchmark(cold)
    assert config.get_supported_versions() == ["v1", "v2", "v3"]


def test_config_load_cached(benchmark) -> None:  # type: ignore[no-untyped-def]
    """load_config() of an unchanged file: one stat and a dict lookup."""
    tag(benchmark, "config_load_cached")
    first = load_config(PETS_CONFIG)
    assert benchmark(load_config, PETS_CONFIG) is first
