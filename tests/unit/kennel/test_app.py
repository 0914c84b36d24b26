"""Behaviour of the Kennel API (tests/kennel): each version's shapes, envelopes, redirects and errors."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.kennel.app import create_app

REPO = Path(__file__).resolve().parents[3]
BASE = "http://testserver"
USER_KEYS = {
    "v1": ["id", "email", "name", "phone", "created_at"],
    "v2": ["id", "email", "name", "phone_number", "preferences", "roles", "created_at"],
}
PET_KEYS = {
    "v1": ["id", "name", "species", "owner_id", "age", "created_at"],
    "v2": ["id", "name", "species", "owner_id", "birth_date", "tags", "attributes", "created_at", "href"],
}
RECORD_KEYS = ["id", "pet_id", "kind", "date", "notes", "created_at"]
VERSIONS = ("v1", "v2")


@pytest.fixture
def app() -> FastAPI:
    """A fresh app, with its own empty store."""
    return create_app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``app``, in process."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client


class Make:
    """Creates records through the API and returns what the API answered (``data``, or the bare record)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.count = 0

    async def user(self, version: str = "v1", **fields: Any) -> dict[str, Any]:
        self.count += 1
        body = {"email": f"user{self.count}@example.com", "name": "Ada", **fields}
        return await self._created(f"/api/{version}/users/", body)

    async def pet(self, version: str = "v1", owner_id: str | None = None, **fields: Any) -> dict[str, Any]:
        owner = owner_id or (await self.user())["id"]
        return await self._created(
            f"/api/{version}/pets/", {"name": "Rex", "species": "dog", "owner_id": owner, **fields}
        )

    async def record(self, pet_id: str, **fields: Any) -> dict[str, Any]:
        body = {"kind": "vaccination", "date": "2024-03-01", **fields}
        response = await self.client.post(f"/api/v2/pets/{pet_id}/health-records", json=body)
        assert response.status_code == 201, response.text
        record: dict[str, Any] = response.json()
        return record

    async def _created(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(url, json=body)
        assert response.status_code == 201, response.text
        envelope = response.json()
        assert list(envelope) == ["success", "data", "version"]
        assert envelope["success"] is True
        assert envelope["version"] == url.split("/")[2]
        data: dict[str, Any] = envelope["data"]
        return data


@pytest.fixture
def make(client: httpx.AsyncClient) -> Make:
    """Record factories for ``client``."""
    return Make(client)


def _data(response: httpx.Response, version: str) -> Any:
    """The ``data`` of a 200 single-record envelope."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"success": True, "data": body["data"], "version": version}
    return body["data"]


def _problems(response: httpx.Response) -> dict[str, str]:
    """A 422 validation error as {field: error type}, checking FastAPI's default shape."""
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list)
    for error in detail:
        assert {"loc", "msg", "type"} <= set(error)
    return {str(error["loc"][-1]): error["type"] for error in detail}


def _is_utc_timestamp(value: str) -> bool:
    """An ISO 8601 date-time in UTC, spelled with ``Z``."""
    return value.endswith("Z") and datetime.fromisoformat(value).utcoffset() is not None


# --- shapes ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_created_records_have_the_versions_fields(make: Make, version: str) -> None:
    user = await make.user(version)
    pet = await make.pet(version, owner_id=user["id"])
    assert list(user) == USER_KEYS[version]
    assert list(pet) == PET_KEYS[version]
    for record in (user, pet):
        assert uuid.UUID(record["id"]).version == 4
        assert _is_utc_timestamp(record["created_at"])
    assert pet["owner_id"] == user["id"]


async def test_v2_defaults_and_href(make: Make) -> None:
    user = await make.user("v2")
    assert (user["phone_number"], user["preferences"], user["roles"]) == (None, {}, [])
    pet = await make.pet("v2", owner_id=user["id"])
    assert (pet["birth_date"], pet["tags"], pet["attributes"]) == (None, [], {})
    assert pet["href"] == f"/api/v2/pets/{pet['id']}"


