"""Reference system under test: a versioned (v1, v2, v3) in-memory Pets REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ["create_app"]


def create_app() -> Starlette:
    """Build a new app with its own empty store (see :func:`petstore.app.create_app`).

    The import is deferred so ``python -m petstore --help`` starts without loading
    Starlette and pydantic.
    """
    from .app import create_app as build  # noqa: PLC0415

    return build()
