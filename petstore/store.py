"""In-memory store holding one canonical record per entity, shared by all API versions.

Records carry the superset of every version's fields (pets keep ``date_of_birth``,
never ``age``). The store enforces referential rules and uniqueness and raises
:mod:`petstore.errors` exceptions; it knows nothing about wire formats.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .errors import Conflict, NotFound, ValidationFailed, field_error
from .timeutil import now_iso, parse_datetime

__all__ = ["Appointment", "HealthRecord", "Pet", "Store", "User"]

Changes = dict[str, Any]
"""Canonical field name -> already validated new value."""


@dataclass(slots=True)
class User:
    """A pet owner."""

    id: str
    seq: int
    email: str
    first_name: str
    last_name: str
    phone: str | None
    address: dict[str, Any] | None
    emergency_contact: dict[str, Any] | None
    created_at: str
    updated_at: str


@dataclass(slots=True)
class Pet:
    """A pet; ``age`` is derived from ``date_of_birth`` by the v1/v2 serializers."""

    id: str
    seq: int
    name: str
    species: str
    owner_id: str
    created_at: str
    updated_at: str
    breed: str | None = None
    date_of_birth: dt.date | None = None
    weight: float | None = None
    temperament: str | None = None
    behavioral_notes: str | None = None
    emergency_contact: dict[str, Any] | None = None
    additional_photos: list[str] = field(default_factory=list)
    microchip_id: str | None = None


@dataclass(slots=True)
class Appointment:
    """A visit; ``scheduled_at`` keeps the client's text, ``scheduled_instant`` the parsed value."""

    id: str
    seq: int
    pet_id: str
    user_id: str
    scheduled_at: str
    scheduled_instant: dt.datetime
    reason: str
    created_at: str
    updated_at: str
    notes: str | None = None
    duration_minutes: int = 30
    status: str = "scheduled"
    cancellation_reason: str | None = None


@dataclass(slots=True)
class HealthRecord:
    """An immutable medical history entry of a pet."""

    id: str
    seq: int
    pet_id: str
    record_type: str
    date: dt.date
    description: str
    created_at: str
    veterinarian: str | None = None
    next_due_date: dt.date | None = None


def _instant(text: str) -> dt.datetime:
    """Parse a date-time the models already validated."""
    parsed = parse_datetime(text)
    if parsed is None:  # pragma: no cover - models reject these first
        raise ValidationFailed([field_error("scheduled_at", "Invalid date-time")])
    return parsed