async def test_one_store_seen_through_both_versions(client: httpx.AsyncClient, make: Make) -> None:
    user = await make.user("v1", phone="+44 20 7946 0000")
    seen = _data(await client.get(f"/api/v2/users/{user['id']}"), "v2")
    assert seen["phone_number"] == "+44 20 7946 0000"
    assert "phone" not in seen
    pet = await make.pet("v2", owner_id=user["id"], birth_date="2020-02-29", tags=["good"])
    assert _data(await client.get(f"/api/v1/pets/{pet['id']}"), "v1") == {key: pet.get(key) for key in PET_KEYS["v1"]}


async def test_apps_share_nothing(make: Make) -> None:
    await make.user()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url=BASE) as other:
        body = (await other.get("/api/v1/users/")).json()
    assert body["data"] == []


# --- users ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_user_crud(client: httpx.AsyncClient, make: Make, version: str) -> None:
    phone = "phone" if version == "v1" else "phone_number"
    user = await make.user(version, **{phone: "555-0100"})
    url = f"/api/{version}/users/{user['id']}"
    assert _data(await client.get(url), version) == user

    updated = _data(await client.put(url, json={"name": "Grace"}), version)
    assert updated == {**user, "name": "Grace"}
    cleared = _data(await client.put(url, json={phone: None}), version)
    assert cleared[phone] is None
    assert cleared["name"] == "Grace"

    response = await client.delete(url)
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "User deleted", "user_id": user["id"]}
    for method in ("GET", "DELETE"):
        response = await client.request(method, url)
        assert (response.status_code, response.json()) == (404, {"detail": "User not found"})
    response = await client.put(url, json={"name": "x"})
    assert (response.status_code, response.json()) == (404, {"detail": "User not found"})


async def test_v2_user_update_fields(client: httpx.AsyncClient, make: Make) -> None:
    user = await make.user("v2", preferences={"lang": "en"}, roles=["owner"])
    url = f"/api/v2/users/{user['id']}"
    updated = _data(await client.put(url, json={"preferences": {"lang": "fr"}, "roles": []}), "v2")
    assert (updated["preferences"], updated["roles"]) == ({"lang": "fr"}, [])
    assert _problems(await client.put(url, json={"email": "new@example.com"})) == {"email": "extra_forbidden"}
    assert _problems(await client.put(url, json={"name": None, "roles": None})) == {
        "name": "value_error",
        "roles": "value_error",
    }


async def test_duplicate_email_is_409(client: httpx.AsyncClient, make: Make) -> None:
    await make.user(email="same@example.com")
    for version in VERSIONS:
        response = await client.post(f"/api/{version}/users/", json={"email": "same@example.com", "name": "B"})
        assert (response.status_code, response.json()) == (409, {"detail": "email already registered"})


@pytest.mark.parametrize(
    ("version", "body", "problems"),
    [
        ("v1", {"name": "A"}, {"email": "missing"}),
        ("v1", {"email": "no-at-sign", "name": "A"}, {"email": "string_pattern_mismatch"}),
        ("v1", {"email": "a@b.c", "name": ""}, {"name": "string_too_short"}),
        ("v1", {"email": "a@b.c", "name": 12345}, {"name": "string_type"}),
        ("v1", {"email": "a@b.c", "name": "A", "phone_number": "1"}, {"phone_number": "extra_forbidden"}),
        ("v2", {"email": "a@b.c", "name": "A", "phone": "1"}, {"phone": "extra_forbidden"}),
        ("v2", {"email": "a@b.c", "name": "A", "preferences": "dark"}, {"preferences": "dict_type"}),
        ("v2", {"email": "a@b.c", "name": "A", "preferences": {"n": 1}}, {"n": "string_type"}),
        ("v2", {"email": "a@b.c", "name": "A", "roles": "admin"}, {"roles": "list_type"}),
    ],
)
async def test_user_validation(
    client: httpx.AsyncClient, version: str, body: dict[str, Any], problems: dict[str, str]
) -> None:
    assert _problems(await client.post(f"/api/{version}/users/", json=body)) == problems


