"""The test data factory: valid and invalid payloads per resource and version.

Each (resource, version, kind) is planned once: constant values are kept in a dict
that is shallow-copied per payload, and only the fields that must differ (unique
names, ids, dates, mutable nested values) are produced per call, by one function
compiled from their generators' expressions (:func:`framework.generators.assigner`):
about what the same dict written by hand costs. Values come from, in order: the
template's ``field_generators``, its ``base_data``, the version's JSON Schema, and last
the field's name (so a config with only field lists works).
"""

# No ``from __future__ import annotations``: see framework/config/model.py (NamedTuple and
# string annotations).
import functools
import random
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, NamedTuple, cast

from framework.config import VersionConfig
from framework.errors import ConfigGapError, FactoryError, UnknownNameError
from framework.generators import GENERATORS, Expression, GeneratorContext, ValueGenerator, assigner, combine

__all__ = ["DataFactory", "InvalidCase", "Item", "Related"]

Payload = dict[str, Any]
Optional_ = bool | Collection[str]


# The records are NamedTuples: immutable, and each costs a fraction of a frozen dataclass to
# create at import (0.4 to 0.7 M instructions against 3.8 M for a frozen, slotted one),
# which every pytest session that builds a payload pays.
class InvalidCase(NamedTuple):
    """A create payload that is valid but for one named defect."""

    id: str
    field: str
    reason: str
    payload: Payload


class Item(NamedTuple):
    """A payload together with the id the related objects refer to it by."""

    id: str
    payload: Payload


class Related(NamedTuple):
    """A user with pets with appointments (and health records), ids consistent."""

    user: Item
    pets: list[Item]
    appointments: list[Item]
    health_records: list[Item]


class _Plan:
    """A payload's recipe: its constants, and one compiled function for every other field.
    A plain slotted class: its attributes are read on every payload (a NamedTuple's cost
    about 1% more instructions a payload)."""

    __slots__ = ("assign", "static")

    def __init__(self, static: dict[str, Any], assign: Callable[[Payload], None]) -> None:
        self.static = static
        self.assign = assign  # every other field, in one compiled function

    def make(self, overrides: Mapping[str, Any]) -> Payload:
        payload = self.static.copy()
        self.assign(payload)
        if overrides:
            payload.update(overrides)
        return payload


def _split(parts: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, Expression]]]:
    """Constants (shared by every payload) apart from the expressions evaluated per payload;
    a mutable constant becomes the expression of a fresh copy."""
    static: dict[str, Any] = {}
    dynamic: list[tuple[str, Expression]] = []
    for name, value in parts.items():
        if isinstance(value, Expression | dict | list) or callable(value):
            dynamic.append((name, _as_expression(value)))
        else:
            static[name] = value
    return static, dynamic


def _plan_from(parts: Mapping[str, Any]) -> _Plan:
    static, dynamic = _split(parts)
    return _Plan(static, assigner(dynamic))


def _object_from(parts: Mapping[str, Any]) -> Expression:
    """A nested object as one expression: a dict display of its constants, then each
    generated field, in the order :meth:`_Plan.make` gives them."""
    static, dynamic = _split(parts)
    keys = {f"key{i}": name for i, (name, _) in enumerate(dynamic)}  # names, not literals: "$" is ours

    def display(sources: list[str]) -> str:
        items = [f"${key}: {source}" for key, source in zip(keys, sources, strict=True)]
        return "{" + ", ".join(["**$static", *items] if static else items) + "}"

    return combine(display, [expression for _, expression in dynamic], static=static, **keys)


def _as_expression(value: Any) -> Expression:
    """What gives ``value`` per payload: itself if an expression, a call of a function, a
    fresh copy of a dict or list, else the value (shared: it is immutable)."""
    if isinstance(value, Expression):
        return value
    if callable(value):
        return Expression.calling(value)
    if isinstance(value, dict | list):
        return Expression.calling(_copier(value))
    return Expression.constant(value)


def _copier(value: dict[str, Any] | list[Any]) -> ValueGenerator:
    """Fresh copies of a constant dict or list: its own ``copy`` (C, no Python frame) when
    nothing in it is a dict or list, else :func:`_json_copy`."""
    if type(value) in (dict, list) and not any(isinstance(v, dict | list) for v in _members(value)):
        return value.copy
    return functools.partial(_json_copy, value)


