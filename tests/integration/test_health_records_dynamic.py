"""Health records on the versions whose config enables them (and their absence elsewhere).

Whether a version has health records is read from its ``health_records`` feature flag.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
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

FEATURE = "health_records"


def _fields(config: VersionConfig, version: str, key: str) -> set[str]:
    return set(config.get_schema_fields(version, key))


async def _records(api: VersionedClient, **query: Any) -> list[Record]:
    response = await api.list("health_record", per_page=100, **query)
    assert response.status_code == 200, response.text
    items: list[Record] = api.items(response, "health_record")
    return items


@pytest.mark.smoke
@version_parametrize()
async def test_health_records_exist_only_with_the_feature(
    api: VersionedClient, version_config: VersionConfig, expect_error: ErrorCheck, make_pet: Maker
) -> None:
    """Versions with the health_records feature serve the endpoint; the others answer 404 on its path."""
    pet = await make_pet()
    if version_config.is_feature_enabled(api.version, FEATURE):
        response = await api.list("health_record", pet_id=pet["id"])
        assert response.status_code == 200, response.text
        assert api.items(response, "health_record") == []
        return
    spec = version_config.get_version(api.version)
    for other in version_config.versions_with(FEATURE):
        theirs = version_config.get_version(other)  # their path, placed under this version's base_url
        path = spec.base_url + version_config.endpoint(other, "health_record").path.removeprefix(theirs.base_url)
        expect_error(await api.client.get(path, params={"pet_id": pet["id"]}), 404, "not_found")
        expect_error(await api.client.post(path, json={"pet_id": pet["id"]}), 404, "not_found")
        expect_error(await api.client.get(f"{path}/{uuid.uuid4()}"), 404, "not_found")


# -- create -----------------------------------------------------------------------------------
@pytest.mark.smoke
@feature_test(FEATURE)
async def test_create_health_record_with_all_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_pet: Maker,
) -> None:
    """A record with every create field is a 201 with the version's exact response fields and the values sent."""
    pet = await make_pet()
    payload = data_factory.build("health_record", api.version, pet_id=pet["id"])
    assert set(payload) == _fields(version_config, api.version, "health_record_create")
    response = await api.create("health_record", payload)
    assert response.status_code == 201, response.text
    record = api.data(response)
    response_validator.assert_valid(record, api.version, "health_record")
    assert set(record) == _fields(version_config, api.version, "health_record_response")
    assert {k: record[k] for k in payload} == payload


@feature_test(FEATURE)
async def test_create_health_record_with_required_fields_only(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_pet: Maker,
) -> None:
    """A record with only the required fields is created; its optional fields read back as null."""
    pet = await make_pet()
    payload = data_factory.build("health_record", api.version, optional=False, pet_id=pet["id"])
    assert set(payload) == set(version_config.get_required_fields(api.version, "health_record_create"))
    response = await api.create("health_record", payload)
    assert response.status_code == 201, response.text
    record = api.data(response)
    response_validator.assert_valid(record, api.version, "health_record")
    assert {k: record[k] for k in payload} == payload
    for name in version_config.get_optional_fields(api.version, "health_record_create"):
        assert record[name] is None, name


@feature_test(FEATURE)
async def test_create_health_record_for_unknown_pet_is_422(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck
) -> None:
    """A record whose pet_id names no pet is a 422."""
    payload = data_factory.build("health_record", api.version, pet_id=str(uuid.uuid4()))
    expect_error(await api.create("health_record", payload), 422, "validation_error")


@pytest.mark.defects("health_record")
@feature_test(FEATURE)
async def test_create_health_record_rejects_invalid_payload(
    defect: str, assert_rejects_invalid: Callable[[str, str], Awaitable[int]]
) -> None:
    """Every invalid health record payload of one defect kind is a 422 naming the field."""
    assert await assert_rejects_invalid("health_record", defect) > 0


@feature_test(FEATURE)
async def test_create_health_record_rejects_unknown_and_response_only_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    make_pet: Maker,
) -> None:
    """Fields the client may not send (response-only ones like id, or unknown ones) are a 422."""
    pet = await make_pet()
    response_only = _fields(version_config, api.version, "health_record_response") - _fields(
        version_config, api.version, "health_record_create"
    )
    sample = {"id": str(uuid.uuid4()), "created_at": "2024-01-01T00:00:00+00:00"}
    for name in [*sorted(response_only), "no_such_field"]:
        payload = data_factory.build("health_record", api.version, pet_id=pet["id"], **{name: sample.get(name, "x")})
        error = expect_error(await api.create("health_record", payload), 422, "validation_error")
        assert any(d["field"] == name for d in error["details"]), (name, error)
    assert await _records(api, pet_id=pet["id"]) == []


@feature_test(FEATURE)
async def test_create_health_record_with_body_not_a_json_object_is_400(
    api: VersionedClient, expect_error: ErrorCheck
) -> None:
    """A health record body that is a JSON array is a 400 bad_request."""
    response = await api.client.post(
        api.url("health_record"), content=b"[1, 2]", headers={"content-type": "application/json"}
    )
    expect_error(response, 400, "bad_request")


# -- read, delete -----------------------------------------------------------------------------
@feature_test(FEATURE)
async def test_get_health_record_returns_what_create_returned(
    api: VersionedClient, response_validator: ResponseValidator, make_health_record: Maker
) -> None:
    """GET of a new record returns exactly what the create returned."""
    record = await make_health_record()
    response = await api.get("health_record", record["id"])
    assert response.status_code == 200, response.text
    fetched = api.data(response)
    response_validator.assert_valid(fetched, api.version, "health_record")
    assert fetched == record


