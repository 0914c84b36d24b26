"""Tests of framework.validator: field checks, schema checks with formats, both backends agree."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from framework.config import VersionConfig, load_config
from framework.errors import Problem, ResponseValidationError, UnknownNameError
from framework.factory import DataFactory
from framework.validator import ResponseValidator, ValidationResult, _as_problem, checked_formats


@pytest.fixture
def validator(pets_config: VersionConfig) -> ResponseValidator:
    return ResponseValidator(pets_config)


@pytest.fixture
def factory(pets_config: VersionConfig) -> DataFactory:
    return DataFactory(pets_config, seed=11)


def test_formats_are_really_checked() -> None:
    # jsonschema silently skips a format whose package is missing; these must all be on.
    assert {"date-time", "date", "email", "uuid", "uri"} <= set(checked_formats())


def test_valid_response_passes(validator: ResponseValidator, factory: DataFactory) -> None:
    result = validator.validate(factory.build_response("pet", "v2"), "v2", "pet")
    assert result.ok
    assert result
    assert result.problems == ()


def test_missing_and_extra_fields_with_paths(validator: ResponseValidator, factory: DataFactory) -> None:
    data = factory.build_response("pet", "v1")
    del data["species"]
    data["temperament"] = "calm"  # a v2 field in a v1 response
    result = validator.validate(data, "v1", "pet")
    assert not result
    assert Problem("$.species", "missing (required in v1 pet_response)") in result.problems
    assert Problem("$.temperament", "unexpected (not in v1 schema_fields.pet_response)") in result.problems


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("created_at", "2026-13-45T10:00:00Z", '"2026-13-45T10:00:00Z" is not a "date-time"'),
        ("created_at", "yesterday", '"yesterday" is not a "date-time"'),
        ("id", "not-a-uuid", '"not-a-uuid" is not a "uuid"'),
        ("species", "dragon", '"dragon" is not one of'),
        ("age", "three", '"three" is not of types'),
    ],
)
def test_schema_problems_named_by_json_path(
    validator: ResponseValidator, factory: DataFactory, field: str, value: Any, message: str
) -> None:
    data = factory.build_response("pet", "v1", **{field: value})
    result = validator.validate(data, "v1", "pet")
    assert [p.path for p in result.problems] == [f"$.{field}"]
    assert message in result.problems[0].message


def test_nested_paths(validator: ResponseValidator, factory: DataFactory) -> None:
    data = factory.build_response("user", "v2")
    data["address"]["country"] = "Britain"
    result = validator.validate(data, "v2", "user")
    assert [p.path for p in result.problems] == ["$.address.country"]


def test_not_an_object(validator: ResponseValidator) -> None:
    result = validator.validate(["a"], "v1", "pet")
    assert result.problems[0] == Problem("$", "expected an object, got list")


def test_assert_valid_raises_an_assertion_error(validator: ResponseValidator, factory: DataFactory) -> None:
    data = factory.build_response("appointment", "v3", status="lost")
    with pytest.raises(AssertionError) as info:
        validator.assert_valid(data, "v3", "appointment")
    assert isinstance(info.value, ResponseValidationError)
    assert str(info.value).startswith('v3 appointment_response: $.status: "lost" is not one of')


def test_validate_many_paths(validator: ResponseValidator, factory: DataFactory) -> None:
    items = [factory.build_response("pet", "v3") for _ in range(3)]
    items[1]["weight"] = -1
    result = validator.validate_many(items, "v3", "pet")
    assert [p.path for p in result.problems] == ["$[1].weight"]


def compiled_entries(validator: ResponseValidator) -> dict[tuple[str, str, str], object]:
    """The validator's compiled entries, flat: (kind, version, resource) -> entry."""
    return {
        (kind, version, resource): entry
        for kind, versions in validator._compiled.items()
        for version, resources in versions.items()
        for resource, entry in resources.items()
    }


def test_compiled_once_per_key(validator: ResponseValidator, factory: DataFactory) -> None:
    data = factory.build_response("pet", "v2")
    validator.validate(data, "v2", "pet")
    compiled = compiled_entries(validator)
    for _ in range(5):
        validator.validate(data, "v2", "pet")
        validator.validate_many([data, {}], "v2", "pet")
    assert compiled_entries(validator) == compiled
    assert list(compiled) == [("response", "v2", "pet")]
    assert all(entry is compiled[key] for key, entry in compiled_entries(validator).items())


def test_unknown_key(validator: ResponseValidator) -> None:
    with pytest.raises(UnknownNameError, match="unknown field list 'pet_delete'"):
        validator.validate({}, "v1", "pet", "delete")


