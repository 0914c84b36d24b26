"""Command line entry point: ``python -m petstore --port 8000 [--host 127.0.0.1]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the serving options."""
    parser = argparse.ArgumentParser(
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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a fresh app with uvicorn until interrupted."""
    args = parse_args(argv)
    # Deferred so that --help does not pay for importing the server and the app.
    import uvicorn  # noqa: PLC0415

    from . import create_app  # noqa: PLC0415

    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
