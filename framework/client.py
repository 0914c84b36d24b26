"""The HTTP side: one ``httpx.AsyncClient`` per session, in-process or against a live URL.

In-process requests go through ``httpx.ASGITransport`` straight into the ASGI app: no
socket, no server. A default ``AsyncClient()`` spends about 55 ms building an SSL
context; neither mode here builds the default one (plain ``http://`` needs none).
"""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import urlsplit

import httpx

from framework.config import VersionConfig

__all__ = ["IN_PROCESS_URL", "VersionedClient", "make_client"]

IN_PROCESS_URL = "http://testserver"


def make_client(*, app: Any = None, base_url: str | None = None, timeout: float = 5.0) -> httpx.AsyncClient:
    """A client for ``app`` in-process, or for the server at ``base_url``."""
    if (app is None) == (base_url is None):
        raise ValueError("give either app (in-process) or base_url (a live server), not both")
    if app is not None:
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL, timeout=timeout, trust_env=False)
    assert base_url is not None
    # TLS only when the URL asks for it: the default context costs ~55 ms to build.
    verify = urlsplit(base_url).scheme == "https"
    transport = httpx.AsyncHTTPTransport(verify=verify) if not verify else httpx.AsyncHTTPTransport()
    return httpx.AsyncClient(transport=transport, base_url=base_url, timeout=timeout, trust_env=False)


class VersionedClient:
    """A session client bound to one API version: paths come from the config.

    Every method returns the ``httpx.Response``; :meth:`data` and :meth:`items`
    unwrap the ``{"success", "version", "data"}`` envelope and the version's paging.
    """

    __slots__ = ("_paths", "client", "config", "pagination", "version")

    def __init__(self, client: httpx.AsyncClient, config: VersionConfig, version: str) -> None:
        self.client = client
        self.config = config
        self.version = version
        self.pagination = config.get_pagination(version)
        self._paths: dict[str, str] = {}

    def url(self, resource: str, item_id: str | None = None, **params: str) -> str:
        """The path of a resource's collection, or of one item, with ``{name}`` filled in."""
        path = self._paths.get(resource)
        if path is None:
            path = self._paths[resource] = self.config.get_endpoint(self.version, resource)
        if params:
            path = path.format(**params)
        return path if item_id is None else f"{path}/{item_id}"

    def collection(self, resource: str) -> str:
        """The key a flat page lists items under: the endpoint's last segment (``health_records``)."""
        return self.url(resource).rstrip("/").rsplit("/", 1)[-1].replace("-", "_")

    async def create(self, resource: str, payload: Any) -> httpx.Response:
        """POST a payload to the collection."""
        return await self.client.post(self.url(resource), json=payload)

    async def get(self, resource: str, item_id: str) -> httpx.Response:
        """GET one item."""
        return await self.client.get(self.url(resource, item_id))

    async def update(self, resource: str, item_id: str, payload: Any) -> httpx.Response:
        """PUT a (partial) update to one item."""
        return await self.client.put(self.url(resource, item_id), json=payload)

    async def delete(self, resource: str, item_id: str) -> httpx.Response:
        """DELETE one item."""
        return await self.client.delete(self.url(resource, item_id))

    async def list(self, resource: str, **params: Any) -> httpx.Response:
        """GET the collection with query parameters (filters, ``page``, ``per_page``)."""
        return await self.client.get(self.url(resource), params=params)

    def data(self, response: httpx.Response) -> Any:
        """The ``data`` of a success envelope; raises AssertionError naming what is off."""
        body = response.json()
        if not isinstance(body, dict) or body.get("success") is not True:
            raise AssertionError(
                f"{response.request.method} {response.request.url.path}: not a success envelope: {body!r}"
            )
        if body.get("version") != self.version:
            raise AssertionError(f"envelope says version {body.get('version')!r}, expected {self.version!r}")
        return body["data"]

    def error(self, response: httpx.Response) -> dict[str, Any]:
        """The ``error`` of a failure envelope."""
        body = response.json()
        if not isinstance(body, dict) or body.get("success") is not False or "error" not in body:
            raise AssertionError(f"not an error envelope: {body!r}")
        error: dict[str, Any] = body["error"]
        return error

    def items(self, response: httpx.Response, resource: str) -> builtins.list[Any]:
        """The items of a list response, whatever the version's paging shape."""
        return self.pagination.items(self.data(response), self.collection(resource))

    def page(self, response: httpx.Response) -> dict[str, Any]:
        """The paging fields of a list response (total, page, per_page, total_pages)."""
        return dict(self.pagination.meta(self.data(response)))