@pytest.mark.parametrize("version", VERSIONS)
async def test_user_list_pagination(client: httpx.AsyncClient, make: Make, version: str) -> None:
    users = [await make.user(version) for _ in range(5)]
    response = await client.get(f"/api/{version}/users/", params={"page": 2, "per_page": 2})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["success", "data", "pagination", "version"]
    assert (body["success"], body["version"]) == (True, version)
    assert body["data"] == users[2:4]
    assert body["pagination"] == {"page": 2, "per_page": 2, "total": 5, "pages": 3}
    default = (await client.get(f"/api/{version}/users/")).json()["pagination"]
    assert default == {"page": 1, "per_page": 20, "total": 5, "pages": 1}
    beyond = (await client.get(f"/api/{version}/users/", params={"page": 9})).json()
    assert beyond["data"] == []


async def test_empty_list_has_no_pages(client: httpx.AsyncClient) -> None:
    users = (await client.get("/api/v1/users/")).json()
    assert users["pagination"] == {"page": 1, "per_page": 20, "total": 0, "pages": 0}
    pets = (await client.get("/api/v2/pets/")).json()
    assert pets["data"] == {"pets": [], "total": 0, "page": 1, "per_page": 20, "total_pages": 0}


@pytest.mark.parametrize("params", [{"page": 0}, {"per_page": 0}, {"per_page": 101}, {"page": "two"}])
@pytest.mark.parametrize("collection", ["users", "pets"])
async def test_bad_pagination_is_422(client: httpx.AsyncClient, collection: str, params: dict[str, Any]) -> None:
    response = await client.get(f"/api/v1/{collection}/", params=params)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", *params]


# --- pets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
async def test_pet_crud(client: httpx.AsyncClient, make: Make, version: str) -> None:
    pet = await make.pet(version)
    url = f"/api/{version}/pets/{pet['id']}"
    assert _data(await client.get(url), version) == pet
    changes: dict[str, Any] = (
        {"name": "Max", "age": 4} if version == "v1" else {"name": "Max", "birth_date": "2021-06-01"}
    )
    assert _data(await client.put(url, json=changes), version) == {**pet, **changes}
    assert _data(await client.put(url, json={}), version)["name"] == "Max"

    response = await client.delete(url)
    assert (response.status_code, response.content) == (204, b"")
    assert "content-type" not in response.headers
    for method in ("GET", "DELETE"):
        response = await client.request(method, url)
        assert (response.status_code, response.json()) == (404, {"detail": "Pet not found"})


async def test_v2_pet_update_fields(client: httpx.AsyncClient, make: Make) -> None:
    pet = await make.pet("v2", tags=["a"], attributes={"colour": "black"}, birth_date="2020-01-01")
    url = f"/api/v2/pets/{pet['id']}"
    changes: dict[str, Any] = {"tags": ["a", "b"], "attributes": {}, "birth_date": None}
    assert _data(await client.put(url, json=changes), "v2") == {**pet, **changes}
    assert _problems(await client.put(url, json={"age": 3})) == {"age": "extra_forbidden"}
    assert _problems(await client.put(url, json={"owner_id": pet["owner_id"]})) == {"owner_id": "extra_forbidden"}
    v1_url = f"/api/v1/pets/{pet['id']}"
    assert _problems(await client.put(v1_url, json={"tags": []})) == {"tags": "extra_forbidden"}


async def test_pet_owner_must_exist(client: httpx.AsyncClient) -> None:
    for version in VERSIONS:
        body = {"name": "Rex", "species": "dog", "owner_id": str(uuid.uuid4())}
        response = await client.post(f"/api/{version}/pets/", json=body)
        assert (response.status_code, response.json()) == (422, {"detail": "owner_id: no such user"})


