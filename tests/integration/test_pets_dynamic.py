"""Pets across every version of the config: CRUD, validation, lists, filters, batch, statistics.

Which version has which field, endpoint or feature is read from the version config,
never written here, so a new version block in the YAML is tested without new code.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest

from framework import (
    DataFactory,
    ResponseValidator,
    VersionConfig,
    VersionedClient,
    feature_test,
    version_parametrize,
)

Record = dict[str, Any]
Maker = Callable[..., Awaitable[Record]]
ErrorCheck = Callable[[httpx.Response, int, str], dict[str, Any]]


def _fields(config: VersionConfig, version: str, key: str) -> set[str]:
    return set(config.get_schema_fields(version, key))


def _choices(config: VersionConfig, version: str, field: str) -> list[Any]:
    """The non-null values the version's pet_create schema allows for an enum field."""
    schema = config.get_schema(version, "pet_create") or {}
    return [v for v in schema["properties"][field]["enum"] if v is not None]


def _years_between(born: date, on: date) -> int:
    """Whole years from ``born`` to ``on`` (the test's own oracle for ``age``)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _years_ago(years: int) -> date:
    today = date.today()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


async def _own_pets(api: VersionedClient, owner_id: str, **query: Any) -> list[Record]:
    response = await api.list("pet", owner_id=owner_id, per_page=100, **query)
    assert response.status_code == 200, response.text
    items: list[Record] = api.items(response, "pet")
    return items


# -- create -----------------------------------------------------------------------------------
@pytest.mark.smoke
@version_parametrize()
async def test_create_pet_with_all_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_user: Maker,
) -> None:
    """A pet with every create field is a 201 with the exact response fields and the values sent."""
    owner = await make_user()
    payload = data_factory.build("pet", api.version, owner_id=owner["id"])
    assert set(payload) == _fields(version_config, api.version, "pet_create")
    response = await api.create("pet", payload)
    assert response.status_code == 201, response.text
    pet = api.data(response)
    response_validator.assert_valid(pet, api.version, "pet")
    assert set(pet) == _fields(version_config, api.version, "pet_response")
    assert {k: pet[k] for k in payload} == payload
    assert datetime.fromisoformat(pet["updated_at"]) >= datetime.fromisoformat(pet["created_at"])


@version_parametrize()
async def test_create_pet_with_required_fields_only(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_user: Maker,
) -> None:
    """A pet with only the required fields is created, and its response still lists every field."""
    owner = await make_user()
    payload = data_factory.build("pet", api.version, optional=False, owner_id=owner["id"])
    assert set(payload) == set(version_config.get_required_fields(api.version, "pet_create"))
    response = await api.create("pet", payload)
    assert response.status_code == 201, response.text
    pet = api.data(response)
    response_validator.assert_valid(pet, api.version, "pet")
    assert {k: pet[k] for k in payload} == payload
    uuid.UUID(pet["id"])


@version_parametrize()
async def test_create_pet_with_each_optional_field_alone(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_user: Maker,
) -> None:
    """Every optional create field is accepted on its own beside the required ones and echoed back."""
    owner = await make_user()
    failures = []
    for name in version_config.get_optional_fields(api.version, "pet_create"):
        payload = data_factory.build("pet", api.version, optional=[name], owner_id=owner["id"])
        response = await api.create("pet", payload)
        if response.status_code != 201:
            failures.append(f"{name}: {response.status_code} {response.text[:200]}")
            continue
        pet = api.data(response)
        if pet.get(name) != payload[name] or not response_validator.validate(pet, api.version, "pet"):
            failures.append(f"{name}: sent {payload[name]!r}, got {pet.get(name)!r}")
    assert not failures, "\n".join(failures)


@version_parametrize()
async def test_create_pet_for_unknown_owner_is_422(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck
) -> None:
    """A pet whose owner_id names no user is rejected with 422."""
    payload = data_factory.build("pet", api.version, owner_id=str(uuid.uuid4()))
    expect_error(await api.create("pet", payload), 422, "validation_error")


@pytest.mark.defects("pet")
@version_parametrize()
async def test_create_pet_rejects_invalid_payload(
    defect: str, assert_rejects_invalid: Callable[[str, str], Awaitable[int]]
) -> None:
    """Every invalid pet payload of one defect kind (from the version's schema) is a 422 naming the field."""
    assert await assert_rejects_invalid("pet", defect) > 0


@version_parametrize()
async def test_create_pet_rejects_fields_of_other_versions(
    api: VersionedClient,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    foreign_fields: Callable[[str, str], Record],
    make_user: Maker,
) -> None:
    """A create field that only other versions have (valid there) is a 422 here, and creates nothing."""
    foreign = foreign_fields("pet", "create")
    if not foreign:
        pytest.skip(f"every pet create field of other versions is also a {api.version} field")
    owner = await make_user()
    for name, value in foreign.items():
        payload = data_factory.build("pet", api.version, owner_id=owner["id"], **{name: value})
        error = expect_error(await api.create("pet", payload), 422, "validation_error")
        assert any(d["field"] == name for d in error["details"]), (name, error)
    assert await _own_pets(api, owner["id"]) == []


@version_parametrize()
async def test_create_pet_rejects_unknown_field(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck, make_user: Maker
) -> None:
    """A field no version defines is a 422 that names the field."""
    owner = await make_user()
    payload = data_factory.build("pet", api.version, owner_id=owner["id"], no_such_field="x")
    error = expect_error(await api.create("pet", payload), 422, "validation_error")
    assert any(d["field"] == "no_such_field" for d in error["details"]), error


@pytest.mark.smoke
@version_parametrize()
async def test_create_pet_with_body_not_a_json_object_is_400(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """A body that is not a JSON object (an array, a string, not JSON at all) is a 400 bad_request."""
    url = api.url("pet")
    for body in (b"[]", b'"a pet"', b"{not json"):
        response = await api.client.post(url, content=body, headers={"content-type": "application/json"})
        expect_error(response, 400, "bad_request")


@version_parametrize()
async def test_duplicate_microchip_is_409(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    make_pet: Maker,
) -> None:
    """A second pet with an existing microchip_id is a 409 conflict, whoever owns it."""
    if "microchip_id" not in _fields(version_config, api.version, "pet_create"):
        pytest.skip(f"{api.version} pets have no microchip_id")
    first = await make_pet()
    other = await make_pet()
    payload = data_factory.build("pet", api.version, owner_id=other["owner_id"], microchip_id=first["microchip_id"])
    expect_error(await api.create("pet", payload), 409, "conflict")


# -- read, update, delete ---------------------------------------------------------------------
@pytest.mark.smoke
@version_parametrize()
async def test_get_pet_returns_what_create_returned(
    api: VersionedClient, response_validator: ResponseValidator, make_pet: Maker
) -> None:
    """GET of a new pet returns exactly the record the create returned."""
    pet = await make_pet()
    response = await api.get("pet", pet["id"])
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    fetched = api.data(response)
    response_validator.assert_valid(fetched, api.version, "pet")
    assert fetched == pet


@pytest.mark.smoke
@version_parametrize()
async def test_unknown_pet_id_is_404(api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck) -> None:
    """GET, PUT and DELETE of a pet id that does not exist are 404 not_found."""
    missing = str(uuid.uuid4())
    expect_error(await api.get("pet", missing), 404, "not_found")
    expect_error(await api.update("pet", missing, data_factory.build_update("pet", api.version)), 404, "not_found")
    expect_error(await api.delete("pet", missing), 404, "not_found")


@version_parametrize()
async def test_update_pet_changes_every_update_field(
    api: VersionedClient,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_pet: Maker,
) -> None:
    """PUT with fresh values for every update field changes them, keeps id/created_at and moves updated_at."""
    pet = await make_pet()
    changes = data_factory.build_update("pet", api.version)
    response = await api.update("pet", pet["id"], changes)
    assert response.status_code == 200, response.text
    updated = api.data(response)
    response_validator.assert_valid(updated, api.version, "pet")
    assert {k: updated[k] for k in changes} == changes
    assert updated["id"] == pet["id"]
    assert updated["created_at"] == pet["created_at"]
    assert datetime.fromisoformat(updated["updated_at"]) >= datetime.fromisoformat(pet["updated_at"])
    assert datetime.fromisoformat(updated["updated_at"]) >= datetime.fromisoformat(updated["created_at"])
    assert api.data(await api.get("pet", pet["id"])) == updated


@version_parametrize()
async def test_update_pet_with_one_field_keeps_the_others(
    api: VersionedClient, version_config: VersionConfig, data_factory: DataFactory, make_pet: Maker
) -> None:
    """A partial PUT changes only the field it names."""
    pet = await make_pet()
    name = version_config.get_schema_fields(api.version, "pet_update")[0]
    change = {name: data_factory.build_update("pet", api.version)[name]}
    response = await api.update("pet", pet["id"], change)
    assert response.status_code == 200, response.text
    updated = api.data(response)
    untouched = set(pet) - {name, "updated_at"}
    assert {k: updated[k] for k in untouched} == {k: pet[k] for k in untouched}
    assert updated[name] == change[name]


@version_parametrize()
async def test_update_pet_rejects_create_only_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    make_pet: Maker,
) -> None:
    """Fields a pet is created with but cannot change (not in the update list) are a 422 on PUT."""
    create_only = _fields(version_config, api.version, "pet_create") - _fields(
        version_config, api.version, "pet_update"
    )
    if not create_only:
        pytest.skip(f"every {api.version} pet create field can be updated")
    pet = await make_pet()
    fresh = data_factory.build("pet", api.version)
    for name in sorted(create_only):
        expect_error(await api.update("pet", pet["id"], {name: fresh[name]}), 422, "validation_error")
    assert api.data(await api.get("pet", pet["id"])) == pet


@version_parametrize()
async def test_update_pet_rejects_fields_of_other_versions(
    api: VersionedClient,
    expect_error: ErrorCheck,
    foreign_fields: Callable[[str, str], Record],
    make_pet: Maker,
) -> None:
    """An update field that only other versions have is a 422 here."""
    foreign = foreign_fields("pet", "update")
    if not foreign:
        pytest.skip(f"every pet update field of other versions is also a {api.version} field")
    pet = await make_pet()
    for name, value in foreign.items():
        expect_error(await api.update("pet", pet["id"], {name: value}), 422, "validation_error")


@version_parametrize()
async def test_delete_pet_then_404(api: VersionedClient, expect_error: ErrorCheck, make_pet: Maker) -> None:
    """DELETE answers 204 with no body; the pet is then gone (GET and a second DELETE are 404)."""
    pet = await make_pet()
    response = await api.delete("pet", pet["id"])
    assert response.status_code == 204
    assert response.content == b""
    expect_error(await api.get("pet", pet["id"]), 404, "not_found")
    expect_error(await api.delete("pet", pet["id"]), 404, "not_found")
    assert await _own_pets(api, pet["owner_id"]) == []


# -- versions ---------------------------------------------------------------------------------
@version_parametrize()
async def test_pet_reads_the_same_in_every_version(
    api: VersionedClient,
    version_config: VersionConfig,
    response_validator: ResponseValidator,
    client_for: Callable[[str], VersionedClient],
    make_pet: Maker,
) -> None:
    """A pet created here reads in every version with its exact fields and equal shared values."""
    pet = await make_pet()
    mine = set(pet)
    for other in version_config.get_supported_versions():
        client = client_for(other)
        response = await client.get("pet", pet["id"])
        assert response.status_code == 200, (other, response.text)
        seen = client.data(response)
        response_validator.assert_valid(seen, other, "pet")
        theirs = _fields(version_config, other, "pet_response")
        assert set(seen) == theirs
        assert not (mine - theirs) & set(seen), f"{other} shows fields it does not list"
        shared = mine & theirs
        assert {k: seen[k] for k in shared} == {k: pet[k] for k in shared}, other


@version_parametrize()
async def test_age_round_trips_and_reads_as_date_of_birth(
    api: VersionedClient,
    version_config: VersionConfig,
    client_for: Callable[[str], VersionedClient],
    make_pet: Maker,
) -> None:
    """An age reads back unchanged, and as a date_of_birth that many years ago where versions have one."""
    if "age" not in _fields(version_config, api.version, "pet_create"):
        pytest.skip(f"{api.version} pets have no age")
    pet = await make_pet(age=7)
    assert pet["age"] == 7
    for other in version_config.get_supported_versions():
        client = client_for(other)
        seen = client.data(await client.get("pet", pet["id"]))
        if "age" in seen:
            assert seen["age"] == 7, other
        if "date_of_birth" in seen:
            assert seen["date_of_birth"] is not None, other
            assert _years_between(date.fromisoformat(seen["date_of_birth"]), date.today()) == 7, other


@version_parametrize()
async def test_date_of_birth_round_trips_and_reads_as_age(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    client_for: Callable[[str], VersionedClient],
    make_pet: Maker,
) -> None:
    """A date_of_birth reads back unchanged, and as the age in whole years where versions have age."""
    if "date_of_birth" not in _fields(version_config, api.version, "pet_create"):
        pytest.skip(f"{api.version} pets have no date_of_birth")
    born = data_factory.build("pet", api.version)["date_of_birth"]
    pet = await make_pet(date_of_birth=born)
    assert pet["date_of_birth"] == born
    for other in version_config.get_supported_versions():
        client = client_for(other)
        seen = client.data(await client.get("pet", pet["id"]))
        if "date_of_birth" in seen:
            assert seen["date_of_birth"] == born, other
        if "age" in seen:
            assert seen["age"] == _years_between(date.fromisoformat(born), date.today()), other


# -- lists ------------------------------------------------------------------------------------
@version_parametrize()
async def test_list_pets_paginates_own_pets(
    api: VersionedClient, response_validator: ResponseValidator, make_user: Maker, make_pet: Maker
) -> None:
    """Five pets of one owner, two per page: pages of 2, 2 and 1 with total 5 and total_pages 3."""
    owner = await make_user()
    ids = {(await make_pet(owner_id=owner["id"]))["id"] for _ in range(5)}
    seen: list[str] = []
    for page, size in ((1, 2), (2, 2), (3, 1)):
        response = await api.list("pet", owner_id=owner["id"], page=page, per_page=2)
        assert response.status_code == 200, response.text
        items = api.items(response, "pet")
        assert response_validator.validate_many(items, api.version, "pet")
        assert len(items) == size
        assert api.page(response) == {"total": 5, "page": page, "per_page": 2, "total_pages": 3}
        seen += [item["id"] for item in items]
    assert sorted(seen) == sorted(ids)
    beyond = await api.list("pet", owner_id=owner["id"], page=4, per_page=2)
    assert beyond.status_code == 200
    assert api.items(beyond, "pet") == []


@version_parametrize()
async def test_list_pets_defaults_to_first_page_of_20(api: VersionedClient, make_pet: Maker) -> None:
    """Without page or per_page a list is page 1 of 20 per page."""
    pet = await make_pet()
    response = await api.list("pet", owner_id=pet["owner_id"])
    assert response.status_code == 200, response.text
    assert api.page(response) == {"total": 1, "page": 1, "per_page": 20, "total_pages": 1}
    assert api.items(response, "pet") == [pet]


@version_parametrize()
async def test_list_pets_rejects_per_page_out_of_range(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """per_page must lie in 1..100: 0 and 101 are 422, 1 and 100 are fine."""
    for bad in (0, 101):
        expect_error(await api.list("pet", per_page=bad), 422, "validation_error")
    for good in (1, 100):
        response = await api.list("pet", per_page=good, owner_id=str(uuid.uuid4()))
        assert response.status_code == 200, response.text
        assert api.page(response)["per_page"] == good


@version_parametrize()
async def test_list_pets_filters_by_species_and_owner(
    api: VersionedClient, version_config: VersionConfig, make_user: Maker, make_pet: Maker
) -> None:
    """species and owner_id filters return exactly the matching pets."""
    species = _choices(version_config, api.version, "species")[:2]
    owner = await make_user()
    pets = [await make_pet(owner_id=owner["id"], species=s) for s in (species[0], species[1], species[1])]
    other = await make_pet(species=species[1])
    for s in species:
        found = await _own_pets(api, owner["id"], species=s)
        assert sorted(p["id"] for p in found) == sorted(p["id"] for p in pets if p["species"] == s)
    assert [p["id"] for p in await _own_pets(api, other["owner_id"])] == [other["id"]]


@version_parametrize()
async def test_list_pets_ignores_unknown_query_params(api: VersionedClient, make_pet: Maker) -> None:
    """An unknown query parameter changes nothing."""
    pet = await make_pet()
    plain = await _own_pets(api, pet["owner_id"])
    odd = await _own_pets(api, pet["owner_id"], colour="green", zzz="1")
    assert plain == odd == [pet]


@version_parametrize()
async def test_enhanced_pet_filters_apply_only_with_the_feature(
    api: VersionedClient, version_config: VersionConfig, make_user: Maker, make_pet: Maker
) -> None:
    """search and sort apply where enhanced_filtering is on and are ignored where it is off."""
    owner = await make_user()
    pets = [await make_pet(owner_id=owner["id"]) for _ in range(2)]
    searched = await _own_pets(api, owner["id"], search=pets[1]["name"])
    odd_sort = await api.list("pet", owner_id=owner["id"], sort="nonsense-key")
    if version_config.is_feature_enabled(api.version, "enhanced_filtering"):
        assert [p["id"] for p in searched] == [pets[1]["id"]]
        assert odd_sort.status_code == 422, odd_sort.text
    else:
        assert sorted(p["id"] for p in searched) == sorted(p["id"] for p in pets)
        assert odd_sort.status_code == 200, odd_sort.text
        assert len(api.items(odd_sort, "pet")) == 2


@feature_test("enhanced_filtering")
async def test_search_pets_by_name_is_case_insensitive(api: VersionedClient, make_user: Maker, make_pet: Maker) -> None:
    """search matches a case-insensitive substring of the name."""
    owner = await make_user()
    pets = [await make_pet(owner_id=owner["id"]) for _ in range(3)]
    target = pets[0]["name"]
    query = target[1:].upper()
    expected = sorted(p["id"] for p in pets if query.casefold() in p["name"].casefold())
    assert pets[0]["id"] in expected
    found = await _own_pets(api, owner["id"], search=query)
    assert sorted(p["id"] for p in found) == expected
    assert await _own_pets(api, owner["id"], search=f"{target}-no-such-pet") == []


@feature_test("enhanced_filtering")
async def test_sort_pets_by_name_and_creation(api: VersionedClient, make_user: Maker, make_pet: Maker) -> None:
    """sort orders by name or created_at, ascending or (with '-') descending."""
    owner = await make_user()
    pets = [await make_pet(owner_id=owner["id"]) for _ in range(3)]
    names = [p["name"] for p in pets]
    by_name = [p["name"] for p in await _own_pets(api, owner["id"], sort="name")]
    assert by_name == sorted(names, key=str.casefold)
    by_name_desc = [p["name"] for p in await _own_pets(api, owner["id"], sort="-name")]
    assert by_name_desc == sorted(names, key=str.casefold, reverse=True)
    created = [datetime.fromisoformat(p["created_at"]) for p in await _own_pets(api, owner["id"], sort="created_at")]
    assert created == sorted(created)
    assert len(created) == 3
    newest = [datetime.fromisoformat(p["created_at"]) for p in await _own_pets(api, owner["id"], sort="-created_at")]
    assert newest == sorted(created, reverse=True)


@feature_test("enhanced_filtering")
async def test_sort_pets_rejects_unknown_key(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """A sort key other than name, -name, created_at, -created_at is a 422."""
    for bad in ("species", "NAME", "+name", ""):
        expect_error(await api.list("pet", sort=bad), 422, "validation_error")


@feature_test("enhanced_filtering")
async def test_filter_pets_by_temperament(
    api: VersionedClient, version_config: VersionConfig, make_user: Maker, make_pet: Maker
) -> None:
    """temperament narrows a list to pets of that temperament."""
    if "temperament" not in _fields(version_config, api.version, "pet_create"):
        pytest.skip(f"{api.version} pets have no temperament")
    choices = _choices(version_config, api.version, "temperament")
    owner = await make_user()
    pets = [await make_pet(owner_id=owner["id"], temperament=t) for t in (choices[0], choices[1], choices[1])]
    for t in choices[:2]:
        found = await _own_pets(api, owner["id"], temperament=t)
        assert sorted(p["id"] for p in found) == sorted(p["id"] for p in pets if p["temperament"] == t)


@feature_test("enhanced_filtering")
async def test_filter_pets_by_birth_window(
    api: VersionedClient, version_config: VersionConfig, make_user: Maker, make_pet: Maker
) -> None:
    """An age window (min/max_age, or born_after/born_before for date_of_birth) keeps only pets inside."""
    create = _fields(version_config, api.version, "pet_create")
    owner = await make_user()
    ages = (2, 6, 12)
    if "age" in create:
        pets = [await make_pet(owner_id=owner["id"], age=a) for a in ages]
        query: dict[str, Any] = {"min_age": 4, "max_age": 8}
    elif "date_of_birth" in create:
        pets = [await make_pet(owner_id=owner["id"], date_of_birth=_years_ago(a).isoformat()) for a in ages]
        middle = _years_ago(6)
        query = {
            "born_after": (middle - timedelta(days=100)).isoformat(),
            "born_before": (middle + timedelta(days=100)).isoformat(),
        }
    else:
        pytest.skip(f"{api.version} pets have neither age nor date_of_birth")
    found = await _own_pets(api, owner["id"], **query)
    assert [p["id"] for p in found] == [pets[1]["id"]]


# -- batch ------------------------------------------------------------------------------------
@feature_test("batch_operations")
async def test_batch_creates_every_pet(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator, make_user: Maker
) -> None:
    """A batch of three valid pets is a 201 listing each created pet, all then listed for the owner."""
    owner = await make_user()
    items = [data_factory.build("pet", api.version, owner_id=owner["id"]) for _ in range(3)]
    response = await api.client.post(api.url("pet_batch"), json={"items": items})
    assert response.status_code == 201, response.text
    data = api.data(response)
    assert data["count"] == 3
    created = data["created"]
    assert response_validator.validate_many(created, api.version, "pet")
    assert [p["name"] for p in created] == [i["name"] for i in items]
    listed = await _own_pets(api, owner["id"])
    assert sorted(p["id"] for p in listed) == sorted(p["id"] for p in created)


@feature_test("batch_operations")
async def test_batch_with_one_invalid_item_creates_nothing(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck, make_user: Maker
) -> None:
    """One invalid item makes the whole batch a 422 whose details carry its index; no pet is created."""
    owner = await make_user()
    for bad_index in (0, 2):
        items = [data_factory.build("pet", api.version, owner_id=owner["id"]) for _ in range(3)]
        case = data_factory.invalid("pet", api.version)[0]
        items[bad_index] = {**case.payload, "owner_id": owner["id"]} if case.field != "owner_id" else case.payload
        response = await api.client.post(api.url("pet_batch"), json={"items": items})
        error = expect_error(response, 422, "validation_error")
        assert {d.get("index") for d in error["details"]} == {bad_index}, error
    assert await _own_pets(api, owner["id"]) == []


@feature_test("batch_operations")
async def test_batch_with_unknown_owner_creates_nothing(
    api: VersionedClient, data_factory: DataFactory, make_user: Maker
) -> None:
    """A batch item whose owner does not exist fails the batch (422), and the valid items are not kept."""
    owner = await make_user()
    items = [
        data_factory.build("pet", api.version, owner_id=owner["id"]),
        data_factory.build("pet", api.version, owner_id=str(uuid.uuid4())),
    ]
    response = await api.client.post(api.url("pet_batch"), json={"items": items})
    assert response.status_code == 422, response.text
    assert await _own_pets(api, owner["id"]) == []


# -- statistics and endpoints a version lacks ------------------------------------------------
@feature_test("statistics")
async def test_statistics_report_every_total(api: VersionedClient) -> None:
    """GET statistics returns the totals and breakdowns, consistent with each other."""
    response = await api.client.get(api.url("statistics"))
    assert response.status_code == 200, response.text
    stats = api.data(response)
    assert set(stats) == {
        "total_pets",
        "total_users",
        "total_appointments",
        "total_health_records",
        "pets_by_species",
        "appointments_by_status",
    }
    for key in ("total_pets", "total_users", "total_appointments", "total_health_records"):
        assert isinstance(stats[key], int), key
        assert stats[key] >= 0, key
    assert sum(stats["pets_by_species"].values()) == stats["total_pets"]
    assert sum(stats["appointments_by_status"].values()) == stats["total_appointments"]


# Totals are the whole store's: a record another worker deletes between the two reads would
# lower them, so under pytest-xdist (--dist loadgroup) the tests that delete run on this one's worker.
@pytest.mark.xdist_group("store_totals")
@feature_test("statistics")
async def test_statistics_count_new_records(
    api: VersionedClient, version_config: VersionConfig, make_appointment: Maker, make_health_record: Maker
) -> None:
    """Records created between two reads of the statistics raise the totals at least by their number."""
    before = api.data(await api.client.get(api.url("statistics")))
    appointment = await make_appointment()
    records = 0
    if version_config.is_feature_enabled(api.version, "health_records"):
        await make_health_record(pet_id=appointment["pet_id"])
        records = 1
    species = api.data(await api.get("pet", appointment["pet_id"]))["species"]
    after = api.data(await api.client.get(api.url("statistics")))
    assert after["total_users"] >= before["total_users"] + 1
    assert after["total_pets"] >= before["total_pets"] + 1
    assert after["total_appointments"] >= before["total_appointments"] + 1
    assert after["total_health_records"] >= before["total_health_records"] + records
    assert after["pets_by_species"][species] >= before["pets_by_species"].get(species, 0) + 1
    status = appointment["status"]
    assert after["appointments_by_status"][status] >= before["appointments_by_status"].get(status, 0) + 1


@version_parametrize()
async def test_endpoints_of_other_versions_are_404_here(
    api: VersionedClient, version_config: VersionConfig, expect_error: ErrorCheck, make_appointment: Maker
) -> None:
    """An endpoint other versions have but this one lacks answers 404 to GET and POST."""
    spec = version_config.get_version(api.version)
    lacking: dict[str, str] = {}
    for other in version_config.get_supported_versions():
        theirs = version_config.get_version(other)
        for name, endpoint in theirs.endpoints.items():
            if name not in spec.endpoints:  # their path, placed under this version's base_url
                lacking.setdefault(name, endpoint.path.removeprefix(theirs.base_url))
    if not lacking:
        pytest.skip(f"{api.version} has every endpoint of the config")
    appointment = await make_appointment()
    for path in lacking.values():
        url = spec.base_url + path.format(id=appointment["id"])
        expect_error(await api.client.get(url), 404, "not_found")
        expect_error(await api.client.post(url, json={}), 404, "not_found")


@version_parametrize()
async def test_total_pages_rounds_up(api: VersionedClient, make_user: Maker, make_pet: Maker) -> None:
    """total_pages is total / per_page rounded up, for every page size up to the total."""
    owner = await make_user()
    for _ in range(3):
        await make_pet(owner_id=owner["id"])
    for per_page in (1, 2, 3, 4):
        response = await api.list("pet", owner_id=owner["id"], per_page=per_page)
        meta = api.page(response)
        assert meta["total"] == 3
        assert meta["total_pages"] == math.ceil(3 / per_page)
        assert len(api.items(response, "pet")) == min(per_page, 3)
