"""Tests of framework.client: the two client modes, no default SSL context, the envelope."""

from __future__ import annotations

import importlib.abc
import json
import ssl
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from framework.client import IN_PROCESS_URL, VersionedClient, make_client
from framework.config import VersionConfig, load_config
from framework.errors import MissingParameterError, RequestFailedError, UnknownNameError


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
    assert VersionedClient(mock_client, pets_config, "v2").endpoint("health_record").shape.items == (
        "data",
        "health_records",
    )


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
    with pytest.raises(AssertionError, match="the body says version 'v1', expected 'v2'"):
        api.data(await api.get("pet", "1"))
    missing = await api.delete("pet", "1")
    assert api.error(missing) == {"code": "not_found"}
    with pytest.raises(
        AssertionError, match=r"DELETE http://testserver/api/v2/pets/1 -> 404: expected a success \(2xx\)"
    ):
        api.data(missing)
    with pytest.raises(AssertionError, match=r"-> 200: expected an error \(4xx or 5xx\)"):
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


# -- endpoints and shapes as other APIs write them --------------------------------------------
FOREIGN = """\
versions:
  v2:
    base_url: /api/v2
    response: {error: detail}
    endpoints:
      users:
        path: /api/v2/users/
        response: {list: {items: data, total: pagination.total, total_pages: pagination.pages}}
      health-records:
        path: /api/v2/pets/{pet_id}/health-records
        response: {envelope: none, list: bare}
    schema_fields:
      user_create: [email]
      health_record_create: [kind]
"""


def foreign_api(request: httpx.Request) -> httpx.Response:
    """Answers the way the Kennel API does: a 307 without the slash, per-endpoint shapes, detail errors."""
    path = request.url.path
    if path == "/api/v2/users":
        return httpx.Response(307, headers={"location": "/api/v2/users/"})
    if path == "/api/v2/users/":
        body = {"success": True, "data": [{"id": "u1"}], "pagination": {"total": 1, "pages": 1}, "version": "v2"}
        return httpx.Response(200, json=body)
    if path == "/api/v2/users/u1" and request.method == "DELETE":
        return httpx.Response(200, json={"success": True, "message": "User deleted", "user_id": "u1"})
    if path == "/api/v2/pets/p1/health-records":
        if request.method == "POST":
            return httpx.Response(201, json={"id": "h1", "pet_id": "p1", **json.loads(request.content)})
        return httpx.Response(200, json=[{"id": "h1"}])
    return httpx.Response(404, json={"detail": "Not Found"})


@pytest.fixture
def foreign(tmp_path: Path) -> VersionConfig:
    path = tmp_path / "foreign.yaml"
    path.write_text(FOREIGN, encoding="utf-8")
    return load_config(path)


def test_nested_endpoint_fills_its_parameters(foreign: VersionConfig, mock_client: httpx.AsyncClient) -> None:
    api = VersionedClient(mock_client, foreign, "v2")
    assert api.url("health_record", pet_id="p 1") == "/api/v2/pets/p%201/health-records"
    assert api.url("health-records", "h1", pet_id="p1") == "/api/v2/pets/p1/health-records/h1"
    with pytest.raises(MissingParameterError) as caught:
        api.url("health_record")
    assert str(caught.value) == (
        "endpoint 'health-records' (/api/v2/pets/{pet_id}/health-records) needs pet_id: pass pet_id=... to the call"
    )


async def test_each_endpoint_read_in_its_own_shape(foreign: VersionConfig) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(foreign_api), base_url=IN_PROCESS_URL) as client:
        api = VersionedClient(client, foreign, "v2")
        users = await api.list("users")
        assert api.items(users) == [{"id": "u1"}]
        assert api.page(users) == {"total": 1, "total_pages": 1}
        created = await api.create("health_record", {"kind": "checkup"}, pet_id="p1")
        assert api.data(created) == {"id": "h1", "pet_id": "p1", "kind": "checkup"}
        assert api.items(await api.list("health_record", pet_id="p1")) == [{"id": "h1"}]
        assert api.error(await api.get("user", "nobody")) == "Not Found"
        deleted = await api.delete("users", "u1")  # no data, no version: read it as it is
        assert deleted.json()["success"] is True
        with pytest.raises(
            AssertionError, match=r"DELETE http://testserver/api/v2/users/u1 -> 200: no 'data' in the body"
        ):
            api.data(deleted)
        with pytest.raises(AssertionError, match=r"-> 404: expected a success \(2xx\): '\{\"detail\":\"Not Found\"\}'"):
            api.data(await api.get("health_record", "nope", pet_id="p1"))  # no envelope: the status says it


