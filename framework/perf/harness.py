"""The environment variables by which the runner talks to the benchmark harness
(``benchmarks/``): named once here, read there. No heavy imports: the harness loads this
inside the processes it measures."""

from __future__ import annotations

__all__ = ["MEMORY_ENV", "MEMRAY_DIR_ENV", "TIME_ENV"]

MEMRAY_DIR_ENV = "DYNAPI_MEMRAY_DIR"  # where benchmarks/test_memory_per_test.py leaves its captures
TIME_ENV = "DYNAPI_INJECT_TIME"  # the self-test's injected slowdown (0.10 = +10%)
MEMORY_ENV = "DYNAPI_INJECT_MEMORY"  # a JSON file of extra bytes per test id
