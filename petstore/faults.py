"""Fault injection: a parsed ``--faults`` spec and the ASGI middleware that applies it to ``/api/`` requests.

``python -m petstore --faults 500=0.05,latency=200ms@0.05,drop=0.02,garbage=0.02 --seed 7`` makes the
server misbehave on purpose, so that a test framework can be tested against it. Each ``/api/`` request
takes one uniform draw from ``random.Random(seed)``; the items own consecutive intervals of ``[0, 1)`` in
the order written, so at most one fault applies and a sequential client sees the same faults on every run.

Faults:
- ``5XX=P``: answer that status with the error envelope (code ``injected_fault``); the app is not called.
- ``latency=<N>ms@P``: sleep N ms, then serve normally.
- ``drop=P``: start a 200 response with a Content-Length, send half of the body, then stop (the server
  closes the connection; httpx raises ``RemoteProtocolError``); the app is not called.
- ``garbage=P``: answer 200 with ``content-type: application/json`` and a body that is not JSON.

``GET /_faults`` reports the counts, ``DELETE /_faults`` zeroes them and restarts the draws from the seed.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from starlette.responses import JSONResponse, Response

from .errors import InjectedFault, MethodNotAllowed
from .responses import JSON_MEDIA_TYPE, error_response
from .versions import version_of_path

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "CONTROL_PATH",
    "GARBAGE_BODY",
    "MAX_DELAY_MS",
    "SYNTAX",
    "Fault",
    "FaultInjector",
    "FaultKind",
    "Faults",
    "parse_faults",
]

SYNTAX = (
    "syntax: comma-separated 5XX=P, latency=<N>ms@P, drop=P, garbage=P, each P in [0, 1] and their sum <= 1 "
    "(e.g. 500=0.05,latency=200ms@0.05,drop=0.02)"
)
"""The end of every parse error: what a valid spec looks like."""

CONTROL_PATH = "/_faults"
"""The counts endpoint (GET reads, DELETE resets); never faulted."""

MAX_DELAY_MS = 60_000
"""Longest latency fault: a minute already exceeds any sensible client timeout."""

GARBAGE_BODY = b"<html>\x00garbage</html>"
"""Body of a ``garbage`` answer: not JSON (``json.loads`` fails at char 0), though labelled JSON."""

FaultKind = Literal["status", "latency", "drop", "garbage"]

_SUM_TOLERANCE = 1e-9  # 0.1 + 0.2 + 0.7 is 1.0000000000000002 in floats; that still means 1.
_ITEM = re.compile(r"(?P<kind>[^=]*)=(?P<value>.*)", re.DOTALL)
_STATUS = re.compile(r"[0-9]+")
_LATENCY = re.compile(r"(?P<ms>[0-9]+)ms@(?P<probability>.*)", re.DOTALL)
_PLAIN_KINDS: dict[str, FaultKind] = {"drop": "drop", "garbage": "garbage"}  # kinds that take only P
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Fault:
    """One item of a spec: what to do to a request and how often."""

    kind: FaultKind
    probability: float
    status: int = 0
    """The 5xx code of a ``status`` fault (0 otherwise)."""
    delay_ms: int = 0
    """The delay of a ``latency`` fault (0 otherwise)."""

    @property
    def label(self) -> str:
        """The fault's key in the counts: its status code (``"500"``) or its kind."""
        return str(self.status) if self.kind == "status" else self.kind

    def __str__(self) -> str:
        # Shortest round-tripping form, without the ".0" that a float adds to the "1" written.
        probability = repr(self.probability).removesuffix(".0")
        if self.kind == "latency":
            return f"latency={self.delay_ms}ms@{probability}"
        return f"{self.label}={probability}"