def _members(value: dict[str, Any] | list[Any]) -> Iterable[Any]:
    return value.values() if isinstance(value, dict) else value


def _json_copy(value: Any) -> Any:
    """Copy JSON-like data: a fraction of ``copy.deepcopy``'s cost for dicts and lists."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_copy(v) for v in value]
    return value


class DataFactory:
    """Builds payloads from a :class:`VersionConfig`; deterministic for a given seed.

    ``namespace`` goes into every unique value, so processes sharing a seed (xdist
    workers against one live server) never produce the same email or name.
    """

    def __init__(self, config: VersionConfig, *, seed: int | None = None, namespace: str = "") -> None:
        self.config = config
        self.seed = seed
        self._rng = random.Random(seed)
        self._ctx = GeneratorContext(self._rng, namespace)
        self._plans: dict[tuple[str, str, str, object], _Plan] = {}
        # version -> resource -> the plan with every optional field, build()'s default:
        # two string lookups cost less than hashing a new four-part key each payload.
        self._complete: dict[str, dict[str, _Plan]] = {}
        self._chosen: dict[tuple[str, str, object], _Plan] = {}  # build()'s other choices, as given
        self._uuid = cast(Callable[[], str], GENERATORS["generate_uuid"](self._ctx).function)

    # -- public API -------------------------------------------------------------------------
    def build(self, resource: str, version: str, *, optional: Optional_ = True, **overrides: Any) -> Payload:
        """A valid create payload: every required field, and the optional ones chosen by
        ``optional`` (True: all, False: none, or a collection of names)."""
        if optional is True:
            try:
                plan = self._complete[version][resource]
            except KeyError:
                plan = self._complete_plan(resource, version)
        else:
            # Keyed first by the names as given (a tuple of a list costs a fraction of a frozenset
            # and its hash); the plan itself is shared by every spelling of the same choice.
            asked = (resource, version, False if optional is False else tuple(optional))
            try:
                plan = self._chosen[asked]
            except KeyError:
                key = (resource, version, "create", False if optional is False else frozenset(optional))
                if key not in self._plans:
                    self._plans[key] = self._plan_create(resource, version, optional)
                plan = self._chosen[asked] = self._plans[key]
        return plan.make(overrides)

    def stream(self, resource: str, version: str, n: int, **overrides: Any) -> Iterator[Payload]:
        """``n`` payloads, one at a time: a large dataset that is never held in memory."""
        make = self._complete_plan(resource, version).make
        for _ in range(n):
            yield make(overrides)

    def build_response(self, resource: str, version: str, **overrides: Any) -> Payload:
        """What a server would answer for this resource: every ``<resource>_response``
        field (for mock servers and validator benchmarks)."""
        key = (resource, version, "response", True)
        plan = self._plans.get(key)
        if plan is None:
            fields = self._field_list(version, f"{resource}_response")
            plan = self._plans[key] = self._plan(resource, version, "response", fields)
        return plan.make(overrides)

    def build_update(self, resource: str, version: str, **changes: Any) -> Payload:
        """A valid update payload: ``changes`` if given (checked against the version's
        update fields), else fresh values for every update field."""
        fields = self._field_list(version, f"{resource}_update")
        unknown = set(changes) - set(fields)
        if unknown:
            raise FactoryError(
                f"{sorted(unknown)} cannot be updated in {version} {resource}; update fields: {', '.join(fields)}"
            )
        if changes:
            return dict(changes)
        key = (resource, version, "update", True)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(resource, version, "update", fields)
        return plan.make({})

    def invalid(self, resource: str, version: str, **overrides: Any) -> list[InvalidCase]:
        """Create payloads with one defect each: a required field missing, a wrong type,
        a value outside an enum, a malformed format or pattern, a number out of range.

        References (``owner_id`` ...) are random ids unless ``overrides`` point them at
        real records: do that before sending, or the server may reject the payload for
        the unknown reference rather than for the defect.
        """
        required = self.config.get_required_fields(version, f"{resource}_create")
        cases = []
        for name in required:
            payload = self.build(resource, version, **overrides)
            del payload[name]
            cases.append(InvalidCase(f"missing-{name}", name, "required field missing", payload))
        props = self._properties(resource, version, "create")
        for name in self.config.get_schema_fields(version, f"{resource}_create"):
            schema = props.get(name)
            if schema is None:
                continue
            for reason, value in _defects(schema):
                payload = self.build(resource, version, **overrides)
                payload[name] = value
                cases.append(InvalidCase(f"{reason}-{name}", name, reason.replace("-", " "), payload))
        return cases

    def related(self, version: str, *, pets: int = 1, appointments: int = 1, health_records: int = 0) -> Related:
        """A user, ``pets`` pets owned by them, ``appointments`` per pet and
        ``health_records`` per pet, with every reference pointing at the right id."""
        uid = self._uuid()
        user = Item(uid, self.build("user", version))
        pet_items, appts, records = [], [], []
        for _ in range(pets):
            pid = self._uuid()
            pet_items.append(Item(pid, self.build("pet", version, owner_id=uid)))
            for _ in range(appointments):
                appts.append(Item(self._uuid(), self.build("appointment", version, pet_id=pid, user_id=uid)))
            for _ in range(health_records):
                records.append(Item(self._uuid(), self.build("health_record", version, pet_id=pid)))
        return Related(user, pet_items, appts, records)

    # -- planning ---------------------------------------------------------------------------
    def _field_list(self, version: str, key: str) -> tuple[str, ...]:
        try:
            return self.config.get_schema_fields(version, key)
        except ConfigGapError:
            raise  # a list this version lacks: the message already says where to add it
        except UnknownNameError as exc:
            named, _, asked = key.rpartition("_")[0].rpartition("_")
            if asked in _CALLS:  # build("pet_update", ...): the kind went into the resource's name
                article = "an" if asked[0] in "aeiou" else "a"
                fix = f"for {article} {asked} payload call {_CALLS[asked]}({named!r}, {version!r})"
            else:
                fix = f"add schema_fields.{key} to versions.{version}"
            raise FactoryError(f"{self.config.path.name}: {exc}; {fix}") from None

    def _complete_plan(self, resource: str, version: str) -> _Plan:
        key = (resource, version, "create", True)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan_create(resource, version, True)
        self._complete.setdefault(version, {})[resource] = plan
        return plan

    def _plan_create(self, resource: str, version: str, optional: Optional_) -> _Plan:
        key = f"{resource}_create"
        all_fields = self._field_list(version, key)
        required = set(self.config.get_required_fields(version, key))
        if optional is True:
            chosen = set(all_fields)
        elif optional is False:
            chosen = required
        else:
            unknown = set(optional) - set(all_fields)
            if unknown:
                raise FactoryError(
                    f"{sorted(unknown)} are not fields of {version} {key}; fields: {', '.join(all_fields)}"
                )
            chosen = required | set(optional)
        return self._plan(resource, version, "create", [f for f in all_fields if f in chosen])

    def _properties(self, resource: str, version: str, kind: str) -> Mapping[str, Any]:
        """Each field's schema, from the ``kind`` schema, else ``create``, else ``response``
        (an update field such as ``status`` may be described only in the response)."""
        merged: dict[str, Any] = {}
        for k in ("response", "create", kind):
            schema = self.config.get_schema(version, f"{resource}_{k}")
            if schema is not None:
                merged.update(schema.get("properties") or {})
        return merged

    def _plan(self, resource: str, version: str, kind: str, fields: Collection[str]) -> _Plan:
        template = self.config.get_template(resource)
        props = self._properties(resource, version, kind)
        key = self.config.field_key(version, resource, kind)
        parts: dict[str, Any] = {}
        for name in fields:
            if name in template.field_generators:
                parts[name] = GENERATORS[template.field_generators[name]](self._ctx)
                continue
            if name in template.base_data:
                parts[name] = template.base_data[name]
            elif name in props:
                parts[name] = self._value(name, props[name], f"versions.{version}.schemas.{key}.properties.{name}")
            elif (hint := self.config.get_field_type(version, key, name)) is not None:
                parts[name] = self._value(name, _HINTS[hint], f"versions.{version}.schema_fields.{key}")
            else:
                parts[name] = _by_name(name, self._ctx)
        return _plan_from(parts)

    def _value(self, name: str, schema: Mapping[str, Any], where: str) -> Any:
        """A constant or a generator for one JSON Schema (types, formats, enums, objects)."""
        rng = self._rng
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            choices = [c for c in schema["enum"] if c is not None] or [None]
            return Expression("$choice($choices)", {"choice": rng.choice, "choices": choices})
        types = schema.get("type", "string")
        types = [types] if isinstance(types, str) else list(types)
        kind = next((t for t in types if t != "null"), "null")
        if kind == "string":
            fmt = schema.get("format")
            if fmt in _FORMATS:
                return GENERATORS[_FORMATS[fmt]](self._ctx)
            if "pattern" in schema:
                raise FactoryError(
                    f"{self.config.path.name}: {where} has a pattern the factory cannot invent; "
                    f"name a generator for it in test_data_templates or give it in base_data"
                )
            return _by_name(name, self._ctx)
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
            high = schema.get("maximum", low + 100)
            if kind == "integer":
                return Expression("$randint($low, $high)", {"randint": rng.randint, "low": int(low), "high": int(high)})
            number = {"uniform": rng.uniform, "low": low, "high": high}
            return Expression("round($uniform($low, $high), 2) or $high", number)
        if kind == "boolean":
            return True
        if kind == "array":
            item_schema = schema.get("items")
            count = max(schema.get("minItems", 1 if item_schema else 0), 0)
            if not item_schema or count == 0:
                return Expression("[]")
            item = _as_expression(self._value(name, item_schema, f"{where}.items"))
            if count == 1:  # the usual case (minItems absent): no loop to set up
                return combine(lambda s: f"[{s[0]}]", [item])
            return combine(lambda s: f"[{s[0]} for _ in range($count)]", [item], count=count)
        if kind == "object":
            nested = schema.get("properties") or {}
            return _object_from({k: self._value(k, s, f"{where}.properties.{k}") for k, s in nested.items()})
        return None


_CALLS = {"create": "build", "update": "build_update", "response": "build_response"}

_HINTS: Mapping[str, Mapping[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer", "minimum": 0, "maximum": 100},
    "number": {"type": "number", "minimum": 0, "maximum": 100},
    "boolean": {"type": "boolean"},
    "array": {"type": "array"},
    "object": {"type": "object"},
    **{fmt: {"type": "string", "format": fmt} for fmt in ("uuid", "email", "date", "date-time", "uri")},
}
"""What a field list's short type hint (``tags: array``) means, as a JSON Schema."""

