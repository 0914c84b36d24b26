"""The format's rules: the structure as a JSON Schema, and the cross-field rules as code.

The structure of a version file is ``version_config.schema.json``, shipped beside this
module; editors read the same file (``# yaml-language-server: $schema=...``). The loader
checks a parsed document against it with jsonschema-rs (tens of microseconds), then the
rules a schema cannot state: a required field must be in its field list, a generator
must exist, a listed field needs a property in its JSON Schema. Each problem is a key
path and what is expected; :func:`config_error` turns the first into a one-line error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from framework.config.model import KINDS
from framework.config.names import spellings
from framework.errors import ConfigError
from framework.generators import GENERATORS

__all__ = ["FORMAT_SCHEMA", "KeyPath", "config_error", "metaschema_problems", "problems"]

FORMAT_SCHEMA = Path(__file__).with_name("version_config.schema.json")
"""The JSON Schema of a version file (for editors: ``# yaml-language-server: $schema=<this path>``)."""

KeyPath = tuple[str | int, ...]
Problem = tuple[KeyPath, str]

_MOVED = {"pagination": "pagination is now response.list: write response: {list: flat} (or nested, bare)"}


@functools.cache
def _format() -> tuple[dict[str, Any], Any]:
    schema: dict[str, Any] = json.loads(FORMAT_SCHEMA.read_text(encoding="utf-8"))
    return schema, jsonschema_rs.Draft202012Validator(schema)


def problems(raw: Any) -> list[Problem]:
    """Every structural problem of a parsed document; if there is none, every cross-field one;
    if there is none either, every JSON Schema in it that breaks its metaschema."""
    schema, validator = _format()
    try:
        if validator.is_valid(raw):
            return list(_cross_field(raw)) or list(metaschema_problems(raw))
        errors = list(validator.iter_errors(raw))
    except ValueError:  # a key that is not text (YAML allows `1:`): jsonschema-rs cannot read it
        return list(_non_text_keys(raw, ()))
    found = [_structural(e, schema) for e in errors]
    return sorted(dict.fromkeys(found), key=lambda p: [str(k) for k in p[0]])


def _non_text_keys(value: Any, at: KeyPath) -> Iterator[Problem]:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield (*at, str(key)), f"the key {key!r} is not text; quote it: '{key}'"
            else:
                yield from _non_text_keys(item, (*at, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _non_text_keys(item, (*at, i))


def _structural(error: Any, schema: Mapping[str, Any]) -> Problem:
    """A jsonschema-rs error as (key path, what is expected), using the schema's descriptions."""
    at: KeyPath = tuple(error.instance_path)
    node = _subschema(schema, error.schema_path[:-1])
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        key = str(error.kind.unexpected[0])
        if key in _MOVED:
            return (*at, key), _MOVED[key]
        known = ", ".join(sorted(node.get("properties", {})))
        extension = " (or an x- extension)" if "patternProperties" in node else ""
        return (*at, key), f"unknown key; expected one of {known}{extension}"
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
        return at, f"{error.kind.property!r} is required here"
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        name = str(error.kind.error.instance)  # the key itself, checked by the propertyNames schema
        return (*at, name), f"expected {node.get('description', 'another key')}, got {_short(name)}"
    description = node.get("description")
    if description is None:
        return at, str(error.message)
    return at, f"expected {description}, got {_short(error.instance)}"


def _subschema(schema: Mapping[str, Any], path: Sequence[str | int]) -> Mapping[str, Any]:
    node: Any = schema
    for part in path:
        if isinstance(node, dict):
            node = node.get(part, {})
        elif isinstance(node, list) and isinstance(part, int):
            node = node[part]
        else:
            return {}
    return node if isinstance(node, dict) else {}


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- the rules a schema cannot state ----------------------------------------------------------
def _cross_field(raw: Mapping[str, Any]) -> Iterator[Problem]:
    everywhere: set[str] = set()
    for name, spec in raw["versions"].items():
        yield from _version(("versions", name), spec)
        everywhere |= set(_resources(spec))
    for resource, template in (raw.get("test_data_templates") or {}).items():
        at: KeyPath = ("test_data_templates", resource)
        if everywhere and _known(resource, everywhere) is None:
            yield at, f"no version has a resource {resource!r}; known: {', '.join(sorted(everywhere))}"
        for field, generator in ((template or {}).get("field_generators") or {}).items():
            if generator not in GENERATORS:
                where = (*at, "field_generators", field)
                yield where, f"unknown generator {generator!r}; known: {', '.join(sorted(GENERATORS))}"
        for field, target in ((template or {}).get("references") or {}).items():
            if _known(target, everywhere) is None:
                where = (*at, "references", field)
                yield where, f"no version has a resource {target!r}; known: {', '.join(sorted(everywhere))}"


def _resources(spec: Mapping[str, Any]) -> dict[str, str]:
    """The resources of a version's field lists and schemas, by name -> the first key naming it."""
    keys = [*(spec.get("schema_fields") or {}), *(spec.get("schemas") or {})]
    return {k.rpartition("_")[0]: k for k in reversed(keys)}


def _known(name: str, names: Iterable[str]) -> str | None:
    """The spelling of ``name`` among ``names`` (singular, plural, ``-`` or ``_``), if any."""
    pool = {n.replace("-", "_") for n in names}
    return next((s for s in spellings(name) if s in pool), None)


def _field_name(entry: str | Mapping[str, str]) -> str:
    return entry if isinstance(entry, str) else next(iter(entry))


def _version(at: KeyPath, spec: Mapping[str, Any]) -> Iterator[Problem]:
    for section in ("schema_fields", "required_fields", "optional_fields", "schemas"):
        for key in spec.get(section) or {}:
            if key.rpartition("_")[2] not in KINDS:
                kinds = ", ".join(KINDS)
                yield (*at, section, key), f"expected <resource>_<kind> with kind one of {kinds}, got {key!r}"
    endpoints = spec.get("endpoints") or {}
    resources = _resources(spec)
    if endpoints:
        for resource, key in resources.items():
            if _known(resource, endpoints) is None:
                where = "schema_fields" if key in (spec.get("schema_fields") or {}) else "schemas"
                known = ", ".join(endpoints)
                yield (*at, where, key), f"no endpoint for {resource!r} in this version's endpoints ({known}); add one"
    extra = spec.get("extra_fields")
    if isinstance(extra, dict):
        for resource in extra:
            if _known(resource, resources) is None:
                known = ", ".join(resources) or "none"
                yield (*at, "extra_fields", resource), f"no resource {resource!r} in this version; known: {known}"
    fields = {k: [_field_name(e) for e in v] for k, v in (spec.get("schema_fields") or {}).items()}
    for key, names in fields.items():
        seen: set[str] = set()
        for i, n in enumerate(names):
            if n in seen:
                yield (*at, "schema_fields", key, i), f"{n!r} is listed twice"
            seen.add(n)
    required = spec.get("required_fields") or {}
    optional = spec.get("optional_fields") or {}
    for section, table in (("required_fields", required), ("optional_fields", optional)):
        for key, names in table.items():
            if key not in fields:
                yield (*at, section, key), f"no schema_fields.{key} to refer to; add it"
                continue
            for i, n in enumerate(names):
                if n not in fields[key]:
                    yield (*at, section, key, i), f"{n!r} is not in schema_fields.{key}"
    for key, names in optional.items():
        both = set(names) & set(required.get(key, ()))
        if both:
            yield (*at, "optional_fields", key), f"{sorted(both)} also listed as required"
    for key, schema in (spec.get("schemas") or {}).items():
        props = schema.get("properties")
        if props is not None and not isinstance(props, dict):
            yield (*at, "schemas", key, "properties"), "expected a mapping of field -> schema"
            continue
        for f in fields.get(key, ()):
            if props is not None and f not in props:
                yield (*at, "schemas", key, "properties"), f"{f!r} of schema_fields.{key} has no property; add it"


def metaschema_problems(raw: Mapping[str, Any]) -> Iterator[Problem]:
    """Every JSON Schema under ``schemas`` checked against its metaschema, by jsonschema-rs
    (about 20 us a schema, so it is part of every load rather than a slow check apart)."""
    for version, spec in raw["versions"].items():
        for key, schema in (spec.get("schemas") or {}).items():
            if jsonschema_rs.meta.is_valid(schema):
                continue
            try:
                jsonschema_rs.meta.validate(schema)
            except jsonschema_rs.ValidationError as exc:
                where: KeyPath = ("versions", version, "schemas", key, *exc.instance_path)
                yield where, f"not a valid JSON Schema: {exc.message}"


# -- the one-line error ----------------------------------------------------------------------
def _fmt_path(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def config_error(path: Path, text: str, found: Sequence[Problem]) -> ConfigError:
    """The first problem as a one-line :class:`ConfigError` (file, YAML line, key path), counting the rest."""
    key_path, message = found[0]
    shown = key_path
    while shown and isinstance(shown[-1], int):  # the line already points at the list item
        shown = shown[:-1]
    return ConfigError(
        message,
        file=str(path),
        line=_line_of(text, key_path),
        key_path=_fmt_path(shown) or None,
        more=len(found) - 1,
    )


def _line_of(text: str, path: KeyPath) -> int | None:
    """The 1-based YAML line of a key path, found by composing the nodes (error path only)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = _find_key(node, part)
            if match is None:
                break
            key, node = match
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _find_key(node: yaml.MappingNode, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in node.value:
        if key.value == str(part):
            return key, value
    for key, value in node.value:  # YAML merge keys: look inside the merged mapping
        if key.tag == "tag:yaml.org,2002:merge" and isinstance(value, yaml.MappingNode):
            found = _find_key(value, part)
            if found is not None:
                return found
    return None
