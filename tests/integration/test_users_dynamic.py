"""Users across every version of the config: CRUD, validation, uniqueness, lists, pet_count.

Field lists and features come from the version config; the tests hold no per-version table.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from framework import DataFactory, ResponseValidator, VersionConfig, VersionedClient, version_parametrize

Record = dict[str, Any]
Maker = Callable[..., Awaitable[Record]]
ErrorCheck = Callable[[httpx.Response, int, str], dict[str, Any]]


def _fields(config: VersionConfig, version: str, key: str) -> set[str]:
    return set(config.get_schema_fields(version, key))


async def _users_by_email(api: VersionedClient, email: str) -> list[Record]:
    response = await api.list("user", email=email)
    assert response.status_code == 200, response.text
    items: list[Record] = api.items(response, "user")
    return items


# -- create -----------------------------------------------------------------------------------
@pytest.mark.smoke
@version_parametrize()
async def test_create_user_with_all_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
) -> None:
    """A user with every create field is a 201 with the exact response fields and the values sent."""
    payload = data_factory.build("user", api.version)
    assert set(payload) == _fields(version_config, api.version, "user_create")
    response = await api.create("user", payload)
    assert response.status_code == 201, response.text
    user = api.data(response)
    response_validator.assert_valid(user, api.version, "user")
    assert set(user) == _fields(version_config, api.version, "user_response")
    assert {k: user[k] for k in payload} == payload


@version_parametrize()
async def test_create_user_with_required_fields_only(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
) -> None:
    """A user with only the required fields is created; the optional ones read back as null."""
    payload = data_factory.build("user", api.version, optional=False)
    assert set(payload) == set(version_config.get_required_fields(api.version, "user_create"))
    response = await api.create("user", payload)
    assert response.status_code == 201, response.text
    user = api.data(response)
    response_validator.assert_valid(user, api.version, "user")
    assert {k: user[k] for k in payload} == payload
    for name in version_config.get_optional_fields(api.version, "user_create"):
        assert user[name] is None, name


@pytest.mark.defects("user")
@version_parametrize()
async def test_create_user_rejects_invalid_payload(
    defect: str, assert_rejects_invalid: Callable[[str, str], Awaitable[int]]
) -> None:
    """Every invalid user payload of one defect kind (from the version's schema) is a 422 naming the field."""
    assert await assert_rejects_invalid("user", defect) > 0


@version_parametrize()
async def test_create_user_rejects_fields_of_other_versions(
    api: VersionedClient,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    foreign_fields: Callable[[str, str], Record],
) -> None:
    """A user field only other versions have (valid there) is a 422 here, and creates no user."""
    foreign = foreign_fields("user", "create")
    if not foreign:
        pytest.skip(f"every user create field of other versions is also a {api.version} field")
    for name, value in foreign.items():
        payload = data_factory.build("user", api.version, **{name: value})
        error = expect_error(await api.create("user", payload), 422, "validation_error")
        assert any(d["field"] == name for d in error["details"]), (name, error)
        assert await _users_by_email(api, payload["email"]) == []


@version_parametrize()
async def test_create_user_with_body_not_a_json_object_is_400(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """A user body that is a JSON array or number, or no JSON at all, is a 400 bad_request."""
    for body in (b"[{}]", b"42", b""):
        response = await api.client.post(api.url("user"), content=body, headers={"content-type": "application/json"})
        expect_error(response, 400, "bad_request")


@pytest.mark.smoke
@version_parametrize()
async def test_duplicate_email_is_409(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck, make_user: Maker
) -> None:
    """A second user with an existing email is a 409 conflict."""
    user = await make_user()
    payload = data_factory.build("user", api.version, email=user["email"])
    expect_error(await api.create("user", payload), 409, "conflict")
    assert [u["id"] for u in await _users_by_email(api, user["email"])] == [user["id"]]


@version_parametrize()
async def test_duplicate_email_differing_in_case_is_409(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck, make_user: Maker
) -> None:
    """Emails are unique case-insensitively: the same address in upper case is a 409 conflict."""
    user = await make_user()
    payload = data_factory.build("user", api.version, email=user["email"].upper())
    expect_error(await api.create("user", payload), 409, "conflict")


@version_parametrize()
async def test_email_taken_in_another_version_is_409(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    client_for: Callable[[str], VersionedClient],
    make_user: Maker,
) -> None:
    """Users of all versions share one store: an email taken through this version conflicts in every other."""
    user = await make_user()
    for other in version_config.get_supported_versions():
        client = client_for(other)
        response = await client.create("user", data_factory.build("user", other, email=user["email"]))
        assert response.status_code == 409, (other, response.text)
        assert client.error(response)["code"] == "conflict"
        assert response.json()["version"] == other


# -- read, update, delete ---------------------------------------------------------------------
@version_parametrize()
async def test_get_user_returns_what_create_returned(
    api: VersionedClient, response_validator: ResponseValidator, make_user: Maker
) -> None:
    """GET of a new user returns exactly the record the create returned."""
    user = await make_user()
    response = await api.get("user", user["id"])
    assert response.status_code == 200, response.text
    fetched = api.data(response)
    response_validator.assert_valid(fetched, api.version, "user")
    assert fetched == user


@version_parametrize()
async def test_unknown_user_id_is_404(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck
) -> None:
    """GET, PUT and DELETE of a user id that does not exist are 404 not_found."""
    missing = str(uuid.uuid4())
    expect_error(await api.get("user", missing), 404, "not_found")
    expect_error(await api.update("user", missing, data_factory.build_update("user", api.version)), 404, "not_found")
    expect_error(await api.delete("user", missing), 404, "not_found")


@version_parametrize()
async def test_update_user_changes_every_update_field(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator, make_user: Maker
) -> None:
    """PUT with fresh values for every update field changes them and keeps id, email and created_at."""
    user = await make_user()
    changes = data_factory.build_update("user", api.version)
    response = await api.update("user", user["id"], changes)
    assert response.status_code == 200, response.text
    updated = api.data(response)
    response_validator.assert_valid(updated, api.version, "user")
    assert {k: updated[k] for k in changes} == changes
    assert (updated["id"], updated["email"], updated["created_at"]) == (
        user["id"],
        user["email"],
        user["created_at"],
    )
    assert datetime.fromisoformat(updated["updated_at"]) >= datetime.fromisoformat(user["updated_at"])
    assert api.data(await api.get("user", user["id"])) == updated


@version_parametrize()
async def test_update_user_with_one_field_keeps_the_others(
    api: VersionedClient, version_config: VersionConfig, data_factory: DataFactory, make_user: Maker
) -> None:
    """A partial PUT changes only the field it names."""
    user = await make_user()
    name = version_config.get_schema_fields(api.version, "user_update")[-1]
    change = {name: data_factory.build_update("user", api.version)[name]}
    response = await api.update("user", user["id"], change)
    assert response.status_code == 200, response.text
    updated = api.data(response)
    untouched = set(user) - {name, "updated_at"}
    assert {k: updated[k] for k in untouched} == {k: user[k] for k in untouched}
    assert updated[name] == change[name]


@version_parametrize()
async def test_update_user_rejects_create_only_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    make_user: Maker,
) -> None:
    """Fields a user is created with but cannot change (e.g. the email, per the update list) are a 422 on PUT."""
    create_only = _fields(version_config, api.version, "user_create") - _fields(
        version_config, api.version, "user_update"
    )
    if not create_only:
        pytest.skip(f"every {api.version} user create field can be updated")
    user = await make_user()
    fresh = data_factory.build("user", api.version)
    for name in sorted(create_only):
        expect_error(await api.update("user", user["id"], {name: fresh[name]}), 422, "validation_error")
    assert api.data(await api.get("user", user["id"])) == user


@version_parametrize()
async def test_update_user_rejects_fields_of_other_versions(
    api: VersionedClient,
    expect_error: ErrorCheck,
    foreign_fields: Callable[[str, str], Record],
    make_user: Maker,
) -> None:
    """A user update field only other versions have is a 422 here."""
    foreign = foreign_fields("user", "update")
    if not foreign:
        pytest.skip(f"every user update field of other versions is also a {api.version} field")
    user = await make_user()
    for name, value in foreign.items():
        expect_error(await api.update("user", user["id"], {name: value}), 422, "validation_error")


@version_parametrize()
async def test_update_user_with_invalid_value_is_422(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    make_user: Maker,
) -> None:
    """An update carrying a value its create schema rejects is a 422 and leaves the user unchanged."""
    user = await make_user()
    updatable = set(version_config.get_schema_fields(api.version, "user_update"))
    cases = [c for c in data_factory.invalid("user", api.version) if c.field in updatable and c.field in c.payload]
    assert cases
    for case in cases:
        response = await api.update("user", user["id"], {case.field: case.payload[case.field]})
        expect_error(response, 422, "validation_error")
    assert api.data(await api.get("user", user["id"])) == user


@version_parametrize()
async def test_delete_user_then_404(api: VersionedClient, expect_error: ErrorCheck, make_user: Maker) -> None:
    """DELETE of a user without pets is a 204 with no body; the user is then gone."""
    user = await make_user()
    response = await api.delete("user", user["id"])
    assert response.status_code == 204
    assert response.content == b""
    expect_error(await api.get("user", user["id"]), 404, "not_found")
    expect_error(await api.delete("user", user["id"]), 404, "not_found")
    assert await _users_by_email(api, user["email"]) == []


@version_parametrize()
async def test_delete_user_who_owns_pets_is_409(
    api: VersionedClient, expect_error: ErrorCheck, make_pet: Maker
) -> None:
    """A user who still owns a pet cannot be deleted (409); once the pet is gone the delete succeeds."""
    pet = await make_pet()
    expect_error(await api.delete("user", pet["owner_id"]), 409, "conflict")
    assert (await api.get("user", pet["owner_id"])).status_code == 200
    assert (await api.delete("pet", pet["id"])).status_code == 204
    assert (await api.delete("user", pet["owner_id"])).status_code == 204


# -- versions ---------------------------------------------------------------------------------
@version_parametrize()
async def test_user_reads_the_same_in_every_version(
    api: VersionedClient,
    version_config: VersionConfig,
    response_validator: ResponseValidator,
    client_for: Callable[[str], VersionedClient],
    make_user: Maker,
) -> None:
    """A user created here reads in every version with its exact fields and equal shared values."""
    user = await make_user()
    for other in version_config.get_supported_versions():
        client = client_for(other)
        response = await client.get("user", user["id"])
        assert response.status_code == 200, (other, response.text)
        seen = client.data(response)
        response_validator.assert_valid(seen, other, "user")
        assert set(seen) == _fields(version_config, other, "user_response")
        shared = set(user) & set(seen)
        assert {k: seen[k] for k in shared} == {k: user[k] for k in shared}, other


@version_parametrize()
async def test_user_fields_of_other_versions_are_absent(
    api: VersionedClient, version_config: VersionConfig, make_user: Maker
) -> None:
    """Response fields that only other versions list never appear in this version's user."""
    mine = _fields(version_config, api.version, "user_response")
    elsewhere = (
        set().union(*(_fields(version_config, v, "user_response") for v in version_config.get_supported_versions()))
        - mine
    )
    user = await make_user()
    listed = api.items(await api.list("user", email=user["email"]), "user")
    for record in (user, *listed):
        assert not elsewhere & set(record), elsewhere & set(record)
        assert set(record) == mine


@version_parametrize()
async def test_pet_count_follows_the_users_pets(
    api: VersionedClient, version_config: VersionConfig, make_user: Maker, make_pet: Maker
) -> None:
    """pet_count is 0 for a new user, counts each pet they own and drops when one is deleted."""
    if "pet_count" not in _fields(version_config, api.version, "user_response"):
        pytest.skip(f"{api.version} users have no pet_count")
    user = await make_user()
    assert user["pet_count"] == 0
    pets = [await make_pet(owner_id=user["id"]) for _ in range(2)]
    assert api.data(await api.get("user", user["id"]))["pet_count"] == 2
    assert (await api.delete("pet", pets[0]["id"])).status_code == 204
    assert api.data(await api.get("user", user["id"]))["pet_count"] == 1


# -- lists ------------------------------------------------------------------------------------
@version_parametrize()
async def test_list_users_filters_by_email(
    api: VersionedClient, response_validator: ResponseValidator, make_user: Maker
) -> None:
    """The email filter returns exactly the user with that email."""
    users = [await make_user() for _ in range(2)]
    response = await api.list("user", email=users[1]["email"])
    assert response.status_code == 200, response.text
    items = api.items(response, "user")
    assert response_validator.validate_many(items, api.version, "user")
    assert items == [users[1]]
    assert api.page(response)["total"] == 1


@version_parametrize()
async def test_list_users_paginates(
    api: VersionedClient, response_validator: ResponseValidator, make_user: Maker
) -> None:
    """With per_page 2, page 2 holds 2 users and the paging fields agree with each other."""
    for _ in range(5):
        await make_user()
    response = await api.list("user", page=2, per_page=2)
    assert response.status_code == 200, response.text
    items = api.items(response, "user")
    assert response_validator.validate_many(items, api.version, "user")
    meta = api.page(response)
    assert meta["page"] == 2
    assert meta["per_page"] == 2
    assert meta["total"] >= 5
    assert meta["total_pages"] == math.ceil(meta["total"] / 2)
    assert len(items) == 2


@version_parametrize()
async def test_list_users_rejects_per_page_out_of_range(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """per_page outside 1..100 is a 422 on the users list too."""
    for bad in (0, 101, -5):
        expect_error(await api.list("user", per_page=bad), 422, "validation_error")
