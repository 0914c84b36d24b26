"""Query-string handling for list endpoints: pagination, filters and sorting.

Invalid values (non-integers, out-of-range paging, unknown sort keys, malformed
dates) raise a 422; parameters a version does not know are ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from .errors import ValidationFailed, field_error
from .serializers import pet_age
from .store import Appointment, HealthRecord, Pet, Store, User
from .timeutil import parse_date, parse_datetime

__all__ = [
    "PetFilterMode",
    "filter_appointments",
    "filter_health_records",
    "filter_pets",
    "filter_users",
    "page_of",
    "paging",
]

R = TypeVar("R")
Params = Mapping[str, str]
PetFilterMode = Literal["basic", "age", "birth"]
"""v1 filters (``basic``), v2 enhanced with ages (``age``), v3 enhanced with birth dates."""

_INT = re.compile(r"^[+-]?[0-9]+$")
_SORTS = ("name", "-name", "created_at", "-created_at")
MAX_PER_PAGE = 100


def _int(params: Params, name: str) -> int | None:
    """Optional integer parameter; 422 if present but not an integer."""
    raw = params.get(name)
    if raw is None:
        return None
    if not _INT.match(raw.strip()):
        raise ValidationFailed([field_error(name, "Must be an integer")], "Invalid query parameter")
    return int(raw)


def _date(params: Params, name: str) -> date | None:
    """Optional ``YYYY-MM-DD`` parameter; 422 if malformed."""
    raw = params.get(name)
    if raw is None:
        return None
    parsed = parse_date(raw)
    if parsed is None:
        raise ValidationFailed([field_error(name, "Must be a date (YYYY-MM-DD)")], "Invalid query parameter")
    return parsed


def _datetime(params: Params, name: str) -> datetime | None:
    """Optional RFC 3339 date-time parameter; 422 if malformed or without timezone."""
    raw = params.get(name)
    if raw is None:
        return None
    # An unencoded '+' in an offset arrives as a space; RFC 3339 never contains one.
    parsed = parse_datetime(raw.replace(" ", "+"))
    if parsed is None:
        raise ValidationFailed(
            [field_error(name, "Must be an RFC 3339 date-time with timezone")],
            "Invalid query parameter",
        )
    return parsed


def paging(params: Params) -> tuple[int, int]:
    """Return ``(page, per_page)``: page >= 1 (default 1), 1 <= per_page <= 100 (default 20)."""
    page = _int(params, "page")
    per_page = _int(params, "per_page")
    page = 1 if page is None else page
    per_page = 20 if per_page is None else per_page
    errors = []
    if page < 1:
        errors.append(field_error("page", "Must be at least 1"))
    if not 1 <= per_page <= MAX_PER_PAGE:
        errors.append(field_error("per_page", f"Must be between 1 and {MAX_PER_PAGE}"))
    if errors:
        raise ValidationFailed(errors, "Invalid query parameter")
    return page, per_page


def page_of(
    items: list[R],
    params: Params,
    *,
    store: Store,
    serialize: Callable[[Store, R], dict[str, Any]],
    nested: bool,
    collection: str,
) -> dict[str, Any]:
    """Slice one page out of ``items`` and wrap it in the flat (v1/v2) or nested (v3) shape."""
    page, per_page = paging(params)
    total = len(items)
    start = (page - 1) * per_page
    data = [serialize(store, item) for item in items[start : start + per_page]]
    total_pages = math.ceil(total / per_page)
    if nested:
        return {
            "items": data,
            "pagination": {
                "total": total,
                "page": page,
                "per_page": per_page,
                "total_pages": total_pages,
            },
        }
    return {
        "total": total,
        "page": page,
        "per_page": per_page,
        "total_pages": total_pages,
        collection: data,
    }


def filter_pets(store: Store, params: Params, mode: PetFilterMode) -> list[Pet]:
    """Pets matching ``species``/``owner_id`` and, from v2, the enhanced filters and sort."""
    pets: Iterable[Pet] = store.pets.values()
    species = params.get("species")
    if species is not None:
        pets = [p for p in pets if p.species == species]
    owner_id = params.get("owner_id")
    if owner_id is not None:
        owner_id = owner_id.lower()
        pets = [p for p in pets if p.owner_id == owner_id]
    if mode == "basic":
        return list(pets)
    sort = params.get("sort")
    if sort is not None and sort not in _SORTS:
        raise ValidationFailed([field_error("sort", f"Must be one of {', '.join(_SORTS)}")], "Invalid query parameter")
    temperament = params.get("temperament")
    if temperament is not None:
        pets = [p for p in pets if p.temperament == temperament]
    search = params.get("search")
    if search:
        needle = search.casefold()
        pets = [p for p in pets if needle in p.name.casefold()]
    if mode == "age":
        pets = _by_age(pets, _int(params, "min_age"), _int(params, "max_age"))
    else:
        pets = _by_birth(pets, _date(params, "born_after"), _date(params, "born_before"))
    result = list(pets)
    if sort is not None:
        key = sort.lstrip("-")
        if key == "name":
            result.sort(key=lambda p: (p.name, p.seq), reverse=sort.startswith("-"))
        else:
            result.sort(key=lambda p: p.seq, reverse=sort.startswith("-"))
    return result


def _by_age(pets: Iterable[Pet], low: int | None, high: int | None) -> Iterable[Pet]:
    """Inclusive age bounds; pets of unknown age never match a bound."""
    if low is None and high is None:
        return pets
    result = []
    for pet in pets:
        age = pet_age(pet)
        if age is None or (low is not None and age < low) or (high is not None and age > high):
            continue
        result.append(pet)
    return result


def _by_birth(pets: Iterable[Pet], after: date | None, before: date | None) -> Iterable[Pet]:
    """Inclusive birth-date bounds; pets without a birth date never match a bound."""
    if after is None and before is None:
        return pets
    result = []
    for pet in pets:
        dob = pet.date_of_birth
        if dob is None or (after is not None and dob < after) or (before is not None and dob > before):
            continue
        result.append(pet)
    return result


def filter_users(store: Store, params: Params) -> list[User]:
    """Users, optionally narrowed to one ``email`` (case-insensitive exact match)."""
    email = params.get("email")
    if email is None:
        return list(store.users.values())
    wanted = email.casefold()
    return [u for u in store.users.values() if u.email.casefold() == wanted]


def filter_appointments(store: Store, params: Params, *, time_bounds: bool) -> list[Appointment]:
    """Appointments by ``status``/``pet_id``/``user_id`` and, from v2, ``from``/``to`` bounds."""
    appointments: Iterable[Appointment] = store.appointments.values()
    for name in ("status", "pet_id", "user_id"):
        wanted = params.get(name)
        if wanted is not None:
            if name != "status":
                wanted = wanted.lower()
            appointments = [a for a in appointments if getattr(a, name) == wanted]
    if time_bounds:
        start = _datetime(params, "from")
        end = _datetime(params, "to")
        if start is not None:
            appointments = [a for a in appointments if a.scheduled_instant >= start]
        if end is not None:
            appointments = [a for a in appointments if a.scheduled_instant <= end]
    return list(appointments)


def filter_health_records(store: Store, params: Params) -> list[HealthRecord]:
    """Health records by ``pet_id`` and ``record_type``."""
    records: Iterable[HealthRecord] = store.health_records.values()
    pet_id = params.get("pet_id")
    if pet_id is not None:
        pet_id = pet_id.lower()
        records = [r for r in records if r.pet_id == pet_id]
    record_type = params.get("record_type")
    if record_type is not None:
        records = [r for r in records if r.record_type == record_type]
    return list(records)
