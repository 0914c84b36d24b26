"""Request validation of the Pets API: 422 with field details, 400 for non-object bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _fields(error: dict[str, Any]) -> set[str]:
    return {detail["field"] for detail in error["details"]}


@pytest.mark.parametrize(
    ("version", "change", "field"),
    [
        ("v1", {"name": ""}, "name"),
        ("v1", {"name": "x" * 101}, "name"),
        ("v1", {"name": None}, "name"),
        ("v1", {"species": "fish"}, "species"),
        ("v1", {"breed": "x" * 101}, "breed"),
        ("v1", {"age": -1}, "age"),
        ("v1", {"age": 51}, "age"),
        ("v1", {"age": "3"}, "age"),
        ("v1", {"age": 2.5}, "age"),
        ("v1", {"age": True}, "age"),
        ("v1", {"weight": 0}, "weight"),
        ("v1", {"weight": 500.5}, "weight"),
        ("v1", {"weight": "heavy"}, "weight"),
        ("v1", {"owner_id": "not-a-uuid"}, "owner_id"),
        ("v1", {"owner_id": UNKNOWN_ID}, "owner_id"),
        ("v1", {"temperament": "calm"}, "temperament"),
        ("v1", {"microchip_id": "123456789012345"}, "microchip_id"),
        ("v2", {"temperament": "grumpy"}, "temperament"),
        ("v2", {"behavioral_notes": "x" * 2001}, "behavioral_notes"),
        ("v2", {"emergency_contact": {"name": "A"}}, "emergency_contact.phone"),
        ("v2", {"emergency_contact": {"name": "", "phone": "12345"}}, "emergency_contact.name"),
        ("v2", {"emergency_contact": {"name": "A", "phone": "1234"}}, "emergency_contact.phone"),
        (
            "v2",
            {"emergency_contact": {"name": "A", "phone": "12345", "email": "a@b.c"}},
            "emergency_contact.email",
        ),
        ("v2", {"additional_photos": ["not a uri"]}, "additional_photos.0"),
        ("v2", {"additional_photos": ["/relative/path.jpg"]}, "additional_photos.0"),
        ("v2", {"additional_photos": [f"https://e.com/{i}" for i in range(11)]}, "additional_photos"),
        ("v2", {"additional_photos": None}, "additional_photos"),
        ("v2", {"microchip_id": "12345"}, "microchip_id"),
        ("v2", {"microchip_id": "12345678901234a"}, "microchip_id"),
        ("v2", {"date_of_birth": "2020-01-01"}, "date_of_birth"),
        ("v3", {"age": 3}, "age"),
        ("v3", {"date_of_birth": "2020-13-01"}, "date_of_birth"),
        ("v3", {"date_of_birth": "2020-01-01T00:00:00Z"}, "date_of_birth"),
    ],
)
def test_invalid_pet_create(api: Any, version: str, change: dict[str, Any], field: str) -> None:
    body = {"name": "Rex", "species": "dog", "owner_id": api.user()["id"], **change}
    error = api.error(api.post(f"/api/{version}/pets", json=body), 422, "validation_error")
    assert field in _fields(error)
    assert all(detail["message"] for detail in error["details"])


@pytest.mark.parametrize("missing", ["name", "species", "owner_id"])
def test_pet_required_fields(api: Any, missing: str) -> None:
    body = {"name": "Rex", "species": "dog", "owner_id": api.user()["id"]}
    del body[missing]
    error = api.error(api.post("/api/v2/pets", json=body), 422, "validation_error")
    assert error["details"] == [{"field": missing, "message": "Field required"}]


@pytest.mark.parametrize(
    ("version", "change", "field"),
    [
        ("v1", {"species": "cat"}, "species"),
        ("v1", {"owner_id": UNKNOWN_ID}, "owner_id"),
        ("v1", {"temperament": "calm"}, "temperament"),
        ("v1", {"name": None}, "name"),
        ("v1", {"age": 99}, "age"),
        ("v2", {"microchip_id": "123456789012345"}, "microchip_id"),
        ("v2", {"additional_photos": None}, "additional_photos"),
        ("v3", {"age": 1}, "age"),
        ("v3", {"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ],
)
def test_invalid_pet_update(api: Any, version: str, change: dict[str, Any], field: str) -> None:
    pet = api.pet()
    response = api.put(f"/api/{version}/pets/{pet['id']}", json=change)
    assert field in _fields(api.error(response, 422, "validation_error"))


@pytest.mark.parametrize(
    ("version", "change", "field"),
    [
        ("v1", {"email": "not-an-email"}, "email"),
        ("v1", {"email": "a b@example.com"}, "email"),
        ("v1", {"email": None}, "email"),
        ("v1", {"first_name": ""}, "first_name"),
        ("v1", {"last_name": "x" * 61}, "last_name"),
        ("v1", {"phone": "abc"}, "phone"),
        ("v1", {"phone": "1234"}, "phone"),
        ("v1", {"phone": "1" * 21}, "phone"),
        ("v1", {"address": None}, "address"),
        ("v2", {"address": {"street": "a", "city": "b", "postal_code": "c"}}, "address.country"),
        (
            "v2",
            {"address": {"street": "a", "city": "b", "postal_code": "c", "country": "usa"}},
            "address.country",
        ),
        (
            "v2",
            {
                "address": {
                    "street": "a",
                    "city": "b",
                    "postal_code": "c",
                    "country": "US",
                    "state": "CA",
                }
            },
            "address.state",
        ),
        ("v2", {"phone_number": "555-0000"}, "phone_number"),
        ("v3", {"phone": "555-0000"}, "phone"),
        ("v3", {"phone_number": "nope"}, "phone_number"),
    ],
)
def test_invalid_user_create(api: Any, version: str, change: dict[str, Any], field: str) -> None:
    body = {"email": "x@example.com", "first_name": "A", "last_name": "B", **change}
    error = api.error(api.post(f"/api/{version}/users", json=body), 422, "validation_error")
    assert field in _fields(error)


def test_email_cannot_be_updated(api: Any) -> None:
    user = api.user()
    response = api.put(f"/api/v1/users/{user['id']}", json={"email": "new@example.com"})
    assert _fields(api.error(response, 422, "validation_error")) == {"email"}


@pytest.mark.parametrize(
    ("version", "change", "field"),
    [
        ("v1", {"scheduled_at": "2031-05-04T10:30:00"}, "scheduled_at"),  # no timezone
        ("v1", {"scheduled_at": "2031-05-04T10:30Z"}, "scheduled_at"),  # no seconds
        ("v1", {"scheduled_at": "2031-05-04"}, "scheduled_at"),
        ("v1", {"scheduled_at": "2031-02-30T10:30:00Z"}, "scheduled_at"),
        ("v1", {"scheduled_at": 1_900_000_000}, "scheduled_at"),
        ("v1", {"reason": ""}, "reason"),
        ("v1", {"reason": "x" * 501}, "reason"),
        ("v1", {"notes": "x" * 2001}, "notes"),
        ("v1", {"status": "confirmed"}, "status"),
        ("v1", {"duration_minutes": 30}, "duration_minutes"),
        ("v2", {"duration_minutes": 4}, "duration_minutes"),
        ("v2", {"duration_minutes": 481}, "duration_minutes"),
        ("v2", {"duration_minutes": None}, "duration_minutes"),
        ("v2", {"cancellation_reason": "x"}, "cancellation_reason"),
        ("v2", {"pet_id": UNKNOWN_ID}, "pet_id"),
        ("v2", {"user_id": UNKNOWN_ID}, "user_id"),
    ],
)
def test_invalid_appointment_create(api: Any, version: str, change: dict[str, Any], field: str) -> None:
    pet = api.pet()
    body = {
        "pet_id": pet["id"],
        "user_id": pet["owner_id"],
        "scheduled_at": "2031-05-04T10:30:00Z",
        "reason": "Checkup",
        **change,
    }
    error = api.error(api.post(f"/api/{version}/appointments", json=body), 422, "validation_error")
    assert field in _fields(error)


@pytest.mark.parametrize(
    "change",
    [{"status": "done"}, {"status": None}, {"reason": None}, {"scheduled_at": "tomorrow"}],
)
def test_invalid_appointment_update(api: Any, change: dict[str, Any]) -> None:
    appointment = api.appointment()
    response = api.put(f"/api/v2/appointments/{appointment['id']}", json=change)
    assert set(change) == _fields(api.error(response, 422, "validation_error"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"record_type": "grooming"}, "record_type"),
        ({"date": "2999-01-01"}, "date"),
        ({"date": "01/02/2024"}, "date"),
        ({"description": ""}, "description"),
        ({"veterinarian": "x" * 101}, "veterinarian"),
        ({"next_due_date": "soon"}, "next_due_date"),
        ({"pet_id": UNKNOWN_ID}, "pet_id"),
        ({"notes": "extra"}, "notes"),
    ],
)
def test_invalid_health_record(api: Any, change: dict[str, Any], field: str) -> None:
    body = {
        "pet_id": api.pet()["id"],
        "record_type": "checkup",
        "date": "2024-01-01",
        "description": "Fine",
        **change,
    }
    error = api.error(api.post("/api/v3/health-records", json=body), 422, "validation_error")
    assert field in _fields(error)


def test_all_errors_are_reported_together(api: Any) -> None:
    body = {"name": "", "species": "fish", "owner_id": "x", "colour": "red"}
    error = api.error(api.post("/api/v1/pets", json=body), 422, "validation_error")
    assert _fields(error) == {"name", "species", "owner_id", "colour"}


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b"", b"null", b'"text"', b"42", b"{"])
@pytest.mark.parametrize("path", ["/api/v1/pets", "/api/v2/users", "/api/v3/appointments"])
def test_non_object_body_is_400(api: Any, path: str, body: bytes) -> None:
    response = api.post(path, content=body, headers={"content-type": "application/json"})
    error = api.error(response, 400, "bad_request")
    assert "details" not in error
    assert response.json()["version"] == path.split("/")[2]


def test_non_object_update_body_is_400(api: Any) -> None:
    pet = api.pet()
    api.error(api.put(f"/api/v1/pets/{pet['id']}", content=b"[]"), 400, "bad_request")


def test_v3_birth_date_older_than_the_oldest_age_is_rejected(api: Any) -> None:
    """A v3 birth date over 50 years ago would show an age v1/v2 cannot hold: 422."""
    owner = api.post("/api/v3/users", json={"email": "old@example.com", "first_name": "A", "last_name": "B"})
    owner_id = owner.json()["data"]["id"]
    too_old = dt.date(dt.date.today().year - 52, 1, 1).isoformat()
    body = {"name": "Old", "species": "cat", "owner_id": owner_id, "date_of_birth": too_old}
    response = api.post("/api/v3/pets", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "date_of_birth"
