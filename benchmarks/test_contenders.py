"""KPIs against what a user could use instead, as same-run comparisons with a contender.

Each test here takes turns between ours and a contender, round after round in one process
(or, for whole pytest runs, process after process), and records per round ours / theirs (a
ratio, unit x) or ours - theirs (a difference), so that a slow spell of the machine hits both
sides of a round alike. Nothing is compared with a stored figure: the contender is measured in
the same run. The records go to ``$DYNAPI_RECORD_DIR`` (:data:`CONTENDER_FILE`), which the
harness turns into rows:

- ``session_startup_wall``: a pytest process that collects the 100 create-pet tests and runs one,
  with the plugin, minus the same written by hand with the plugin disabled (``benchmarks/suites/``),
  in wall seconds, with each hand-written process's time; counted instead (the harness's counting
  pass, ``$DYNAPI_STARTUP_COUNT``), ``session_startup_instructions``: the same two processes
  whole under valgrind, their instructions' difference. The harness makes ``session_startup``
  of the two (docs/methodology.md);
- ``session_startup_faults_ratio``: the same timed pairs' minor page faults, ours over theirs:
  the kernel's share of start-up, which the count leaves out (CPython 3.11's frame-stack chunks);
- ``per_test_ratio``: both suites in one process, their tests in turn: each test of ours over its
  hand-written twin;
- ``failure_path_ratio``: explaining an invalid response over jsonschema-rs listing its errors;
- ``valid_path_ratio``: a valid response over jsonschema-rs's ``is_valid`` alone;
- ``factory_ratio``: a create payload per resource over the same fields written by hand.
"""

from __future__ import annotations

import compileall
import itertools
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from benchmarks.conftest import ROOT
from dynapi_bench.protocol import (
    CONTENDER_FILE,
    COUNT_ENV,
    PROFILE_ENV,
    RECORD_DIR_ENV,
    STARTUP_COUNT_ENV,
    WARM_DIR_ENV,
)
from framework.config import VersionConfig
from framework.factory import DataFactory
from framework.validator import ResponseValidator

SUITES = ROOT / "benchmarks" / "suites"
STARTUP_PAIRS = 1  # pairs of one-test processes per timing process (after one run of each side, once a run)
ROUNDS = 40  # rounds of an in-process comparison
ROUND_SECONDS = 0.002  # about this long a batch of calls, each side
VERSION = "v2"  # the version with every resource

pytestmark = pytest.mark.skipif(
    bool(os.environ.get(COUNT_ENV) or os.environ.get(PROFILE_ENV)),
    reason="same-run comparisons are timed, not counted or profiled",
)


def _once(benchmark: Any, measure: Callable[[], object]) -> None:
    """Run a whole comparison once through pytest-benchmark's fixture (the timing pass runs with
    ``--benchmark-only``); the entry carries no KPI, so it makes no row of its own."""
    benchmark.pedantic(measure, rounds=1, iterations=1)


def _record(tmp_path: Path, kpi: str, row: str, measure: str, values: list[float], **info: Any) -> None:
    """Leave one row's per-round values where the harness collects them."""
    folder = Path(os.environ.get(RECORD_DIR_ENV) or tmp_path)
    record = {"kpi": kpi, "row": row, "measure": measure, "values": values, "info": info}
    (folder / CONTENDER_FILE.format(name=row)).write_text(json.dumps(record), encoding="utf-8")


def _interleaved(ours: Callable[[], object], theirs: Callable[[], object]) -> list[float]:
    """Per round, ours / theirs: each a batch of calls timed back to back, who goes first alternating."""
    ours(), theirs()
    start = time.perf_counter()
    theirs()
    batch = max(1, int(ROUND_SECONDS / max(time.perf_counter() - start, 1e-7)))
    ratios = []
    for k in range(ROUNDS):
        times = {}
        for name, fn in (("ours", ours), ("theirs", theirs)) if k % 2 == 0 else (("theirs", theirs), ("ours", ours)):
            t0 = time.perf_counter_ns()
            for _ in range(batch):
                fn()
            times[name] = time.perf_counter_ns() - t0
        ratios.append(times["ours"] / times["theirs"])
    return ratios


# -- whole pytest processes: start-up and per test ---------------------------------------------
def _run(
    *args: str,
    times: Path | None = None,
    cache: Path | None = None,
    write_bytecode: bool = False,
    prefix: tuple[str, ...] = (),
) -> tuple[float, int]:
    """Wall seconds and minor page faults of one pytest process over suites in
    ``benchmarks/suites/`` (each test's duration to ``times``, by the neutral
    ``benchmarks/suites/timing.py``), with pytest's cache in ``cache`` (else without the cache
    plugin), started by ``prefix`` (valgrind) if given."""
    env = dict(os.environ)
    if times is not None:
        args = ("-p", "benchmarks.suites.timing", *args)
        env["DYNAPI_SUITE_TIMES"] = str(times)
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    cache_args = ("-o", f"cache_dir={cache}") if cache is not None else ("-p", "no:cacheprovider")
    faults = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
    start = time.perf_counter()
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "pytest", *cache_args, "-q", *args],
        capture_output=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    took = time.perf_counter() - start
    assert done.returncode == 0, done.stdout.decode()[-2000:]
    return took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - faults


