"""The Kennel API: users, pets and (v2 only) a pet's health records, under ``/api/v1`` and ``/api/v2``.

Its shapes differ from petstore's on purpose: collections end in a slash and items do not
(FastAPI answers the other spelling with a 307), each resource has its own envelope (or none),
deletes answer 200 with a message or a bare 204, and errors are FastAPI's own ``{"detail": ...}``.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = ["Store", "create_app"]

Record = dict[str, Any]
Version = Literal["v1", "v2"]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _not_null(value: object) -> object:
    """Let an update leave a field out, but not set a field that cannot be null to null."""
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


def _date_string(value: object) -> object:
    """Accept only ``YYYY-MM-DD`` (pydantic alone also takes 0, or a datetime at midnight)."""
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    raise ValueError("must be a date string YYYY-MM-DD")


NotNull = BeforeValidator(_not_null)
Email = Annotated[str, Field(pattern="@")]
Name = Annotated[str, Field(min_length=1)]
Age = Annotated[int, Field(strict=True, ge=0, le=50)]
IsoDate = Annotated[date, BeforeValidator(_date_string)]
Species = Literal["dog", "cat", "bird", "other"]
Kind = Literal["vaccination", "checkup", "surgery"]
Page = Annotated[int, Query(ge=1)]
PerPage = Annotated[int, Query(ge=1, le=100)]


# --- request bodies -------------------------------------------------------------------------


class Body(BaseModel):
    """A request body: a field it does not declare is a 422 that names the field."""

    model_config = ConfigDict(extra="forbid")


class UserCreateV1(Body):
    """A v1 user as created: email and name required, phone optional."""

    email: Email
    name: Name
    phone: str | None = None


class UserUpdateV1(Body):
    """A v1 user's changes: a field left out stays as it is."""

    name: Annotated[Name | None, NotNull] = None
    phone: str | None = None


class UserCreateV2(Body):
    """A v2 user as created: ``phone_number`` replaces ``phone``; preferences and roles are new."""

    email: Email
    name: Name
    phone_number: str | None = None
    preferences: dict[str, str] = Field(default_factory=dict)
    roles: list[str] = Field(default_factory=list)


class UserUpdateV2(Body):
    """A v2 user's changes: a field left out stays as it is."""

    name: Annotated[Name | None, NotNull] = None
    phone_number: str | None = None
    preferences: Annotated[dict[str, str] | None, NotNull] = None
    roles: Annotated[list[str] | None, NotNull] = None


class PetCreateV1(Body):
    """A v1 pet as created, with an ``age`` in years."""

    name: Name
    species: Species
    owner_id: str
    age: Age | None = None


class PetUpdateV1(Body):
    """A v1 pet's changes (the owner and species are fixed)."""

    name: Annotated[Name | None, NotNull] = None
    age: Age | None = None


class PetCreateV2(Body):
    """A v2 pet as created: ``birth_date`` replaces ``age``; tags and attributes are new."""

    name: Name
    species: Species
    owner_id: str
    birth_date: IsoDate | None = None
    tags: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)


class PetUpdateV2(Body):
    """A v2 pet's changes (the owner and species are fixed)."""

    name: Annotated[Name | None, NotNull] = None
    birth_date: IsoDate | None = None
    tags: Annotated[list[str] | None, NotNull] = None
    attributes: Annotated[dict[str, str] | None, NotNull] = None


class HealthRecordCreate(Body):
    """A health record as created under its pet (the pet comes from the path)."""

    kind: Kind
    date: IsoDate
    notes: str | None = None


class HealthRecordUpdate(Body):
    """A health record's changes: a field left out stays as it is."""

    kind: Annotated[Kind | None, NotNull] = None
    date: Annotated[IsoDate | None, NotNull] = None
    notes: str | None = None


# --- the store ------------------------------------------------------------------------------


