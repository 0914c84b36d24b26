"""Appointments across every version of the config: CRUD, references, conflicts, filters, cancellation.

Field lists, endpoints and features come from the version config; nothing here names a version.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
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

CANCELLED = "cancelled"


def _fields(config: VersionConfig, version: str, key: str) -> set[str]:
    return set(config.get_schema_fields(version, key))


def _statuses(config: VersionConfig, version: str) -> list[str]:
    schema = config.get_schema(version, "appointment_response") or {}
    statuses: list[str] = schema["properties"]["status"]["enum"]
    return statuses


def _update_payload(config: VersionConfig, factory: DataFactory, version: str, current: str) -> Record:
    """Fresh values for every update field, with a status that changes the appointment
    (not its ``current`` one) and is not ``cancelled`` (which has effects of its own)."""
    changes = factory.build_update("appointment", version)
    if "status" in changes:
        changes["status"] = next(s for s in _statuses(config, version) if s not in (current, CANCELLED))
    return changes


async def _appointments(api: VersionedClient, **query: Any) -> list[Record]:
    response = await api.list("appointment", per_page=100, **query)
    assert response.status_code == 200, response.text
    items: list[Record] = api.items(response, "appointment")
    return items


# -- create -----------------------------------------------------------------------------------
@pytest.mark.smoke
@version_parametrize()
async def test_create_appointment_with_all_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_pet: Maker,
) -> None:
    """A booking with every create field is a 201 with the exact response fields and the values sent."""
    pet = await make_pet()
    payload = data_factory.build("appointment", api.version, pet_id=pet["id"], user_id=pet["owner_id"])
    assert set(payload) == _fields(version_config, api.version, "appointment_create")
    response = await api.create("appointment", payload)
    assert response.status_code == 201, response.text
    appointment = api.data(response)
    response_validator.assert_valid(appointment, api.version, "appointment")
    assert set(appointment) == _fields(version_config, api.version, "appointment_response")
    assert {k: appointment[k] for k in payload} == payload
    assert appointment["status"] != CANCELLED
    if "cancellation_reason" in appointment:
        assert appointment["cancellation_reason"] is None


@version_parametrize()
async def test_create_appointment_with_required_fields_only(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_pet: Maker,
) -> None:
    """An appointment with only the required fields is created with every response field present."""
    pet = await make_pet()
    payload = data_factory.build("appointment", api.version, optional=False, pet_id=pet["id"], user_id=pet["owner_id"])
    assert set(payload) == set(version_config.get_required_fields(api.version, "appointment_create"))
    response = await api.create("appointment", payload)
    assert response.status_code == 201, response.text
    appointment = api.data(response)
    response_validator.assert_valid(appointment, api.version, "appointment")
    assert {k: appointment[k] for k in payload} == payload


@version_parametrize()
async def test_create_appointment_with_unknown_references_is_422(
    api: VersionedClient, data_factory: DataFactory, expect_error: ErrorCheck, make_pet: Maker
) -> None:
    """An appointment whose pet_id or user_id names no record is a 422, and nothing is booked."""
    pet = await make_pet()
    for field in ("pet_id", "user_id"):
        ids = {"pet_id": pet["id"], "user_id": pet["owner_id"], field: str(uuid.uuid4())}
        payload = data_factory.build("appointment", api.version, **ids)
        expect_error(await api.create("appointment", payload), 422, "validation_error")
    assert await _appointments(api, pet_id=pet["id"]) == []


@pytest.mark.defects("appointment")
@version_parametrize()
async def test_create_appointment_rejects_invalid_payload(
    defect: str, assert_rejects_invalid: Callable[[str, str], Awaitable[int]]
) -> None:
    """Every invalid appointment payload of one defect kind is a 422 naming the field."""
    assert await assert_rejects_invalid("appointment", defect) > 0


@version_parametrize()
async def test_create_appointment_rejects_fields_of_other_versions(
    api: VersionedClient,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    foreign_fields: Callable[[str, str], Record],
    make_pet: Maker,
) -> None:
    """An appointment field only other versions have (valid there) is a 422 here, and books nothing."""
    foreign = foreign_fields("appointment", "create")
    if not foreign:
        pytest.skip(f"every appointment create field of other versions is also a {api.version} field")
    pet = await make_pet()
    for name, value in foreign.items():
        payload = data_factory.build(
            "appointment", api.version, pet_id=pet["id"], user_id=pet["owner_id"], **{name: value}
        )
        error = expect_error(await api.create("appointment", payload), 422, "validation_error")
        assert any(d["field"] == name for d in error["details"]), (name, error)
    assert await _appointments(api, pet_id=pet["id"]) == []


@pytest.mark.smoke
@version_parametrize()
async def test_same_pet_same_time_is_409(
    api: VersionedClient,
    data_factory: DataFactory,
    expect_error: ErrorCheck,
    make_pet: Maker,
    make_appointment: Maker,
) -> None:
    """A second appointment for the same pet at the same scheduled_at is a 409; another pet may take the slot."""
    first = await make_appointment()
    payload = data_factory.build(
        "appointment",
        api.version,
        pet_id=first["pet_id"],
        user_id=first["user_id"],
        scheduled_at=first["scheduled_at"],
    )
    expect_error(await api.create("appointment", payload), 409, "conflict")
    other = await make_pet()
    same_slot = await make_appointment(pet=other, scheduled_at=first["scheduled_at"])
    assert same_slot["scheduled_at"] == first["scheduled_at"]
    assert [a["id"] for a in await _appointments(api, pet_id=first["pet_id"])] == [first["id"]]


@version_parametrize()
async def test_create_appointment_with_body_not_a_json_object_is_400(
    api: VersionedClient, expect_error: ErrorCheck
) -> None:
    """An appointment body that is a JSON array or null is a 400 bad_request."""
    for body in (b"[]", b"null"):
        response = await api.client.post(
            api.url("appointment"), content=body, headers={"content-type": "application/json"}
        )
        expect_error(response, 400, "bad_request")


# -- read, update, delete ---------------------------------------------------------------------
@version_parametrize()
async def test_get_appointment_returns_what_create_returned(
    api: VersionedClient, response_validator: ResponseValidator, make_appointment: Maker
) -> None:
    """GET of a new appointment returns exactly the record the create returned."""
    appointment = await make_appointment()
    response = await api.get("appointment", appointment["id"])
    assert response.status_code == 200, response.text
    fetched = api.data(response)
    response_validator.assert_valid(fetched, api.version, "appointment")
    assert fetched == appointment


@version_parametrize()
async def test_unknown_appointment_id_is_404(
    api: VersionedClient, version_config: VersionConfig, data_factory: DataFactory, expect_error: ErrorCheck
) -> None:
    """GET, PUT and DELETE of an appointment id that does not exist are 404 not_found."""
    missing = str(uuid.uuid4())
    changes = _update_payload(version_config, data_factory, api.version, "")
    expect_error(await api.get("appointment", missing), 404, "not_found")
    expect_error(await api.update("appointment", missing, changes), 404, "not_found")
    expect_error(await api.delete("appointment", missing), 404, "not_found")


@pytest.mark.xdist_group("store_totals")  # changes statuses: never beside test_statistics_count_new_records
@version_parametrize()
async def test_update_appointment_changes_every_update_field(
    api: VersionedClient,
    version_config: VersionConfig,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    make_appointment: Maker,
) -> None:
    """PUT of every update field changes them all, keeps pet, user and created_at, moves updated_at."""
    appointment = await make_appointment()
    changes = _update_payload(version_config, data_factory, api.version, appointment["status"])
    response = await api.update("appointment", appointment["id"], changes)
    assert response.status_code == 200, response.text
    updated = api.data(response)
    response_validator.assert_valid(updated, api.version, "appointment")
    assert {k: updated[k] for k in changes} == changes
    kept = ("id", "pet_id", "user_id", "created_at")
    assert {k: updated[k] for k in kept} == {k: appointment[k] for k in kept}
    assert datetime.fromisoformat(updated["updated_at"]) >= datetime.fromisoformat(appointment["updated_at"])
    assert api.data(await api.get("appointment", appointment["id"])) == updated


@pytest.mark.xdist_group("store_totals")  # changes statuses: never beside test_statistics_count_new_records
@version_parametrize()
async def test_update_appointment_status_only_keeps_the_rest(
    api: VersionedClient, version_config: VersionConfig, make_appointment: Maker
) -> None:
    """A PUT of the status alone changes the status and nothing else."""
    appointment = await make_appointment()
    status = next(s for s in _statuses(version_config, api.version) if s not in (appointment["status"], CANCELLED))
    response = await api.update("appointment", appointment["id"], {"status": status})
    assert response.status_code == 200, response.text
    updated = api.data(response)
    assert updated["status"] == status
    untouched = set(appointment) - {"status", "updated_at"}
    assert {k: updated[k] for k in untouched} == {k: appointment[k] for k in untouched}


@version_parametrize()
async def test_update_appointment_rejects_bad_status(
    api: VersionedClient, expect_error: ErrorCheck, make_appointment: Maker
) -> None:
    """A status outside the version's enum is a 422 and leaves the appointment unchanged."""
    appointment = await make_appointment()
    expect_error(await api.update("appointment", appointment["id"], {"status": "postponed"}), 422, "validation_error")
    assert api.data(await api.get("appointment", appointment["id"])) == appointment