async def test_redirects_followed_unless_configured(foreign: VersionConfig) -> None:
    transport = httpx.MockTransport(foreign_api)
    async with httpx.AsyncClient(transport=transport, base_url=IN_PROCESS_URL, follow_redirects=True) as client:
        response = await client.get("/api/v2/users")
        assert response.status_code == 200
        assert [r.status_code for r in response.history] == [307]
    async with make_client(app=object()) as client:
        assert client.follow_redirects
    async with make_client(app=object(), follow_redirects=False) as client:
        assert not client.follow_redirects


def test_unknown_resource_names_every_spelling_tried(foreign: VersionConfig, mock_client: httpx.AsyncClient) -> None:
    api = VersionedClient(mock_client, foreign, "v2")
    with pytest.raises(UnknownNameError) as caught:
        api.url("pet")
    assert str(caught.value) == (
        "unknown endpoint 'pet' (also tried 'pets') in foreign.yaml versions.v2.endpoints; known: health-records, users"
    )


async def test_update_method_and_failure_messages_with_elapsed_time(tmp_path: Path) -> None:
    """PATCH where the config says so; a 5xx or a body that is not JSON fails with the method, the
    URL, the status, the time it took and the first 200 bytes of the body."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        method, path = scope["method"], scope["path"]
        status, body = (500, b"<html>" + b"x" * 300) if path.endswith("/boom") else (200, method.encode())
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": body})

    path = tmp_path / "c.yaml"
    path.write_text(
        "versions:\n  v1:\n    update_method: PATCH\n    endpoints:\n      pet: /pets\n"
        "      user: {path: /users, update_method: PUT}\n",
        encoding="utf-8",
    )
    async with make_client(app=app) as client:
        api = VersionedClient(client, load_config(path), "v1")
        assert (await api.update("pet", "1", {})).text == "PATCH"
        assert (await api.update("user", "1", {})).text == "PUT"
        with pytest.raises(AssertionError) as caught:
            api.data(await api.get("pet", "boom"))
    message = str(caught.value)
    assert message.startswith("GET http://testserver/pets/boom -> 500 in ")
    assert message.endswith(": expected a success (2xx): '<html>" + "x" * 194 + "'...")


async def test_idempotent_requests_retried_on_no_answer_only(tmp_path: Path) -> None:
    """max_retries retries a GET/PUT/DELETE that got no answer; never a POST, never an answer."""
    calls: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if request.url.path.endswith("/gone") or request.method == "POST":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(503, json={})

    path = tmp_path / "c.yaml"
    path.write_text("global_settings: {max_retries: 2}\nversions:\n  v1:\n    endpoints: {pet: /pets}\n")
    async with httpx.AsyncClient(transport=httpx.MockTransport(flaky), base_url="http://h") as client:
        api = VersionedClient(client, load_config(path), "v1")
        with pytest.raises(RequestFailedError) as caught:
            await api.get("pet", "gone")
        assert str(caught.value) == (
            "GET http://h/pets/gone: no answer (ConnectError: refused) after 3 attempts (global_settings.max_retries: 2)"
        )
        assert calls == ["GET"] * 3
        calls.clear()
        with pytest.raises(RequestFailedError, match="after 1 attempt "):
            await api.create("pet", {})
        assert calls == ["POST"]
        calls.clear()
        assert (await api.get("pet", "here")).status_code == 503  # an answer, even a 5xx, is not retried
        assert calls == ["GET"]