_FORMATS = {
    "uuid": "generate_uuid",
    "email": "generate_email",
    "date": "generate_past_date",
    "date-time": "generate_past_datetime",
    "uri": "generate_uri",
}

_BAD_FORMAT = {
    "uuid": "not-a-uuid",
    "email": "not-an-email",
    "date": "31/12/2020",
    "date-time": "yesterday at noon",
    "uri": "not a uri",
}


def _by_name(name: str, ctx: GeneratorContext) -> Expression:
    """A generator guessed from a field's name, for configs with field lists only."""
    n = name.lower()
    if n == "id" or n.endswith("_id"):
        return GENERATORS["generate_uuid"](ctx)
    for hint, gen in _NAME_HINTS:
        if hint(n):
            return GENERATORS[gen](ctx)
    return GENERATORS["generate_text"](ctx)


_NAME_HINTS: tuple[tuple[Callable[[str], bool], str], ...] = (
    (lambda n: "email" in n, "generate_email"),
    (lambda n: n.endswith("_at"), "generate_past_datetime"),
    (lambda n: n == "date" or n.endswith("_date"), "generate_past_date"),
    (lambda n: "phone" in n, "generate_phone"),
    (lambda n: "name" in n, "generate_name"),
    (lambda n: "url" in n or "photo" in n, "generate_uri"),
)


def _defects(schema: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """Values that break ``schema`` in one named way each."""
    types = schema.get("type")
    allowed = {types} if isinstance(types, str) else set(types or ())
    if allowed:
        if "number" in allowed:
            allowed.add("integer")
        if "string" not in allowed:
            yield "wrong-type", "wrong-type"
        elif "integer" not in allowed:
            yield "wrong-type", 12345
        elif "object" not in allowed:
            yield "wrong-type", {"wrong": "type"}
    if schema.get("enum"):
        yield "bad-enum", "not-a-valid-choice"
    fmt = schema.get("format")
    if fmt in _BAD_FORMAT:
        yield "bad-format", _BAD_FORMAT[fmt]
    if "pattern" in schema:
        yield "bad-pattern", "!"
    if isinstance(schema.get("maximum"), int | float) and not isinstance(schema.get("maximum"), bool):
        yield "out-of-range", schema["maximum"] + 1
