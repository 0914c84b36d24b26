"""The response validator: field lists and JSON Schemas, compiled once, checked fast.

Per (version, resource, kind) it precomputes the expected field set and compiles the
schema with jsonschema-rs (Rust, formats checked). A valid response costs little more
than jsonschema-rs's ``is_valid`` alone (the key checks are skipped when the schema makes
them); an invalid one, about what jsonschema-rs's own error listing costs (its errors at the
root of the object, which copy the whole object, are put in its words apart).
jsonschema, the reference, is the other backend (``backend="jsonschema"``, about 100x
slower); ``tests/unit/test_validator.py`` holds the two to the same verdict and the same
problem paths on every valid and invalid payload of the suite, and the fast one to the
exact explanation written out plainly there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema_rs

from framework.config import VersionConfig
from framework.errors import Problem, ResponseValidationError

__all__ = ["Backend", "ResponseValidator", "ValidationResult", "checked_formats"]

Backend = Literal["fast", "jsonschema"]
_Errors = Callable[[Any], list[tuple[str, str]]]
_SplitErrors = Callable[[dict[Any, Any], Set[Any], Set[Any]], list[tuple[str, str]]]
_IterErrors = Callable[[Any], Iterator[jsonschema_rs.ValidationError]]


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The verdict on one response; truthy when it is valid."""

    version: str
    resource: str
    kind: str
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def __bool__(self) -> bool:
        return not self.problems

    def raise_for_problems(self) -> None:
        """Raise :class:`ResponseValidationError` listing every problem, if any."""
        if self.problems:
            raise ResponseValidationError(self.version, self.resource, self.kind, self.problems)


@dataclass(frozen=True, slots=True)
class _Compiled:
    passes: Callable[[dict[Any, Any]], bool]
    fields: frozenset[str] | None
    required: frozenset[str]
    errors: _Errors | None
    split: _SplitErrors | None  # the same errors for an object, given its lost and extra fields
    ok: ValidationResult
    missing: str
    unexpected: str


def _json_path(parts: Sequence[str | int]) -> str:
    """``$.address.country``, ``$.additional_photos[0]``: where a problem is."""
    if not parts:  # the usual cases first: the object itself, or one of its fields
        return "$"
    if len(parts) == 1 and isinstance(key := parts[0], str):
        return f"$.{key}"
    return "$" + "".join([f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts])


_as_problem = functools.partial(tuple.__new__, Problem)
"""``Problem(*pair)``, made as a tuple is, in C."""


def _implies_field_lists(schema: Mapping[str, Any], fields: frozenset[str] | None, required: Iterable[str]) -> bool:
    """Whether every dict the schema accepts also has the field list's required fields and
    none beyond its fields: then the schema's verdict alone decides a valid response."""
    if not set(required) <= set(schema.get("required") or ()):
        return False
    if fields is None:
        return True
    return (
        schema.get("additionalProperties") is False
        and "patternProperties" not in schema
        and set(schema.get("properties") or ()) <= fields
    )


def _field_check(
    fields: frozenset[str] | None, required: frozenset[str], is_valid: Callable[[Any], bool] | None
) -> Callable[[dict[Any, Any]], bool]:
    def passes(data: dict[Any, Any]) -> bool:
        keys = data.keys()
        return (keys == fields or (required <= keys and (fields is None or keys <= fields))) and (
            is_valid is None or is_valid(data)
        )

    return passes


def _rs_backend(schema: dict[str, Any]) -> tuple[Callable[[Any], bool], _Errors]:
    compiled = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    iter_errors = compiled.iter_errors

    def errors(data: Any) -> list[tuple[str, str]]:
        return [(_json_path(e.instance_path), e.message) for e in iter_errors(data)]

    return compiled.is_valid, errors


# Root keywords of a schema whose errors on an object are independent of its "required" and
# "additionalProperties": false: only with no others can _rs_split answer those two apart.
_SPLITTABLE = frozenset(
    {"type", "required", "properties", "additionalProperties", "title", "description", "$comment", "$defs"}
)
_REFERENCES = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})


def _refers(schema: Any) -> bool:
    """Whether a reference occurs anywhere in ``schema`` (one to "#" would mean the schema
    without its "required" in the split-off rest)."""
    if isinstance(schema, Mapping):
        return not _REFERENCES.isdisjoint(schema) or any(_refers(value) for value in schema.values())
    if isinstance(schema, (list, tuple)):
        return any(_refers(item) for item in schema)
    return False


