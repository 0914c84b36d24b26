"""What differs between API versions, as data: models, serializers and feature flags.

Handlers are written once against :class:`VersionSpec`; adding a version means adding
one spec here (plus its models and serializers), not new endpoint code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from . import models as m
from . import serializers as s
from .queries import PetFilterMode
from .store import Appointment, Pet, Store, User

__all__ = ["V1", "V2", "V3", "VERSIONS", "VersionSpec", "version_of_path"]

Json = dict[str, Any]


def _unchanged(fields: Json, current: Any = None) -> Json:
    """Inbound mapping for resources whose wire names are the canonical names."""
    return fields


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """Everything version-specific the generic handlers need."""

    name: str
    nested_pagination: bool
    pet_filters: PetFilterMode
    appointment_time_filters: bool
    pet_create: type[BaseModel]
    pet_update: type[BaseModel]
    pet_out: Callable[[Store, Pet], Json]
    pet_in: Callable[[Json, Pet | None], Json]
    user_create: type[BaseModel]
    user_update: type[BaseModel]
    user_out: Callable[[Store, User], Json]
    user_in: Callable[[Json, User | None], Json]
    appointment_create: type[BaseModel]
    appointment_update: type[BaseModel]
    appointment_out: Callable[[Store, Appointment], Json]
    pet_batch: type[BaseModel] | None = None
    health_record_create: type[BaseModel] | None = None
    statistics: bool = False
    appointment_cancel: type[BaseModel] | None = None


V1 = VersionSpec(
    name="v1",
    nested_pagination=False,
    pet_filters="basic",
    appointment_time_filters=False,
    pet_create=m.PetCreateV1,
    pet_update=m.PetUpdateV1,
    pet_out=s.pet_v1,
    pet_in=s.pet_in_with_age,
    user_create=m.UserCreateV1,
    user_update=m.UserUpdateV1,
    user_out=s.user_v1,
    user_in=_unchanged,
    appointment_create=m.AppointmentCreateV1,
    appointment_update=m.AppointmentUpdateV1,
    appointment_out=s.appointment_v1,
)

V2 = VersionSpec(
    name="v2",
    nested_pagination=False,
    pet_filters="age",
    appointment_time_filters=True,
    pet_create=m.PetCreateV2,
    pet_update=m.PetUpdateV2,
    pet_out=s.pet_v2,
    pet_in=s.pet_in_with_age,
    user_create=m.UserCreateV2,
    user_update=m.UserUpdateV2,
    user_out=s.user_v2,
    user_in=_unchanged,
    appointment_create=m.AppointmentCreateV2,
    appointment_update=m.AppointmentUpdateV2,
    appointment_out=s.appointment_v2,
    pet_batch=m.PetBatchV2,
    health_record_create=m.HealthRecordCreateV2,
    statistics=True,
)

V3 = VersionSpec(
    name="v3",
    nested_pagination=True,
    pet_filters="birth",
    appointment_time_filters=True,
    pet_create=m.PetCreateV3,
    pet_update=m.PetUpdateV3,
    pet_out=s.pet_v3,
    pet_in=_unchanged,
    user_create=m.UserCreateV3,
    user_update=m.UserUpdateV3,
    user_out=s.user_v3,
    user_in=s.user_in_v3,
    appointment_create=m.AppointmentCreateV3,
    appointment_update=m.AppointmentUpdateV3,
    appointment_out=s.appointment_v3,
    health_record_create=m.HealthRecordCreateV3,
    statistics=True,
    appointment_cancel=m.CancelAppointmentV3,
)

VERSIONS: tuple[VersionSpec, ...] = (V1, V2, V3)
"""All served versions, mounted at ``/api/<name>``."""

_VERSION_PREFIX = re.compile(r"^/api/(v[0-9]+)(?:/|$)")
_KNOWN_VERSIONS = frozenset(spec.name for spec in VERSIONS)


def version_of_path(path: str) -> str | None:
    """The served version a path belongs to (``/api/v2/pets`` is ``v2``), else ``None`` for the envelope."""
    match = _VERSION_PREFIX.match(path)
    if match is None or match.group(1) not in _KNOWN_VERSIONS:
        return None
    return match.group(1)
