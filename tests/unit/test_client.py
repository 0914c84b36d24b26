"""Tests of framework.client: the two client modes, no default SSL context, the envelope."""

from __future__ import annotations

import importlib.abc
import ssl
import sys
from typing import Any

import httpx
import pytest

from framework.client import IN_PROCESS_URL, VersionedClient, make_client
from framework.config import VersionConfig


def test_needs_exactly_one_target() -> None:
    with pytest.raises(ValueError, match="either app"):
        make_client()
    with pytest.raises(ValueError, match="not both"):
        make_client(app=object(), base_url="http://127.0.0.1:1")


@pytest.mark.parametrize("kwargs", [{"app": object()}, {"base_url": "http://127.0.0.1:1"}])
def test_no_certificates_loaded(monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any]) -> None:
    # Loading the CA bundle is what makes a default AsyncClient() cost ~55 ms.
    calls: list[object] = []
    real = ssl.SSLContext.load_verify_locations

    def spy(self: ssl.SSLContext, *args: Any, **kw: Any) -> None:
        calls.append(args)
        real(self, *args, **kw)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", spy)
    client = make_client(**kwargs)
    assert calls == []
    assert client.timeout.read == 5.0
    httpx.AsyncClient()  # the spy does see the default client's bundle
    assert calls


def fake_api(request: httpx.Request) -> httpx.Response:
    version = request.url.path.split("/")[2]
    if request.method == "DELETE":
        return httpx.Response(404, json={"success": False, "version": version, "error": {"code": "not_found"}})
    if request.url.path.endswith("/pets"):
        page = {"total": 1, "page": 1, "per_page": 20, "total_pages": 1}
        data = {"items": [{"id": "1"}], "pagination": page} if version == "v3" else {**page, "pets": [{"id": "1"}]}
        return httpx.Response(200, json={"success": True, "version": version, "data": data})
    return httpx.Response(200, json={"success": True, "version": "v1", "data": {"id": "1"}})


@pytest.fixture
def mock_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(fake_api), base_url=IN_PROCESS_URL)


def test_urls_from_config(pets_config: VersionConfig, mock_client: httpx.AsyncClient) -> None:
    api = VersionedClient(mock_client, pets_config, "v3")
    assert api.url("pet") == "/api/v3/pets"
    assert api.url("pet", "abc") == "/api/v3/pets/abc"
    assert api.url("appointment_cancel", id="7") == "/api/v3/appointments/7/cancel"
    assert VersionedClient(mock_client, pets_config, "v2").collection("health_record") == "health_records"


@pytest.mark.parametrize("version", ["v1", "v3"])
async def test_items_and_page_in_both_shapes(
    pets_config: VersionConfig, mock_client: httpx.AsyncClient, version: str
) -> None:
    api = VersionedClient(mock_client, pets_config, version)
    response = await api.list("pet", page=1)
    assert api.items(response, "pet") == [{"id": "1"}]
    assert api.page(response) == {"total": 1, "page": 1, "per_page": 20, "total_pages": 1}


async def test_envelope_checks(pets_config: VersionConfig, mock_client: httpx.AsyncClient) -> None:
    api = VersionedClient(mock_client, pets_config, "v2")
    with pytest.raises(AssertionError, match="envelope says version 'v1', expected 'v2'"):
        api.data(await api.get("pet", "1"))
    missing = await api.delete("pet", "1")
    assert api.error(missing) == {"code": "not_found"}
    with pytest.raises(AssertionError, match="not a success envelope"):
        api.data(missing)
    with pytest.raises(AssertionError, match="not an error envelope"):
        api.error(await api.list("pet"))


async def test_in_process_reaches_the_app(pets_config: VersionConfig) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b'{"success": true, "version": "v1", "data": {"path": "%s"}}' % scope["path"].encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async with make_client(app=app) as client:
        api = VersionedClient(client, pets_config, "v1")
        assert api.data(await api.get("user", "u1")) == {"path": "/api/v1/users/u1"}


class ImportSpy(importlib.abc.MetaPathFinder):
    """Records every module the import system has to search for."""

    def __init__(self) -> None:
        self.searched: list[str] = []

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        self.searched.append(name)


async def test_requests_import_nothing(pets_config: VersionConfig) -> None:
    # A failed import is not cached: httpx.ASGITransport's `import sniffio` per request
    # cost ~150 us each until sniffio became a dependency.
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async with make_client(app=app) as client:
        await client.get("/warm-up")
        spy = ImportSpy()
        sys.meta_path.insert(0, spy)
        try:
            for _ in range(5):
                await client.get("/api/v1/pets")
        finally:
            sys.meta_path.remove(spy)
    assert spy.searched == []
