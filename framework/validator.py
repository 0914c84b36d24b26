"""The response validator: field lists and JSON Schemas, compiled once, checked fast.

Per (version, resource, kind) it precomputes the expected field set and compiles the
schema with jsonschema-rs (Rust: about 1 us for a valid response, 15 us to list every
problem of an invalid one, formats checked). jsonschema, the reference, is the other
backend (``backend="jsonschema"``, about 100x slower); ``tests/unit/test_validator.py``
holds the two to the same verdict and the same problem paths on every valid and invalid
payload of the suite.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import jsonschema_rs

from framework.config import VersionConfig
from framework.errors import Problem, ResponseValidationError

__all__ = ["Backend", "ResponseValidator", "ValidationResult", "checked_formats"]

Backend = Literal["fast", "jsonschema"]


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
    fields: frozenset[str] | None
    required: frozenset[str]
    is_valid: Callable[[Any], bool] | None
    errors: Callable[[Any], list[tuple[str, str]]] | None
    ok: ValidationResult
    key: str


def _json_path(parts: Iterable[str | int]) -> str:
    """``$.address.country``, ``$.additional_photos[0]``: the path of a problem below ``$``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _rs_backend(
    schema: dict[str, Any],
) -> tuple[Callable[[Any], bool], Callable[[Any], list[tuple[str, str]]]]:
    compiled = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)

    def errors(data: Any) -> list[tuple[str, str]]:
        return [(_json_path(e.instance_path), e.message) for e in compiled.iter_errors(data)]

    return compiled.is_valid, errors


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
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    def validate(self, data: Any, version: str, resource: str, kind: str = "response") -> ValidationResult:
        """The verdict on one object: missing and extra fields, then its JSON Schema."""
        c = self._compiled.get((version, resource, kind))
        if c is None:
            c = self._compile(version, resource, kind)
        if (
            type(data) is dict
            and (
                data.keys() == c.fields or (c.required <= data.keys() and (c.fields is None or data.keys() <= c.fields))
            )
            and (c.is_valid is None or c.is_valid(data))
        ):
            return c.ok
        return self._explain(c, data, "$")

    def validate_many(
        self, items: Iterable[Any], version: str, resource: str, kind: str = "response"
    ) -> ValidationResult:
        """The verdict on a list of objects; problem paths start ``$[i]``."""
        problems: list[Problem] = []
        for i, item in enumerate(items):
            result = self.validate(item, version, resource, kind)
            if result.problems:
                c = self._compiled[(version, resource, kind)]
                problems.extend(self._explain(c, item, f"$[{i}]").problems)
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
        is_valid = errors = None
        if schema is not None:
            backend = _rs_backend if self.backend == "fast" else _reference_backend
            is_valid, errors = backend(dict(schema))
        ok = ValidationResult(version, resource, kind)
        extra = self.extra_fields if self.extra_fields is not None else spec.allows_extra_fields(key.rpartition("_")[0])
        fields = frozenset(names) if names is not None and not extra else None
        required = frozenset(self.config.get_required_fields(version, key)) if names is not None else frozenset()
        compiled = _Compiled(fields, required, is_valid, errors, ok, key)
        self._compiled[(version, resource, kind)] = compiled
        return compiled

    def _explain(self, c: _Compiled, data: Any, root: str) -> ValidationResult:
        ok = c.ok
        problems: list[Problem] = []
        key = c.key
        if not isinstance(data, dict):
            problems.append(Problem(root, f"expected an object, got {type(data).__name__}"))
        else:
            for name in sorted(c.required - data.keys()):
                problems.append(Problem(f"{root}.{name}", f"missing (required in {ok.version} {key})"))
            for name in sorted(data.keys() - (c.fields if c.fields is not None else data.keys()), key=str):
                problems.append(Problem(f"{root}.{name}", f"unexpected (not in {ok.version} schema_fields.{key})"))
        if c.errors is not None:
            for path, message in sorted(c.errors(data)):
                problems.append(Problem(root + path, message))
        if not problems:  # is_valid and iter_errors disagree: report it rather than hide it
            problems.append(Problem(root, f"rejected by the {self.backend} backend without a reason"))
        return ValidationResult(ok.version, ok.resource, ok.kind, tuple(dict.fromkeys(problems)))
