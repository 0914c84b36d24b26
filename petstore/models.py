"""Pydantic request models, one per resource, version and kind (create or update).

Models are strict (no string-to-number coercion) and forbid unknown keys, so a
field from another version is a 422. Update models make every field optional but
refuse an explicit ``null`` for fields that are not nullable.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, NotRequired, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from typing_extensions import TypedDict

from .timeutil import age_on, is_future_date, parse_datetime, today

MAX_AGE = 50
"""The oldest age a pet can have; v3 birth dates are held to it too, so v1/v2 can show it."""

__all__ = [
    "APPOINTMENT_STATUSES",
    "RECORD_TYPES",
    "SPECIES",
    "TEMPERAMENTS",
    "Address",
    "AppointmentCreateV1",
    "AppointmentCreateV2",
    "AppointmentCreateV3",
    "AppointmentUpdateV1",
    "AppointmentUpdateV2",
    "AppointmentUpdateV3",
    "CancelAppointmentV3",
    "Contact",
    "HealthRecordCreateV2",
    "HealthRecordCreateV3",
    "PetBatchV2",
    "PetCreateV1",
    "PetCreateV2",
    "PetCreateV3",
    "PetUpdateV1",
    "PetUpdateV2",
    "PetUpdateV3",
    "UserCreateV1",
    "UserCreateV2",
    "UserCreateV3",
    "UserUpdateV1",
    "UserUpdateV2",
    "UserUpdateV3",
]

SPECIES = ("dog", "cat", "bird", "rabbit", "reptile", "other")
TEMPERAMENTS = ("calm", "friendly", "playful", "anxious", "aggressive")
APPOINTMENT_STATUSES = ("scheduled", "confirmed", "completed", "cancelled")
RECORD_TYPES = ("vaccination", "checkup", "surgery", "medication", "allergy")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_URI = r"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$"

T = TypeVar("T")


def _not_null(value: T | None) -> T | None:
    """Reject an explicit ``null``; an omitted field never reaches validators."""
    if value is None:
        raise ValueError("Field may be omitted but must not be null")
    return value


def _email(value: str) -> str:
    """Accept ``local@domain.tld`` shapes of at most 254 characters."""
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError("value is not a valid email address")
    return value


def _rfc3339(value: str) -> str:
    """Accept RFC 3339 date-times only (seconds and timezone required); keep the text."""
    if parse_datetime(value) is None:
        raise ValueError("Input should be an RFC 3339 date-time with seconds and timezone")
    return value


def _not_future(value: dt.date | None) -> dt.date | None:
    """Reject dates after today (birth dates, health record dates)."""
    if value is not None and is_future_date(value):
        raise ValueError("Date must not be in the future")
    return value


def _birth_date(value: dt.date | None) -> dt.date | None:
    """A birth date: not in the future, and no older than the oldest age v1/v2 can show (50)."""
    _not_future(value)
    if value is not None and age_on(value, today()) > MAX_AGE:
        raise ValueError(f"Date must be within the last {MAX_AGE} years (the oldest age a pet can have)")
    return value


Omittable = Annotated[T | None, AfterValidator(_not_null)]
"""A field an update may leave out but may not set to ``null``."""

Uuid = Annotated[str, Field(pattern=_UUID), AfterValidator(str.lower)]
PetName = Annotated[str, Field(min_length=1, max_length=100)]
PersonName = Annotated[str, Field(min_length=1, max_length=60)]
Species = Literal["dog", "cat", "bird", "rabbit", "reptile", "other"]
Breed = Annotated[str, Field(max_length=100)] | None
Age = Annotated[int, Field(ge=0, le=MAX_AGE)] | None
Weight = Annotated[float, Field(gt=0, le=500)] | None
Temperament = Literal["calm", "friendly", "playful", "anxious", "aggressive"] | None
Notes = Annotated[str, Field(max_length=2000)] | None
Photos = Annotated[list[Annotated[str, Field(pattern=_URI)]], Field(max_length=10)]
Microchip = Annotated[str, Field(pattern=r"^[0-9]{15}$")] | None
Email = Annotated[str, AfterValidator(_email)]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9 ()-]{5,20}$")] | None
DateTime = Annotated[str, AfterValidator(_rfc3339)]
PastDate = Annotated[dt.date, AfterValidator(_not_future)]
BirthDate = Annotated[dt.date | None, AfterValidator(_birth_date)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Duration = Annotated[int, Field(ge=5, le=480)]
Status = Literal["scheduled", "confirmed", "completed", "cancelled"]
RecordType = Literal["vaccination", "checkup", "surgery", "medication", "allergy"]


class Contact(TypedDict):
    """Emergency contact (v2+): name and phone, optional relationship, nothing else."""

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    name: Annotated[str, Field(min_length=1)]
    phone: Annotated[str, Field(min_length=5)]
    relationship: NotRequired[str]


class Address(TypedDict):
    """Postal address (v2+), with an ISO 3166 alpha-2 country code."""

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    street: Annotated[str, Field(min_length=1)]
    city: Annotated[str, Field(min_length=1)]
    postal_code: Annotated[str, Field(min_length=1)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class _Strict(BaseModel):
    """Base for every request body: strict types, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- pets ---------------------------------------------------------------------------


