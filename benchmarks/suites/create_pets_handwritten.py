"""100 create-pet tests written by hand: pytest-asyncio, one ``httpx.AsyncClient`` over
``httpx.ASGITransport`` into the Pets API, a payload per test, the status and the name checked.
Run with the plugin disabled (``-p no:dynapi``): what a user would write without the framework."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from petstore import create_app

_names = itertools.count()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def owner(client: httpx.AsyncClient) -> dict[str, Any]:
    body = {"email": "owner@example.com", "first_name": "Alex", "last_name": "Morgan"}
    response = await client.post("/api/v1/users", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("n", range(100))
async def test_create_pet(client: httpx.AsyncClient, owner: dict[str, Any], n: int) -> None:
    payload = {"name": f"Rex {next(_names)}", "species": "dog", "breed": "Labrador", "age": 3, "weight": 24.5}
    response = await client.post("/api/v1/pets", json={**payload, "owner_id": owner["id"]})
    assert response.status_code == 201, response.text
    assert response.json()["data"]["name"] == payload["name"]