@pytest.mark.parametrize(
    ("version", "fields", "problems"),
    [
        ("v1", {"species": "fish"}, {"species": "literal_error"}),
        ("v1", {"name": ""}, {"name": "string_too_short"}),
        ("v1", {"age": 51}, {"age": "less_than_equal"}),
        ("v1", {"age": -1}, {"age": "greater_than_equal"}),
        ("v1", {"age": "3"}, {"age": "int_type"}),
        ("v1", {"birth_date": "2020-01-01"}, {"birth_date": "extra_forbidden"}),
        ("v2", {"age": 3}, {"age": "extra_forbidden"}),
        ("v2", {"birth_date": "31/12/2020"}, {"birth_date": "value_error"}),
        ("v2", {"birth_date": 0}, {"birth_date": "value_error"}),
        ("v2", {"birth_date": "2021-02-30"}, {"birth_date": "date_from_datetime_parsing"}),
        ("v2", {"tags": "good"}, {"tags": "list_type"}),
        ("v2", {"tags": [1]}, {"0": "string_type"}),
        ("v2", {"attributes": ["a"]}, {"attributes": "dict_type"}),
    ],
)
async def test_pet_validation(
    client: httpx.AsyncClient, make: Make, version: str, fields: dict[str, Any], problems: dict[str, str]
) -> None:
    owner = await make.user()
    body = {"name": "Rex", "species": "dog", "owner_id": owner["id"], **fields}
    assert _problems(await client.post(f"/api/{version}/pets/", json=body)) == problems


async def test_missing_required_pet_fields(client: httpx.AsyncClient) -> None:
    assert _problems(await client.post("/api/v2/pets/", json={})) == {
        "name": "missing",
        "species": "missing",
        "owner_id": "missing",
    }


@pytest.mark.parametrize("version", VERSIONS)
async def test_pet_list_filter_and_pagination(client: httpx.AsyncClient, make: Make, version: str) -> None:
    ada, bob = await make.user(), await make.user()
    adas = [await make.pet(version, owner_id=ada["id"], name=f"A{i}") for i in range(3)]
    await make.pet(version, owner_id=bob["id"])
    response = await client.get(f"/api/{version}/pets/", params={"owner_id": ada["id"], "per_page": 2, "page": 2})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["success", "data", "version"]
    assert (body["success"], body["version"]) == (True, version)
    assert list(body["data"]) == ["pets", "total", "page", "per_page", "total_pages"]
    assert body["data"] == {"pets": adas[2:], "total": 3, "page": 2, "per_page": 2, "total_pages": 2}
    everyone = (await client.get(f"/api/{version}/pets/")).json()["data"]
    assert everyone["total"] == 4
    nobody = (await client.get(f"/api/{version}/pets/", params={"owner_id": "nobody"})).json()["data"]
    assert (nobody["pets"], nobody["total"]) == ([], 0)


async def test_deleting_a_user_leaves_their_pets(client: httpx.AsyncClient, make: Make) -> None:
    pet = await make.pet()
    assert (await client.delete(f"/api/v1/users/{pet['owner_id']}")).status_code == 200
    assert _data(await client.get(f"/api/v1/pets/{pet['id']}"), "v1") == pet


# --- health records (v2) --------------------------------------------------------------------


async def test_health_record_crud(client: httpx.AsyncClient, make: Make) -> None:
    pet = await make.pet("v2")
    record = await make.record(pet["id"], notes="Rabies")
    assert list(record) == RECORD_KEYS
    assert (record["pet_id"], record["kind"], record["date"], record["notes"]) == (
        pet["id"],
        "vaccination",
        "2024-03-01",
        "Rabies",
    )
    assert _is_utc_timestamp(record["created_at"])
    url = f"/api/v2/pets/{pet['id']}/health-records/{record['id']}"

    response = await client.get(url)
    assert (response.status_code, response.json()) == (200, record)
    listed = await client.get(f"/api/v2/pets/{pet['id']}/health-records")
    assert (listed.status_code, listed.json()) == (200, [record])

    response = await client.put(url, json={"kind": "checkup", "notes": None})
    assert (response.status_code, response.json()) == (200, {**record, "kind": "checkup", "notes": None})

    response = await client.delete(url)
    assert (response.status_code, response.content) == (204, b"")
    response = await client.get(url)
    assert (response.status_code, response.json()) == (404, {"detail": "Health record not found"})
    assert (await client.get(f"/api/v2/pets/{pet['id']}/health-records")).json() == []


async def test_health_records_belong_to_their_pet(client: httpx.AsyncClient, make: Make) -> None:
    pet, other = await make.pet("v2"), await make.pet("v2")
    record = await make.record(pet["id"])
    await make.record(other["id"])
    listed = (await client.get(f"/api/v2/pets/{pet['id']}/health-records")).json()
    assert listed == [record]
    response = await client.get(f"/api/v2/pets/{other['id']}/health-records/{record['id']}")
    assert (response.status_code, response.json()) == (404, {"detail": "Health record not found"})


