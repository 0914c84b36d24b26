"""Shared fixtures: the project's own version config, and a clean config cache per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from framework.config import VersionConfig, clear_cache, load_config

PETS_CONFIG = Path(__file__).parent / "config" / "version_config.yaml"


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> Iterator[None]:
    """Each test starts with an empty config cache, so cache behaviour never leaks between tests."""
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def pets_config() -> VersionConfig:
    """The Pets API config that the dynamic suite runs on."""
    return load_config(PETS_CONFIG)
