"""The framework against a live Pets API that misbehaves on purpose (``python -m petstore --faults``).

Every injected fault must end in the framework's own clear failure (a 5xx, a body that is not
JSON, a dropped connection), nothing may wait past the timeout, the rest of the suite goes on,
and what the client sees must match what the server injected: exactly, request by request, and
within the binomial bounds of the injected rates.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from scipy.stats import binomtest

from framework import VersionedClient, load_config, make_client

ROOT = Path(__file__).parents[2]
CONFIG = ROOT / "tests" / "config" / "version_config.yaml"
SPEC = "500=0.05,latency=200ms@0.05,drop=0.02,garbage=0.02"
RATES = {"500": 0.05, "latency": 0.05, "drop": 0.02, "garbage": 0.02}
SEED = 20261129
REQUESTS = 400
TIMEOUT = 2.0  # seconds per request; latency faults are 0.2 s
ALPHA = 0.001  # a rate "does not match" only below this two-sided binomial p-value

# The one clear failure each fault must end in (the first line of the message).
FAILURES = {
    "500": re.compile(r"-> 500 in [\d.]+ ms: expected (a success \(2xx\)|[\d or]+): '\{"),
    "garbage": re.compile(r"-> 200 in [\d.]+ ms: (the body is not JSON|expected [\d or]+): '<html>"),
    "drop": re.compile(r": no answer \((RemoteProtocolError|ReadError)\b.*\) after 1 attempt"),
}


def _kind(message: str) -> str | None:
    """The fault whose clear failure ``message`` is, if it is one."""
    return next((kind for kind, pattern in FAILURES.items() if pattern.search(message)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Pets API with faults, on a free loopback port, until the module ends (its log in a
    file: a pipe nobody reads would fill up with uvicorn's line per dropped connection)."""
    port = _free_port()
    args = [sys.executable, "-m", "petstore", "--port", str(port), "--faults", SPEC, "--seed", str(SEED)]
    log = tmp_path_factory.mktemp("petstore") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # at most 30 s for the server to start
            if proc.poll() is not None:
                pytest.fail(f"petstore --faults exited {proc.returncode}: {log.read_text()[-500:]}")
            try:
                httpx.get(f"{url}/_faults", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"petstore --faults did not answer on {url}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _injected(url: str) -> dict[str, int]:
    stats = httpx.get(f"{url}/_faults", timeout=5).json()
    return {"requests": stats["requests"], **stats["injected"]}


def _reset(url: str) -> None:
    httpx.delete(f"{url}/_faults", timeout=5).raise_for_status()


async def test_each_fault_gives_its_clear_failure_at_the_injected_rate(server: str) -> None:
    """400 list requests, one at a time: the outcomes the client sees are exactly the faults the
    server injected, each an expected rate within its binomial bounds, none a timeout."""
    _reset(server)
    config = load_config(CONFIG)
    seen: Counter[str] = Counter()
    unclear: list[str] = []
    slowest = 0.0
    async with make_client(base_url=server, timeout=TIMEOUT) as client:
        api = VersionedClient(client, config, "v1")
        for _ in range(REQUESTS):
            started = time.perf_counter()
            try:
                response = await api.list("pet", per_page=1)
                api.items(response, "pet")
                seen["latency" if response.elapsed.total_seconds() >= 0.2 else "ok"] += 1
            except AssertionError as exc:  # RequestFailedError is one too: a test failure
                kind = _kind(str(exc))
                if kind is None:
                    unclear.append(str(exc))
                else:
                    seen[kind] += 1
            slowest = max(slowest, time.perf_counter() - started)
    assert unclear == [], "not one of the clear failures"
    injected = _injected(server)
    print(f"injected {injected}; seen {dict(seen)}; slowest {slowest:.3f} s")  # shown by -rP
    assert injected["requests"] == REQUESTS
    assert {k: seen[k] for k in RATES} == {k: injected[k] for k in RATES}
    for kind, rate in RATES.items():
        test = binomtest(seen[kind], REQUESTS, rate)
        assert test.pvalue > ALPHA, f"{kind}: {seen[kind]} of {REQUESTS} at rate {rate} (p={test.pvalue:.2g})"
    # Nothing waited past the timeout: such a request ends in "no answer (ReadTimeout)", which is
    # none of the clear failures above (and no time is asserted: a timing is no test's business).


def test_the_suite_goes_on_and_fails_only_where_a_fault_struck(server: str, tmp_path: Path) -> None:
    """The CRUD slice of the dynamic suite against the faulty server: it runs to the end, every
    failure is one of the clear ones, and each injected fault fails exactly one test."""
    _reset(server)
    report = tmp_path / "junit.xml"
    run = subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests/integration/test_crud_dynamic.py", "-p", "no:cacheprovider",
            "-q", f"--api-url={server}", f"--junitxml={report}", "--factory-seed=7",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode in (0, 1), run.stdout[-3000:] + run.stderr[-2000:]
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes: Counter[str] = Counter()
    slowest = 0.0
    for case in cases:
        slowest = max(slowest, float(case.get("time", "0")))
        failure, error = case.find("failure"), case.find("error")  # an Element without children is falsy
        problem = failure if failure is not None else error
        if case.find("skipped") is not None:
            outcomes["skipped"] += 1
        elif problem is None:
            outcomes["passed"] += 1
        else:
            message = problem.get("message", "")
            kind = _kind(message)
            assert kind is not None, f"{case.get('name')}: not one of the clear failures: {message[:300]}"
            outcomes[kind] += 1
    injected = _injected(server)
    print(f"injected {injected}; outcomes {dict(outcomes)}; slowest test {slowest:.3f} s")  # shown by -rP
    assert outcomes["passed"] > 0, outcomes
    # A test stops at its first failure and checks every answer it gets: each fault that is not
    # a delay fails exactly one test, with that fault's own message.
    assert {k: outcomes[k] for k in FAILURES} == {k: injected[k] for k in FAILURES}
    assert sum(outcomes.values()) == 72  # 6 tests x 4 resources x 3 versions: every one ran to an outcome
