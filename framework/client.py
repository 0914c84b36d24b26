"""The HTTP side: one ``httpx.AsyncClient`` per session, in-process or against a live URL.

In-process requests go through ``httpx.ASGITransport`` straight into the ASGI app: no
socket, no server. A default ``AsyncClient()`` spends about 55 ms building an SSL
context; neither mode here builds the default one (plain ``http://`` needs none).
"""

from __future__ import annotations

import builtins
import weakref
from typing import Any
from urllib.parse import urlsplit

import httpx

from framework.config import Endpoint, Shape, VersionConfig
from framework.config.model import absent, dig
from framework.errors import RequestFailedError

__all__ = ["IN_PROCESS_URL", "VersionedClient", "make_client", "probe"]

IN_PROCESS_URL = "http://testserver"


def make_client(
    *, app: Any = None, base_url: str | None = None, timeout: float = 5.0, follow_redirects: bool = True
) -> httpx.AsyncClient:
    """A client for ``app`` in-process, or for the server at ``base_url``; redirects (a
    trailing slash's 307) are followed, as test clients do, unless ``follow_redirects`` is False."""
    if (app is None) == (base_url is None):
        raise ValueError("give either app (in-process) or base_url (a live server), not both")
    if app is not None:
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
        return httpx.AsyncClient(
            transport=transport,
            base_url=IN_PROCESS_URL,
            timeout=timeout,
            trust_env=False,
            follow_redirects=follow_redirects,
        )
    assert base_url is not None
    # TLS only when the URL asks for it: the default context costs ~55 ms to build.
    verify = urlsplit(base_url).scheme == "https"
    transport = httpx.AsyncHTTPTransport(verify=verify) if not verify else httpx.AsyncHTTPTransport()
    return httpx.AsyncClient(
        transport=transport, base_url=base_url, timeout=timeout, trust_env=False, follow_redirects=follow_redirects
    )


def probe(base_url: str, *, timeout: float, retries: int = 0) -> str | None:
    """Why the server at ``base_url`` does not answer (None when it answers anything at all):
    one GET of the URL itself, retried ``retries`` times, each within ``timeout`` seconds."""
    verify = urlsplit(base_url).scheme == "https"
    with httpx.Client(timeout=timeout, trust_env=False, verify=verify) as client:
        for attempt in range(1, retries + 2):
            try:
                client.get(base_url)
                return None
            except _NO_ANSWER as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt == retries + 1:
                    tries = f"{attempt} attempt{'s' if attempt > 1 else ''}"
                    return f"no answer ({reason}) after {tries} within {timeout:g} s each"
    return None