@version_parametrize()
async def test_update_appointment_rejects_create_only_fields(
    api: VersionedClient,
    version_config: VersionConfig,
    expect_error: ErrorCheck,
    make_appointment: Maker,
    make_pet: Maker,
) -> None:
    """Fields an appointment is booked with but cannot change (pet_id, user_id per the update list) are a 422."""
    create_only = _fields(version_config, api.version, "appointment_create") - _fields(
        version_config, api.version, "appointment_update"
    )
    if not create_only:
        pytest.skip(f"every {api.version} appointment create field can be updated")
    appointment = await make_appointment()
    other = await make_pet()
    values = {"pet_id": other["id"], "user_id": other["owner_id"]}
    for name in sorted(create_only):
        value = values.get(name, appointment[name])
        expect_error(await api.update("appointment", appointment["id"], {name: value}), 422, "validation_error")
    assert api.data(await api.get("appointment", appointment["id"])) == appointment


@version_parametrize()
async def test_update_appointment_rejects_fields_of_other_versions(
    api: VersionedClient,
    expect_error: ErrorCheck,
    foreign_fields: Callable[[str, str], Record],
    make_appointment: Maker,
) -> None:
    """An appointment update field only other versions have is a 422 here."""
    foreign = foreign_fields("appointment", "update")
    if not foreign:
        pytest.skip(f"every appointment update field of other versions is also a {api.version} field")
    appointment = await make_appointment()
    for name, value in foreign.items():
        expect_error(await api.update("appointment", appointment["id"], {name: value}), 422, "validation_error")


