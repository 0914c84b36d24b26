"""Command line entry point: ``python -m petstore --port 8000 [--host 127.0.0.1] [--faults SPEC [--seed N]]``."""

from __future__ import annotations

import argparse
import ipaddress
import random
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from .faults import Faults

__all__ = ["USAGE_ERROR", "main", "parse_args"]

USAGE_ERROR = 2
"""Exit status for bad options (argparse's convention)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``--help`` has the usage), never a traceback."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _faults(text: str) -> Faults:
    """``--faults`` value: the parsed spec, or argparse's one-line error with the parser's message."""
    # Deferred: parsing the spec loads the middleware, which needs Starlette; --help should not.
    from .faults import parse_faults  # noqa: PLC0415

    try:
        return parse_faults(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the serving options; a meaningless or unsafe combination is an error (exit 2)."""
    parser = _Parser(
        prog="python -m petstore",
        description="Serve the versioned in-memory Pets API (/api/v1, /api/v2, /api/v3).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: %(default)s)")
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug", "trace"],
        help="uvicorn log level (default: %(default)s)",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        metavar="SPEC",
        help="inject faults into /api/ requests, to test clients against a misbehaving server: comma-separated "
        "5XX=P (answer that status), latency=<N>ms@P (delay, then serve), drop=P (cut the body and close the "
        "connection), garbage=P (200 with a non-JSON body), each P in [0, 1] and their sum <= 1, e.g. "
        "500=0.05,latency=200ms@0.05,drop=0.02,garbage=0.02; one draw per request picks at most one fault; "
        "GET /_faults reports the counts, DELETE /_faults resets them; loopback --host only",
    )
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of the fault draws, so a sequential client sees the same faults on every run "
        "(with --faults only; default: a random seed, shown by GET /_faults)",
    )
    args = parser.parse_args(argv)
    if args.seed is not None and args.faults is None:
        parser.error("--seed only seeds the fault draws: add --faults SPEC or drop --seed")
    if args.faults is not None and not _is_loopback(args.host):
        parser.error(
            f"--faults with --host {args.host}: a faulty server must not be exposed; "
            "bind a loopback address (127.0.0.1, ::1, localhost) or drop --faults"
        )
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a fresh app (wrapped in the fault injector if ``--faults``) with uvicorn until interrupted."""
    args = parse_args(argv)
    # Deferred so that --help does not pay for importing the server and the app.
    import uvicorn  # noqa: PLC0415

    from . import create_app  # noqa: PLC0415

    app = create_app()
    if args.faults is None:
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
        return
    from .faults import CONTROL_PATH, FaultInjector  # noqa: PLC0415

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"petstore: injecting faults {args.faults} with seed {seed}; counts at {CONTROL_PATH}", file=sys.stderr)
    uvicorn.run(FaultInjector(app, args.faults, seed), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
