"""Named value generators that test data templates refer to (``generate_email`` ...).

Each entry turns a :class:`GeneratorContext` into a zero-argument callable, so the
data factory resolves names once per template and then calls plain functions:
no lookups, no parsing and no ``uuid``/``datetime`` parsing on the hot path.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["GENERATORS", "GeneratorContext", "ValueGenerator", "generator_names"]

ValueGenerator = Callable[[], object]

_PET_NAMES = ("Rex", "Luna", "Milo", "Bella", "Coco", "Max", "Nala", "Otis", "Pip", "Ziggy")
_HEX = "0123456789abcdef"


@dataclass
class GeneratorContext:
    """What generators share within one factory: the seeded RNG, one counter, a namespace.

    The namespace keeps unique values unique across processes that use the same
    seed (for example pytest-xdist workers talking to one live server).
    """

    rng: random.Random
    namespace: str = ""
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    @property
    def namespace_digits(self) -> int:
        """Six digits derived from the namespace, for numeric unique values."""
        return zlib.crc32(self.namespace.encode()) % 1_000_000


def _uuid(ctx: GeneratorContext) -> ValueGenerator:
    bits = ctx.rng.getrandbits

    def generate() -> str:
        # A version-4, variant-1 UUID from the seeded RNG, formatted without uuid.UUID.
        h = f"{bits(128) & ~(0xF << 76) & ~(0x3 << 62) | (4 << 76) | (2 << 62):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    return generate


def _email(ctx: GeneratorContext) -> ValueGenerator:
    counter, ns = ctx.counter, ctx.namespace
    return lambda: f"user{next(counter)}.{ns}@example.com" if ns else f"user{next(counter)}@example.com"


def _name(ctx: GeneratorContext) -> ValueGenerator:
    counter, ns = ctx.counter, ctx.namespace
    return lambda: f"Name {ns}{next(counter)}"


def _pet_name(ctx: GeneratorContext) -> ValueGenerator:
    counter, ns, names = ctx.counter, ctx.namespace, _PET_NAMES

    def generate() -> str:
        n = next(counter)
        return f"{names[n % len(names)]} {ns}{n}"

    return generate


def _phone(ctx: GeneratorContext) -> ValueGenerator:
    counter = ctx.counter
    return lambda: f"+1 555 {next(counter) % 10_000_000:07d}"


def _microchip(ctx: GeneratorContext) -> ValueGenerator:
    counter, prefix = ctx.counter, ctx.namespace_digits
    return lambda: f"{prefix:06d}{next(counter) % 1_000_000_000:09d}"


def _days_back(ctx: GeneratorContext, low: int, high: int) -> ValueGenerator:
    base, randrange, fromordinal = ctx.today.toordinal(), ctx.rng.randrange, dt.date.fromordinal
    return lambda: fromordinal(base - randrange(low, high)).isoformat()


def _datetime_from(ctx: GeneratorContext, days: int, step_minutes: int) -> ValueGenerator:
    start = dt.datetime.combine(ctx.today, dt.time(9, 0), tzinfo=dt.UTC) + dt.timedelta(days=days)
    counter, step = ctx.counter, dt.timedelta(minutes=step_minutes)

    def generate() -> str:
        # Unique per factory: appointments for one pet never collide on scheduled_at.
        return (start + next(counter) * step).isoformat()

    return generate


def _text(ctx: GeneratorContext) -> ValueGenerator:
    counter = ctx.counter
    return lambda: f"Generated text {next(counter)}"


def _uri(ctx: GeneratorContext) -> ValueGenerator:
    counter, ns = ctx.counter, ctx.namespace or "x"
    return lambda: f"https://example.org/photos/{ns}/{next(counter)}.jpg"


GENERATORS: Mapping[str, Callable[[GeneratorContext], ValueGenerator]] = {
    "generate_uuid": _uuid,
    "generate_email": _email,
    "generate_name": _name,
    "generate_pet_name": _pet_name,
    "generate_phone": _phone,
    "generate_microchip": _microchip,
    "generate_past_date": lambda ctx: _days_back(ctx, 30, 3650),
    "generate_recent_date": lambda ctx: _days_back(ctx, 1, 30),
    "generate_future_datetime": lambda ctx: _datetime_from(ctx, 1, 1),
    "generate_past_datetime": lambda ctx: _datetime_from(ctx, -400, -1),
    "generate_text": _text,
    "generate_uri": _uri,
}


def generator_names() -> list[str]:
    """The names a template's ``field_generators`` may use."""
    return sorted(GENERATORS)
