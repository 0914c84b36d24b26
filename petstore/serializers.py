"""Translation between canonical records and each version's wire shape, both ways.

Outbound: ``record -> dict`` with exactly the version's response fields, in order.
Inbound: validated request fields -> canonical store fields (``age`` becomes
``date_of_birth``, v3 ``phone_number`` becomes ``phone``).
"""

from __future__ import annotations

from typing import Any

from .store import Appointment, HealthRecord, Pet, Store, User
from .timeutil import age_on, dob_for_age, today

__all__ = [
    "appointment_v1",
    "appointment_v2",
    "appointment_v3",
    "health_record",
    "pet_age",
    "pet_in_with_age",
    "pet_v1",
    "pet_v2",
    "pet_v3",
    "user_in_v3",
    "user_v1",
    "user_v2",
    "user_v3",
]

Json = dict[str, Any]


def pet_age(pet: Pet) -> int | None:
    """The pet's age in whole years today, derived from its birth date."""
    dob = pet.date_of_birth
    return None if dob is None else age_on(dob, today())


def pet_v1(store: Store, pet: Pet) -> Json:
    """v1 pet: core fields with ``age``."""
    return {
        "id": pet.id,
        "name": pet.name,
        "species": pet.species,
        "breed": pet.breed,
        "age": pet_age(pet),
        "weight": pet.weight,
        "owner_id": pet.owner_id,
        "created_at": pet.created_at,
        "updated_at": pet.updated_at,
    }


def pet_v2(store: Store, pet: Pet) -> Json:
    """v2 pet: v1 plus behaviour, contact, photos and microchip."""
    return {
        "id": pet.id,
        "name": pet.name,
        "species": pet.species,
        "breed": pet.breed,
        "age": pet_age(pet),
        "weight": pet.weight,
        "owner_id": pet.owner_id,
        "temperament": pet.temperament,
        "behavioral_notes": pet.behavioral_notes,
        "emergency_contact": pet.emergency_contact,
        "additional_photos": pet.additional_photos,
        "microchip_id": pet.microchip_id,
        "created_at": pet.created_at,
        "updated_at": pet.updated_at,
    }


def pet_v3(store: Store, pet: Pet) -> Json:
    """v3 pet: ``date_of_birth`` instead of ``age``."""
    dob = pet.date_of_birth
    return {
        "id": pet.id,
        "name": pet.name,
        "species": pet.species,
        "breed": pet.breed,
        "date_of_birth": None if dob is None else dob.isoformat(),
        "weight": pet.weight,
        "owner_id": pet.owner_id,
        "temperament": pet.temperament,
        "behavioral_notes": pet.behavioral_notes,
        "emergency_contact": pet.emergency_contact,
        "additional_photos": pet.additional_photos,
        "microchip_id": pet.microchip_id,
        "created_at": pet.created_at,
        "updated_at": pet.updated_at,
    }


def user_v1(store: Store, user: User) -> Json:
    """v1 user."""
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def user_v2(store: Store, user: User) -> Json:
    """v2 user: v1 plus address, emergency contact and the computed ``pet_count``."""
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone": user.phone,
        "address": user.address,
        "emergency_contact": user.emergency_contact,
        "pet_count": store.pet_count(user.id),
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def user_v3(store: Store, user: User) -> Json:
    """v3 user: ``phone`` is renamed ``phone_number``."""
    return {
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "phone_number": user.phone,
        "address": user.address,
        "emergency_contact": user.emergency_contact,
        "pet_count": store.pet_count(user.id),
        "created_at": user.created_at,
        "updated_at": user.updated_at,
    }


def appointment_v1(store: Store, appointment: Appointment) -> Json:
    """v1 appointment."""
    return {
        "id": appointment.id,
        "pet_id": appointment.pet_id,
        "user_id": appointment.user_id,
        "scheduled_at": appointment.scheduled_at,
        "reason": appointment.reason,
        "notes": appointment.notes,
        "status": appointment.status,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
    }


def appointment_v2(store: Store, appointment: Appointment) -> Json:
    """v2 appointment: v1 plus ``duration_minutes``."""
    return {
        "id": appointment.id,
        "pet_id": appointment.pet_id,
        "user_id": appointment.user_id,
        "scheduled_at": appointment.scheduled_at,
        "reason": appointment.reason,
        "notes": appointment.notes,
        "duration_minutes": appointment.duration_minutes,
        "status": appointment.status,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
    }


def appointment_v3(store: Store, appointment: Appointment) -> Json:
    """v3 appointment: v2 plus ``cancellation_reason``."""
    return {
        "id": appointment.id,
        "pet_id": appointment.pet_id,
        "user_id": appointment.user_id,
        "scheduled_at": appointment.scheduled_at,
        "reason": appointment.reason,
        "notes": appointment.notes,
        "duration_minutes": appointment.duration_minutes,
        "status": appointment.status,
        "cancellation_reason": appointment.cancellation_reason,
        "created_at": appointment.created_at,
        "updated_at": appointment.updated_at,
    }


def health_record(store: Store, record: HealthRecord) -> Json:
    """Health record (v2 and v3 alike)."""
    due = record.next_due_date
    return {
        "id": record.id,
        "pet_id": record.pet_id,
        "record_type": record.record_type,
        "date": record.date.isoformat(),
        "description": record.description,
        "veterinarian": record.veterinarian,
        "next_due_date": None if due is None else due.isoformat(),
        "created_at": record.created_at,
    }


def pet_in_with_age(fields: Json, current: Pet | None = None) -> Json:
    """Turn a v1/v2 ``age`` into the canonical ``date_of_birth`` (in place).

    An update that restates the pet's current age keeps the stored birth date, so a
    read-modify-write from v1/v2 does not lose a precise date set through v3.
    """
    if "age" not in fields:
        return fields
    age = fields.pop("age")
    if age is None:
        fields["date_of_birth"] = None
    elif current is None or pet_age(current) != age:
        fields["date_of_birth"] = dob_for_age(age, today())
    return fields


def user_in_v3(fields: Json, current: User | None = None) -> Json:
    """Map the v3 ``phone_number`` onto the canonical ``phone`` (in place)."""
    if "phone_number" in fields:
        fields["phone"] = fields.pop("phone_number")
    return fields