@pytest.mark.xdist_group("store_totals")  # deletes: never beside test_statistics_count_new_records
@version_parametrize()
async def test_delete_appointment_then_404(
    api: VersionedClient, expect_error: ErrorCheck, make_appointment: Maker
) -> None:
    """DELETE answers 204 with no body; the appointment is then gone."""
    appointment = await make_appointment()
    response = await api.delete("appointment", appointment["id"])
    assert response.status_code == 204
    assert response.content == b""
    expect_error(await api.get("appointment", appointment["id"]), 404, "not_found")
    expect_error(await api.delete("appointment", appointment["id"]), 404, "not_found")
    assert (await api.get("pet", appointment["pet_id"])).status_code == 200


@pytest.mark.xdist_group("store_totals")  # deletes: never beside test_statistics_count_new_records
@version_parametrize()
async def test_deleting_a_pet_deletes_its_appointments(
    api: VersionedClient, expect_error: ErrorCheck, make_pet: Maker, make_appointment: Maker
) -> None:
    """Deleting a pet removes its appointments, and only its own."""
    pet = await make_pet()
    mine = [await make_appointment(pet=pet) for _ in range(2)]
    survivor = await make_appointment()
    assert (await api.delete("pet", pet["id"])).status_code == 204
    for appointment in mine:
        expect_error(await api.get("appointment", appointment["id"]), 404, "not_found")
    assert await _appointments(api, pet_id=pet["id"]) == []
    assert (await api.get("appointment", survivor["id"])).status_code == 200


