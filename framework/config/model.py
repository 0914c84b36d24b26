"""The model of a version config: versions, endpoints, response shapes, field lists, templates.

Frozen dataclasses and one :class:`VersionConfig` that answers lookups. Resource names
resolve in any spelling (``pet``, ``pets``, ``health-records``); a name the config does
not have raises :class:`UnknownNameError` listing the known ones, and a list that the
config defines elsewhere but not here raises :class:`ConfigGapError` saying where to add it.
"""

# No ``from __future__ import annotations`` here: typing.NamedTuple compiles every string
# annotation into a ForwardRef when the class is made, which costs each pytest session more
# than evaluating the annotations does (see the note above the records).
import string
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote

from framework.config.names import spellings
from framework.errors import ConfigGapError, MissingParameterError, UnknownNameError

__all__ = [
    "KINDS",
    "Endpoint",
    "GlobalSettings",
    "Shape",
    "Template",
    "VersionConfig",
    "VersionSpec",
    "dig",
    "placeholders",
]

KINDS = ("create", "update", "response")
"""The kinds of field list every resource may have: ``<resource>_<kind>``."""

JsonPath = tuple[str, ...]
_ABSENT: Any = object()
_EMPTY: Mapping[str, Any] = MappingProxyType({})

# The model's records are NamedTuples rather than frozen dataclasses: as immutable, and each
# costs a quarter of a frozen dataclass to create at import (about 0.5 ms against 2 ms here),
# which every pytest session pays when the plugin loads the config. Their annotations are
# evaluated types, not strings: NamedTuple would compile each string into a ForwardRef.


def dig(body: Any, path: JsonPath) -> Any:
    """The value at ``path`` (keys from the body's root; ``()`` is the body), or ``_ABSENT``."""
    for key in path:
        if not isinstance(body, dict) or key not in body:
            return _ABSENT
        body = body[key]
    return body


def absent(value: Any) -> bool:
    """Whether :func:`dig` found nothing."""
    return value is _ABSENT


class Shape(NamedTuple):
    """Where responses keep their parts, as key paths from the body's root.

    ``data`` holds one object; ``success`` and ``version``, when set and present in a body,
    must be true (false for an error) and the version; ``error`` holds an error's details;
    ``items`` a list's items; ``total``/``page``/``per_page``/``total_pages`` its paging.
    """

    data: JsonPath = ("data",)
    success: JsonPath | None = ("success",)
    version: JsonPath | None = ("version",)
    error: JsonPath = ("error",)
    items: JsonPath = ("data", "items")
    total: JsonPath | None = None
    page: JsonPath | None = None
    per_page: JsonPath | None = None
    total_pages: JsonPath | None = None

    def paging(self) -> dict[str, JsonPath]:
        """The paging fields this shape has, by name."""
        named = {"total": self.total, "page": self.page, "per_page": self.per_page, "total_pages": self.total_pages}
        return {k: v for k, v in named.items() if v is not None}


class Endpoint(NamedTuple):
    """One endpoint: its collection path, its item path (``{id}``) and the shape of its answers."""

    name: str
    path: str
    item: str
    params: tuple[str, ...]
    shape: Shape
    update_method: str = "PUT"

    def url(self, item_id: object = None, params: Mapping[str, object] | None = None) -> str:
        """The collection's (or one item's) path with every ``{name}`` filled from ``params``."""
        template = self.path if item_id is None else self.item
        values = dict(params or {})
        if item_id is not None:
            values["id"] = item_id
        if "{" not in template:
            return template
        missing = [p for p in placeholders(template) if p not in values]
        if missing:
            raise MissingParameterError(self.name, template, missing)
        return template.format_map({k: quote(str(v), safe="") for k, v in values.items()})


