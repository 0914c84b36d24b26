"""Named value generators that test data templates refer to (``generate_email`` ...).

Each entry turns a :class:`GeneratorContext` into an :class:`Expression`: one line of
Python over named values (the counter, the RNG's methods ...), resolved once per
template. Calling it gives a value; the data factory instead pastes the expressions of a
payload's fields into one compiled function (:func:`assigner`), so a payload costs about
what the same dict written by hand costs: no call, lookup or parsing per field.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import linecache
import operator
import random
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import CodeType
from typing import Any, cast

__all__ = [
    "GENERATORS",
    "Expression",
    "GeneratorContext",
    "ValueGenerator",
    "assigner",
    "combine",
    "generator_names",
]

ValueGenerator = Callable[[], object]

_PET_NAMES = ("Rex", "Luna", "Milo", "Bella", "Coco", "Max", "Nala", "Otis", "Pip", "Ziggy")
_DAY = 24 * 60  # minutes
_NINE_AM = 9 * 60


# GeneratorContext and Expression are plain classes: a dataclass is made at import by
# compiling its methods' source, about 2 M instructions each here, which every pytest session
# that builds a payload would pay for two constructors and a repr.
class GeneratorContext:
    """What generators share within one factory: the seeded RNG, one counter, a namespace.

    The namespace keeps unique values unique across processes that use the same
    seed (for example pytest-xdist workers talking to one live server).
    """

    def __init__(
        self,
        rng: random.Random,
        namespace: str = "",
        counter: Iterator[int] | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.rng = rng
        self.namespace = namespace
        self.counter = counter if counter is not None else itertools.count(1)
        self.today = today if today is not None else dt.datetime.now(dt.UTC).date()

    def __repr__(self) -> str:
        return f"GeneratorContext(rng={self.rng!r}, namespace={self.namespace!r}, today={self.today!r})"

    @property
    def namespace_digits(self) -> int:
        """Six digits derived from the namespace, for numeric unique values."""
        return zlib.crc32(self.namespace.encode()) % 1_000_000


class Expression:
    """A value generator as one line of Python in which ``$name`` stands for ``names[name]``;
    calling it evaluates the line.

    ``Expression('f"user{next($counter)}@example.com"', {"counter": ctx.counter})``. An
    assignment expression names its target the same way (``($n := next($counter))``), so
    that :func:`combine` and :func:`assigner` can make every name unique by rewriting text;
    a source has no other ``$`` (a value, a dict key too, goes in as a name, never as text).
    Not changed once made: its function is compiled from it on first use.
    """

    def __init__(self, source: str, names: Mapping[str, object] | None = None) -> None:
        self.source = source
        self.names: Mapping[str, object] = names if names is not None else {}

    def __repr__(self) -> str:
        return f"Expression({self.source!r}, {self.names!r})"

    @functools.cached_property
    def function(self) -> ValueGenerator:
        """The expression as a function of no arguments (compiled on first use)."""
        (source,), namespace = _unique([self])  # prefixed: no name can be the function's
        exec(_code(f"def function():\n    return {_plain(source)}\n"), namespace)
        return cast(ValueGenerator, namespace["function"])

    def __call__(self) -> object:
        return self.function()

    @classmethod
    def calling(cls, function: ValueGenerator) -> Expression:
        """The expression that calls ``function``: for values no one line can give."""
        return cls("$function()", {"function": function})

    @classmethod
    def constant(cls, value: object) -> Expression:
        """The expression whose value is ``value`` itself (shared, not copied)."""
        return cls("$value", {"value": value})


def _plain(source: str) -> str:
    """Python at last: ``$name`` becomes ``name`` (every ``$`` is one of ours: values, keys
    included, are names, never text in a source)."""
    return source.replace("$", "")


@functools.lru_cache(maxsize=512)
def _code(source: str) -> CodeType:
    """Compiled once per text: plans of the same shape share their code. The text goes
    into linecache, so that a traceback through it shows the line that failed."""
    filename = f"<framework.generators {zlib.crc32(source.encode()):08x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    return compile(source, filename, "exec")


def _unique(parts: Iterable[Expression]) -> tuple[list[str], dict[str, object]]:
    """The parts' sources and names with each name prefixed ``_0_``, ``_1_`` ... by its
    part's place, so that the names of different generators cannot clash."""
    sources: list[str] = []
    names: dict[str, object] = {}
    for i, part in enumerate(parts):
        prefix = f"_{i}_"
        sources.append(part.source.replace("$", "$" + prefix))
        names.update({prefix + name: value for name, value in part.names.items()})
    return sources, names


def combine(build: Callable[[list[str]], str], parts: Sequence[Expression], **names: object) -> Expression:
    """One expression made of ``parts``: ``build`` turns their sources into its source,
    which may use ``names`` too (``combine(lambda s: f"[{s[0]} for _ in range($count)]",
    [item], count=3)``)."""
    sources, merged = _unique(parts)
    return Expression(build(sources), {**merged, **names})


