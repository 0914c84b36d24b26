"""Clock, date and RFC 3339 helpers shared by validation, the store and the serializers.

Pets store a canonical ``date_of_birth``; v1/v2 speak ``age`` in whole years, so both
conversions live here to keep them exact inverses of each other.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

__all__ = [
    "age_on",
    "dob_for_age",
    "is_future_date",
    "now_iso",
    "parse_date",
    "parse_datetime",
    "today",
]

# RFC 3339 section 5.6 date-time: seconds and an explicit offset are mandatory.
_RFC3339 = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$",
    re.IGNORECASE,
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def now_iso() -> str:
    """Return the current UTC instant as an RFC 3339 string ending in ``+00:00``."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def today() -> date:
    """Return the server's current calendar date (the reference for ages)."""
    return date.today()


def is_future_date(value: date) -> bool:
    """Tell whether ``value`` lies after today, by both local and UTC reckoning.

    Taking the later of the two avoids rejecting a client's "today" near midnight.
    """
    return value > max(date.today(), datetime.now(UTC).date())


def age_on(dob: date, on: date) -> int:
    """Return the age in whole years of someone born on ``dob``, as of ``on``."""
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def dob_for_age(age: int, on: date) -> date:
    """Return the birth date ``age`` years before ``on`` (same month and day).

    A 29 February without a counterpart becomes 28 February, which still yields
    exactly ``age`` through :func:`age_on`, so the two functions round-trip.
    """
    try:
        return on.replace(year=on.year - age)
    except ValueError:
        return on.replace(year=on.year - age, day=28)


def parse_datetime(text: str) -> datetime | None:
    """Parse an RFC 3339 date-time (seconds and offset required); ``None`` if invalid."""
    if not _RFC3339.match(text):
        return None
    try:
        return datetime.fromisoformat(text.upper())
    except ValueError:
        return None


def parse_date(text: str) -> date | None:
    """Parse a ``YYYY-MM-DD`` calendar date; ``None`` if invalid."""
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
