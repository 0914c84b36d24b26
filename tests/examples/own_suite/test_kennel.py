"""An example of a user's own dynamic suite: a few tests of the Kennel API (``tests/kennel/``)
written with the plugin's fixtures, the suite that the README measures with
``dynapi-bench run --suite``. It knows the API only through the config it is given
(``--version-config=tests/kennel/version_config.yaml``) and the target
(``--asgi-app='tests.kennel.app:create_app()'`` or ``--api-url=URL``); the project's own
``pytest`` runs leave it out (``norecursedirs``), since it fits no other config.
"""

from __future__ import annotations

import uuid
from typing import Any

from framework import DataFactory, ResponseValidator, VersionedClient, version_parametrize

Record = dict[str, Any]


async def new_pet(api: VersionedClient, data_factory: DataFactory) -> Record:
    """A pet and the user who owns it, created through the API in the test's version."""
    owner = api.data(api.expect(await api.create("users", data_factory.build("users", api.version)), 201))
    payload = data_factory.build("pets", api.version, owner_id=owner["id"])
    return api.data(api.expect(await api.create("pets", payload), 201))


@version_parametrize()
async def test_created_pet_is_valid(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator
) -> None:
    """A created pet answers in its version's shape, with the fields the config lists."""
    pet = await new_pet(api, data_factory)
    response_validator.assert_valid(pet, api.version, "pet")


@version_parametrize()
async def test_get_answers_the_created_pet(api: VersionedClient, data_factory: DataFactory) -> None:
    """A pet's own GET answers what its creation did."""
    pet = await new_pet(api, data_factory)
    assert api.data(api.expect(await api.get("pets", pet["id"]), 200)) == pet


@version_parametrize()
async def test_list_contains_the_pet(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator
) -> None:
    """The owner's pets list the new pet, each item valid."""
    pet = await new_pet(api, data_factory)
    items = api.items(api.expect(await api.list("pets", owner_id=pet["owner_id"]), 200))
    assert [item["id"] for item in items] == [pet["id"]]
    response_validator.validate_many(items, api.version, "pet").raise_for_problems()


@version_parametrize()
async def test_unknown_pet_is_404(api: VersionedClient) -> None:
    """An id never created answers 404 with an error body."""
    response = api.expect(await api.get("pets", str(uuid.uuid4())), 404)
    assert api.error(response)


@version_parametrize()
async def test_pet_without_a_name_is_rejected(api: VersionedClient, data_factory: DataFactory) -> None:
    """A create payload missing its required name is refused with an error body."""
    owner = api.data(api.expect(await api.create("users", data_factory.build("users", api.version)), 201))
    case = next(c for c in data_factory.invalid("pets", api.version, owner_id=owner["id"]) if c.field == "name")
    response = api.expect(await api.create("pets", case.payload), 400, 422)
    assert api.error(response)


@version_parametrize("v2")  # health records exist in v2 only
async def test_health_record_of_a_pet(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator
) -> None:
    """A health record created under a pet is in that pet's records, valid."""
    pet = await new_pet(api, data_factory)
    payload = data_factory.build("health_records", api.version)
    made = api.data(api.expect(await api.create("health_records", payload, pet_id=pet["id"]), 201))
    response_validator.assert_valid(made, api.version, "health_record")
    listed = api.items(api.expect(await api.list("health_records", pet_id=pet["id"]), 200))
    assert [record["id"] for record in listed] == [made["id"]]
