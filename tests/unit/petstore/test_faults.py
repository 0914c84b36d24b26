"""Fault injection: the ``--faults`` parser, the middleware in process, the command line and one live server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
import uvicorn

from petstore import create_app
from petstore import faults as faults_module
from petstore.__main__ import main, parse_args
from petstore.faults import GARBAGE_BODY, MAX_DELAY_MS, SYNTAX, Fault, FaultInjector, Faults, parse_faults

REPO = Path(__file__).resolve().parents[3]

# --- parser -------------------------------------------------------------------------


def test_syntax_text() -> None:
    assert SYNTAX == (
        "syntax: comma-separated 5XX=P, latency=<N>ms@P, drop=P, garbage=P, each P in [0, 1] and their sum <= 1 "
        "(e.g. 500=0.05,latency=200ms@0.05,drop=0.02)"
    )


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("500=0.05", (Fault("status", 0.05, status=500),)),
        ("503=1", (Fault("status", 1.0, status=503),)),
        ("599=0", (Fault("status", 0.0, status=599),)),
        ("latency=200ms@0.05", (Fault("latency", 0.05, delay_ms=200),)),
        ("latency=0ms@1", (Fault("latency", 1.0, delay_ms=0),)),
        (f"latency={MAX_DELAY_MS}ms@0.5", (Fault("latency", 0.5, delay_ms=MAX_DELAY_MS),)),
        ("drop=0.02", (Fault("drop", 0.02),)),
        ("garbage=1e-3", (Fault("garbage", 0.001),)),
        (
            " 500=0.05 , latency=200ms@0.05,drop=0.02,garbage = 0.02 ",
            (
                Fault("status", 0.05, status=500),
                Fault("latency", 0.05, delay_ms=200),
                Fault("drop", 0.02),
                Fault("garbage", 0.02),
            ),
        ),
        ("500=0.1,503=0.2", (Fault("status", 0.1, status=500), Fault("status", 0.2, status=503))),
        # 0.1 + 0.2 + 0.7 is 1.0000000000000002 in floats: still a sum of 1.
        ("500=0.1,drop=0.2,garbage=0.7", (Fault("status", 0.1, status=500), Fault("drop", 0.2), Fault("garbage", 0.7))),
    ],
)
def test_parse_valid(text: str, items: tuple[Fault, ...]) -> None:
    faults = parse_faults(text)
    assert faults == Faults(items)
    assert parse_faults(str(faults)) == faults


def test_canonical_spec() -> None:
    spec = "500=0.05,latency=200ms@0.05,drop=0.02,garbage=0.02"
    assert str(parse_faults(spec)) == spec
    assert str(parse_faults("drop=1,503=0")) == "drop=1,503=0"
    assert parse_faults(spec).labels == ("500", "latency", "drop", "garbage")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense", "fault 'nonsense': not of the form KIND=VALUE"),
        ("", "faults '': empty item (a stray comma, or no fault at all)"),
        ("500=0.1,", "faults '500=0.1,': empty item (a stray comma, or no fault at all)"),
        ("500=0.1,,drop=0.1", "faults '500=0.1,,drop=0.1': empty item (a stray comma, or no fault at all)"),
        ("foo=0.1", "fault 'foo=0.1': unknown kind 'foo' (kinds: 5XX, latency, drop, garbage)"),
        ("DROP=0.1", "fault 'DROP=0.1': unknown kind 'DROP' (kinds: 5XX, latency, drop, garbage)"),
        ("=0.1", "fault '=0.1': unknown kind '' (kinds: 5XX, latency, drop, garbage)"),
        ("404=0.1", "fault '404=0.1': status 404 is not a 5xx code (500-599)"),
        ("600=0.1", "fault '600=0.1': status 600 is not a 5xx code (500-599)"),
        ("5000=0.1", "fault '5000=0.1': status 5000 is not a 5xx code (500-599)"),
        ("drop=abc", "fault 'drop=abc': probability 'abc' is not a number in [0, 1]"),
        ("drop=", "fault 'drop=': probability '' is not a number in [0, 1]"),
        ("drop=-0.1", "fault 'drop=-0.1': probability '-0.1' is not a number in [0, 1]"),
        ("garbage=1.5", "fault 'garbage=1.5': probability '1.5' is not a number in [0, 1]"),
        ("500=nan", "fault '500=nan': probability 'nan' is not a number in [0, 1]"),
        ("500=inf", "fault '500=inf': probability 'inf' is not a number in [0, 1]"),
        ("500=0.5=0.1", "fault '500=0.5=0.1': probability '0.5=0.1' is not a number in [0, 1]"),
        (
            "latency=200@0.05",
            "fault 'latency=200@0.05': latency takes a delay in milliseconds and a probability, as latency=<N>ms@P",
        ),
        (
            "latency=200ms",
            "fault 'latency=200ms': latency takes a delay in milliseconds and a probability, as latency=<N>ms@P",
        ),
        (
            "latency=0.5ms@0.1",
            "fault 'latency=0.5ms@0.1': latency takes a delay in milliseconds and a probability, as latency=<N>ms@P",
        ),
        (
            "latency=2s@0.1",
            "fault 'latency=2s@0.1': latency takes a delay in milliseconds and a probability, as latency=<N>ms@P",
        ),
        ("latency=200ms@2", "fault 'latency=200ms@2': probability '2' is not a number in [0, 1]"),
        (
            "latency=60001ms@0.1",
            "fault 'latency=60001ms@0.1': delay 60001 ms is over the limit of 60000 ms",
        ),
        ("drop=0.1,drop=0.2", "fault 'drop=0.2': 'drop' is given twice; give each kind once"),
        ("500=0.1,500=0.2", "fault '500=0.2': '500' is given twice; give each kind once"),
        ("500=0.6,drop=0.6", "faults '500=0.6,drop=0.6': probabilities sum to 1.2, more than 1"),
        ("drop=1\nx", "fault 'drop=1\\nx': probability '1\\nx' is not a number in [0, 1]"),
    ],
)
def test_parse_invalid(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^fault") as caught:
        parse_faults(text)
    assert str(caught.value) == f"{message}; {SYNTAX}"
    assert "\n" not in str(caught.value)


def test_pick_uses_cumulative_intervals_in_order() -> None:
    faults = parse_faults("500=0.05,latency=200ms@0.05,drop=0,garbage=0.1")
    picked = [faults.pick(draw) for draw in (0.0, 0.0499, 0.05, 0.0999, 0.1, 0.1999, 0.2, 0.9999)]
    assert [fault.label if fault else None for fault in picked] == [
        "500", "500", "latency", "latency", "garbage", "garbage", None, None,
    ]  # fmt: skip
    assert parse_faults("drop=1").pick(0.9999999) == Fault("drop", 1.0)


# --- middleware in process ------------------------------------------------------------


@asynccontextmanager
async def _client(spec: str, seed: int = 7) -> AsyncIterator[tuple[httpx.AsyncClient, FaultInjector]]:
    """An in-process client of a fresh app behind a fault injector."""
    injector = FaultInjector(create_app(), parse_faults(spec), seed)
    transport = httpx.ASGITransport(app=injector)
    async with httpx.AsyncClient(transport=transport, base_url="http://petstore") as client:
        yield client, injector


@pytest.mark.parametrize(
    ("spec", "path", "status", "version"),
    [("500=1", "/api/v2/pets", 500, "v2"), ("503=1", "/api/v3/users", 503, "v3"), ("500=1", "/api/v9/pets", 500, None)],
)
async def test_status_fault(spec: str, path: str, status: int, version: str | None) -> None:
    async with _client(spec) as (client, injector):
        response = await client.get(path)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {
            "success": False,
            "version": version,
            "error": {"code": "injected_fault", "message": f"fault injected: {status}"},
        }
        assert injector.counts()["injected"] == {str(status): 1}


async def test_garbage_fault() -> None:
    async with _client("garbage=1") as (client, _):
        response = await client.get("/api/v1/pets")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == GARBAGE_BODY
        with pytest.raises(json.JSONDecodeError, match=r"^Expecting value: line 1 column 1 \(char 0\)$"):
            response.json()


async def test_latency_fault_sleeps_then_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    sleep = mock.AsyncMock()
    monkeypatch.setattr(faults_module.asyncio, "sleep", sleep)
    async with _client("latency=250ms@1") as (client, injector):
        response = await client.get("/api/v1/pets")
        assert response.status_code == 200
        assert response.json()["success"] is True
        sleep.assert_awaited_once_with(0.25)
        assert injector.counts()["injected"] == {"latency": 1}


async def test_drop_fault_sends_half_the_body_and_stops() -> None:
    """ASGITransport cannot show a dropped connection, so the ASGI messages are read directly."""
    injector = FaultInjector(create_app(), parse_faults("drop=1"), 1)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/api/v1/pets", "headers": [], "query_string": b""}
    await injector(scope, receive, send)
    start, body = sent
    assert start["type"] == "http.response.start"
    assert start["status"] == 200
    length = int(dict(start["headers"])[b"content-length"])
    assert body["type"] == "http.response.body"
    assert body["more_body"] is True
    assert 0 < len(body["body"]) < length
    assert injector.counts()["injected"] == {"drop": 1}


async def test_only_api_paths_are_faulted_and_counted() -> None:
    async with _client("500=1") as (client, injector):
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/api")).status_code == 404
        assert (await client.get("/_faults")).status_code == 200
        assert (await client.get("/api/v1/pets")).status_code == 500
        assert injector.counts() == {"requests": 1, "injected": {"500": 1}, "seed": 7, "spec": "500=1"}


async def test_lifespan_passes_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        seen.append(scope["type"])

    await FaultInjector(app, parse_faults("500=1"), 1)({"type": "lifespan"}, mock.AsyncMock(), mock.AsyncMock())
    assert seen == ["lifespan"]


async def _outcomes(client: httpx.AsyncClient, count: int) -> list[str]:
    """What each of ``count`` sequential GETs met: the status, or "garbage"."""
    outcomes = []
    for _ in range(count):
        response = await client.get("/api/v1/pets")
        outcomes.append("garbage" if response.content == GARBAGE_BODY else str(response.status_code))
    return outcomes


async def test_counts_and_reset() -> None:
    async with _client("500=0.3,garbage=0.3") as (client, injector):
        outcomes = await _outcomes(client, 20)
        counts = (await client.get("/_faults")).json()
        assert counts == {
            "requests": 20,
            "injected": {"500": outcomes.count("500"), "garbage": outcomes.count("garbage")},
            "seed": 7,
            "spec": "500=0.3,garbage=0.3",
        }
        assert counts["injected"]["500"] > 0
        assert counts["injected"]["garbage"] > 0
        assert outcomes.count("200") > 0
        reset = await client.delete("/_faults")
        assert reset.status_code == 200
        zero = {"requests": 0, "injected": {"500": 0, "garbage": 0}, "seed": 7, "spec": "500=0.3,garbage=0.3"}
        assert reset.json() == zero
        assert (await client.get("/_faults")).json() == zero
        # The reset restarts the draws from the seed too: the same sequence again.
        assert await _outcomes(client, 20) == outcomes
        assert injector.requests == 20


async def test_control_path_methods() -> None:
    async with _client("500=1") as (client, _):
        response = await client.post("/_faults")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, DELETE"
        assert response.json()["error"] == {
            "code": "method_not_allowed",
            "message": "Method POST is not allowed on /_faults (use GET or DELETE)",
        }


async def test_seed_reproduces_the_sequence() -> None:
    runs = []
    for seed in (7, 7, 8):
        async with _client("500=0.25,503=0.25,garbage=0.25", seed) as (client, _):
            runs.append(await _outcomes(client, 30))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert set(runs[0]) == {"200", "500", "503", "garbage"}


async def test_without_faults_there_is_no_control_path() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://petstore") as client:
        response = await client.get("/_faults")
        assert response.status_code == 404


# --- command line -------------------------------------------------------------------


def test_main_wires_the_injector(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append((app, options)))
    main(["--port", "9", "--faults", "drop=0.5", "--seed", "3"])
    main(["--port", "9", "--faults", "drop=0.5"])
    main(["--port", "9"])
    (faulty, options), (unseeded, _), (plain, _) = served
    assert isinstance(faulty, FaultInjector)
    assert (faulty.seed, str(faulty.faults)) == (3, "drop=0.5")
    assert options == {"host": "127.0.0.1", "port": 9, "log_level": "warning"}
    assert isinstance(unseeded, FaultInjector)
    assert not isinstance(plain, FaultInjector)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "petstore: injecting faults drop=0.5 with seed 3; counts at /_faults",
        f"petstore: injecting faults drop=0.5 with seed {unseeded.seed}; counts at /_faults",
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_faults_on_loopback(host: str) -> None:
    assert str(parse_args(["--host", host, "--faults", "drop=0.1"]).faults) == "drop=0.1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--seed", "3"], "--seed only seeds the fault draws: add --faults SPEC or drop --seed"),
        (
            ["--host", "0.0.0.0", "--faults", "drop=0.1"],
            "--faults with --host 0.0.0.0: a faulty server must not be exposed; "
            "bind a loopback address (127.0.0.1, ::1, localhost) or drop --faults",
        ),
        (
            ["--host", "example.com", "--faults", "drop=0.1"],
            "--faults with --host example.com: a faulty server must not be exposed; "
            "bind a loopback address (127.0.0.1, ::1, localhost) or drop --faults",
        ),
        (
            ["--faults", "drop=2"],
            f"argument --faults: fault 'drop=2': probability '2' is not a number in [0, 1]; {SYNTAX}",
        ),
    ],
)
def test_bad_options(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_args(argv)
    assert caught.value.code == 2
    assert capsys.readouterr().err == f"python -m petstore: error: {message}\n"


def test_nonsense_faults_exit_2_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "petstore", "--faults", "nonsense"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"python -m petstore: error: argument --faults: fault 'nonsense': not of the form KIND=VALUE; {SYNTAX}\n"
    )


def test_help_documents_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "petstore", "--help"], capture_output=True, text=True, cwd=REPO, check=True, timeout=30
    )
    assert "--faults SPEC" in result.stdout
    assert "--seed N" in result.stdout


# --- live server --------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_live_drop_is_a_remote_protocol_error() -> None:
    """Against uvicorn a dropped body is a short read: httpx raises RemoteProtocolError."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "petstore", "--port", str(port), "--faults", "drop=1", "--seed", "1"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with httpx.Client(base_url=base, trust_env=False, timeout=10) as client:
            for _ in range(400):  # up to ~20 s for the server to start
                assert server.poll() is None, "the server exited before answering /_faults"
                try:
                    counts = client.get("/_faults").json()
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            else:
                pytest.fail("the server did not answer /_faults")
            assert counts == {"requests": 0, "injected": {"drop": 0}, "seed": 1, "spec": "drop=1"}
            with pytest.raises(
                httpx.RemoteProtocolError,
                match=r"^peer closed connection without sending complete message body \(received \d+ bytes, expected \d+\)$",
            ):
                client.get("/api/v1/pets")
            assert client.get("/_faults").json()["injected"] == {"drop": 1}
    finally:
        server.terminate()
        try:
            server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