def _rs_split(
    schema: Mapping[str, Any], required: frozenset[str], fields: frozenset[str] | None
) -> _SplitErrors | None:
    """The errors of ``schema`` on an object, those of its root "required" and
    "additionalProperties": false in jsonschema-rs's words but without checking the object
    against them: jsonschema-rs copies the whole object into each error at the root (its
    ``instance``), most of the time of explaining a response. It takes the missing and extra
    fields _explain finds for the field list, so only a schema listing the same fields
    gets one (else None)."""
    # Without "properties" jsonschema-rs words an extra field otherwise ("False schema does not
    # allow ..."): then "additionalProperties" stays with the rest.
    closed = schema.get("additionalProperties") is False and "properties" in schema
    if not (
        schema.keys() <= _SPLITTABLE
        and "required" in schema
        and frozenset(schema["required"]) == required
        and (not closed or frozenset(schema.get("properties") or ()) == fields)
        and not _refers(schema)
    ):
        return None

    @functools.cache
    def ask() -> tuple[_IterErrors, dict[str, str], _IterErrors]:
        """Made for the first object to explain: a run of valid responses pays nothing for it."""
        rest = {k: v for k, v in schema.items() if k != "required" and not (k == "additionalProperties" and closed)}
        # '"name" is a required property' depends on the name alone: each asked for once, here
        # (one name a schema, so no error kind API is needed to tell which name it was said of).
        said = {
            name: next(jsonschema_rs.Draft202012Validator({"required": [name]}).iter_errors({})).message
            for name in required
        }
        # Asked about the extra fields alone, with the same properties (any schema for each: an
        # extra field is none of them), jsonschema-rs names the same fields in the same order.
        shape = {"properties": dict.fromkeys(schema.get("properties") or (), True), "additionalProperties": False}
        return (
            jsonschema_rs.Draft202012Validator(rest, validate_formats=True).iter_errors,
            said,
            jsonschema_rs.Draft202012Validator(shape).iter_errors,
        )

    def errors(data: dict[Any, Any], lost: Set[Any], extra: Set[Any]) -> list[tuple[str, str]]:
        iter_errors, said, no_more_properties = ask()
        found = [(_json_path(e.instance_path), e.message) for e in iter_errors(data)]
        if lost:
            found += [("$", said[name]) for name in lost]
        if extra and closed:
            # Named in the object's order: jsonschema-rs is asked about those fields alone.
            ordered = extra if len(extra) == 1 else [name for name in data if name in extra]
            found += [("$", e.message) for e in no_more_properties(dict.fromkeys(ordered))]
        return found

    return errors


def _reference_backend(
    schema: dict[str, Any],
) -> tuple[Callable[[Any], bool], Callable[[Any], list[tuple[str, str]]]]:
    # Imported here: jsonschema costs about 80 ms to import, and only this backend needs it.
    from jsonschema import Draft202012Validator  # noqa: PLC0415

    compiled = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)

    def errors(data: Any) -> list[tuple[str, str]]:
        return [(_json_path(e.absolute_path), e.message) for e in compiled.iter_errors(data)]

    return compiled.is_valid, errors


def checked_formats() -> list[str]:
    """The string formats that are really checked (jsonschema skips those whose
    optional packages are missing, e.g. date-time without rfc3339-validator)."""
    from jsonschema import Draft202012Validator  # noqa: PLC0415 - see _reference_backend

    return sorted(Draft202012Validator.FORMAT_CHECKER.checkers)