class Store:
    """One app's records in insertion order, each in every version's fields at once
    (v2's ``phone_number`` is v1's ``phone``; ``age`` and ``birth_date`` are kept apart)."""

    def __init__(self) -> None:
        self.users: dict[str, Record] = {}
        self.pets: dict[str, Record] = {}
        self.records: dict[str, Record] = {}

    def add_user(self, fields: Record) -> Record:
        if any(user["email"] == fields["email"] for user in self.users.values()):
            raise HTTPException(409, "email already registered")
        return _insert(self.users, {"phone": None, "preferences": {}, "roles": [], **fields})

    def add_pet(self, fields: Record) -> Record:
        if fields["owner_id"] not in self.users:
            raise HTTPException(422, "owner_id: no such user")
        return _insert(self.pets, {"age": None, "birth_date": None, "tags": [], "attributes": {}, **fields})

    def add_record(self, pet_id: str, fields: Record) -> Record:
        self.pet(pet_id)
        return _insert(self.records, {"pet_id": pet_id, **fields})

    def user(self, user_id: str) -> Record:
        return _find(self.users, user_id, "User not found")

    def pet(self, pet_id: str) -> Record:
        return _find(self.pets, pet_id, "Pet not found")

    def record(self, pet_id: str, record_id: str) -> Record:
        """A health record, only under the pet it belongs to."""
        self.pet(pet_id)
        record = self.records.get(record_id)
        if record is None or record["pet_id"] != pet_id:
            raise HTTPException(404, "Health record not found")
        return record

    def delete_user(self, user_id: str) -> None:
        """Delete a user; their pets stay, as orphans (nothing cascades from a user)."""
        del self.users[self.user(user_id)["id"]]

    def delete_pet(self, pet_id: str) -> None:
        """Delete a pet and its health records."""
        del self.pets[self.pet(pet_id)["id"]]
        self.records = {key: rec for key, rec in self.records.items() if rec["pet_id"] != pet_id}