def test_create_payload_needs_only_required_fields(validator: ResponseValidator, factory: DataFactory) -> None:
    assert validator.validate(factory.build("pet", "v2", optional=False), "v2", "pet", "create")
    payload = factory.build("pet", "v2")
    del payload["name"]
    result = validator.validate(payload, "v2", "pet", "create")
    assert Problem("$.name", "missing (required in v2 pet_create)") in result.problems


def test_field_lists_only(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("versions:\n  v1:\n    schema_fields: {pet_response: [id, name]}\n")
    validator = ResponseValidator(load_config(path))
    assert validator.validate({"id": 1, "name": "x"}, "v1", "pet")
    assert [p.path for p in validator.validate({"id": 1}, "v1", "pet").problems] == ["$.name"]


def test_unknown_backend(pets_config: VersionConfig) -> None:
    with pytest.raises(ValueError, match="unknown backend 'turbo'"):
        ResponseValidator(pets_config, backend="turbo")  # type: ignore[arg-type]


# -- the fast backend and the jsonschema reference give the same verdict ----------------------
def suite_payloads(config: VersionConfig) -> list[tuple[str, str, str, Any]]:
    """The suite's valid and invalid payloads: every create and response, and every defect."""
    factory = DataFactory(config, seed=99)
    out: list[tuple[str, str, str, Any]] = []
    for version in config.get_supported_versions():
        for resource in config.resources(version):
            out.append((version, resource, "create", factory.build(resource, version)))
            out.append((version, resource, "create", factory.build(resource, version, optional=False)))
            out.append((version, resource, "response", factory.build_response(resource, version)))
            for case in factory.invalid(resource, version):
                out.append((version, resource, "create", case.payload))
                response = factory.build_response(resource, version)
                if case.field in response:
                    response.update({case.field: case.payload[case.field]} if case.field in case.payload else {})
                    if case.field not in case.payload:
                        del response[case.field]
                    out.append((version, resource, "response", response))
    return out


def test_backends_agree_on_every_suite_payload(pets_config: VersionConfig) -> None:
    fast = ResponseValidator(pets_config, backend="fast")
    reference = ResponseValidator(pets_config, backend="jsonschema")
    payloads = suite_payloads(pets_config)
    verdicts = [
        (bool(fast.validate(p, v, r, k)), bool(reference.validate(p, v, r, k)), v, r, k) for v, r, k, p in payloads
    ]
    disagreements = [d for d in verdicts if d[0] != d[1]]
    assert disagreements == []
    valid = sum(1 for d in verdicts if d[0])
    # Both verdicts occur many times, so agreement is not agreement on "always valid".
    assert valid >= 30
    assert len(verdicts) - valid >= 200


def explained(config: VersionConfig, data: Any, version: str, resource: str, kind: str) -> tuple[Problem, ...]:
    """The explanation the validator owes, written plainly: not an object; each missing
    field, sorted; each unexpected field, sorted; each jsonschema-rs error, sorted by path
    and message; once each, in that order."""
    key = config.field_key(version, resource, kind)
    spec = config.get_version(version)
    names, schema = spec.schema_fields.get(key), spec.schemas.get(key)
    found: list[Problem] = []
    if not isinstance(data, dict):
        found.append(Problem("$", f"expected an object, got {type(data).__name__}"))
    elif names is not None:
        for name in sorted(set(config.get_required_fields(version, key)) - data.keys()):
            found.append(Problem(f"$.{name}", f"missing (required in {version} {key})"))
        if not spec.allows_extra_fields(key.rpartition("_")[0]):
            for name in sorted(data.keys() - set(names), key=str):
                found.append(Problem(f"$.{name}", f"unexpected (not in {version} schema_fields.{key})"))
    if schema is not None:
        compiled = jsonschema_rs.Draft202012Validator(dict(schema), validate_formats=True)
        errors = [("$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.instance_path), e.message)
                  for e in compiled.iter_errors(data)]  # fmt: skip
        found += [Problem(path, message) for path, message in sorted(errors)]
    return tuple(dict.fromkeys(found))


def test_backends_find_problems_at_the_same_paths(pets_config: VersionConfig) -> None:
    # ...and the fast backend explains each payload exactly as written out in explained().
    fast = ResponseValidator(pets_config, backend="fast")
    reference = ResponseValidator(pets_config, backend="jsonschema")
    payloads = suite_payloads(pets_config)
    payloads += [(v, r, k, ["not", "an", "object"]) for v, r, k, _ in payloads[:3]]
    for version, resource, kind, payload in payloads:
        got = fast.validate(payload, version, resource, kind).problems
        want = [p.path for p in reference.validate(payload, version, resource, kind).problems]
        assert sorted(p.path for p in got) == sorted(want), (version, resource, kind, payload)
        assert got == explained(pets_config, payload, version, resource, kind), (version, resource, kind, payload)


def test_extra_fields_allowed_where_the_config_says(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "versions:\n  v1:\n    extra_fields: {pet: allow}\n"
        "    schema_fields: {pet_response: [id, name], user_response: [id]}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    lenient = ResponseValidator(config)
    assert lenient.validate({"id": "1", "name": "Rex", "href": "/pets/1"}, "v1", "pets")
    missing = lenient.validate({"id": "1", "href": "/pets/1"}, "v1", "pet")
    assert missing.problems == (Problem("$.name", "missing (required in v1 pet_response)"),)
    strict = lenient.validate({"id": "1", "extra": 1}, "v1", "user")
    assert strict.problems == (Problem("$.extra", "unexpected (not in v1 schema_fields.user_response)"),)
    assert not ResponseValidator(config, extra_fields=False).validate({"id": "1", "name": "R", "x": 1}, "v1", "pet")
    assert ResponseValidator(config, extra_fields=True).validate({"id": "1", "x": 1}, "v1", "user")


def test_field_lists_checked_where_the_schema_does_not_imply_them(tmp_path: Path) -> None:
    """A schema that allows other fields, or requires fewer, does not stand in for the field
    list: the list's checks still run on objects the schema accepts."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "versions:\n  v1:\n"
        "    schema_fields: {pet_response: [id, name], user_response: [id, name]}\n"
        "    schemas:\n"
        "      pet_response: {type: object, required: [id], properties: {id: {type: string}, name: {type: string}}}\n"
        "      user_response:\n"
        "        type: object\n"
        "        required: [id, name]\n"
        "        additionalProperties: false\n"
        "        properties: {id: {type: string}, name: {type: string}}\n",
        encoding="utf-8",
    )
    validator = ResponseValidator(load_config(path))
    assert validator.validate({"id": "1", "name": "Rex"}, "v1", "pet")
    assert validator.validate({"id": "1", "extra": 1}, "v1", "pet").problems == (
        Problem("$.name", "missing (required in v1 pet_response)"),
        Problem("$.extra", "unexpected (not in v1 schema_fields.pet_response)"),
    )
    assert validator.validate({"id": "1", "name": "Rex"}, "v1", "user")  # implied: the schema alone decides
    assert [p.path for p in validator.validate({"id": "1", "x": 2}, "v1", "user").problems] == [
        "$.name",
        "$.x",
        "$",
        "$",
    ]


def test_problems_and_results_are_made_as_their_classes_make_them(
    validator: ResponseValidator, factory: DataFactory
) -> None:
    # _as_problem and _result skip the classes' own constructors; that is only right while these hold.
    assert Problem._fields == ("path", "message")
    pair = ("$.a", "one")
    made = _as_problem(pair)
    assert type(made) is Problem
    assert made == Problem(*pair)
    assert repr(made) == repr(Problem(*pair))
    assert str(made) == "$.a: one"
    assert [f.name for f in fields(ValidationResult)] == ["version", "resource", "kind", "problems"]
    assert not hasattr(ValidationResult, "__post_init__")
    data = factory.build_response("pet", "v2", age="old")
    result = validator.validate(data, "v2", "pet")
    assert result == ValidationResult("v2", "pet", "response", result.problems)
    assert not result
    assert repr(result) == repr(ValidationResult("v2", "pet", "response", result.problems))
    with pytest.raises(FrozenInstanceError):
        result.kind = "create"  # type: ignore[misc]


def test_validate_many_puts_each_index_in_front(validator: ResponseValidator, factory: DataFactory) -> None:
    good, nested = factory.build_response("user", "v2"), factory.build_response("user", "v2")
    nested["address"]["country"] = "Britain"
    result = validator.validate_many([["x"], good, nested], "v2", "user")
    assert [p.path for p in result.problems] == ["$[0]", "$[0]", "$[2].address.country"]
    assert result.problems[0].message == "expected an object, got list"
    assert validator.validate_many([], "v9", "dragon").ok  # nothing to check, nothing looked up


_SPLIT_CONFIG = """\
versions:
  v1:
    schema_fields:
      pet_response: [id, 'na"me', "é", tags, nested]
      user_response: [id, name]
      appointment_response: [id, name]
      health_record_response: [id]
      visit_response: [id, parent]
    required_fields:
      pet_response: [id, 'na"me', "é"]
      visit_response: [id]
    schemas:
      pet_response:
        type: object
        required: [id, 'na"me', "é"]
        additionalProperties: false
        properties:
          id: {type: string, format: uuid}
          'na"me': {type: string, minLength: 2}
          "é": {type: [integer, "null"]}
          tags: {type: array, items: {type: string, maxLength: 3}}
          nested: {type: object, required: [a], additionalProperties: false, properties: {a: {type: integer}}}
      user_response:
        type: object
        required: [id, name]
        additionalProperties: false
        patternProperties: {"^x-": {type: string}}
        properties: {id: {type: string}, name: {type: string}}
      appointment_response:
        type: object
        required: [id]
        additionalProperties: false
        allOf: [{required: [id]}, {properties: {id: {type: string}}}, {properties: {id: {type: string}}}]
        properties: {id: {type: string}, name: {type: string}}
      health_record_response: {type: object, required: [id], additionalProperties: false}
      visit_response:
        type: object
        required: [id]
        additionalProperties: false
        properties: {id: {type: string}, parent: {$ref: "#"}}
"""

_SPLIT_PAYLOADS: list[tuple[str, Any]] = [
    ("pet", {}),
    ("pet", {"id": "not-a-uuid", 'na"me': "x", "é": "s"}),
    ("pet", {"zeta": 1, "id": "x", "q'uote": 2, 'ü"': 3, "tags": ["long", 1, "ok"], "nested": {"b": 1}}),
    ("pet", {"tags": [], "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", 'na"me': "Rex", "é": None, "x": 0}),
    ("pet", ["not", "an", "object"]),
    ("pet", None),
    ("user", {"id": 1, "x-a": 2, "extra": 1, "other": 2}),
    ("user", {"name": "n", "x-b": "fine"}),
    ("appointment", {"id": 1, "more": 1, "name": 2}),
    ("appointment", {}),
    ("health_record", {"x": 2, "y": "z"}),
    ("visit", {"parent": {"id": "1", "parent": {"x": 1}}}),
]


@pytest.mark.parametrize(("resource", "data"), _SPLIT_PAYLOADS)
def test_required_and_closed_errors_answered_apart_are_jsonschema_rs_errors(
    tmp_path: Path, resource: str, data: Any
) -> None:
    """Where the root "required" and "additionalProperties": false are answered apart from the
    rest of the schema (a schema of only type, required, properties and those), the
    explanation is still exactly jsonschema-rs's listing: quoted and non-ASCII names, several
    extra fields (named in the object's order), nested errors, extra fields of a schema without
    "properties" (worded otherwise); and unchanged where the schema has other keywords or a
    reference (to "#" here: the rest without "required" would be another schema)."""
    path = tmp_path / "c.yaml"
    path.write_text(_SPLIT_CONFIG, encoding="utf-8")
    config = load_config(path)
    validator = ResponseValidator(config)
    got = validator.validate(data, "v1", resource).problems
    assert got == explained(config, data, "v1", resource, "response")
    assert got  # every payload here is invalid
    split = {key[2]: entry.split is not None for key, entry in compiled_entries(validator).items()}  # type: ignore[attr-defined]
    assert split == {resource: resource in ("pet", "health_record")}


def test_a_valid_object_passes_where_errors_are_answered_apart(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(_SPLIT_CONFIG, encoding="utf-8")
    validator = ResponseValidator(load_config(path))
    valid = {"id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", 'na"me': "Rex", "é": 3, "tags": ["a"]}
    assert validator.validate(valid, "v1", "pet")


def test_the_suite_schemas_are_answered_apart(pets_config: VersionConfig) -> None:
    # So test_backends_find_problems_at_the_same_paths checks the split on every suite payload.
    validator = ResponseValidator(pets_config)
    for version in pets_config.get_supported_versions():
        for resource in pets_config.resources(version):
            validator.validate({}, version, resource)
    entries = compiled_entries(validator)
    assert len(entries) >= 10
    assert all(entry.split is not None for entry in entries.values())  # type: ignore[attr-defined]


class _Hiding(dict[str, Any]):
    """A dict subclass whose iteration, membership and keys hide one field and reverse the rest."""

    def __iter__(self) -> Any:
        return iter([k for k in reversed(list(dict.keys(self))) if k != "name"])

    def __contains__(self, key: object) -> bool:
        return key != "name" and dict.__contains__(self, key)

    def keys(self) -> Any:
        return list(self)


@pytest.mark.parametrize("backend", ["fast", "jsonschema"])
@pytest.mark.parametrize("payload", [{"name": "n"}, {"id": "1", "name": "n", "b": 1, "a": 2}, {"name": "n", "z": 0}])
def test_a_dict_subclass_is_explained_by_its_own_items(
    pets_config: VersionConfig, backend: Any, payload: dict[str, Any]
) -> None:
    # As jsonschema-rs reads it: a subclass's __iter__, __contains__ or keys() change nothing.
    validator = ResponseValidator(pets_config, backend=backend)
    plain = validator.validate(dict(payload), "v1", "pet").problems
    assert plain
    assert validator.validate(_Hiding(payload), "v1", "pet").problems == plain