class VersionedClient:
    """A session client bound to one API version: paths and response shapes come from the config.

    Resource names resolve in any spelling (``pet``, ``pets``). Keyword arguments fill the
    endpoint's path parameters (``api.create("health_record", payload, pet_id=...)``); on
    :meth:`list` the others are query parameters. Every method returns the ``httpx.Response``;
    :meth:`data`, :meth:`items`, :meth:`page` and :meth:`error` read it in the shape the
    config gives the endpoint it came from.
    """

    __slots__ = ("_endpoints", "client", "config", "retries", "shape", "version")

    def __init__(self, client: httpx.AsyncClient, config: VersionConfig, version: str) -> None:
        self.client = client
        self.config = config
        self.version = version
        self.shape = config.get_shape(version)
        self.retries = config.settings.max_retries
        self._endpoints: dict[str, Endpoint] = {}

    def endpoint(self, resource: str) -> Endpoint:
        """The config's endpoint for ``resource`` (any spelling)."""
        found = self._endpoints.get(resource)
        if found is None:
            found = self._endpoints[resource] = self.config.endpoint(self.version, resource)
        return found

    def url(self, resource: str, item_id: object = None, **params: object) -> str:
        """The path of a resource's collection, or of one item, with ``{name}`` filled in."""
        return self.endpoint(resource).url(item_id, params)

    async def create(self, resource: str, payload: Any, **params: object) -> httpx.Response:
        """POST a payload to the collection."""
        return await self._send("POST", resource, None, params, json=payload)

    async def get(self, resource: str, item_id: object, **params: object) -> httpx.Response:
        """GET one item."""
        return await self._send("GET", resource, item_id, params)

    async def update(self, resource: str, item_id: object, payload: Any, **params: object) -> httpx.Response:
        """PUT (or PATCH, as the config's ``update_method`` says) an update to one item."""
        method = self.endpoint(resource).update_method
        return await self._send(method, resource, item_id, params, json=payload)

    async def delete(self, resource: str, item_id: object, **params: object) -> httpx.Response:
        """DELETE one item."""
        return await self._send("DELETE", resource, item_id, params)

    async def list(self, resource: str, **params: Any) -> httpx.Response:
        """GET the collection; path parameters fill the path, the rest are the query (filters, ``page``)."""
        endpoint = self.endpoint(resource)
        path = {k: params.pop(k) for k in endpoint.params if k in params}
        return await self._send("GET", resource, None, path, params=params)

    async def _send(
        self, method: str, resource: str, item_id: object, path: dict[str, object], **kwargs: Any
    ) -> httpx.Response:
        __tracebackhide__ = True
        endpoint = self.endpoint(resource)
        url = endpoint.url(item_id, path)
        attempts = 1 + (self.retries if method in _IDEMPOTENT else 0)
        for attempt in range(1, attempts + 1):
            try:
                return await self.client.request(method, url, extensions={_EXTENSION: endpoint}, **kwargs)
            except _NO_ANSWER as exc:  # retried only where sending twice is harmless
                if attempt == attempts:
                    full = str(self.client.base_url.join(url))
                    raise RequestFailedError(method, full, exc, attempt, self.retries) from None
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _shape(self, response: httpx.Response) -> Shape:
        endpoint = response.request.extensions.get(_EXTENSION)
        return endpoint.shape if isinstance(endpoint, Endpoint) else self.shape

    def expect(self, response: httpx.Response, *statuses: int) -> httpx.Response:
        """``response`` if its status is one of ``statuses`` and a body it says is JSON is JSON;
        else an AssertionError with the method, URL, status, time taken and the body's first
        200 bytes."""
        __tracebackhide__ = True
        if response.status_code not in statuses:
            wanted = " or ".join(str(s) for s in statuses)
            raise AssertionError(f"{_said(response)}: expected {wanted}: {_clip(response)}")
        # Parsed first (data() reads the parse), the content type looked up only for a body
        # that is not JSON: one header lookup costs about a tenth of the whole check.
        if response.content and _parsed(response) is _NOT_JSON and "json" in response.headers.get("content-type", ""):
            _json(response)
        return response

    def data(self, response: httpx.Response) -> Any:
        """The data of a success (2xx) answer; raises AssertionError naming what is off."""
        __tracebackhide__ = True
        return self._part(response, success=True)

    def error(self, response: httpx.Response) -> Any:
        """The error details of a failure answer (``error`` of our envelope, ``detail`` of FastAPI's ...)."""
        __tracebackhide__ = True
        return self._part(response, success=False)

    def _part(self, response: httpx.Response, *, success: bool) -> Any:
        """The data of a success, or the details of an error, where the endpoint's shape keeps them."""
        __tracebackhide__ = True
        shape = self._shape(response)
        body = self._read(response, shape, success=success)
        path = shape.data if success else shape.error
        found = dig(body, path)
        if absent(found):
            raise AssertionError(f"{_said(response)}: no {'.'.join(path)!r} in the body: {_clip(response)}")
        return found

    def items(self, response: httpx.Response, resource: str | None = None) -> builtins.list[Any]:
        """The items of a list answer, wherever the endpoint's shape keeps them."""
        __tracebackhide__ = True
        shape = self.endpoint(resource).shape if resource is not None else self._shape(response)
        body = self._read(response, shape, success=True)
        found = dig(body, shape.items)
        if not isinstance(found, builtins.list):
            where = ".".join(shape.items) or "the body"
            got = "nothing" if absent(found) else type(found).__name__
            raise AssertionError(f"{_said(response)}: expected a list at {where}, got {got}: {_clip(response)}")
        return found

    def page(self, response: httpx.Response) -> dict[str, Any]:
        """The paging fields of a list answer that its shape has (total, page, per_page, total_pages)."""
        __tracebackhide__ = True
        shape = self._shape(response)
        body = self._read(response, shape, success=True)
        out = {}
        for name, path in shape.paging().items():
            value = dig(body, path)
            if absent(value):
                raise AssertionError(f"{_said(response)}: no {'.'.join(path)!r} in the body: {_clip(response)}")
            out[name] = value
        return out

    def _read(self, response: httpx.Response, shape: Shape, *, success: bool) -> Any:
        """The JSON body of a success (2xx) or an error (4xx, 5xx) answer, its envelope checked."""
        __tracebackhide__ = True
        status = response.status_code
        if (200 <= status < 300) != success and (success or status < 400):  # httpx's is_success, inline
            what = "a success (2xx)" if success else "an error (4xx or 5xx)"
            raise AssertionError(f"{_said(response)}: expected {what}: {_clip(response)}")
        body = _json(response)
        if shape.success is not None:
            flag = dig(body, shape.success)
            if flag is not success and not absent(flag):
                what = "a success" if success else "an error"
                raise AssertionError(f"{_said(response)}: not {what}: {_clip(response)}")
        if shape.version is not None:
            said = dig(body, shape.version)
            if said != self.version and not absent(said):
                raise AssertionError(f"{_said(response)}: the body says version {said!r}, expected {self.version!r}")
        return body


_EXTENSION = "dynapi.endpoint"
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NO_ANSWER = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
"""What ``max_retries`` retries: no connection, a dropped one, a timeout; never an answer."""


_NOT_JSON: Any = object()
_last: tuple[weakref.ref[httpx.Response], Any] | None = None
"""The last response parsed and its JSON (or ``_NOT_JSON``): ``expect`` then ``data`` parse a
response once. One entry, held weakly: no exception, no table and no callback per response."""


def _parsed(response: httpx.Response) -> Any:
    """The response's JSON, or ``_NOT_JSON``, parsed once for consecutive reads."""
    global _last  # noqa: PLW0603 - the one-entry cache
    last = _last
    if last is not None and last[0]() is response:
        return last[1]
    try:
        body = response.json()
    except ValueError:
        body = _NOT_JSON
    _last = (weakref.ref(response), body)
    return body


def _json(response: httpx.Response) -> Any:
    __tracebackhide__ = True
    body = _parsed(response)
    if body is _NOT_JSON:
        raise AssertionError(f"{_said(response)}: the body is not JSON: {_clip(response)}")
    return body


def _said(response: httpx.Response) -> str:
    """``GET http://testserver/api/v1/pets/7 -> 404 in 1.2 ms``: what a failure message starts with."""
    request = response.request
    try:
        took = f" in {response.elapsed.total_seconds() * 1000:.1f} ms"
    except RuntimeError:  # a response not read to the end has no elapsed time yet
        took = ""
    return f"{request.method} {request.url} -> {response.status_code}{took}"


def _clip(response: httpx.Response) -> str:
    """The first 200 bytes of the body, as text."""
    head = response.content[:200].decode("utf-8", "replace")
    return repr(head) + ("..." if len(response.content) > 200 else "")
