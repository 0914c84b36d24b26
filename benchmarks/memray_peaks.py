"""A pytest plugin for the memory pass: each test's call under memray, its peak in a JSON.

Loaded into the dynamic suite with ``-p benchmarks.memray_peaks``. Every test's call phase
runs inside a ``memray.Tracker`` writing ``captures/<n>.bin`` (every Python allocation
traced, so small objects count too); at the end ``memory.json`` maps each node id to its
API version, peak bytes and capture file: the harness reads that and parses no file names.
The folder is ``$DYNAPI_RECORD_DIR`` (the harness sets it), else ``./memray``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import memray
import pytest

from dynapi_bench.protocol import MEMORY_FILE, RECORD_DIR_ENV
from framework.files import atomic_write_text
from framework.recorder import api_version_of

_FOLDER = Path(os.environ.get(RECORD_DIR_ENV) or "memray")
_PEAKS: dict[str, dict[str, Any]] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    capture = _FOLDER / "captures" / f"{len(_PEAKS)}.bin"
    capture.parent.mkdir(parents=True, exist_ok=True)
    capture.unlink(missing_ok=True)
    try:
        aggregated = memray.FileFormat.AGGREGATED_ALLOCATIONS  # peaks only: small files
        with memray.Tracker(capture, trace_python_allocators=True, file_format=aggregated):
            return (yield)
    finally:
        _PEAKS[item.nodeid] = {
            "api_version": api_version_of(item),
            "peak_bytes": int(memray.FileReader(str(capture)).metadata.peak_memory),
            "capture": str(capture.resolve()),
        }


def pytest_sessionfinish(session: pytest.Session) -> None:
    atomic_write_text(_FOLDER / MEMORY_FILE, json.dumps({"tests": _PEAKS}, indent=1))