class PetCreateV1(_Strict):
    """v1 pet creation body."""

    name: PetName
    species: Species
    breed: Breed = None
    age: Age = None
    weight: Weight = None
    owner_id: Uuid


class PetUpdateV1(_Strict):
    """v1 partial pet update."""

    name: Omittable[PetName] = None
    breed: Breed = None
    age: Age = None
    weight: Weight = None


class PetCreateV2(PetCreateV1):
    """v2 pet creation body: v1 plus behaviour, contact, photos and microchip."""

    temperament: Temperament = None
    behavioral_notes: Notes = None
    emergency_contact: Contact | None = None
    additional_photos: Photos = Field(default_factory=list)
    microchip_id: Microchip = None


class PetUpdateV2(PetUpdateV1):
    """v2 partial pet update (the microchip is set once, at creation)."""

    temperament: Temperament = None
    behavioral_notes: Notes = None
    emergency_contact: Contact | None = None
    additional_photos: Omittable[Photos] = None


class PetBatchV2(_Strict):
    """v2 batch creation body: 1 to 50 pets, created all or none."""

    items: Annotated[list[PetCreateV2], Field(min_length=1, max_length=50)]


class PetCreateV3(_Strict):
    """v3 pet creation body: ``date_of_birth`` replaces ``age``."""

    name: PetName
    species: Species
    breed: Breed = None
    date_of_birth: BirthDate = None
    weight: Weight = None
    owner_id: Uuid
    temperament: Temperament = None
    behavioral_notes: Notes = None
    emergency_contact: Contact | None = None
    additional_photos: Photos = Field(default_factory=list)
    microchip_id: Microchip = None


class PetUpdateV3(_Strict):
    """v3 partial pet update."""

    name: Omittable[PetName] = None
    breed: Breed = None
    date_of_birth: BirthDate = None
    weight: Weight = None
    temperament: Temperament = None
    behavioral_notes: Notes = None
    emergency_contact: Contact | None = None
    additional_photos: Omittable[Photos] = None


# --- users --------------------------------------------------------------------------


class UserCreateV1(_Strict):
    """v1 user creation body."""

    email: Email
    first_name: PersonName
    last_name: PersonName
    phone: Phone = None


class UserUpdateV1(_Strict):
    """v1 partial user update (the email is immutable)."""

    first_name: Omittable[PersonName] = None
    last_name: Omittable[PersonName] = None
    phone: Phone = None


class UserCreateV2(UserCreateV1):
    """v2 user creation body: v1 plus address and emergency contact."""

    address: Address | None = None
    emergency_contact: Contact | None = None


class UserUpdateV2(UserUpdateV1):
    """v2 partial user update."""

    address: Address | None = None
    emergency_contact: Contact | None = None


class UserCreateV3(_Strict):
    """v3 user creation body: ``phone`` is renamed ``phone_number``."""

    email: Email
    first_name: PersonName
    last_name: PersonName
    phone_number: Phone = None
    address: Address | None = None
    emergency_contact: Contact | None = None


class UserUpdateV3(_Strict):
    """v3 partial user update."""

    first_name: Omittable[PersonName] = None
    last_name: Omittable[PersonName] = None
    phone_number: Phone = None
    address: Address | None = None
    emergency_contact: Contact | None = None


# --- appointments -------------------------------------------------------------------


class AppointmentCreateV1(_Strict):
    """v1 appointment creation body (status always starts as ``scheduled``)."""

    pet_id: Uuid
    user_id: Uuid
    scheduled_at: DateTime
    reason: Reason
    notes: Notes = None


class AppointmentUpdateV1(_Strict):
    """v1 partial appointment update."""

    scheduled_at: Omittable[DateTime] = None
    reason: Omittable[Reason] = None
    notes: Notes = None
    status: Omittable[Status] = None


class AppointmentCreateV2(AppointmentCreateV1):
    """v2 appointment creation body: v1 plus ``duration_minutes``."""

    duration_minutes: Duration = 30


class AppointmentUpdateV2(AppointmentUpdateV1):
    """v2 partial appointment update."""

    duration_minutes: Omittable[Duration] = None


AppointmentCreateV3 = AppointmentCreateV2
"""v3 appointment creation body: unchanged from v2."""

AppointmentUpdateV3 = AppointmentUpdateV2
"""v3 partial appointment update: unchanged from v2."""


class CancelAppointmentV3(_Strict):
    """v3 ``POST /appointments/{id}/cancel`` body."""

    reason: Reason


# --- health records -----------------------------------------------------------------


class HealthRecordCreateV2(_Strict):
    """v2 health record creation body (records are immutable once created)."""

    pet_id: Uuid
    record_type: RecordType
    date: PastDate
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    veterinarian: Annotated[str, Field(max_length=100)] | None = None
    next_due_date: dt.date | None = None


HealthRecordCreateV3 = HealthRecordCreateV2
"""v3 health record creation body: unchanged from v2."""