# -- versions ---------------------------------------------------------------------------------
@version_parametrize()
async def test_appointment_reads_the_same_in_every_version(
    api: VersionedClient,
    version_config: VersionConfig,
    response_validator: ResponseValidator,
    client_for: Callable[[str], VersionedClient],
    make_appointment: Maker,
) -> None:
    """An appointment booked here reads in every version, valid there, with equal shared fields."""
    appointment = await make_appointment(optional=False)
    for other in version_config.get_supported_versions():
        client = client_for(other)
        response = await client.get("appointment", appointment["id"])
        assert response.status_code == 200, (other, response.text)
        seen = client.data(response)
        response_validator.assert_valid(seen, other, "appointment")
        assert set(seen) == _fields(version_config, other, "appointment_response")
        shared = set(appointment) & set(seen)
        assert {k: seen[k] for k in shared} == {k: appointment[k] for k in shared}, other


# -- lists ------------------------------------------------------------------------------------
@version_parametrize()
async def test_list_appointments_paginates_a_pets_appointments(
    api: VersionedClient, response_validator: ResponseValidator, make_pet: Maker, make_appointment: Maker
) -> None:
    """Five appointments of one pet, two per page: pages of 2, 2 and 1, total 5, total_pages 3."""
    pet = await make_pet()
    ids = {(await make_appointment(pet=pet))["id"] for _ in range(5)}
    seen: list[str] = []
    for page, size in ((1, 2), (2, 2), (3, 1)):
        response = await api.list("appointment", pet_id=pet["id"], page=page, per_page=2)
        assert response.status_code == 200, response.text
        items = api.items(response, "appointment")
        assert response_validator.validate_many(items, api.version, "appointment")
        assert len(items) == size
        assert api.page(response) == {"total": 5, "page": page, "per_page": 2, "total_pages": 3}
        seen += [a["id"] for a in items]
    assert sorted(seen) == sorted(ids)


@pytest.mark.xdist_group("store_totals")  # changes statuses: never beside test_statistics_count_new_records
@version_parametrize()
async def test_list_appointments_filters_by_status(
    api: VersionedClient, version_config: VersionConfig, make_pet: Maker, make_appointment: Maker
) -> None:
    """The status filter (with pet_id) returns exactly the pet's appointments in that status."""
    pet = await make_pet()
    appointments = [await make_appointment(pet=pet) for _ in range(3)]
    initial = appointments[0]["status"]
    status = next(s for s in _statuses(version_config, api.version) if s not in (initial, CANCELLED))
    response = await api.update("appointment", appointments[1]["id"], {"status": status})
    assert response.status_code == 200, response.text
    changed = await _appointments(api, pet_id=pet["id"], status=status)
    assert [a["id"] for a in changed] == [appointments[1]["id"]]
    unchanged = await _appointments(api, pet_id=pet["id"], status=initial)
    assert sorted(a["id"] for a in unchanged) == sorted(a["id"] for a in (appointments[0], appointments[2]))


@version_parametrize()
async def test_list_appointments_filters_by_user(
    api: VersionedClient, make_user: Maker, make_pet: Maker, make_appointment: Maker
) -> None:
    """The user_id filter returns exactly the appointments that user booked."""
    pet = await make_pet()
    visitor = await make_user()
    owners = [await make_appointment(pet=pet) for _ in range(2)]
    visitors = [await make_appointment(pet=pet, user_id=visitor["id"])]
    assert [a["id"] for a in await _appointments(api, user_id=visitor["id"])] == [visitors[0]["id"]]
    found = await _appointments(api, user_id=pet["owner_id"])
    assert sorted(a["id"] for a in found) == sorted(a["id"] for a in owners)