def _insert(table: dict[str, Record], fields: Record) -> Record:
    record = {"id": str(uuid.uuid4()), **fields, "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}
    table[record["id"]] = record
    return record


def _find(table: dict[str, Record], key: str, missing: str) -> Record:
    record = table.get(key)
    if record is None:
        raise HTTPException(404, missing)
    return record


# --- what each version shows ----------------------------------------------------------------


def _pick(record: Record, *names: str) -> Record:
    return {name: record[name] for name in names}


def _user_v1(user: Record) -> Record:
    return _pick(user, "id", "email", "name", "phone", "created_at")


def _user_v2(user: Record) -> Record:
    return {
        **_pick(user, "id", "email", "name"),
        "phone_number": user["phone"],
        **_pick(user, "preferences", "roles", "created_at"),
    }


def _pet_v1(pet: Record) -> Record:
    return _pick(pet, "id", "name", "species", "owner_id", "age", "created_at")


def _pet_v2(pet: Record) -> Record:
    fields = ("id", "name", "species", "owner_id", "birth_date", "tags", "attributes", "created_at")
    return {**_pick(pet, *fields), "href": f"/api/v2/pets/{pet['id']}"}


def _health_record(record: Record) -> Record:
    return _pick(record, "id", "pet_id", "kind", "date", "notes", "created_at")


USER_VIEWS: dict[Version, Callable[[Record], Record]] = {"v1": _user_v1, "v2": _user_v2}
PET_VIEWS: dict[Version, Callable[[Record], Record]] = {"v1": _pet_v1, "v2": _pet_v2}


def _fields(body: BaseModel, *, update: bool = False) -> Record:
    """A body as stored fields: dates as ISO strings, v2's ``phone_number`` as ``phone``;
    for an update, only the fields the client sent."""
    fields = body.model_dump(mode="json", exclude_unset=update)
    if "phone_number" in fields:
        fields["phone"] = fields.pop("phone_number")
    return fields


def _page(items: list[Record], page: int, per_page: int) -> tuple[list[Record], int, int]:
    """One page of ``items``, their total and the number of pages (0 when there are none)."""
    start = (page - 1) * per_page
    return items[start : start + per_page], len(items), math.ceil(len(items) / per_page)


# --- routes ---------------------------------------------------------------------------------


def _common_routes(store: Store, version: Version) -> APIRouter:
    """The routes both versions share: get, list and delete users and pets, in the version's fields."""
    router = APIRouter(prefix=f"/api/{version}")
    user_view, pet_view = USER_VIEWS[version], PET_VIEWS[version]

    @router.get("/users/")
    async def list_users(page: Page = 1, per_page: PerPage = 20) -> Record:
        users, total, pages = _page(list(store.users.values()), page, per_page)
        pagination = {"page": page, "per_page": per_page, "total": total, "pages": pages}
        return {"success": True, "data": [user_view(u) for u in users], "pagination": pagination, "version": version}

    @router.get("/users/{user_id}")
    async def get_user(user_id: str) -> Record:
        return _envelope(version, user_view(store.user(user_id)))

    @router.delete("/users/{user_id}")
    async def delete_user(user_id: str) -> Record:
        store.delete_user(user_id)
        return {"success": True, "message": "User deleted", "user_id": user_id}

    @router.get("/pets/")
    async def list_pets(owner_id: str | None = None, page: Page = 1, per_page: PerPage = 20) -> Record:
        matching = [pet for pet in store.pets.values() if owner_id is None or pet["owner_id"] == owner_id]
        pets, total, pages = _page(matching, page, per_page)
        data = {"pets": [pet_view(p) for p in pets], "total": total, "page": page, "per_page": per_page}
        return {"success": True, "data": {**data, "total_pages": pages}, "version": version}

    @router.get("/pets/{pet_id}")
    async def get_pet(pet_id: str) -> Record:
        return _envelope(version, pet_view(store.pet(pet_id)))

    @router.delete("/pets/{pet_id}", status_code=204, response_class=Response)
    async def delete_pet(pet_id: str) -> Response:
        store.delete_pet(pet_id)
        return Response(status_code=204)

    return router


def _envelope(version: Version, data: Record) -> Record:
    return {"success": True, "data": data, "version": version}


def _v1_routes(store: Store) -> APIRouter:
    """v1: users with ``phone``, pets with ``age``."""
    router = _common_routes(store, "v1")

    @router.post("/users/", status_code=201)
    async def create_user(body: UserCreateV1) -> Record:
        return _envelope("v1", _user_v1(store.add_user(_fields(body))))

    @router.put("/users/{user_id}")
    async def update_user(user_id: str, body: UserUpdateV1) -> Record:
        user = store.user(user_id)
        user.update(_fields(body, update=True))
        return _envelope("v1", _user_v1(user))

    @router.post("/pets/", status_code=201)
    async def create_pet(body: PetCreateV1) -> Record:
        return _envelope("v1", _pet_v1(store.add_pet(_fields(body))))

    @router.put("/pets/{pet_id}")
    async def update_pet(pet_id: str, body: PetUpdateV1) -> Record:
        pet = store.pet(pet_id)
        pet.update(_fields(body, update=True))
        return _envelope("v1", _pet_v1(pet))

    return router


def _v2_routes(store: Store) -> APIRouter:
    """v2: users with ``phone_number``, preferences and roles; pets with ``birth_date``, tags,
    attributes and ``href``; and each pet's health records, bare (no envelope)."""
    router = _common_routes(store, "v2")

    @router.post("/users/", status_code=201)
    async def create_user(body: UserCreateV2) -> Record:
        return _envelope("v2", _user_v2(store.add_user(_fields(body))))

    @router.put("/users/{user_id}")
    async def update_user(user_id: str, body: UserUpdateV2) -> Record:
        user = store.user(user_id)
        user.update(_fields(body, update=True))
        return _envelope("v2", _user_v2(user))

    @router.post("/pets/", status_code=201)
    async def create_pet(body: PetCreateV2) -> Record:
        return _envelope("v2", _pet_v2(store.add_pet(_fields(body))))

    @router.put("/pets/{pet_id}")
    async def update_pet(pet_id: str, body: PetUpdateV2) -> Record:
        pet = store.pet(pet_id)
        pet.update(_fields(body, update=True))
        return _envelope("v2", _pet_v2(pet))

    @router.post("/pets/{pet_id}/health-records", status_code=201)
    async def create_health_record(pet_id: str, body: HealthRecordCreate) -> Record:
        return _health_record(store.add_record(pet_id, _fields(body)))

    @router.get("/pets/{pet_id}/health-records")
    async def list_health_records(pet_id: str) -> list[Record]:
        store.pet(pet_id)
        return [_health_record(r) for r in store.records.values() if r["pet_id"] == pet_id]

    @router.get("/pets/{pet_id}/health-records/{record_id}")
    async def get_health_record(pet_id: str, record_id: str) -> Record:
        return _health_record(store.record(pet_id, record_id))

    @router.put("/pets/{pet_id}/health-records/{record_id}")
    async def update_health_record(pet_id: str, record_id: str, body: HealthRecordUpdate) -> Record:
        record = store.record(pet_id, record_id)
        record.update(_fields(body, update=True))
        return _health_record(record)

    @router.delete("/pets/{pet_id}/health-records/{record_id}", status_code=204, response_class=Response)
    async def delete_health_record(pet_id: str, record_id: str) -> Response:
        del store.records[store.record(pet_id, record_id)["id"]]
        return Response(status_code=204)

    return router


def create_app() -> FastAPI:
    """A new Kennel app with its own empty store (apps share nothing); tests may look into
    the store at ``app.state.store``."""
    store = Store()
    app = FastAPI(title="Kennel", version="2")
    app.state.store = store
    app.include_router(_v1_routes(store))
    app.include_router(_v2_routes(store))
    return app
