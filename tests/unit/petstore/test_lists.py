"""List endpoints of the Pets API: pagination shapes, filters, sorting and batch creation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from petstore.timeutil import dob_for_age


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


# --- pagination ---------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_flat_pagination(api: Any, version: str) -> None:
    owner = api.user()["id"]
    for i in range(5):
        api.pet(owner_id=owner, name=f"Pet{i}")
    data = api.data(api.get(f"/api/{version}/pets", params={"page": 2, "per_page": 2}))
    assert list(data) == ["total", "page", "per_page", "total_pages", "pets"]
    assert (data["total"], data["page"], data["per_page"], data["total_pages"]) == (5, 2, 2, 3)
    assert _names(data["pets"]) == ["Pet2", "Pet3"]
    last = api.data(api.get(f"/api/{version}/pets", params={"page": 3, "per_page": 2}))
    assert _names(last["pets"]) == ["Pet4"]
    beyond = api.data(api.get(f"/api/{version}/pets", params={"page": 9, "per_page": 2}))
    assert beyond["pets"] == []
    assert beyond["total"] == 5


def test_nested_pagination(api: Any) -> None:
    owner = api.user()["id"]
    for i in range(3):
        api.pet(owner_id=owner, name=f"Pet{i}")
    data = api.data(api.get("/api/v3/pets", params={"per_page": 2}))
    assert list(data) == ["items", "pagination"]
    assert data["pagination"] == {"total": 3, "page": 1, "per_page": 2, "total_pages": 2}
    assert _names(data["items"]) == ["Pet0", "Pet1"]
    assert list(data["items"][0]) == list(api.data(api.get(f"/api/v3/pets/{data['items'][0]['id']}")))


@pytest.mark.parametrize(
    ("version", "path", "collection"),
    [
        ("v1", "/pets", "pets"),
        ("v1", "/users", "users"),
        ("v1", "/appointments", "appointments"),
        ("v2", "/health-records", "health_records"),
    ],
)
def test_empty_collections(api: Any, version: str, path: str, collection: str) -> None:
    data = api.data(api.get(f"/api/{version}{path}"))
    assert data == {"total": 0, "page": 1, "per_page": 20, "total_pages": 0, collection: []}
    nested = api.data(api.get(f"/api/v3{path}"))
    assert nested == {
        "items": [],
        "pagination": {"total": 0, "page": 1, "per_page": 20, "total_pages": 0},
    }


def test_per_page_bounds(api: Any) -> None:
    assert api.data(api.get("/api/v1/users", params={"per_page": 100}))["per_page"] == 100
    assert api.data(api.get("/api/v1/users", params={"per_page": 1}))["per_page"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "page"),
        ({"page": -1}, "page"),
        ({"page": "x"}, "page"),
        ({"page": "1.5"}, "page"),
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/pets", "/api/v2/users", "/api/v3/health-records"])
def test_invalid_paging_is_422(api: Any, path: str, params: dict[str, Any], field: str) -> None:
    error = api.error(api.get(path, params=params), 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == [field]


# --- filters ------------------------------------------------------------------------


def test_v1_pet_filters(api: Any) -> None:
    alice, bob = api.user()["id"], api.user()["id"]
    api.pet(owner_id=alice, name="A", species="cat")
    api.pet(owner_id=alice, name="B")
    api.pet(owner_id=bob, name="C", species="cat")
    cats = api.data(api.get("/api/v1/pets", params={"species": "cat"}))
    assert _names(cats["pets"]) == ["A", "C"]
    assert cats["total"] == 2
    both = api.data(api.get("/api/v1/pets", params={"species": "cat", "owner_id": alice}))
    assert _names(both["pets"]) == ["A"]
    # Enhanced filters and unknown parameters are ignored in v1.
    ignored = {"search": "zzz", "sort": "bogus", "temperament": "calm", "colour": "red"}
    assert api.data(api.get("/api/v1/pets", params=ignored))["total"] == 3


def test_v2_enhanced_pet_filters(api: Any) -> None:
    owner = api.user()["id"]
    api.pet("v2", owner_id=owner, name="Biscuit", age=2, temperament="calm")
    api.pet("v2", owner_id=owner, name="apollo", age=8, temperament="playful")
    api.pet("v2", owner_id=owner, name="Cookie", temperament="calm")
    api.pet("v2", owner_id=owner, name="Bella", age=5)

    def names(**params: Any) -> list[str]:
        data = api.data(api.get("/api/v2/pets", params=params))
        return _names(data["pets"])

    assert names(temperament="calm") == ["Biscuit", "Cookie"]
    assert names(search="BI") == ["Biscuit"]
    assert names(search="o") == ["apollo", "Cookie"]
    assert names(min_age=3) == ["apollo", "Bella"]
    assert names(max_age=5) == ["Biscuit", "Bella"]
    assert names(min_age=2, max_age=2) == ["Biscuit"]
    assert names(sort="name") == ["Bella", "Biscuit", "Cookie", "apollo"]
    assert names(sort="-name") == ["apollo", "Cookie", "Biscuit", "Bella"]
    assert names(sort="created_at") == ["Biscuit", "apollo", "Cookie", "Bella"]
    assert names(sort="-created_at") == ["Bella", "Cookie", "apollo", "Biscuit"]
    assert names(sort="-name", temperament="calm", per_page=1) == ["Cookie"]
    assert names(born_after="2999-01-01") == names()  # a v3 filter: ignored in v2
    for params in ({"sort": "age"}, {"min_age": "old"}, {"max_age": "1.5"}):
        error = api.error(api.get("/api/v2/pets", params=params), 422, "validation_error")
        assert error["details"][0]["field"] == next(iter(params))


def test_v3_pet_filters(api: Any) -> None:
    owner = api.user()["id"]
    api.pet("v3", owner_id=owner, name="Old", date_of_birth="2015-06-01")
    api.pet("v3", owner_id=owner, name="Young", date_of_birth="2022-01-15", temperament="calm")
    api.pet("v3", owner_id=owner, name="Unknown")

    def names(**params: Any) -> list[str]:
        return _names(api.data(api.get("/api/v3/pets", params=params))["items"])

    assert names(born_after="2020-01-01") == ["Young"]
    assert names(born_before="2020-01-01") == ["Old"]
    assert names(born_after="2015-06-01", born_before="2022-01-15") == ["Old", "Young"]
    assert names(temperament="calm", search="you", sort="-name") == ["Young"]
    assert names(min_age=100) == ["Old", "Young", "Unknown"]  # a v2 filter: ignored in v3
    for params in ({"born_after": "2020-13-01"}, {"born_before": "yesterday"}, {"sort": "dob"}):
        error = api.error(api.get("/api/v3/pets", params=params), 422, "validation_error")
        assert error["details"][0]["field"] == next(iter(params))


def test_age_filters_follow_v3_birth_dates(api: Any) -> None:
    owner = api.user()["id"]
    dob = dob_for_age(4, date.today()).isoformat()
    api.pet("v3", owner_id=owner, name="Four", date_of_birth=dob)
    data = api.data(api.get("/api/v2/pets", params={"min_age": 4, "max_age": 4}))
    assert _names(data["pets"]) == ["Four"]
    assert data["pets"][0]["age"] == 4


def test_user_email_filter(api: Any) -> None:
    api.user(email="First@Example.com")
    api.user(email="second@example.com")
    data = api.data(api.get("/api/v3/users", params={"email": "first@EXAMPLE.com"}))
    assert [user["email"] for user in data["items"]] == ["First@Example.com"]
    assert api.data(api.get("/api/v1/users", params={"email": "none@x.io"}))["users"] == []


def test_appointment_filters(api: Any) -> None:
    pet, other = api.pet(), api.pet()
    first = api.appointment(pet=pet, scheduled_at="2031-01-01T09:00:00Z")
    second = api.appointment(pet=pet, scheduled_at="2031-02-01T09:00:00+01:00")
    third = api.appointment(pet=other, scheduled_at="2031-03-01T09:00:00Z")
    api.put(f"/api/v1/appointments/{second['id']}", json={"status": "confirmed"})

    def ids(version: str = "v2", **params: Any) -> list[str]:
        data = api.data(api.get(f"/api/{version}/appointments", params=params))
        return [a["id"] for a in data.get("appointments", data.get("items", []))]

    assert ids(pet_id=pet["id"]) == [first["id"], second["id"]]
    assert ids(user_id=other["owner_id"]) == [third["id"]]
    assert ids(status="confirmed") == [second["id"]]
    assert ids(status="scheduled", pet_id=pet["id"]) == [first["id"]]
    assert ids(**{"from": "2031-02-01T08:00:00Z"}) == [second["id"], third["id"]]
    assert ids(**{"to": "2031-02-01T08:00:00+00:00"}) == [first["id"], second["id"]]
    assert ids("v3", **{"from": "2031-01-15T00:00:00Z", "to": "2031-02-15T00:00:00Z"}) == [second["id"]]
    assert ids("v1", **{"from": "2031-02-01T08:00:00Z"}) == ids("v1")  # v1: ignored
    for params in ({"from": "2031-01-01"}, {"to": "2031-01-01T00:00:00"}):
        error = api.error(api.get("/api/v2/appointments", params=params), 422, "validation_error")
        assert error["details"][0]["field"] == next(iter(params))


def test_health_record_filters(api: Any) -> None:
    pet, other = api.pet(), api.pet()
    first = api.health_record(pet_id=pet["id"])
    api.health_record(pet_id=pet["id"], record_type="checkup")
    api.health_record(pet_id=other["id"])
    data = api.data(api.get("/api/v2/health-records", params={"pet_id": pet["id"]}))
    assert data["total"] == 2
    params = {"pet_id": pet["id"], "record_type": "vaccination"}
    data = api.data(api.get("/api/v3/health-records", params=params))
    assert [record["id"] for record in data["items"]] == [first["id"]]


# --- batch --------------------------------------------------------------------------


def test_batch_creates_all(api: Any) -> None:
    owner = api.user()["id"]
    items = [
        {"name": "A", "species": "dog", "owner_id": owner, "age": 1},
        {"name": "B", "species": "cat", "owner_id": owner, "microchip_id": "123456789012345"},
    ]
    data = api.data(api.post("/api/v2/pets/batch", json={"items": items}), 201)
    assert data["count"] == 2
    assert _names(data["created"]) == ["A", "B"]
    assert data["created"][0]["age"] == 1
    assert len(data["created"][1]) == 14
    assert api.data(api.get("/api/v2/pets"))["total"] == 2


def test_batch_is_atomic_on_invalid_items(api: Any) -> None:
    owner = api.user()["id"]
    items = [
        {"name": "Good", "species": "dog", "owner_id": owner},
        {"name": "", "species": "dog", "owner_id": owner},
        {"name": "Also good", "species": "cat", "owner_id": owner},
        {"name": "Bad", "species": "fish", "owner_id": owner, "extra": 1},
    ]
    response = api.post("/api/v2/pets/batch", json={"items": items})
    error = api.error(response, 422, "validation_error")
    assert {(d["index"], d["field"]) for d in error["details"]} == {
        (1, "name"),
        (3, "species"),
        (3, "extra"),
    }
    assert api.data(api.get("/api/v2/pets"))["total"] == 0


def test_batch_is_atomic_on_unknown_owner_and_microchips(api: Any) -> None:
    owner = api.user()["id"]
    good = {"name": "Good", "species": "dog", "owner_id": owner}
    lost = {"name": "Lost", "species": "dog", "owner_id": "00000000-0000-4000-8000-000000000000"}
    error = api.error(api.post("/api/v2/pets/batch", json={"items": [good, lost]}), 422, "validation_error")
    assert [(d["index"], d["field"]) for d in error["details"]] == [(1, "owner_id")]
    chip = {**good, "microchip_id": "123456789012345"}
    api.error(api.post("/api/v2/pets/batch", json={"items": [chip, chip]}), 409, "conflict")
    api.pet("v2", owner_id=owner, microchip_id="123456789012345")
    api.error(api.post("/api/v2/pets/batch", json={"items": [good, chip]}), 409, "conflict")
    assert api.data(api.get("/api/v2/pets"))["total"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({}, "items"),
        ({"items": "nope"}, "items"),
        ({"items": [], "dry_run": True}, "dry_run"),
    ],
)
def test_batch_body_validation(api: Any, body: dict[str, Any], field: str) -> None:
    error = api.error(api.post("/api/v2/pets/batch", json=body), 422, "validation_error")
    assert field in {detail["field"] for detail in error["details"]}


def test_batch_size_limit(api: Any) -> None:
    owner = api.user()["id"]
    items = [{"name": f"P{i}", "species": "dog", "owner_id": owner} for i in range(51)]
    error = api.error(api.post("/api/v2/pets/batch", json={"items": items}), 422, "validation_error")
    assert error["details"][0]["field"] == "items"
    data = api.data(api.post("/api/v2/pets/batch", json={"items": items[:50]}), 201)
    assert data["count"] == 50


def test_batch_non_object_body(api: Any) -> None:
    api.error(api.post("/api/v2/pets/batch", content=b"[]"), 400, "bad_request")


@pytest.mark.parametrize("version", ["v1", "v3"])
def test_batch_only_exists_in_v2(api: Any, version: str) -> None:
    owner = api.user()["id"]
    body = {"items": [{"name": "A", "species": "dog", "owner_id": owner}]}
    api.error(api.post(f"/api/{version}/pets/batch", json=body), 404, "not_found")
    assert api.data(api.get("/api/v2/pets"))["total"] == 0
