"""KPI memory_per_test: each dynamic test's peak memory, measured with memray.

Runs the suite with ``benchmarks/memray_peaks.py`` as a plugin, which traces each test's
call under memray and writes every test's peak, keyed by node id, to ``memory.json``.
Memory is its own pass: the harness selects this file with ``-m memory`` and never times it.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from benchmarks.conftest import SUITE_CWD, inject_options, suite_cmd
from dynapi_bench.protocol import MEMORY_FILE, RECORD_DIR_ENV


@pytest.mark.memory
def test_memory_per_test(tmp_path: Path) -> None:
    """Peak memory of every dynamic test, into ``$DYNAPI_RECORD_DIR/memory.json``."""
    folder = Path(os.environ.get(RECORD_DIR_ENV) or tmp_path)
    env = {**os.environ, RECORD_DIR_ENV: str(folder)}
    cmd = suite_cmd("-p", "benchmarks.memray_peaks", *inject_options())
    finished = subprocess.run(cmd, capture_output=True, cwd=SUITE_CWD, env=env, check=False)
    assert finished.returncode == 0, finished.stdout.decode()[-3000:]
    peaks = json.loads((folder / MEMORY_FILE).read_text(encoding="utf-8"))["tests"]
    assert peaks, f"no test was traced; see {folder}"
