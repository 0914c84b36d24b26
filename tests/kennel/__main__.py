"""Serve the Kennel API on loopback: ``python -m tests.kennel --port N [--host 127.0.0.1]`` from the project root."""

from __future__ import annotations

import argparse

import uvicorn

from tests.kennel.app import create_app


def main(argv: list[str] | None = None) -> None:
    """Parse the port (and host) and serve a fresh app until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.kennel", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="port to listen on")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
