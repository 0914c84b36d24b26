"""What the harness and ``benchmarks/`` agree on: environment variables and file names.

The harness sets these in the processes it starts; ``benchmarks/`` reads them. Named once
here, imported there. No heavy imports: this loads inside the processes being measured.
"""

from __future__ import annotations

__all__ = [
    "CONTENDER_FILE",
    "COUNT_ENV",
    "COUNT_ITERATIONS",
    "COUNT_SLICE",
    "COUNT_SLICE_ENV",
    "MEMORY_ENV",
    "MEMORY_FILE",
    "PROFILE_ENV",
    "RECORD_DIR_ENV",
    "STARTUP_COUNT_ENV",
    "SUITE_ENV",
    "SUITE_FILE",
    "TIME_ENV",
    "WARM_DIR_ENV",
]

RECORD_DIR_ENV = "DYNAPI_RECORD_DIR"  # where a benchmark process leaves its suite recordings
SUITE_FILE = "suite-{run}.json"  # one recorder JSON per run of the dynamic suite, in RECORD_DIR_ENV
# A user's suite measured instead of tests/integration (``dynapi-bench run --suite``): JSON
# {"args": [its path, the plugin's options], "cwd": the folder its processes start in}.
SUITE_ENV = "DYNAPI_SUITE"
CONTENDER_FILE = "contender-{name}.json"  # one same-run comparison's per-round values (benchmarks/test_contenders.py)
# Where one side's timing processes keep what a first run leaves (pytest's caches and rewritten
# bytecode for the start-up benchmark): the first process of the run warms it, the rest reuse it.
WARM_DIR_ENV = "DYNAPI_WARM_DIR"
# Counting the start-up comparison (test_contenders.py::test_session_startup): JSON, the command
# prefix that runs a process whole under valgrind, one element holding "{out}" for its out file.
STARTUP_COUNT_ENV = "DYNAPI_STARTUP_COUNT"
MEMORY_FILE = "memory.json"  # the memory pass's per-test peaks, in RECORD_DIR_ENV (captures beside it)
# Counting under callgrind (dynapi_bench.callgrind): the JSON file a counted process writes its
# span labels to; each benchmark's workload is counted as one span of COUNT_ITERATIONS calls
# (unless it asks for fewer: the cold config load, 36 M instructions a call, takes 2). One
# span, not several: a span is the same in every fresh process (within 0.1% for all but one
# benchmark), and each dump costs callgrind about 0.2 s.
COUNT_ENV = "DYNAPI_COUNT_SPANS"
COUNT_ITERATIONS = 20
COUNT_SLICE = 4  # the suite counts the tests whose node id hashes to 0 modulo this
COUNT_SLICE_ENV = "DYNAPI_COUNT_SLICE"  # another modulus (1: every test; a user's suite is counted whole)
# Seconds each benchmark repeats its workload under a profiler, with no timing (pytest-benchmark
# pauses any profiler while it measures, so profiles cannot run through it).
PROFILE_ENV = "DYNAPI_PROFILE_SECONDS"
TIME_ENV = "DYNAPI_INJECT_TIME"  # the self-test's injected slowdown (0.10 = +10%)
MEMORY_ENV = "DYNAPI_INJECT_MEMORY"  # a JSON file of extra bytes per test id