class Store:
    """All entities of one app instance, with the indexes the rules need."""

    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.pets: dict[str, Pet] = {}
        self.appointments: dict[str, Appointment] = {}
        self.health_records: dict[str, HealthRecord] = {}
        self._seq = itertools.count()
        self._emails: dict[str, str] = {}  # casefolded email -> user id
        self._microchips: dict[str, str] = {}  # microchip -> pet id
        self._pets_by_owner: dict[str, dict[str, None]] = {}
        self._appointments_by_pet: dict[str, dict[str, None]] = {}
        self._records_by_pet: dict[str, dict[str, None]] = {}

    # --- users ----------------------------------------------------------------------

    def get_user(self, user_id: str) -> User:
        """Return a user or raise 404."""
        user = self.users.get(user_id.lower())
        if user is None:
            raise NotFound(f"User {user_id} not found")
        return user

    def add_user(
        self,
        *,
        email: str,
        first_name: str,
        last_name: str,
        phone: str | None = None,
        address: dict[str, Any] | None = None,
        emergency_contact: dict[str, Any] | None = None,
    ) -> User:
        """Create a user; the email must be unique regardless of case (else 409)."""
        key = email.casefold()
        if key in self._emails:
            raise Conflict(f"A user with email {email} already exists")
        now = now_iso()
        user = User(
            id=str(uuid.uuid4()),
            seq=next(self._seq),
            email=email,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            address=address,
            emergency_contact=emergency_contact,
            created_at=now,
            updated_at=now,
        )
        self.users[user.id] = user
        self._emails[key] = user.id
        self._pets_by_owner[user.id] = {}
        return user

    def update_user(self, user_id: str, changes: Changes) -> User:
        """Apply a partial update to a user."""
        user = self.get_user(user_id)
        for name, value in changes.items():
            setattr(user, name, value)
        user.updated_at = now_iso()
        return user

    def delete_user(self, user_id: str) -> None:
        """Delete a user and their appointments; 409 while they still own pets."""
        user = self.get_user(user_id)
        if self._pets_by_owner[user.id]:
            raise Conflict(f"User {user.id} still owns pets; delete or rehome them first")
        for appointment_id in [a.id for a in self.appointments.values() if a.user_id == user.id]:
            self._drop_appointment(self.appointments[appointment_id])
        del self.users[user.id]
        del self._emails[user.email.casefold()]
        del self._pets_by_owner[user.id]

    def pet_count(self, user_id: str) -> int:
        """Number of pets a user owns."""
        return len(self._pets_by_owner.get(user_id, ()))

    # --- pets -----------------------------------------------------------------------

    def get_pet(self, pet_id: str) -> Pet:
        """Return a pet or raise 404."""
        pet = self.pets.get(pet_id.lower())
        if pet is None:
            raise NotFound(f"Pet {pet_id} not found")
        return pet

    def check_new_pet(self, fields: Changes, index: int | None = None) -> None:
        """Raise 422 for an unknown owner, 409 for a taken microchip."""
        if fields["owner_id"] not in self.users:
            raise ValidationFailed(
                [field_error("owner_id", "No user with this id exists", index)],
            )
        chip = fields.get("microchip_id")
        if chip is not None and chip in self._microchips:
            where = "" if index is None else f"items[{index}]: "
            raise Conflict(f"{where}microchip_id {chip} is already registered")

    def add_pet(self, fields: Changes) -> Pet:
        """Create a pet from canonical fields (owner must exist, microchip unique)."""
        self.check_new_pet(fields)
        return self._insert_pet(fields)

    def add_pets(self, items: list[Changes]) -> list[Pet]:
        """Create several pets atomically: every item is checked before any is stored."""
        seen: dict[str, int] = {}
        for index, fields in enumerate(items):
            self.check_new_pet(fields, index)
            chip = fields.get("microchip_id")
            if chip is not None:
                if chip in seen:
                    raise Conflict(
                        f"items[{index}]: microchip_id {chip} repeats items[{seen[chip]}]",
                    )
                seen[chip] = index
        return [self._insert_pet(fields) for fields in items]

    def _insert_pet(self, fields: Changes) -> Pet:
        """Store an already checked pet and index it."""
        now = now_iso()
        pet = Pet(id=str(uuid.uuid4()), seq=next(self._seq), created_at=now, updated_at=now, **fields)
        self.pets[pet.id] = pet
        self._pets_by_owner[pet.owner_id][pet.id] = None
        self._appointments_by_pet[pet.id] = {}
        self._records_by_pet[pet.id] = {}
        if pet.microchip_id is not None:
            self._microchips[pet.microchip_id] = pet.id
        return pet

    def update_pet(self, pet_id: str, changes: Changes) -> Pet:
        """Apply a partial update to a pet (owner, species and microchip are fixed)."""
        pet = self.get_pet(pet_id)
        for name, value in changes.items():
            setattr(pet, name, value)
        pet.updated_at = now_iso()
        return pet

    def delete_pet(self, pet_id: str) -> None:
        """Delete a pet together with its appointments and health records."""
        pet = self.get_pet(pet_id)
        for appointment_id in list(self._appointments_by_pet[pet.id]):
            self._drop_appointment(self.appointments[appointment_id])
        for record_id in self._records_by_pet.pop(pet.id):
            del self.health_records[record_id]
        del self._appointments_by_pet[pet.id]
        del self._pets_by_owner[pet.owner_id][pet.id]
        if pet.microchip_id is not None:
            del self._microchips[pet.microchip_id]
        del self.pets[pet.id]

    # --- appointments ---------------------------------------------------------------

    def get_appointment(self, appointment_id: str) -> Appointment:
        """Return an appointment or raise 404."""
        appointment = self.appointments.get(appointment_id.lower())
        if appointment is None:
            raise NotFound(f"Appointment {appointment_id} not found")
        return appointment

    def _check_slot(self, pet_id: str, instant: dt.datetime, exclude: str | None = None) -> None:
        """409 if the pet already has a live appointment at the same instant."""
        for other_id in self._appointments_by_pet[pet_id]:
            other = self.appointments[other_id]
            if other_id != exclude and other.status != "cancelled" and other.scheduled_instant == instant:
                raise Conflict(f"Pet {pet_id} already has appointment {other_id} at that time")

    def add_appointment(self, fields: Changes) -> Appointment:
        """Create an appointment for an existing pet and user in a free slot."""
        errors = []
        if fields["pet_id"] not in self.pets:
            errors.append(field_error("pet_id", "No pet with this id exists"))
        if fields["user_id"] not in self.users:
            errors.append(field_error("user_id", "No user with this id exists"))
        if errors:
            raise ValidationFailed(errors)
        instant = _instant(fields["scheduled_at"])
        self._check_slot(fields["pet_id"], instant)
        now = now_iso()
        appointment = Appointment(
            id=str(uuid.uuid4()),
            seq=next(self._seq),
            scheduled_instant=instant,
            created_at=now,
            updated_at=now,
            **fields,
        )
        self.appointments[appointment.id] = appointment
        self._appointments_by_pet[appointment.pet_id][appointment.id] = None
        return appointment

    def update_appointment(self, appointment_id: str, changes: Changes) -> Appointment:
        """Apply a partial update; a live appointment may not move onto a taken slot."""
        appointment = self.get_appointment(appointment_id)
        instant = appointment.scheduled_instant
        if "scheduled_at" in changes:
            instant = _instant(changes["scheduled_at"])
        status = changes.get("status", appointment.status)
        if status != "cancelled":
            self._check_slot(appointment.pet_id, instant, exclude=appointment.id)
            appointment.cancellation_reason = None
        for name, value in changes.items():
            setattr(appointment, name, value)
        appointment.scheduled_instant = instant
        appointment.updated_at = now_iso()
        return appointment

    def cancel_appointment(self, appointment_id: str, reason: str) -> Appointment:
        """Cancel an appointment with a reason; 409 if it already is cancelled."""
        appointment = self.get_appointment(appointment_id)
        if appointment.status == "cancelled":
            raise Conflict(f"Appointment {appointment.id} is already cancelled")
        appointment.status = "cancelled"
        appointment.cancellation_reason = reason
        appointment.updated_at = now_iso()
        return appointment

    def delete_appointment(self, appointment_id: str) -> None:
        """Delete an appointment."""
        self._drop_appointment(self.get_appointment(appointment_id))

    def _drop_appointment(self, appointment: Appointment) -> None:
        """Remove an appointment and its index entry."""
        del self.appointments[appointment.id]
        del self._appointments_by_pet[appointment.pet_id][appointment.id]

    # --- health records -------------------------------------------------------------

    def get_health_record(self, record_id: str) -> HealthRecord:
        """Return a health record or raise 404."""
        record = self.health_records.get(record_id.lower())
        if record is None:
            raise NotFound(f"Health record {record_id} not found")
        return record

    def add_health_record(self, fields: Changes) -> HealthRecord:
        """Create a health record for an existing pet."""
        if fields["pet_id"] not in self.pets:
            raise ValidationFailed([field_error("pet_id", "No pet with this id exists")])
        record = HealthRecord(id=str(uuid.uuid4()), seq=next(self._seq), created_at=now_iso(), **fields)
        self.health_records[record.id] = record
        self._records_by_pet[record.pet_id][record.id] = None
        return record

    def delete_health_record(self, record_id: str) -> None:
        """Delete a health record."""
        record = self.get_health_record(record_id)
        del self.health_records[record.id]
        del self._records_by_pet[record.pet_id][record.id]

    # --- statistics -----------------------------------------------------------------

    def statistics(self) -> dict[str, Any]:
        """Totals plus pets per species and appointments per status (present keys only)."""
        return {
            "total_pets": len(self.pets),
            "total_users": len(self.users),
            "total_appointments": len(self.appointments),
            "total_health_records": len(self.health_records),
            "pets_by_species": dict(Counter(p.species for p in self.pets.values())),
            "appointments_by_status": dict(Counter(a.status for a in self.appointments.values())),
        }
