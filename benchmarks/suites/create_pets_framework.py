"""The same 100 create-pet tests with the framework: the plugin's client bound to v1, a payload
from the data factory, the status and the name checked (``create_pets_handwritten.py`` is the
contender they are timed against)."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from framework import DataFactory, VersionedClient, version_parametrize


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def owner(api: VersionedClient) -> dict[str, Any]:
    body = {"email": "owner@example.com", "first_name": "Alex", "last_name": "Morgan"}
    data: dict[str, Any] = api.data(api.expect(await api.create("user", body), 201))
    return data


@version_parametrize("v1")
@pytest.mark.parametrize("n", range(100))
async def test_create_pet(api: VersionedClient, data_factory: DataFactory, owner: dict[str, Any], n: int) -> None:
    payload = data_factory.build("pet", api.version, optional=["breed", "age", "weight"], owner_id=owner["id"])
    response = api.expect(await api.create("pet", payload), 201)
    assert api.data(response)["name"] == payload["name"]
