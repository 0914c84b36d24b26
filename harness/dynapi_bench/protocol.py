"""What the harness and ``benchmarks/`` agree on: environment variables and file names.

The harness sets these in the processes it starts; ``benchmarks/`` reads them. Named once
here, imported there. No heavy imports: this loads inside the processes being measured.
"""

from __future__ import annotations

__all__ = ["MEMORY_ENV", "MEMORY_FILE", "PROFILE_ENV", "RECORD_DIR_ENV", "SUITE_FILE", "TIME_ENV"]

RECORD_DIR_ENV = "DYNAPI_RECORD_DIR"  # where a benchmark process leaves its suite recordings
SUITE_FILE = "suite-{run}.json"  # one recorder JSON per run of the dynamic suite, in RECORD_DIR_ENV
MEMORY_FILE = "memory.json"  # the memory pass's per-test peaks, in RECORD_DIR_ENV (captures beside it)
# Seconds each benchmark repeats its workload under a profiler, with no timing (pytest-benchmark
# pauses any profiler while it measures, so profiles cannot run through it).
PROFILE_ENV = "DYNAPI_PROFILE_SECONDS"
TIME_ENV = "DYNAPI_INJECT_TIME"  # the self-test's injected slowdown (0.10 = +10%)
MEMORY_ENV = "DYNAPI_INJECT_MEMORY"  # a JSON file of extra bytes per test id