def placeholders(template: str) -> list[str]:
    """The ``{name}`` parameters of a path, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


class GlobalSettings(NamedTuple):
    """Settings that apply to every version."""

    default_timeout: float = 5.0
    max_retries: int = 0
    parallel_execution: bool = False
    follow_redirects: bool = True


class Template(NamedTuple):
    """Test data for one resource: constant ``base_data``, named ``field_generators``, and
    ``references`` (field -> the resource whose id it holds, e.g. ``owner_id: user``)."""

    base_data: Mapping[str, Any] = _EMPTY
    field_generators: Mapping[str, str] = _EMPTY
    references: Mapping[str, str] = _EMPTY


class VersionSpec(NamedTuple):
    """Everything the config says about one version."""

    name: str
    base_url: str
    features: Mapping[str, bool]
    endpoints: Mapping[str, Endpoint]
    schema_fields: Mapping[str, tuple[str, ...]]
    required_fields: Mapping[str, tuple[str, ...]]
    optional_fields: Mapping[str, tuple[str, ...]]
    field_types: Mapping[str, Mapping[str, str]]
    schemas: Mapping[str, Mapping[str, Any]]
    shape: Shape
    extra_fields: Mapping[str, bool]
    resources: tuple[str, ...]

    def allows_extra_fields(self, resource: str) -> bool:
        """Whether responses of ``resource`` may carry fields beyond its list (``extra_fields: allow``)."""
        return self.extra_fields.get(resource, self.extra_fields.get("*", False))


class VersionConfig:
    """A loaded, validated version configuration; immutable, so one instance serves a session."""

    __slots__ = ("_features", "_keys", "_versions", "path", "settings", "templates")

    def __init__(
        self,
        path: Path,
        versions: Mapping[str, VersionSpec],
        settings: GlobalSettings,
        templates: Mapping[str, Template],
    ) -> None:
        self.path = path
        self._versions = dict(versions)
        self.settings = settings
        self.templates = dict(templates)
        self._features = frozenset(f for v in self._versions.values() for f in v.features)
        self._keys = frozenset(k for v in self._versions.values() for k in (*v.schema_fields, *v.schemas))

    def __repr__(self) -> str:
        return f"VersionConfig({str(self.path)!r}, versions={self.get_supported_versions()})"

    # -- versions ---------------------------------------------------------------------------
    def get_supported_versions(self) -> list[str]:
        """The versions in file order."""
        return list(self._versions)

    def get_version(self, version: str) -> VersionSpec:
        """The spec of one version; an unknown version raises with the known ones."""
        try:
            return self._versions[version]
        except KeyError:
            raise UnknownNameError("version", version, self._versions, self.path.name) from None

    def resources(self, version: str) -> tuple[str, ...]:
        """Resources a version has field lists for (``pet`` from ``pet_create`` ...)."""
        return self.get_version(version).resources

    # -- names ------------------------------------------------------------------------------
    def resource_name(self, version: str, resource: str) -> str:
        """The spelling of ``resource`` that the version's field lists use (``pets`` -> ``pet``)."""
        spec = self.get_version(version)
        for name in spellings(resource):
            if name in spec.resources:
                return name
        for name in spellings(resource):  # known by an endpoint only: keep the spelling asked for
            if name in spec.endpoints:
                return resource
        return resource

    def field_key(self, version: str, resource: str, kind: str) -> str:
        """``<resource>_<kind>`` as the version spells it: ``field_key("v1", "pets", "create") == "pet_create"``."""
        return f"{self.resource_name(version, resource)}_{kind}"

    # -- lookups ----------------------------------------------------------------------------
    def endpoint(self, version: str, resource: str) -> Endpoint:
        """The endpoint of a resource, under any spelling of its name."""
        spec = self.get_version(version)
        for name in spellings(resource):
            found = spec.endpoints.get(name)
            if found is not None:
                return found
        where = f"{self.path.name} versions.{version}.endpoints"
        known = [e.name for e in spec.endpoints.values()]
        raise UnknownNameError("endpoint", resource, known, where, tried=spellings(resource))

    def get_endpoint(self, version: str, resource: str) -> str:
        """The path of a resource's collection: ``base_url`` joined with its entry in ``endpoints``."""
        return self.endpoint(version, resource).path

    def get_schema_fields(self, version: str, key: str) -> tuple[str, ...]:
        """The field list under ``schema_fields.<key>``, e.g. ``pet_response``."""
        return self._fields(version, "schema_fields", key)

    def get_required_fields(self, version: str, key: str) -> tuple[str, ...]:
        """Required fields of ``key`` (all of ``schema_fields.<key>`` if none are listed)."""
        spec = self.get_version(version)
        key = self._key(spec, key)
        if key in spec.required_fields:
            return spec.required_fields[key]
        return self.get_schema_fields(version, key)

    def get_optional_fields(self, version: str, key: str) -> tuple[str, ...]:
        """Optional fields of ``key`` (none if none are listed)."""
        spec = self.get_version(version)
        key = self._key(spec, key)
        self.get_schema_fields(version, key)
        return spec.optional_fields.get(key, ())

    def get_field_type(self, version: str, key: str, name: str) -> str | None:
        """The short type hint a field list gives a field (``tags: array``), or None."""
        spec = self.get_version(version)
        return spec.field_types.get(self._key(spec, key), {}).get(name)

    def get_schema(self, version: str, key: str) -> Mapping[str, Any] | None:
        """The JSON Schema under ``schemas.<key>``, or None when the version gives none."""
        spec = self.get_version(version)
        return spec.schemas.get(self._key(spec, key))

    def get_template(self, resource: str) -> Template:
        """The test data template of a resource, under any spelling (empty when the file has none)."""
        for name in spellings(resource):
            found = self.templates.get(name)
            if found is not None:
                return found
        return Template()

    def references(self, version: str, resource: str) -> dict[str, str]:
        """The fields and path parameters of ``resource`` that hold another resource's id, and
        that resource: the template's ``references``, else ``<name>_id`` where the version has
        a resource ``<name>`` (``pet_id`` -> ``pet``)."""
        spec = self.get_version(version)
        endpoint = self.endpoint(version, resource) if self._has_endpoint(spec, resource) else None
        names = [
            *(endpoint.params if endpoint else ()),
            *spec.schema_fields.get(self.field_key(version, resource, "create"), ()),
        ]
        explicit = self.get_template(resource).references
        found: dict[str, str] = {}
        for name in dict.fromkeys(names):
            if name in explicit:
                found[name] = self.resource_name(version, explicit[name])
            elif name.endswith("_id"):
                target = self.resource_name(version, name.removesuffix("_id"))
                if target in spec.resources and target != self.resource_name(version, resource):
                    found[name] = target
        return found

    @staticmethod
    def _has_endpoint(spec: VersionSpec, resource: str) -> bool:
        return any(name in spec.endpoints for name in spellings(resource))

    def get_shape(self, version: str) -> Shape:
        """How a version's responses are shaped (an endpoint may differ: see :meth:`endpoint`)."""
        return self.get_version(version).shape

    def _key(self, spec: VersionSpec, key: str) -> str:
        """``key`` with its resource part in the version's spelling (``pets_create`` -> ``pet_create``)."""
        if key in spec.schema_fields or key in spec.schemas:
            return key
        resource, _, kind = key.rpartition("_")
        if resource:
            for name in spellings(resource):
                if f"{name}_{kind}" in spec.schema_fields or f"{name}_{kind}" in spec.schemas:
                    return f"{name}_{kind}"
        return key

    def _fields(self, version: str, section: str, key: str) -> tuple[str, ...]:
        spec = self.get_version(version)
        table: Mapping[str, tuple[str, ...]] = getattr(spec, section)
        found = table.get(self._key(spec, key))
        if found is not None:
            return found
        raise self.missing(version, section, key)

    def missing(self, version: str, section: str, key: str) -> LookupError:
        """The error for a list the version lacks: a gap to fill when the config knows the
        resource (another version has the list, or the kind is standard), else an unknown name."""
        spec = self.get_version(version)
        resource, _, kind = key.rpartition("_")
        known_resource = any(
            name in v.resources or name in v.endpoints for v in self._versions.values() for name in spellings(resource)
        )
        if key in self._keys or (kind in KINDS and known_resource):
            return ConfigGapError(self.path.name, version, section, key)
        table: Mapping[str, Any] = getattr(spec, section)
        where = f"{self.path.name} versions.{version}.{section}"
        tried = [f"{name}_{kind}" for name in spellings(resource)] if resource else ()
        return UnknownNameError("field list", key, table, where, tried=tried)

    # -- features ---------------------------------------------------------------------------
    def is_feature_enabled(self, version: str, feature: str) -> bool:
        """Whether ``version`` has ``feature``; a feature no version names raises."""
        spec = self.get_version(version)
        if feature not in self._features:
            raise UnknownNameError("feature", feature, self._features, self.path.name)
        return spec.features.get(feature, False)

    def versions_with(self, feature: str) -> list[str]:
        """The versions that have ``feature``, in file order."""
        if feature not in self._features:
            raise UnknownNameError("feature", feature, self._features, self.path.name)
        return [v for v, spec in self._versions.items() if spec.features.get(feature, False)]

    def known_features(self) -> list[str]:
        """Every feature any version names."""
        return sorted(self._features)

    # -- validation -------------------------------------------------------------------------
    def validate_configuration(self) -> None:
        """Check the file again in full, as loading did (the format, the cross-field rules and
        every JSON Schema against its metaschema); for a file that may have changed since."""
        from framework.config.loader import validate_file  # noqa: PLC0415 - the loader imports this module

        validate_file(self.path)