def _one_test(
    which: str, cache: Path, *, write_bytecode: bool = False, prefix: tuple[str, ...] = ()
) -> tuple[float, int]:
    """A process that collects the 100 create-pet tests of one suite and runs the first."""
    if which == "framework":
        one = f"{SUITES / 'create_pets_framework.py'}::test_create_pet[v1-0]"
        args: tuple[str, ...] = ("-c", str(SUITES / "framework.ini"), one)
    else:
        one = f"{SUITES / 'create_pets_handwritten.py'}::test_create_pet[0]"
        args = ("-c", str(SUITES / "handwritten.ini"), "-p", "no:dynapi", one)
    return _run(*args, cache=cache, write_bytecode=write_bytecode, prefix=prefix)


@pytest.mark.slow  # whole pytest processes: `run --shard` deals the slow benchmarks apart
def test_session_startup(benchmark: Any, tmp_path: Path) -> None:
    """A one-test pytest run with the plugin minus the same by hand: in pairs taken in turn, or,
    in the harness's counting pass, each counted whole."""
    counting = os.environ.get(STARTUP_COUNT_ENV)
    if counting:
        _once(benchmark, lambda: _count_startup(tmp_path, tuple(json.loads(counting))))
    else:
        _once(benchmark, lambda: _session_startup(tmp_path))


def _warm(folder: Path) -> dict[str, Path]:
    """Each side's pytest cache in ``folder``, as a developer's second run finds it: the framework's
    bytecode compiled, as installing a package leaves it, and one run of each side, not timed,
    which leaves what a first run leaves (pytest's cache, with the checked config, and the
    assertion-rewritten bytecode of the test modules and of the plugin's entry module). Where
    PYTHONDONTWRITEBYTECODE is set (this machine's environment) no process would keep either."""
    caches = {which: folder / f"startup-cache-{which}" for which in ("framework", "handwritten")}
    if not all(cache.is_dir() for cache in caches.values()):
        compileall.compile_dir(str(ROOT / "framework"), quiet=1)
        for which, cache in caches.items():
            _one_test(which, cache, write_bytecode=True)
    return caches


def _session_startup(tmp_path: Path) -> None:
    # The harness gives the run's timing processes one folder ($DYNAPI_WARM_DIR), so only the
    # first of them pays for the first runs; the pairs it holds say who goes first in the next
    # (taking turns across the run's processes, one pair each).
    warm = Path(os.environ.get(WARM_DIR_ENV) or tmp_path)
    caches = _warm(warm)
    differences, theirs, faults = [], [], []
    for _ in range(STARTUP_PAIRS):
        done = len(list(warm.glob("pair-*")))  # a side's timing processes run one at a time
        runs = {}
        for which in ("framework", "handwritten") if done % 2 == 0 else ("handwritten", "framework"):
            runs[which] = _one_test(which, caches[which])
        (warm / f"pair-{done}").touch()
        (ours, our_faults), (by_hand, their_faults) = runs["framework"], runs["handwritten"]
        differences.append(ours - by_hand)
        theirs.append(by_hand)
        faults.append(our_faults / their_faults)
    _record(tmp_path, "session_startup_wall", "session_startup_wall", "difference", differences, theirs=theirs)
    _record(tmp_path, "session_startup_faults_ratio", "session_startup_faults_ratio", "ratio", faults)


def _count_startup(tmp_path: Path, prefix: tuple[str, ...]) -> None:
    """Both one-test processes, warmed as the timed ones are, run once more whole under
    ``prefix`` (valgrind, with ``{out}`` where its out file goes): the instructions of each,
    and their difference. A process it forks (pytest runs ``git`` here) leaves an out file too,
    holding the parent's count up to the fork; the process's own is the largest."""
    caches = _warm(tmp_path / "warm")
    counts = {}
    for which in ("framework", "handwritten"):
        out = tmp_path / f"count-{which}"
        out.mkdir()
        _one_test(which, caches[which], prefix=tuple(p.replace("{out}", str(out / "out.%p")) for p in prefix))
        counts[which] = max(_summary(path) for path in out.glob("out.*"))
    difference = counts["framework"] - counts["handwritten"]
    _record(
        tmp_path, "session_startup_instructions", "session_startup_instructions", "instructions", [difference],
        ours=counts["framework"], theirs=counts["handwritten"],
    )  # fmt: skip