@version_parametrize()
async def test_list_appointments_rejects_per_page_out_of_range(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """per_page outside 1..100 is a 422 on the appointments list too."""
    for bad in (0, 1000):
        expect_error(await api.list("appointment", per_page=bad), 422, "validation_error")


@feature_test("enhanced_filtering")
async def test_filter_appointments_by_time_window(
    api: VersionedClient, make_pet: Maker, make_appointment: Maker
) -> None:
    """from/to keep only the appointments scheduled inside the window."""
    pet = await make_pet()
    appointments = [await make_appointment(pet=pet) for _ in range(3)]
    appointments.sort(key=lambda a: datetime.fromisoformat(a["scheduled_at"]))
    times = [datetime.fromisoformat(a["scheduled_at"]) for a in appointments]
    assert times[0] < times[1] < times[2]
    gap = min(times[1] - times[0], times[2] - times[1]) / 2
    window = {"from": (times[1] - gap).isoformat(), "to": (times[1] + gap).isoformat()}
    assert [a["id"] for a in await _appointments(api, pet_id=pet["id"], **window)] == [appointments[1]["id"]]
    later = await _appointments(api, pet_id=pet["id"], **{"from": (times[0] + gap).isoformat()})
    assert sorted(a["id"] for a in later) == sorted(a["id"] for a in appointments[1:])
    earlier = await _appointments(api, pet_id=pet["id"], to=(times[2] - gap).isoformat())
    assert sorted(a["id"] for a in earlier) == sorted(a["id"] for a in appointments[:2])
    future = (times[2] + timedelta(days=1)).isoformat()
    assert await _appointments(api, pet_id=pet["id"], **{"from": future}) == []


# -- cancellation -----------------------------------------------------------------------------
@pytest.mark.xdist_group("store_totals")  # changes statuses: never beside test_statistics_count_new_records
@feature_test("appointment_cancellation")
async def test_cancel_appointment(
    api: VersionedClient,
    version_config: VersionConfig,
    response_validator: ResponseValidator,
    client_for: Callable[[str], VersionedClient],
    make_appointment: Maker,
) -> None:
    """Cancelling returns 200 with status cancelled and the reason; every version then reads it cancelled."""
    appointment = await make_appointment()
    response = await api.client.post(
        api.url("appointment_cancel", id=appointment["id"]), json={"reason": "Owner is travelling"}
    )
    assert response.status_code == 200, response.text
    cancelled = api.data(response)
    response_validator.assert_valid(cancelled, api.version, "appointment")
    assert cancelled["status"] == CANCELLED
    assert cancelled["cancellation_reason"] == "Owner is travelling"
    assert api.data(await api.get("appointment", appointment["id"])) == cancelled
    for other in version_config.get_supported_versions():
        client = client_for(other)
        assert client.data(await client.get("appointment", appointment["id"]))["status"] == CANCELLED


@pytest.mark.xdist_group("store_totals")  # changes statuses: never beside test_statistics_count_new_records
@feature_test("appointment_cancellation")
async def test_cancel_twice_is_409(api: VersionedClient, expect_error: ErrorCheck, make_appointment: Maker) -> None:
    """Cancelling an already cancelled appointment is a 409 conflict and keeps the first reason."""
    appointment = await make_appointment()
    url = api.url("appointment_cancel", id=appointment["id"])
    assert (await api.client.post(url, json={"reason": "first"})).status_code == 200
    expect_error(await api.client.post(url, json={"reason": "second"}), 409, "conflict")
    assert api.data(await api.get("appointment", appointment["id"]))["cancellation_reason"] == "first"


@feature_test("appointment_cancellation")
async def test_cancel_unknown_appointment_is_404(api: VersionedClient, expect_error: ErrorCheck) -> None:
    """Cancelling an appointment id that does not exist is a 404."""
    url = api.url("appointment_cancel", id=str(uuid.uuid4()))
    expect_error(await api.client.post(url, json={"reason": "never booked"}), 404, "not_found")


@feature_test("appointment_cancellation")
async def test_cancel_without_reason_is_422(
    api: VersionedClient, expect_error: ErrorCheck, make_appointment: Maker
) -> None:
    """A cancellation without a reason (or with an unknown field) is a 422 and cancels nothing."""
    appointment = await make_appointment()
    url = api.url("appointment_cancel", id=appointment["id"])
    for body in ({}, {"reason": "x", "refund": True}):
        expect_error(await api.client.post(url, json=body), 422, "validation_error")
    assert api.data(await api.get("appointment", appointment["id"])) == appointment
