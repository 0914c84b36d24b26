"""The shipped Pets config rewritten as other APIs write theirs gives the same suite outcome.

Every endpoint becomes a full path (``/api/v1/pets`` beside ``base_url: /api/v1``) keyed
in the plural (``pets``): the URLs must come out the same, never prefixed twice, and the
dynamic suite must pass, skip and fail exactly as with the shipped file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from framework.config import load_config
from framework.config.names import plural

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "tests" / "config" / "version_config.yaml"


def _rewritten(tmp_path: Path) -> Path:
    raw: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    for spec in raw["versions"].values():
        base = spec["base_url"]
        spec["endpoints"] = {plural(name): base + path for name, path in spec["endpoints"].items()}
    path = tmp_path / "full_paths.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def test_full_paths_give_the_same_urls(tmp_path: Path) -> None:
    shipped, full = load_config(SHIPPED), load_config(_rewritten(tmp_path))
    for version in shipped.get_supported_versions():
        for name in shipped.get_version(version).endpoints:
            mine, theirs = shipped.endpoint(version, name), full.endpoint(version, plural(name))
            assert (theirs.path, theirs.item, theirs.params) == (mine.path, mine.item, mine.params)
            assert theirs.shape == mine.shape


def _outcome(*args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/integration", "-q", "-p", "no:cacheprovider", "-n", "2", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    last = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return last.split(" in ")[0]


@pytest.mark.slow
def test_full_paths_give_the_same_suite_outcome(tmp_path: Path) -> None:
    outcome = _outcome(f"--version-config={_rewritten(tmp_path)}", "--factory-seed=7")
    assert outcome == _outcome("--factory-seed=7")
    assert "passed" in outcome