class ResponseValidator:
    """Checks responses against a version's field lists and JSON Schemas.

    ``backend="fast"`` uses jsonschema-rs; ``backend="jsonschema"`` the reference
    implementation, for comparison (same verdicts, about 100x slower). Fields beyond the
    list are a problem unless the config says ``extra_fields: allow`` for the version or
    the resource; ``extra_fields=True``/``False`` overrides the config for every resource.
    """

    def __init__(self, config: VersionConfig, *, backend: Backend = "fast", extra_fields: bool | None = None) -> None:
        if backend not in ("fast", "jsonschema"):
            raise ValueError(f"unknown backend {backend!r}; use 'fast' or 'jsonschema'")
        self.config = config
        self.backend = backend
        self.extra_fields = extra_fields
        # kind -> version -> resource: three lookups of a string cost less than hashing a
        # new (version, resource, kind) tuple, a fifth of the time of a small valid response.
        self._compiled: dict[str, dict[str, dict[str, _Compiled]]] = {}

    def validate(self, data: Any, version: str, resource: str, kind: str = "response") -> ValidationResult:
        """The verdict on one object: missing and extra fields, then its JSON Schema."""
        try:
            c = self._compiled[kind][version][resource]
        except KeyError:
            c = self._compile(version, resource, kind)
        if type(data) is dict and c.passes(data):
            return c.ok
        return self._explain(c, data)

    def validate_many(
        self, items: Iterable[Any], version: str, resource: str, kind: str = "response"
    ) -> ValidationResult:
        """The verdict on a list of objects; problem paths start ``$[i]``."""
        problems: list[Problem] = []
        for i, item in enumerate(items):
            result = self.validate(item, version, resource, kind)
            if result.problems:
                at = f"$[{i}]"  # in place of the leading "$"
                problems.extend([Problem(at + p.path[1:], p.message) for p in result.problems])
        return ValidationResult(version, resource, kind, tuple(problems))

    def assert_valid(self, data: Any, version: str, resource: str, kind: str = "response") -> None:
        """Raise :class:`ResponseValidationError` (an AssertionError) unless ``data`` is valid."""
        self.validate(data, version, resource, kind).raise_for_problems()

    # -- compiling and explaining -----------------------------------------------------------
    def _compile(self, version: str, resource: str, kind: str) -> _Compiled:
        key = self.config.field_key(version, resource, kind)
        spec = self.config.get_version(version)
        schema = spec.schemas.get(key)
        names = spec.schema_fields.get(key)
        if schema is None and names is None:
            raise self.config.missing(version, "schema_fields", key)
        extra = self.extra_fields if self.extra_fields is not None else spec.allows_extra_fields(key.rpartition("_")[0])
        fields = frozenset(names) if names is not None and not extra else None
        required = frozenset(self.config.get_required_fields(version, key)) if names is not None else frozenset()
        errors = split = None
        if schema is None:
            passes = _field_check(fields, required, None)
        else:
            backend = _rs_backend if self.backend == "fast" else _reference_backend
            is_valid, errors = backend(dict(schema))
            # When the schema makes the field list's checks, a valid response pays for no key checks.
            implied = _implies_field_lists(schema, fields, required)
            passes = is_valid if implied else _field_check(fields, required, is_valid)
            if self.backend == "fast":
                split = _rs_split(schema, required, fields)
        compiled = _Compiled(
            passes,
            fields,
            required,
            errors,
            split,
            ValidationResult(version, resource, kind),
            f"missing (required in {version} {key})",
            f"unexpected (not in {version} schema_fields.{key})",
        )
        self._compiled.setdefault(kind, {}).setdefault(version, {})[resource] = compiled
        return compiled

    def _explain(self, c: _Compiled, data: Any) -> ValidationResult:
        # Problems as (path, message) pairs until the end: tuples of strings sort,
        # hash and compare in C. The lost and extra fields are set operations in C (a
        # frozenset against a dict uses the hashes both keep).
        found: list[tuple[str, str]] = []
        lost: Set[Any] = frozenset()
        extra: Set[Any] = frozenset()
        if not isinstance(data, dict):
            found.append(("$", f"expected an object, got {type(data).__name__}"))
        else:
            if type(data) is not dict:  # its own items, as jsonschema-rs reads them, whatever a subclass overrides
                data = dict(dict.items(data))
            if lost := c.required.difference(data):
                missing = c.missing
                found += [(f"$.{name}", missing) for name in sorted(lost)]
            if (fields := c.fields) is not None and (extra := data.keys() - fields):
                unexpected = c.unexpected
                found += [(f"$.{name}", unexpected) for name in sorted(extra, key=str)]
        if c.split is not None and isinstance(data, dict):
            errors = c.split(data, lost, extra)
            errors.sort()
            found += errors
        elif c.errors is not None:
            errors = c.errors(data)
            errors.sort()
            found += errors
        if not found:  # is_valid and iter_errors disagree: report it rather than hide it
            found.append(("$", f"rejected by the {self.backend} backend without a reason"))
        return _result(c.ok, tuple(map(_as_problem, dict.fromkeys(found))))


# A result made without its dataclass __init__ (Python code setting each field through
# object.__setattr__): its four slots set directly, in a third of the time.
_new_result = object.__new__
_slots = [vars(ValidationResult)[name].__set__ for name in ("version", "resource", "kind", "problems")]


def _result(ok: ValidationResult, problems: tuple[Problem, ...]) -> ValidationResult:
    """``ValidationResult(ok.version, ok.resource, ok.kind, problems)``."""
    result = _new_result(ValidationResult)
    set_version, set_resource, set_kind, set_problems = _slots
    set_version(result, ok.version)
    set_resource(result, ok.resource)
    set_kind(result, ok.kind)
    set_problems(result, problems)
    return result
