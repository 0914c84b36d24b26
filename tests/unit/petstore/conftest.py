"""Fixtures for the petstore unit tests: a fresh app per test behind a small sync client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from petstore import create_app

FUTURE = "2031-05-04T10:30:00Z"


class Api:
    """Synchronous facade over ``httpx.AsyncClient`` + ``ASGITransport`` on a private loop.

    (``starlette.testclient`` warns about its httpx backend, and warnings are errors here.)
    """

    def __init__(self) -> None:
        self.app = create_app()
        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://petstore")

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    @staticmethod
    def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        """Assert an error envelope with ``status``/``code`` and return its ``error`` object."""
        assert response.status_code == status, response.text
        body = response.json()
        assert body["success"] is False
        assert body["error"]["code"] == code
        error: dict[str, Any] = body["error"]
        return error

    @staticmethod
    def data(response: httpx.Response, status: int = 200) -> Any:
        """Assert a success envelope with ``status`` and return its ``data``."""
        assert response.status_code == status, response.text
        body = response.json()
        assert body["success"] is True
        return body["data"]

    # --- factories: create through the API and return ``data`` --------------------

    def created(self, version: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.post(f"/api/{version}{path}", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def user(self, version: str = "v1", **fields: Any) -> dict[str, Any]:
        self._users = getattr(self, "_users", 0) + 1
        body = {"email": f"user{self._users}@example.com", "first_name": "Ada", "last_name": "Lee"}
        return self.created(version, "/users", {**body, **fields})

    def pet(self, version: str = "v1", owner_id: str | None = None, **fields: Any) -> dict[str, Any]:
        owner = owner_id or self.user()["id"]
        body = {"name": "Rex", "species": "dog", "owner_id": owner}
        return self.created(version, "/pets", {**body, **fields})

    def appointment(self, version: str = "v1", pet: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        pet = pet or self.pet()
        body = {
            "pet_id": pet["id"],
            "user_id": pet["owner_id"],
            "scheduled_at": FUTURE,
            "reason": "Checkup",
        }
        return self.created(version, "/appointments", {**body, **fields})

    def health_record(self, version: str = "v2", pet_id: str | None = None, **fields: Any) -> dict[str, Any]:
        body = {
            "pet_id": pet_id or self.pet()["id"],
            "record_type": "vaccination",
            "date": "2024-03-01",
            "description": "Rabies booster",
        }
        return self.created(version, "/health-records", {**body, **fields})


@pytest.fixture
def make_api() -> Iterator[Callable[[], Api]]:
    """Factory of independent apps, all closed at teardown."""
    clients: list[Api] = []

    def make() -> Api:
        clients.append(Api())
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[[], Api]) -> Api:
    """A fresh app (own empty store) per test."""
    return make_api()
