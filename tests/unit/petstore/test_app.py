"""Behaviour of the reference Pets API: CRUD per version, version differences, routing."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from petstore.timeutil import age_on, dob_for_age

REPO = Path(__file__).resolve().parents[3]

PET_KEYS = {
    "v1": ["id", "name", "species", "breed", "age", "weight", "owner_id", "created_at", "updated_at"],
    "v2": [
        "id", "name", "species", "breed", "age", "weight", "owner_id", "temperament",
        "behavioral_notes", "emergency_contact", "additional_photos", "microchip_id",
        "created_at", "updated_at",
    ],
    "v3": [
        "id", "name", "species", "breed", "date_of_birth", "weight", "owner_id", "temperament",
        "behavioral_notes", "emergency_contact", "additional_photos", "microchip_id",
        "created_at", "updated_at",
    ],
}  # fmt: skip
USER_KEYS = {
    "v1": ["id", "email", "first_name", "last_name", "phone", "created_at", "updated_at"],
    "v2": [
        "id", "email", "first_name", "last_name", "phone", "address", "emergency_contact",
        "pet_count", "created_at", "updated_at",
    ],
    "v3": [
        "id", "email", "first_name", "last_name", "phone_number", "address",
        "emergency_contact", "pet_count", "created_at", "updated_at",
    ],
}  # fmt: skip
APPOINTMENT_KEYS = {
    "v1": [
        "id", "pet_id", "user_id", "scheduled_at", "reason", "notes", "status",
        "created_at", "updated_at",
    ],
    "v2": [
        "id", "pet_id", "user_id", "scheduled_at", "reason", "notes", "duration_minutes",
        "status", "created_at", "updated_at",
    ],
    "v3": [
        "id", "pet_id", "user_id", "scheduled_at", "reason", "notes", "duration_minutes",
        "status", "cancellation_reason", "created_at", "updated_at",
    ],
}  # fmt: skip
HEALTH_RECORD_KEYS = [
    "id", "pet_id", "record_type", "date", "description", "veterinarian", "next_due_date",
    "created_at",
]  # fmt: skip
VERSIONS = ("v1", "v2", "v3")
FUTURE_SLOT = "2031-05-04T10:30:00.000Z"


def _is_rfc3339_utc(value: str) -> bool:
    parsed = datetime.fromisoformat(value)
    return value.endswith(("Z", "+00:00")) and parsed.utcoffset() is not None and "T" in value


# --- envelope and response shapes ---------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_response_fields_are_exactly_the_versions(api: Any, version: str) -> None:
    user = api.user(version)
    pet = api.pet(version, owner_id=user["id"])
    appointment = api.appointment(version, pet=pet)
    assert list(user) == USER_KEYS[version]
    assert list(pet) == PET_KEYS[version]
    assert list(appointment) == APPOINTMENT_KEYS[version]
    response = api.get(f"/api/{version}/pets/{pet['id']}")
    assert response.json() == {"success": True, "version": version, "data": pet}
    for record in (user, pet, appointment):
        assert _is_rfc3339_utc(record["created_at"])
        assert record["created_at"] == record["updated_at"]


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_health_record_fields(api: Any, version: str) -> None:
    record = api.health_record(version, veterinarian="Dr. Rivera", next_due_date="2031-03-01")
    assert list(record) == HEALTH_RECORD_KEYS
    assert record["date"] == "2024-03-01"
    assert record["next_due_date"] == "2031-03-01"
    assert _is_rfc3339_utc(record["created_at"])


def test_optional_fields_are_null_or_defaults(api: Any) -> None:
    pet = api.pet("v2")
    assert pet["breed"] is pet["age"] is pet["weight"] is pet["temperament"] is None
    assert pet["additional_photos"] == []
    assert pet["microchip_id"] is None
    appointment = api.appointment("v2", pet=pet)
    assert appointment["status"] == "scheduled"
    assert appointment["duration_minutes"] == 30
    assert appointment["notes"] is None


# --- CRUD ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_pet_crud(api: Any, version: str) -> None:
    owner = api.user(version)
    pet = api.pet(version, owner_id=owner["id"], breed="Lab", weight=24.5)
    base = f"/api/{version}/pets"
    assert api.data(api.get(f"{base}/{pet['id']}")) == pet

    updated = api.data(api.put(f"{base}/{pet['id']}", json={"name": "Max", "breed": None}))
    assert updated["name"] == "Max"
    assert updated["breed"] is None
    assert updated["weight"] == 24.5
    assert updated["created_at"] == pet["created_at"]
    assert updated["updated_at"] >= pet["updated_at"]
    assert api.data(api.put(f"{base}/{pet['id']}", json={}))["name"] == "Max"

    response = api.delete(f"{base}/{pet['id']}")
    assert response.status_code == 204
    assert response.content == b""
    api.error(api.get(f"{base}/{pet['id']}"), 404, "not_found")
    api.error(api.delete(f"{base}/{pet['id']}"), 404, "not_found")
    api.error(api.put(f"{base}/{pet['id']}", json={"name": "x"}), 404, "not_found")


@pytest.mark.parametrize("version", VERSIONS)
def test_user_crud(api: Any, version: str) -> None:
    phone_key = "phone_number" if version == "v3" else "phone"
    user = api.user(version, **{phone_key: "+1 (555) 123-4567"})
    assert user[phone_key] == "+1 (555) 123-4567"
    base = f"/api/{version}/users"
    updated = api.data(api.put(f"{base}/{user['id']}", json={"last_name": "Ng", phone_key: None}))
    assert updated["last_name"] == "Ng"
    assert updated[phone_key] is None
    assert updated["email"] == user["email"]
    assert api.delete(f"{base}/{user['id']}").status_code == 204
    api.error(api.get(f"{base}/{user['id']}"), 404, "not_found")


@pytest.mark.parametrize("version", VERSIONS)
def test_appointment_crud(api: Any, version: str) -> None:
    appointment = api.appointment(version, notes="Bring records")
    base = f"/api/{version}/appointments"
    assert api.data(api.get(f"{base}/{appointment['id']}")) == appointment
    change = {"status": "confirmed", "reason": "Vaccination", "scheduled_at": "2031-06-01T09:00:00Z"}
    updated = api.data(api.put(f"{base}/{appointment['id']}", json=change))
    assert {key: updated[key] for key in change} == change
    assert updated["notes"] == "Bring records"
    assert api.delete(f"{base}/{appointment['id']}").status_code == 204
    api.error(api.get(f"{base}/{appointment['id']}"), 404, "not_found")


def test_v2_fields_round_trip(api: Any) -> None:
    contact = {"name": "Sam", "phone": "555-1234", "relationship": "sister"}
    address = {"street": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
    user = api.user("v2", address=address, emergency_contact=contact)
    assert user["address"] == address
    assert user["emergency_contact"] == contact
    pet = api.pet(
        "v2",
        owner_id=user["id"],
        temperament="playful",
        behavioral_notes="Loves balls",
        emergency_contact={"name": "Sam", "phone": "55512"},
        additional_photos=["https://example.com/a.jpg", "http://example.org/b.png?x=1"],
        microchip_id="123456789012345",
    )
    assert pet["temperament"] == "playful"
    assert pet["emergency_contact"] == {"name": "Sam", "phone": "55512"}
    assert pet["additional_photos"] == ["https://example.com/a.jpg", "http://example.org/b.png?x=1"]
    assert pet["microchip_id"] == "123456789012345"
    updated = api.data(
        api.put(
            f"/api/v2/pets/{pet['id']}",
            json={"temperament": None, "additional_photos": [], "emergency_contact": None},
        )
    )
    assert updated["temperament"] is None
    assert updated["additional_photos"] == []
    assert updated["emergency_contact"] is None
    assert updated["microchip_id"] == "123456789012345"
    appointment = api.appointment("v2", pet=pet, duration_minutes=45)
    assert appointment["duration_minutes"] == 45
    moved = api.put(f"/api/v2/appointments/{appointment['id']}", json={"duration_minutes": 90})
    assert api.data(moved)["duration_minutes"] == 90


def test_user_pet_count(api: Any) -> None:
    user = api.user("v2")
    assert user["pet_count"] == 0
    api.pet("v1", owner_id=user["id"])
    pet = api.pet("v3", owner_id=user["id"])
    assert api.data(api.get(f"/api/v2/users/{user['id']}"))["pet_count"] == 2
    api.delete(f"/api/v1/pets/{pet['id']}")
    assert api.data(api.get(f"/api/v3/users/{user['id']}"))["pet_count"] == 1


def test_health_records(api: Any) -> None:
    pet = api.pet()
    record = api.health_record("v2", pet_id=pet["id"])
    assert api.data(api.get(f"/api/v3/health-records/{record['id']}")) == record
    assert api.delete(f"/api/v3/health-records/{record['id']}").status_code == 204
    api.error(api.get(f"/api/v2/health-records/{record['id']}"), 404, "not_found")
    api.error(api.delete(f"/api/v2/health-records/{record['id']}"), 404, "not_found")


# --- one store across versions ------------------------------------------------------


def test_one_store_is_shared_by_all_versions(api: Any) -> None:
    pet = api.pet("v1", breed="Beagle")
    for version in VERSIONS:
        data = api.data(api.get(f"/api/{version}/pets/{pet['id']}"))
        assert list(data) == PET_KEYS[version]
        assert data["breed"] == "Beagle"
    v3_user = api.user("v3", phone_number="555-0000")
    assert api.data(api.get(f"/api/v1/users/{v3_user['id']}"))["phone"] == "555-0000"
    api.put(f"/api/v1/users/{v3_user['id']}", json={"phone": "555-1111"})
    assert api.data(api.get(f"/api/v3/users/{v3_user['id']}"))["phone_number"] == "555-1111"


def test_v1_update_keeps_fields_it_cannot_see(api: Any) -> None:
    pet = api.pet("v2", temperament="calm", microchip_id="111111111111111")
    api.put(f"/api/v1/pets/{pet['id']}", json={"name": "Renamed"})
    data = api.data(api.get(f"/api/v2/pets/{pet['id']}"))
    assert (data["name"], data["temperament"], data["microchip_id"]) == (
        "Renamed",
        "calm",
        "111111111111111",
    )


def test_age_becomes_date_of_birth_and_back(api: Any) -> None:
    today = date.today()
    pet = api.pet("v1", age=3)
    v3 = api.data(api.get(f"/api/v3/pets/{pet['id']}"))
    assert v3["date_of_birth"] == dob_for_age(3, today).isoformat()
    assert date.fromisoformat(v3["date_of_birth"]).replace(year=today.year) in {
        today,
        today.replace(day=28) if (today.month, today.day) == (2, 29) else today,
    }
    assert api.data(api.get(f"/api/v2/pets/{pet['id']}"))["age"] == 3

    # v3 sets an exact birth date; v1/v2 derive the age from it.
    dob = date(today.year - 7, 1, 1)
    api.put(f"/api/v3/pets/{pet['id']}", json={"date_of_birth": dob.isoformat()})
    assert api.data(api.get(f"/api/v1/pets/{pet['id']}"))["age"] == age_on(dob, today)

    # Restating the same age from v1 keeps the exact date; a new age replaces it.
    api.put(f"/api/v1/pets/{pet['id']}", json={"age": age_on(dob, today)})
    assert api.data(api.get(f"/api/v3/pets/{pet['id']}"))["date_of_birth"] == dob.isoformat()
    api.put(f"/api/v2/pets/{pet['id']}", json={"age": 0})
    v3 = api.data(api.get(f"/api/v3/pets/{pet['id']}"))
    assert v3["date_of_birth"] == today.isoformat()
    api.put(f"/api/v1/pets/{pet['id']}", json={"age": None})
    assert api.data(api.get(f"/api/v3/pets/{pet['id']}"))["date_of_birth"] is None
    assert api.data(api.get(f"/api/v1/pets/{pet['id']}"))["age"] is None


@pytest.mark.parametrize("age", [0, 1, 4, 50])
@pytest.mark.parametrize("today", [date(2024, 2, 29), date(2023, 2, 28), date(2025, 3, 1), date(2024, 12, 31)])
def test_age_and_birth_date_are_inverse(age: int, today: date) -> None:
    assert age_on(dob_for_age(age, today), today) == age


def test_v3_birth_date_in_the_future_is_rejected(api: Any) -> None:
    owner = api.user()
    body = {"name": "Rex", "species": "dog", "owner_id": owner["id"], "date_of_birth": "2999-01-01"}
    error = api.error(api.post("/api/v3/pets", json=body), 422, "validation_error")
    assert error["details"][0]["field"] == "date_of_birth"


# --- cascades and conflicts ---------------------------------------------------------


def test_deleting_a_pet_removes_its_appointments_and_records(api: Any) -> None:
    pet = api.pet()
    appointment = api.appointment(pet=pet)
    record = api.health_record(pet_id=pet["id"])
    other = api.appointment()
    api.delete(f"/api/v1/pets/{pet['id']}")
    api.error(api.get(f"/api/v1/appointments/{appointment['id']}"), 404, "not_found")
    api.error(api.get(f"/api/v2/health-records/{record['id']}"), 404, "not_found")
    assert api.get(f"/api/v1/appointments/{other['id']}").status_code == 200


def test_deleting_a_user_who_owns_pets_conflicts(api: Any) -> None:
    pet = api.pet()
    api.error(api.delete(f"/api/v1/users/{pet['owner_id']}"), 409, "conflict")
    api.delete(f"/api/v1/pets/{pet['id']}")
    assert api.delete(f"/api/v1/users/{pet['owner_id']}").status_code == 204


def test_deleting_a_user_removes_their_appointments(api: Any) -> None:
    pet = api.pet()
    visitor = api.user()
    appointment = api.appointment(pet=pet, user_id=visitor["id"])
    assert api.delete(f"/api/v2/users/{visitor['id']}").status_code == 204
    api.error(api.get(f"/api/v2/appointments/{appointment['id']}"), 404, "not_found")
    assert api.data(api.get(f"/api/v2/users/{pet['owner_id']}"))["pet_count"] == 1


def test_email_is_unique_case_insensitively(api: Any) -> None:
    api.user(email="Ada@Example.com")
    body = {"email": "ada@example.COM", "first_name": "A", "last_name": "B"}
    api.error(api.post("/api/v3/users", json=body), 409, "conflict")


def test_microchip_is_unique_and_not_updatable(api: Any) -> None:
    pet = api.pet("v2", microchip_id="123456789012345")
    owner = pet["owner_id"]
    body = {"name": "B", "species": "cat", "owner_id": owner, "microchip_id": "123456789012345"}
    api.error(api.post("/api/v3/pets", json=body), 409, "conflict")
    update = api.put(f"/api/v2/pets/{pet['id']}", json={"microchip_id": "999999999999999"})
    assert api.error(update, 422, "validation_error")["details"][0]["field"] == "microchip_id"
    api.delete(f"/api/v2/pets/{pet['id']}")
    assert api.pet("v2", owner_id=owner, microchip_id="123456789012345")


def test_appointment_slot_conflicts(api: Any) -> None:
    pet = api.pet()
    first = api.appointment(pet=pet, scheduled_at="2031-05-04T10:30:00Z")
    body = {
        "pet_id": pet["id"],
        "user_id": pet["owner_id"],
        "scheduled_at": "2031-05-04T12:30:00+02:00",  # the same instant
        "reason": "Again",
    }
    api.error(api.post("/api/v1/appointments", json=body), 409, "conflict")
    api.appointment(pet=api.pet(), scheduled_at="2031-05-04T10:30:00Z")  # other pet: fine
    later = api.appointment(pet=pet, scheduled_at="2031-05-05T10:30:00Z")
    move = api.put(f"/api/v1/appointments/{later['id']}", json={"scheduled_at": FUTURE_SLOT})
    api.error(move, 409, "conflict")
    api.put(f"/api/v1/appointments/{first['id']}", json={"status": "cancelled"})
    assert api.post("/api/v1/appointments", json=body).status_code == 201
    revive = api.put(f"/api/v1/appointments/{first['id']}", json={"status": "scheduled"})
    api.error(revive, 409, "conflict")


def test_v3_cancel(api: Any) -> None:
    appointment = api.appointment("v3")
    url = f"/api/v3/appointments/{appointment['id']}/cancel"
    cancelled = api.data(api.post(url, json={"reason": "Owner ill"}))
    assert list(cancelled) == APPOINTMENT_KEYS["v3"]
    assert (cancelled["status"], cancelled["cancellation_reason"]) == ("cancelled", "Owner ill")
    assert api.data(api.get(f"/api/v2/appointments/{appointment['id']}"))["status"] == "cancelled"
    api.error(api.post(url, json={"reason": "Again"}), 409, "conflict")
    api.error(api.post(url, json={"reason": ""}), 422, "validation_error")
    api.error(api.post(url, json={}), 422, "validation_error")
    unknown = "/api/v3/appointments/00000000-0000-4000-8000-000000000000/cancel"
    api.error(api.post(unknown, json={"reason": "x"}), 404, "not_found")
    reopened = api.put(f"/api/v3/appointments/{appointment['id']}", json={"status": "scheduled"})
    assert api.data(reopened)["cancellation_reason"] is None


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_cancel_does_not_exist_before_v3(api: Any, version: str) -> None:
    appointment = api.appointment(version)
    url = f"/api/{version}/appointments/{appointment['id']}/cancel"
    api.error(api.post(url, json={"reason": "x"}), 404, "not_found")


def test_statistics(api: Any) -> None:
    empty = api.data(api.get("/api/v2/statistics"))
    assert empty == {
        "total_pets": 0,
        "total_users": 0,
        "total_appointments": 0,
        "total_health_records": 0,
        "pets_by_species": {},
        "appointments_by_status": {},
    }
    dog = api.pet()
    api.pet(owner_id=dog["owner_id"], species="cat")
    api.pet(owner_id=dog["owner_id"], species="cat")
    appointment = api.appointment(pet=dog)
    api.appointment(pet=dog, scheduled_at="2031-01-01T00:00:00Z")
    api.put(f"/api/v1/appointments/{appointment['id']}", json={"status": "completed"})
    api.health_record(pet_id=dog["id"])
    stats = api.data(api.get("/api/v3/statistics"))
    assert stats == {
        "total_pets": 3,
        "total_users": 1,
        "total_appointments": 2,
        "total_health_records": 1,
        "pets_by_species": {"dog": 1, "cat": 2},
        "appointments_by_status": {"completed": 1, "scheduled": 1},
    }


# --- routing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "version"),
    [
        ("GET", "/api/v1/health-records", "v1"),
        ("POST", "/api/v1/health-records", "v1"),
        ("GET", "/api/v1/statistics", "v1"),
        ("POST", "/api/v1/pets/batch", "v1"),
        ("POST", "/api/v3/pets/batch", "v3"),
        ("GET", "/api/v3/nothing", "v3"),
        ("GET", "/api/v1", "v1"),
        ("GET", "/api/v9/pets", None),
        ("GET", "/", None),
        ("GET", "/api/v2/pets/not-a-known-id", "v2"),
    ],
)
def test_unknown_routes_are_404_envelopes(api: Any, method: str, path: str, version: str | None) -> None:
    response = api.request(method, path, json={"items": []}, follow_redirects=True)
    api.error(response, 404, "not_found")
    assert response.json()["version"] == version


def test_wrong_method_is_405_envelope(api: Any) -> None:
    response = api.delete("/api/v2/pets")
    error = api.error(response, 405, "method_not_allowed")
    assert "DELETE" in error["message"]
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_trailing_slash_redirects(api: Any) -> None:
    response = api.get("/api/v1/pets/", follow_redirects=True)
    assert api.data(response)["pets"] == []


def test_apps_are_isolated(make_api: Any) -> None:
    first, second = make_api(), make_api()
    first.user()
    assert first.data(first.get("/api/v1/users"))["total"] == 1
    assert second.data(second.get("/api/v1/users"))["total"] == 0


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "petstore", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        timeout=30,
    )
    assert "--port" in result.stdout
    assert "--host" in result.stdout
    assert "127.0.0.1" in result.stdout


def test_cli_parses_arguments() -> None:
    from petstore.__main__ import parse_args  # noqa: PLC0415

    args = parse_args(["--port", "8123"])
    assert (args.host, args.port) == ("127.0.0.1", 8123)
    assert parse_args(["--host", "0.0.0.0", "--port", "1"]).host == "0.0.0.0"
