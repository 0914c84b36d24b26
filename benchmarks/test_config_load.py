"""KPI config_load: a fresh manager reads, parses and validates the Pets config; and a cached load."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.conftest import PETS_CONFIG, tag
from framework.config import VersionConfig, clear_cache, load_config


@pytest.fixture(scope="module")
def config_file() -> Iterator[Path]:
    """The Pets config copied to a fresh temporary directory: a path of the same depth and
    length on every checkout. A stat costs more the more directories it walks, and
    ``--against`` runs the base in ``.bench/worktrees/<sha>/``: read in place, its cached
    load measured 5% slower."""
    with tempfile.TemporaryDirectory(prefix="dynapi-config-") as folder:
        target = Path(folder) / PETS_CONFIG.name
        shutil.copyfile(PETS_CONFIG, target)
        yield target


# Raised rounds: the self-test found a few ms of YAML parsing too noisy between processes
# to catch +10% with the default ten rounds a process.
@pytest.mark.benchmark(min_rounds=40)
def test_config_load_cold(benchmark, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    """Read, parse (C loader) and validate the file, with nothing cached."""
    tag(benchmark, "config_load", count_iterations=2)  # ~36 M instructions a load: two are plenty to count

    def cold() -> VersionConfig:
        clear_cache()
        return load_config(config_file)

    config = benchmark(cold)
    assert config.get_supported_versions() == ["v1", "v2", "v3"]


def test_config_load_cached(benchmark, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    """load_config() of an unchanged file: one stat and a dict lookup."""
    tag(benchmark, "config_load_cached")
    first = load_config(config_file)
    assert benchmark(load_config, config_file) is first