async def test_health_records_of_a_missing_pet_are_404(client: httpx.AsyncClient) -> None:
    base = f"/api/v2/pets/{uuid.uuid4()}/health-records"
    for method, url, body in [
        ("GET", base, None),
        ("POST", base, {"kind": "checkup", "date": "2024-01-01"}),
        ("GET", f"{base}/{uuid.uuid4()}", None),
        ("PUT", f"{base}/{uuid.uuid4()}", {}),
        ("DELETE", f"{base}/{uuid.uuid4()}", None),
    ]:
        response = await client.request(method, url, json=body)
        assert (response.status_code, response.json()) == (404, {"detail": "Pet not found"}), (method, url)


async def test_deleting_a_pet_deletes_its_health_records(app: FastAPI, client: httpx.AsyncClient, make: Make) -> None:
    pet, other = await make.pet("v2"), await make.pet("v2")
    await make.record(pet["id"])
    kept = await make.record(other["id"])
    assert (await client.delete(f"/api/v1/pets/{pet['id']}")).status_code == 204
    assert list(app.state.store.records) == [kept["id"]]


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({"date": "2024-01-01"}, {"kind": "missing"}),
        ({"kind": "grooming", "date": "2024-01-01"}, {"kind": "literal_error"}),
        ({"kind": "checkup"}, {"date": "missing"}),
        ({"kind": "checkup", "date": "2024-01-01T00:00:00"}, {"date": "value_error"}),
        ({"kind": "checkup", "date": "2024-01-01", "pet_id": "x"}, {"pet_id": "extra_forbidden"}),
    ],
)
async def test_health_record_validation(
    client: httpx.AsyncClient, make: Make, body: dict[str, Any], problems: dict[str, str]
) -> None:
    pet = await make.pet("v2")
    assert _problems(await client.post(f"/api/v2/pets/{pet['id']}/health-records", json=body)) == problems


async def test_health_records_are_v2_only(client: httpx.AsyncClient, make: Make) -> None:
    pet = await make.pet("v1")
    response = await client.get(f"/api/v1/pets/{pet['id']}/health-records")
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


# --- routing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "target"), [("/api/v1/pets", "/api/v1/pets/"), ("/api/v2/users", "/api/v2/users/")])
async def test_collection_without_slash_redirects(client: httpx.AsyncClient, path: str, target: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = await client.request(method, path)
        assert response.status_code == 307, method
        assert response.headers["location"] == BASE + target
        assert response.content == b""


async def test_item_with_slash_redirects(client: httpx.AsyncClient, make: Make) -> None:
    pet = await make.pet("v2")
    for path in (f"/api/v2/pets/{pet['id']}/", f"/api/v2/pets/{pet['id']}/health-records/", "/api/v1/users/nobody/"):
        response = await client.get(path)
        assert response.status_code == 307
        assert response.headers["location"] == BASE + path.rstrip("/")


async def test_a_followed_redirect_keeps_the_post_body(client: httpx.AsyncClient, make: Make) -> None:
    owner = await make.user()
    body = {"name": "Rex", "species": "cat", "owner_id": owner["id"]}
    response = await client.post("/api/v1/pets", json=body, follow_redirects=True)
    assert response.status_code == 201
    assert [r.status_code for r in response.history] == [307]
    assert response.json()["data"]["species"] == "cat"


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/pets/")
    assert (response.status_code, response.json()) == (405, {"detail": "Method Not Allowed"})


@pytest.mark.parametrize("path", ["/api/v9/pets/", "/api/v9/pets", "/api/pets/", "/pets/"])
async def test_unknown_version_is_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


async def test_a_body_without_content_type_is_not_json(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/users/", content=b'{"email": "a@b.c", "name": "A"}')
    assert _problems(response) == {"body": "model_attributes_type"}


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.kennel", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        timeout=30,
    )
    assert "--port" in result.stdout
    assert "127.0.0.1" in result.stdout
