"""Shared fixtures: the project's own version config, and a clean config cache per test."""

from __future__ import annotations

import http.server
import threading
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


@pytest.fixture
def answering_url() -> Iterator[str]:
    """A loopback HTTP server that answers every request (404): enough for a probe that only
    needs an answer."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