def assigner(fields: Sequence[tuple[str, Expression]]) -> Callable[[dict[str, Any]], None]:
    """One function that sets each key of a dict to the value of its expression, in order:
    ``payload["email"] = f"user{next(_0_counter)}@example.com"`` ..., compiled once per
    shape of plan."""
    sources, names = _unique(expression for _, expression in fields)
    body = "".join(
        f"    payload[{key!r}] = {_plain(source)}\n" for (key, _), source in zip(fields, sources, strict=True)
    )
    exec(_code(f"def assign(payload):\n{body or '    pass'}\n"), names)
    return cast(Callable[[dict[str, Any]], None], names["assign"])


# The version (4) and variant (1) bits of a UUID: kept and set in one step each.
_UUID_KEEP = ~(0xF << 76) & ~(0x3 << 62)
_UUID_SET = (4 << 76) | (2 << 62)
_UUID_GROUPS = operator.itemgetter(slice(0, 8), slice(8, 12), slice(12, 16), slice(16, 20), slice(20, 32))


def _uuid(ctx: GeneratorContext) -> Expression:
    # A version-4, variant-1 UUID from the seeded RNG, formatted without uuid.UUID: bytes.hex
    # is about twice as fast as format(n, "032x"), one itemgetter call faster than five slices.
    return Expression(
        '$join($groups(($bits(128) & $keep | $put).to_bytes(16, "big").hex()))',
        {"bits": ctx.rng.getrandbits, "join": "-".join, "groups": _UUID_GROUPS, "keep": _UUID_KEEP, "put": _UUID_SET},
    )


def _email(ctx: GeneratorContext) -> Expression:
    counter, ns = ctx.counter, ctx.namespace
    if ns:
        return Expression('f"user{next($counter)}.{$ns}@example.com"', {"counter": counter, "ns": ns})
    return Expression('f"user{next($counter)}@example.com"', {"counter": counter})


def _name(ctx: GeneratorContext) -> Expression:
    return Expression('f"Name {$ns}{next($counter)}"', {"counter": ctx.counter, "ns": ctx.namespace})


def _pet_name(ctx: GeneratorContext) -> Expression:
    return Expression(
        'f"{$names[($n := next($counter)) % $count]} {$ns}{$n}"',
        {"counter": ctx.counter, "ns": ctx.namespace, "names": _PET_NAMES, "count": len(_PET_NAMES)},
    )


def _phone(ctx: GeneratorContext) -> Expression:
    return Expression('f"+1 555 {next($counter) % 10_000_000:07d}"', {"counter": ctx.counter})


def _microchip(ctx: GeneratorContext) -> Expression:
    return Expression(
        'f"{$prefix:06d}{next($counter) % 1_000_000_000:09d}"', {"counter": ctx.counter, "prefix": ctx.namespace_digits}
    )


class _Texts(dict[int, str]):
    """Texts computed once per key (a day's ordinal, a minute of the day), then looked up:
    formatting a date costs ten times a dict lookup. At most a few thousand keys."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[int], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: int) -> str:
        text = self[key] = self._make(key)
        return text


def _iso_date(ordinal: int) -> str:
    return dt.date.fromordinal(ordinal).isoformat()


def _iso_clock(minute: int) -> str:
    """``T09:05:00+00:00``: what ``datetime.isoformat`` writes after the date, UTC, whole minutes."""
    return f"T{minute // 60:02d}:{minute % 60:02d}:00+00:00"


def _days_back(ctx: GeneratorContext, low: int, high: int) -> Expression:
    # ``today - rng.randrange(low, high)`` days, drawn as randrange draws (Random._randbelow:
    # getrandbits of the width's bit length until below the width) without its checks; the
    # first draw inline, a function call only when it is rejected (one time in eight here).
    width, bits = high - low, ctx.rng.getrandbits
    k = width.bit_length()

    def below() -> int:
        r = bits(k)
        while r >= width:
            r = bits(k)
        return r

    return Expression(
        "$dates[$latest - ($r if ($r := $bits($k)) < $width else $below())]",
        {
            "bits": bits,
            "k": k,
            "width": width,
            "below": below,
            "latest": ctx.today.toordinal() - low,
            "dates": _Texts(_iso_date),
        },
    )


def _datetime_from(ctx: GeneratorContext, days: int, step_minutes: int) -> Expression:
    # 09:00 UTC ``days`` from today plus one step per value (unique per factory: appointments
    # for one pet never collide on scheduled_at), as datetime.isoformat() writes it, made of
    # two looked-up halves instead of datetime arithmetic.
    return Expression(
        "$dates[$first + ($m := $nine + next($counter) * $step) // $day] + $clock[$m % $day]",
        {
            "counter": ctx.counter,
            "first": ctx.today.toordinal() + days,
            "nine": _NINE_AM,
            "step": step_minutes,
            "day": _DAY,
            "dates": _Texts(_iso_date),
            "clock": _Texts(_iso_clock),
        },
    )


def _text(ctx: GeneratorContext) -> Expression:
    return Expression('f"Generated text {next($counter)}"', {"counter": ctx.counter})


def _uri(ctx: GeneratorContext) -> Expression:
    return Expression(
        'f"https://example.org/photos/{$ns}/{next($counter)}.jpg"', {"counter": ctx.counter, "ns": ctx.namespace or "x"}
    )


GENERATORS: Mapping[str, Callable[[GeneratorContext], Expression]] = {
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
