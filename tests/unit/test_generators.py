"""Tests of framework.generators: formats that the schemas accept, and uniqueness."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from jsonschema import FormatChecker

from framework.generators import GENERATORS, GeneratorContext, generator_names


def ctx(seed: int = 0, namespace: str = "t") -> GeneratorContext:
    return GeneratorContext(random.Random(seed), namespace)


def test_uuid_is_version_4() -> None:
    value = GENERATORS["generate_uuid"](ctx())()
    assert isinstance(value, str)
    parsed = uuid.UUID(value)
    assert parsed.version == 4
    assert str(parsed) == value


def test_formats_pass_jsonschema_checks() -> None:
    checker = FormatChecker()
    c = ctx()
    for name, fmt in [
        ("generate_uuid", "uuid"),
        ("generate_email", "email"),
        ("generate_past_date", "date"),
        ("generate_recent_date", "date"),
        ("generate_future_datetime", "date-time"),
        ("generate_past_datetime", "date-time"),
        ("generate_uri", "uri"),
    ]:
        value = GENERATORS[name](c)()
        assert checker.conforms(value, fmt), (name, value)


def test_dates_point_the_right_way() -> None:
    c = ctx()
    today = dt.datetime.now(dt.UTC).date()
    assert dt.date.fromisoformat(str(GENERATORS["generate_past_date"](c)())) < today
    assert dt.datetime.fromisoformat(str(GENERATORS["generate_future_datetime"](c)())).date() > today


def test_microchip_is_15_digits() -> None:
    value = str(GENERATORS["generate_microchip"](ctx())())
    assert len(value) == 15
    assert value.isdigit()


def test_unique_across_one_context() -> None:
    c = ctx()
    gen = GENERATORS["generate_future_datetime"](c)
    assert len({gen() for _ in range(1000)}) == 1000


def test_names_listed() -> None:
    assert "generate_email" in generator_names()
    assert generator_names() == sorted(GENERATORS)