@dataclass(frozen=True, slots=True)
class Faults:
    """A parsed ``--faults`` spec: its items in the order written (each label once)."""

    items: tuple[Fault, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """The count keys, in the order written."""
        return tuple(fault.label for fault in self.items)

    def pick(self, draw: float) -> Fault | None:
        """The fault whose interval holds ``draw`` (uniform in [0, 1)), or ``None`` to serve normally."""
        upper = 0.0
        for fault in self.items:
            upper += fault.probability
            if draw < upper:
                return fault
        return None

    def __str__(self) -> str:
        return ",".join(str(fault) for fault in self.items)


def _fail(item: str, problem: str, *, whole: bool = False) -> ValueError:
    """A one-line parse error naming the item (or the whole spec), the problem and the syntax.

    ``!r`` quotes the input, so even a newline in it stays on the one line.
    """
    return ValueError(f"{'faults' if whole else 'fault'} {item!r}: {problem}; {SYNTAX}")


def _probability(item: str, text: str) -> float:
    """Parse a probability in [0, 1] (NaN and infinities fail the range check)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise _fail(item, f"probability {text!r} is not a number in [0, 1]")
    return value


def _parse_item(item: str) -> Fault:
    """Parse one ``KIND=VALUE`` item."""
    match = _ITEM.fullmatch(item)
    if match is None:
        raise _fail(item, "not of the form KIND=VALUE")
    kind, value = match["kind"].strip(), match["value"].strip()
    if kind == "latency":
        latency = _LATENCY.fullmatch(value)
        if latency is None:
            raise _fail(item, "latency takes a delay in milliseconds and a probability, as latency=<N>ms@P")
        delay_ms = int(latency["ms"])
        if delay_ms > MAX_DELAY_MS:
            raise _fail(item, f"delay {delay_ms} ms is over the limit of {MAX_DELAY_MS} ms")
        return Fault("latency", _probability(item, latency["probability"]), delay_ms=delay_ms)
    if kind in _PLAIN_KINDS:
        return Fault(_PLAIN_KINDS[kind], _probability(item, value))
    if _STATUS.fullmatch(kind):
        if not 500 <= int(kind) <= 599:
            raise _fail(item, f"status {kind} is not a 5xx code (500-599)")
        return Fault("status", _probability(item, value), status=int(kind))
    raise _fail(item, f"unknown kind {kind!r} (kinds: 5XX, latency, drop, garbage)")


def parse_faults(text: str) -> Faults:
    """Parse a ``--faults`` spec; any mistake is a one-line :class:`ValueError` naming the item and the syntax."""
    items: list[Fault] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise _fail(text, "empty item (a stray comma, or no fault at all)", whole=True)
        fault = _parse_item(item)
        if fault.label in (seen.label for seen in items):
            raise _fail(item, f"{fault.label!r} is given twice; give each kind once")
        items.append(fault)
    total = math.fsum(fault.probability for fault in items)
    if total > 1.0 + _SUM_TOLERANCE:
        raise _fail(text, f"probabilities sum to {total:g}, more than 1", whole=True)
    return Faults(tuple(items))


class FaultInjector:
    """Pure ASGI middleware: injects the faults of a spec into HTTP requests under ``/api/`` and counts them.

    Other paths, websockets and lifespan events pass through untouched; ``/_faults`` is answered here.
    """

    def __init__(self, app: ASGIApp, faults: Faults, seed: int) -> None:
        self.app = app
        self.faults = faults
        self.seed = seed
        self.requests = 0
        self.injected: dict[str, int] = {}
        self._random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        """Zero the counts and restart the draws from the seed, as if the server had just started."""
        self.requests = 0
        self.injected = dict.fromkeys(self.faults.labels, 0)
        self._random = random.Random(self.seed)

    def counts(self) -> dict[str, Any]:
        """What ``GET /_faults`` answers: requests seen under ``/api/``, faults injected per label, seed, spec."""
        return {"requests": self.requests, "injected": dict(self.injected), "seed": self.seed, "spec": str(self.faults)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == CONTROL_PATH:
            await self._control(scope["method"])(scope, receive, send)
            return
        if not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        # Draw before any await, so concurrent requests take draws in their order of arrival.
        self.requests += 1
        fault = self.faults.pick(self._random.random())
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.injected[fault.label] += 1
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay_ms / 1000)
            await self.app(scope, receive, send)
        elif fault.kind == "status":
            await error_response(version_of_path(path), InjectedFault(fault.status))(scope, receive, send)
        elif fault.kind == "garbage":
            await Response(GARBAGE_BODY, 200, media_type=JSON_MEDIA_TYPE)(scope, receive, send)
        else:
            await _drop(version_of_path(path), send)

    def _control(self, method: str) -> Response:
        """The answer of ``/_faults``: the counts (after zeroing them for DELETE), or 405."""
        if method == "DELETE":
            self.reset()
        elif method != "GET":
            error = MethodNotAllowed(f"Method {method} is not allowed on {CONTROL_PATH} (use GET or DELETE)")
            return error_response(None, error, {"Allow": "GET, DELETE"})
        return JSONResponse(self.counts())


async def _drop(version: str | None, send: Send) -> None:
    """Start a 200 with the full Content-Length, send half of the body and return without finishing.

    uvicorn then logs "ASGI callable returned without completing response." and closes the connection, so the
    client reads a short body. (httpx's in-process ``ASGITransport`` has no connection to drop: it fails an
    ``assert``.)
    """
    body = _dumps({"success": True, "version": version, "data": {"injected_fault": "drop"}}).encode()
    headers = [(b"content-type", JSON_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
