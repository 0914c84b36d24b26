"""pytest plugin: one shard's part of a run (``dynapi-bench run --shard K/N``, :mod:`dynapi_bench.shards`).

Loaded by path (this directory on PYTHONPATH, ``-p dynapi_shard`` or ``PYTEST_PLUGINS``) so
that it works in whichever environment a side runs in; standard library only. Two jobs:

- ``$DYNAPI_SHARD_UNITS=FILE``: write every collected test's unit to FILE (JSON), for the
  harness to deal the benchmarks over the shards: a benchmark's unit is its function, all
  its parametrized cases together (they are one KPI's cases, and a ``row`` tag may join them),
  and whether it is marked ``slow`` (whole pytest processes a round: dealt first, apart);
- ``$DYNAPI_SHARD=K/N`` with ``$DYNAPI_SHARD_TESTS=PATH``: keep, of the tests under PATH,
  those whose node id hashes (:func:`digest`) to K-1 modulo N; the others are
  deselected, as pytest reports. Tests elsewhere (the benchmark that spawns the suite) are
  left alone, and the variables stay set, so the suite a benchmark spawns is split alike.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

SHARD_ENV = "DYNAPI_SHARD"  # "K/N"
TESTS_ENV = "DYNAPI_SHARD_TESTS"  # the folder (or file) whose tests are split
UNITS_ENV = "DYNAPI_SHARD_UNITS"  # where to write the collected units


def digest(name: str) -> int:
    """A stable 64-bit hash of a name (BLAKE2b): the same in every process, machine and
    Python version (``hash()`` is salted per process), and unrelated to the CRC-32 that picks
    the suite's counted slice (CRC's low bits are linear in the name's bits)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big")


def shard_of(name: str, count: int) -> int:
    """The shard (0 to ``count`` - 1) of a test id."""
    return digest(name) % count


def unit_of(item: pytest.Item) -> tuple[str, str]:
    """``(file, name)`` of a test's unit: its file, and its name within the file without the
    parametrization (``TestClass::test_x``), so that a function's cases stay together."""
    module = item.getparent(pytest.Module)
    chain = item.listchain()
    inner = chain[chain.index(module) + 1 : -1] if module is not None and module in chain else []
    name = "::".join([*(node.name for node in inner), str(getattr(item, "originalname", item.name))])
    return str(item.path), name


def _parse(spec: str) -> tuple[int, int]:
    index, _, count = spec.partition("/")
    k, n = int(index), int(count)
    if not 1 <= k <= n:
        raise pytest.UsageError(f"{SHARD_ENV}={spec}: expected K/N with 1 <= K <= N")
    return k, n


@pytest.hookimpl(trylast=True)  # after -m and -k: the units written are the ones that run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    spec, where = os.environ.get(SHARD_ENV), os.environ.get(TESTS_ENV)
    if not spec or not where:
        return
    k, n = _parse(spec)
    folder = Path(where).resolve()
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        inside = item.path == folder or folder in item.path.parents
        (dropped if inside and shard_of(item.nodeid, n) != k - 1 else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    target = os.environ.get(UNITS_ENV)
    if target:
        units = [
            {"file": file, "name": name, "slow": item.get_closest_marker("slow") is not None}
            for item in session.items
            for file, name in [unit_of(item)]
        ]
        Path(target).write_text(json.dumps({"units": units}), encoding="utf-8")
