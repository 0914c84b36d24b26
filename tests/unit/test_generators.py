"""Tests of framework.generators: formats that the schemas accept, uniqueness, the same values as
the plain code from the same draws, and the expressions the factory compiles."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid

import pytest
from jsonschema import FormatChecker

from framework.generators import GENERATORS, Expression, GeneratorContext, assigner, combine, generator_names


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


# -- the same values as the straightforward code, from the same draws --------------------------
def test_uuid_is_the_seeded_draw_with_version_and_variant_set() -> None:
    generate, reference = GENERATORS["generate_uuid"](ctx(seed=7)), random.Random(7)
    for _ in range(500):
        bits = reference.getrandbits(128) & ~(0xF << 76) & ~(0x3 << 62) | (4 << 76) | (2 << 62)
        assert generate() == str(uuid.UUID(int=bits))


@pytest.mark.parametrize(("name", "low", "high"), [("generate_past_date", 30, 3650), ("generate_recent_date", 1, 30)])
def test_dates_are_randrange_draws(name: str, low: int, high: int) -> None:
    # 2,000 draws: about one in eight is rejected and drawn again, as randrange does.
    c = ctx(seed=3)
    generate, reference = GENERATORS[name](c), random.Random(3)
    for _ in range(2000):
        assert generate() == (c.today - dt.timedelta(days=reference.randrange(low, high))).isoformat()


@pytest.mark.parametrize(
    ("name", "days", "step"), [("generate_future_datetime", 1, 1), ("generate_past_datetime", -400, -1)]
)
def test_datetimes_are_the_datetime_arithmetic(name: str, days: int, step: int) -> None:
    # Past midnight both ways (09:00 + 900 minutes, 09:00 - 541 minutes), over a leap day.
    c = GeneratorContext(random.Random(0), "", itertools.count(0), dt.date(2024, 2, 27))
    start = dt.datetime.combine(c.today, dt.time(9, 0), tzinfo=dt.UTC) + dt.timedelta(days=days)
    generate = GENERATORS[name](c)
    for n in range(4000):
        assert generate() == (start + n * dt.timedelta(minutes=step)).isoformat()


# -- expressions: what the data factory compiles a payload's fields into -----------------------
def test_an_expression_is_called_like_a_function() -> None:
    counter = itertools.count(5)
    label = Expression('f"item {next($counter)}"', {"counter": counter})
    assert [label(), label.function()] == ["item 5", "item 6"]
    assert Expression.constant([1])() == [1]
    assert Expression.calling(lambda: "called")() == "called"


def test_combined_expressions_keep_their_names_apart() -> None:
    # Two generators both say $counter and $n; each must keep its own.
    tens, hundreds = itertools.count(10), itertools.count(100)
    parts = [
        Expression("(($n := next($counter)), $n)", {"counter": tens}),
        Expression("(($n := next($counter)), $n)", {"counter": hundreds}),
    ]
    pair = combine(lambda s: f"[{s[0]}, {s[1]}, $tag]", parts, tag="t")
    assert pair() == [(10, 10), (100, 100), "t"]


def test_assigner_sets_keys_in_order_whatever_their_text() -> None:
    counter = itertools.count(1)
    keys = ["$ref", "it's", 'say "hi"', "{braces}"]
    assign = assigner([(key, Expression("next($counter)", {"counter": counter})) for key in keys])
    payload = {"kept": 0}
    assign(payload)
    assert payload == {"kept": 0, "$ref": 1, "it's": 2, 'say "hi"': 3, "{braces}": 4}
    assert list(payload) == ["kept", *keys]
    empty: dict[str, object] = {}
    assigner([])(empty)
    assert empty == {}