@feature_test(FEATURE)
async def test_unknown_health_record_id_is_404(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """GET and DELETE of a health record id that does not exist are 404 not_found."""
    missing = str(uuid.uuid4())
    expect_error(await api.get("health_record", missing), 404, "not_found")
    expect_error(await api.delete("health_record", missing), 404, "not_found")


@pytest.mark.xdist_group("store_totals")  # deletes: never beside test_statistics_count_new_records
@feature_test(FEATURE)
async def test_delete_health_record_then_404(
    api: VersionedClient, expect_error: ErrorCheck, make_health_record: Maker
) -> None:
    """DELETE answers 204 with no body; the record is then gone and its pet is untouched."""
    record = await make_health_record()
    response = await api.delete("health_record", record["id"])
    assert response.status_code == 204
    assert response.content == b""
    expect_error(await api.get("health_record", record["id"]), 404, "not_found")
    expect_error(await api.delete("health_record", record["id"]), 404, "not_found")
    assert (await api.get("pet", record["pet_id"])).status_code == 200


@pytest.mark.xdist_group("store_totals")  # deletes: never beside test_statistics_count_new_records
@feature_test(FEATURE)
async def test_deleting_a_pet_deletes_its_health_records(
    api: VersionedClient, expect_error: ErrorCheck, make_pet: Maker, make_health_record: Maker
) -> None:
    """Deleting a pet removes its health records, and only its own."""
    pet = await make_pet()
    mine = [await make_health_record(pet_id=pet["id"]) for _ in range(2)]
    survivor = await make_health_record()
    assert (await api.delete("pet", pet["id"])).status_code == 204
    for record in mine:
        expect_error(await api.get("health_record", record["id"]), 404, "not_found")
    assert await _records(api, pet_id=pet["id"]) == []
    assert (await api.get("health_record", survivor["id"])).status_code == 200


# -- versions ---------------------------------------------------------------------------------
@feature_test(FEATURE)
async def test_health_record_reads_the_same_in_every_version_with_the_feature(
    api: VersionedClient,
    version_config: VersionConfig,
    response_validator: ResponseValidator,
    client_for: Callable[[str], VersionedClient],
    make_health_record: Maker,
) -> None:
    """A record created here reads identically (valid there) in every version with the feature."""
    record = await make_health_record()
    for other in version_config.versions_with(FEATURE):
        client = client_for(other)
        response = await client.get("health_record", record["id"])
        assert response.status_code == 200, (other, response.text)
        seen = client.data(response)
        response_validator.assert_valid(seen, other, "health_record")
        shared = set(seen) & set(record)
        assert {k: seen[k] for k in shared} == {k: record[k] for k in shared}, other


@feature_test(FEATURE)
async def test_pets_created_in_any_version_can_get_records_here(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    client_for: Callable[[str], VersionedClient],
    make_health_record: Maker,
) -> None:
    """A pet (and owner) created through any version of the config can be given a health record here."""
    for other in version_config.get_supported_versions():
        client = client_for(other)
        owner = client.data(await client.create("user", data_factory.build("user", other)))
        pet = client.data(await client.create("pet", data_factory.build("pet", other, owner_id=owner["id"])))
        record = await make_health_record(pet_id=pet["id"])
        assert [r["id"] for r in await _records(api, pet_id=pet["id"])] == [record["id"]], other


# -- lists ------------------------------------------------------------------------------------
@feature_test(FEATURE)
async def test_list_health_records_paginates_a_pets_records(
    api: VersionedClient, response_validator: ResponseValidator, make_pet: Maker, make_health_record: Maker
) -> None:
    """Five records of one pet, two per page: pages of 2, 2 and 1, total 5, total_pages 3."""
    pet = await make_pet()
    ids = {(await make_health_record(pet_id=pet["id"]))["id"] for _ in range(5)}
    seen: list[str] = []
    for page, size in ((1, 2), (2, 2), (3, 1)):
        response = await api.list("health_record", pet_id=pet["id"], page=page, per_page=2)
        assert response.status_code == 200, response.text
        items = api.items(response, "health_record")
        assert response_validator.validate_many(items, api.version, "health_record")
        assert len(items) == size
        assert api.page(response) == {"total": 5, "page": page, "per_page": 2, "total_pages": 3}
        seen += [r["id"] for r in items]
    assert sorted(seen) == sorted(ids)


@feature_test(FEATURE)
async def test_list_health_records_filters_by_record_type(
    api: VersionedClient, version_config: VersionConfig, make_pet: Maker, make_health_record: Maker
) -> None:
    """The record_type filter (with pet_id) returns exactly the pet's records of that type."""
    schema = version_config.get_schema(api.version, "health_record_create") or {}
    kinds: list[str] = schema["properties"]["record_type"]["enum"][:2]
    pet = await make_pet()
    records = [await make_health_record(pet_id=pet["id"], record_type=k) for k in (kinds[0], kinds[1], kinds[1])]
    for kind in kinds:
        found = await _records(api, pet_id=pet["id"], record_type=kind)
        assert sorted(r["id"] for r in found) == sorted(r["id"] for r in records if r["record_type"] == kind)


@feature_test(FEATURE)
async def test_list_health_records_rejects_per_page_out_of_range(
    api: VersionedClient, expect_error: ErrorCheck
) -> None:
    """per_page outside 1..100 is a 422 on the health records list too."""
    for bad in (0, 101):
        expect_error(await api.list("health_record", per_page=bad), 422, "validation_error")