def _summary(path: Path) -> int:
    """The total of a cachegrind or callgrind out file: its ``summary:`` line."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise AssertionError(f"{path} has no summary line")


@pytest.mark.slow
def test_per_test(benchmark: Any, tmp_path: Path) -> None:
    """Both suites in one process, their tests taken in turn: per pair, ours over by hand (the
    first pair, which sets up the sessions, left out)."""
    _once(benchmark, lambda: _per_test(tmp_path))


def _per_test(tmp_path: Path) -> None:
    times = tmp_path / "times.json"
    _run(
        "-c", str(SUITES / "framework.ini"), "--asgi-app=petstore:create_app()",
        str(SUITES / "create_pets_framework.py"), str(SUITES / "create_pets_handwritten.py"), times=times,
    )  # fmt: skip
    durations = json.loads(times.read_text(encoding="utf-8"))
    ours = [v for k, v in durations.items() if "create_pets_framework" in k]
    theirs = [v for k, v in durations.items() if "create_pets_handwritten" in k]
    assert len(ours) == len(theirs) == 100
    ratios = [a / b for a, b in zip(ours[1:], theirs[1:], strict=True)]
    _record(tmp_path, "per_test_ratio", "per_test_ratio", "ratio", ratios)


# -- in-process: validation and data generation --------------------------------------------------
def _rs(config: VersionConfig, resource: str) -> Any:
    schema = config.get_schema(VERSION, f"{resource}_response")
    assert schema is not None
    return jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True)


def test_failure_path(benchmark: Any, tmp_path: Path, factory: DataFactory, validator: ResponseValidator) -> None:
    """Every problem of an invalid pet explained, over jsonschema-rs listing the same errors with paths."""
    data = factory.build_response("pet", VERSION, id="not-a-uuid", age="old", unexpected=1)
    del data["created_at"]
    rs = _rs(validator.config, "pet")
    assert len(validator.validate(data, VERSION, "pet").problems) >= 4

    def measure() -> list[float]:
        return _interleaved(
            lambda: validator.validate(data, VERSION, "pet"),
            lambda: [(e.instance_path, e.message) for e in rs.iter_errors(data)],
        )

    ratios = benchmark.pedantic(measure, rounds=1, iterations=1)
    _record(tmp_path, "failure_path_ratio", "failure_path_ratio[v2-pet]", "ratio", ratios)


def test_valid_path(benchmark: Any, tmp_path: Path, factory: DataFactory, validator: ResponseValidator) -> None:
    """A valid pet response, over jsonschema-rs's ``is_valid`` alone."""
    data = factory.build_response("pet", VERSION)
    rs = _rs(validator.config, "pet")
    assert validator.validate(data, VERSION, "pet")
    assert rs.is_valid(data)
    ratios = benchmark.pedantic(
        _interleaved, (lambda: validator.validate(data, VERSION, "pet"), lambda: rs.is_valid(data)), rounds=1
    )
    _record(tmp_path, "valid_path_ratio", "valid_path_ratio[v2-pet]", "ratio", ratios)


_n = itertools.count()


def _pet() -> dict[str, Any]:
    n = next(_n)
    return {
        "name": f"Rex {n}",
        "species": "dog",
        "breed": "Labrador",
        "age": 3,
        "weight": 24.5,
        "temperament": "friendly",
        "owner_id": str(uuid.uuid4()),
        "behavioral_notes": f"Notes {n}",
        "emergency_contact": {"name": f"Name {n}", "phone": f"+1 555 {n:07d}", "relationship": "Neighbour"},
        "additional_photos": [f"https://example.org/photos/{n}.jpg"],
        "microchip_id": f"{n:015d}",
    }


def _user() -> dict[str, Any]:
    n = next(_n)
    return {
        "first_name": "Alex",
        "last_name": "Morgan",
        "email": f"user{n}@example.com",
        "phone": f"+1 555 {n:07d}",
        "address": {"street": "12 Harbour Road", "city": "Portsmouth", "postal_code": "PO1 3AX", "country": "GB"},
        "emergency_contact": {"name": f"Name {n}", "phone": f"+1 555 {n:07d}", "relationship": "Neighbour"},
    }


def _appointment() -> dict[str, Any]:
    n = next(_n)
    return {
        "reason": "Annual checkup",
        "notes": None,
        "duration_minutes": 30,
        "pet_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "scheduled_at": f"2026-12-01T{9 + n % 8:02d}:{n % 60:02d}:00+00:00",
    }


def _health_record() -> dict[str, Any]:
    return {
        "record_type": "vaccination",
        "description": "Rabies booster",
        "veterinarian": "Dr. Rivera",
        "pet_id": str(uuid.uuid4()),
        "date": "2025-10-11",
        "next_due_date": "2026-10-11",
    }


BY_HAND: dict[str, Callable[[], dict[str, Any]]] = {
    "pet": _pet,
    "user": _user,
    "appointment": _appointment,
    "health_record": _health_record,
}


@pytest.mark.parametrize("resource", list(BY_HAND))
def test_factory(benchmark: Any, tmp_path: Path, factory: DataFactory, resource: str) -> None:
    """A v2 create payload from the factory, over the same fields written by hand as a user would
    (a dict literal, f-strings on a counter, ``uuid.uuid4()``, literal dates)."""
    assert factory.build(resource, VERSION).keys() == BY_HAND[resource]().keys()
    ratios = benchmark.pedantic(_interleaved, (lambda: factory.build(resource, VERSION), BY_HAND[resource]), rounds=1)
    _record(tmp_path, "factory_ratio", f"factory_ratio[v2-{resource}]", "ratio", ratios, resource=resource)
