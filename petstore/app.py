"""Application factory: one fresh store, every version mounted, envelope-shaped errors.

Routing errors (unknown path, wrong method) and unexpected exceptions are answered
with the same error envelope as endpoint errors.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from .errors import ApiError, BadRequest, MethodNotAllowed, NotFound
from .handlers import VersionAPI
from .responses import error_response
from .store import Store
from .versions import VERSIONS, version_of_path

__all__ = ["create_app"]


def _version_of(request: Request) -> str | None:
    """The API version a path belongs to, or ``None`` outside the served versions."""
    return version_of_path(request.url.path)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing errors from Starlette (404 unknown route, 405 wrong method)."""
    assert isinstance(exc, HTTPException)
    path = request.url.path
    error: ApiError
    if exc.status_code == 404:
        error = NotFound(f"No route for {request.method} {path}")
    elif exc.status_code == 405:
        error = MethodNotAllowed(f"Method {request.method} is not allowed on {path}")
    else:
        error = BadRequest(exc.detail)
        error.status_code = exc.status_code
    return error_response(_version_of(request), error, exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    """Last-resort envelope for bugs (Starlette still re-raises for the server log)."""
    return error_response(_version_of(request), ApiError("Internal server error"))


def create_app() -> Starlette:
    """Build a new app with its own empty store (each call is fully isolated)."""
    store = Store()
    routes = [Mount(f"/api/{spec.name}", routes=VersionAPI(store, spec).routes()) for spec in VERSIONS]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
    )
    app.state.store = store
    return app
