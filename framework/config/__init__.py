"""The version config manager: one YAML file that lists an API's versions.

Per version: ``base_url``, ``features`` (name -> bool), ``endpoints`` (name -> path),
``schema_fields`` / ``required_fields`` / ``optional_fields`` (``<resource>_<kind>`` ->
field names), optionally full JSON Schemas under ``schemas`` and a ``pagination`` style.
Top level: ``global_settings`` and ``test_data_templates``.

A file is parsed once per process (PyYAML's C loader where available), validated
once, and cached by resolved path, modification time and size: a changed file is
read again, an unchanged one never is. Every error names the file, the YAML line,
the key path and what is expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from framework.errors import ConfigError, UnknownNameError
from framework.generators import GENERATORS

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_VAR",
    "GlobalSettings",
    "Pagination",
    "Template",
    "VersionConfig",
    "VersionSpec",
    "clear_cache",
    "load_config",
    "resolve_config_path",
]

DEFAULT_CONFIG_PATH = Path("tests/config/version_config.yaml")
ENV_VAR = "DYNAPI_VERSION_CONFIG"

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOP_KEYS = frozenset({"versions", "global_settings", "test_data_templates"})
_VERSION_KEYS = frozenset(
    {
        "base_url",
        "description",
        "deprecated",
        "features",
        "endpoints",
        "schema_fields",
        "required_fields",
        "optional_fields",
        "schemas",
        "pagination",
    }
)
_PAGINATION_STYLES = ("flat", "nested")
_EMPTY: Mapping[str, Any] = MappingProxyType({})

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Pagination:
    """How a version shapes a list: ``flat`` puts items beside the paging fields under
    the collection's name; ``nested`` puts them under ``items`` and paging under ``pagination``."""

    style: str = "flat"

    def items(self, data: Mapping[str, Any], collection: str) -> list[Any]:
        """The list of items in a list response's ``data``."""
        key = "items" if self.style == "nested" else collection
        items = data[key]
        if not isinstance(items, list):
            raise TypeError(f"{key!r} of a {self.style} page is not a list")
        return items

    def meta(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """The paging fields (``total``, ``page``, ``per_page``, ``total_pages``)."""
        meta = data["pagination"] if self.style == "nested" else data
        return {k: meta[k] for k in ("total", "page", "per_page", "total_pages")}


@dataclass(frozen=True, slots=True)
class GlobalSettings:
    """Settings that apply to every version."""

    default_timeout: float = 5.0
    max_retries: int = 0
    parallel_execution: bool = False


@dataclass(frozen=True, slots=True)
class Template:
    """Test data for one resource: constant ``base_data`` and named ``field_generators``."""

    base_data: Mapping[str, Any] = field(default_factory=dict)
    field_generators: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """Everything the config says about one version."""

    name: str
    base_url: str
    features: Mapping[str, bool]
    endpoints: Mapping[str, str]
    schema_fields: Mapping[str, tuple[str, ...]]
    required_fields: Mapping[str, tuple[str, ...]]
    optional_fields: Mapping[str, tuple[str, ...]]
    schemas: Mapping[str, Mapping[str, Any]]
    pagination: Pagination
    resources: tuple[str, ...]


class VersionConfig:
    """A loaded, validated version configuration; immutable, so one instance serves a session."""

    __slots__ = ("_features", "_versions", "path", "settings", "templates")

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

    # -- lookups ----------------------------------------------------------------------------
    def get_endpoint(self, version: str, resource: str) -> str:
        """The full path of an endpoint, ``base_url`` joined with its entry in ``endpoints``."""
        spec = self.get_version(version)
        try:
            return spec.base_url + spec.endpoints[resource]
        except KeyError:
            where = f"{self.path.name} versions.{version}.endpoints"
            raise UnknownNameError("endpoint", resource, spec.endpoints, where) from None

    def get_schema_fields(self, version: str, key: str) -> tuple[str, ...]:
        """The field list under ``schema_fields.<key>``, e.g. ``pet_response``."""
        return self._fields(version, "schema_fields", key)

    def get_required_fields(self, version: str, key: str) -> tuple[str, ...]:
        """Required fields of ``key`` (all of ``schema_fields.<key>`` if none are listed)."""
        spec = self.get_version(version)
        if key in spec.required_fields:
            return spec.required_fields[key]
        return self.get_schema_fields(version, key)

    def get_optional_fields(self, version: str, key: str) -> tuple[str, ...]:
        """Optional fields of ``key`` (none if none are listed)."""
        spec = self.get_version(version)
        self.get_schema_fields(version, key)
        return spec.optional_fields.get(key, ())

    def get_schema(self, version: str, key: str) -> Mapping[str, Any] | None:
        """The JSON Schema under ``schemas.<key>``, or None when the version gives none."""
        return self.get_version(version).schemas.get(key)

    def get_template(self, resource: str) -> Template:
        """The test data template of a resource (empty when the file has none)."""
        return self.templates.get(resource, Template())

    def get_pagination(self, version: str) -> Pagination:
        """How lists are shaped in a version."""
        return self.get_version(version).pagination

    def _fields(self, version: str, section: str, key: str) -> tuple[str, ...]:
        spec = self.get_version(version)
        table: Mapping[str, tuple[str, ...]] = getattr(spec, section)
        try:
            return table[key]
        except KeyError:
            where = f"{self.path.name} versions.{version}.{section}"
            raise UnknownNameError("field list", key, table, where) from None

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
    def validate_configuration(self, *, check_schemas: bool = True) -> None:
        """Check the whole file again, and every JSON Schema against its metaschema.

        Loading already checks the format; the metaschema check costs about 1 ms per
        schema, so it runs here (the pytest plugin calls this once per session).
        """
        text = self.path.read_text(encoding="utf-8")
        raw = _parse(text, self.path)
        problems = list(_Checker(raw).problems())
        if check_schemas:
            problems.extend(_schema_problems(raw))
        if problems:
            raise _config_error(self.path, text, problems)


def _schema_problems(raw: Mapping[str, Any]) -> Iterator[tuple[Path_, str]]:
    for version, spec in raw["versions"].items():
        for key, schema in (spec.get("schemas") or {}).items():
            try:
                Draft202012Validator.check_schema(schema)
            except SchemaError as exc:
                path: Path_ = ("versions", version, "schemas", key, *exc.absolute_path)
                yield path, f"not a valid JSON Schema: {exc.message}"


# -- loading ---------------------------------------------------------------------------------
_CACHE: dict[Path, tuple[int, int, VersionConfig]] = {}
_RESOLVED: dict[str, Path] = {}


def load_config(path: str | os.PathLike[str] | None = None) -> VersionConfig:
    """Load, validate and cache the config at ``path`` (default: ``DEFAULT_CONFIG_PATH``).

    Cached by resolved path, modification time and size, so one process reads a file
    once and re-reads it only when it changed. An absolute spelling is resolved once,
    so a cached load costs one ``stat``.
    """
    spelled = os.fspath(path if path is not None else DEFAULT_CONFIG_PATH)
    absolute = os.path.isabs(spelled)
    resolved = _RESOLVED.get(spelled) if absolute else None
    if resolved is None:
        resolved = Path(spelled).resolve()
        if absolute:
            _RESOLVED[spelled] = resolved
    try:
        st = os.stat(resolved)
    except FileNotFoundError:
        hint = f"pass --version-config, set {ENV_VAR} or the ini option version_config"
        raise ConfigError(f"file not found; {hint}", file=str(resolved)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(resolved)) from None
    hit = _CACHE.get(resolved)
    if hit is not None and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
        return hit[2]
    config = _load(resolved)
    _CACHE[resolved] = (st.st_mtime_ns, st.st_size, config)
    return config


def clear_cache() -> None:
    """Forget every loaded file (tests and cold-load benchmarks use this)."""
    _CACHE.clear()
    _RESOLVED.clear()


def resolve_config_path(option: str | None, env: Mapping[str, str], ini: str | None, rootdir: Path) -> Path:
    """The config path by precedence: command-line option > environment variable >
    ini setting > default. Relative paths are taken from ``rootdir``."""
    chosen = option or env.get(ENV_VAR) or ini or str(DEFAULT_CONFIG_PATH)
    p = Path(chosen).expanduser()
    return p if p.is_absolute() else rootdir / p


def _parse(text: str, path: Path) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"not valid YAML: {exc.problem}", file=str(path), line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(path)) from None


def _load(path: Path) -> VersionConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text; save the file as UTF-8", file=str(path)) from None
    raw = _parse(text, path)
    problems = list(_Checker(raw).problems())
    if problems:
        raise _config_error(path, text, problems)
    return _build(path, raw)


def _build(path: Path, raw: Mapping[str, Any]) -> VersionConfig:
    versions: dict[str, VersionSpec] = {}
    for name, spec in raw["versions"].items():
        fields = {k: tuple(v) for k, v in (spec.get("schema_fields") or {}).items()}
        schemas = dict(spec.get("schemas") or {})
        keys = list(fields) + [k for k in schemas if k not in fields]
        resources = tuple(dict.fromkeys(k.rpartition("_")[0] for k in keys if "_" in k))
        versions[str(name)] = VersionSpec(
            name=str(name),
            base_url=str(spec.get("base_url", "")).rstrip("/"),
            features=MappingProxyType(dict(spec.get("features") or {})),
            endpoints=MappingProxyType(dict(spec.get("endpoints") or {})),
            schema_fields=MappingProxyType(fields),
            required_fields=MappingProxyType({k: tuple(v) for k, v in (spec.get("required_fields") or {}).items()}),
            optional_fields=MappingProxyType({k: tuple(v) for k, v in (spec.get("optional_fields") or {}).items()}),
            schemas=MappingProxyType(schemas),
            pagination=Pagination(**(spec.get("pagination") or {})),
            resources=resources,
        )
    gs = raw.get("global_settings") or {}
    settings = GlobalSettings(
        default_timeout=float(gs.get("default_timeout", 5.0)),
        max_retries=int(gs.get("max_retries", 0)),
        parallel_execution=bool(gs.get("parallel_execution", False)),
    )
    templates = {
        str(r): Template(
            base_data=MappingProxyType(dict(t.get("base_data") or {})),
            field_generators=MappingProxyType(dict(t.get("field_generators") or {})),
        )
        for r, t in (raw.get("test_data_templates") or {}).items()
    }
    return VersionConfig(path, versions, settings, templates)


# -- checking --------------------------------------------------------------------------------
def _fmt_path(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _config_error(path: Path, text: str, problems: Sequence[tuple[Path_, str]]) -> ConfigError:
    key_path, message = problems[0]
    shown = key_path
    while shown and isinstance(shown[-1], int):  # the line already points at the list item
        shown = shown[:-1]
    return ConfigError(
        message,
        file=str(path),
        line=_line_of(text, key_path),
        key_path=_fmt_path(shown) or None,
        more=len(problems) - 1,
    )


def _line_of(text: str, path: Path_) -> int | None:
    """The 1-based YAML line of a key path, found by composing the nodes (error path only)."""
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_Loader)
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


def _lists(value: Any) -> dict[str, list[str]]:
    """The well-formed field lists of a section (the malformed ones are reported apart)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, list) and all(isinstance(n, str) for n in v)}


class _Checker:
    """The format's rules, each yielding (key path, what is expected)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def problems(self) -> Iterator[tuple[Path_, str]]:
        raw = self.raw
        if not isinstance(raw, dict):
            yield (), "the file must be a mapping with a top-level 'versions:' key"
            return
        for key in raw:
            if key not in _TOP_KEYS and not str(key).startswith("x-"):
                known = ", ".join(sorted(_TOP_KEYS))
                yield (key,), f"unknown key; expected one of {known} (or an x- extension)"
        versions = raw.get("versions")
        if not isinstance(versions, dict) or not versions:
            yield ("versions",), "expected a mapping of version name -> version settings"
            return
        for name, spec in versions.items():
            yield from self._version(str(name), spec)
        yield from self._settings(raw.get("global_settings"))
        yield from self._templates(raw.get("test_data_templates"))

    def _version(self, name: str, spec: Any) -> Iterator[tuple[Path_, str]]:
        at: Path_ = ("versions", name)
        if not isinstance(spec, dict):
            yield at, "expected a mapping with schema_fields, endpoints, features ..."
            return
        for key in spec:
            if key not in _VERSION_KEYS and not str(key).startswith("x-"):
                known = ", ".join(sorted(_VERSION_KEYS))
                yield (*at, key), f"unknown key; expected one of {known}"
        base = spec.get("base_url", "")
        if not isinstance(base, str) or (base and not base.startswith(("/", "http://", "https://"))):
            yield (*at, "base_url"), "expected a path starting with '/' or an http(s) URL"
        yield from self._typed_map(spec, at, "features", bool, "true or false")
        yield from self._typed_map(spec, at, "endpoints", str, "a path starting with '/'")
        for key, path in (spec.get("endpoints") or {}).items():
            if isinstance(path, str) and not path.startswith("/"):
                yield (*at, "endpoints", key), f"expected a path starting with '/', got {path!r}"
        yield from self._field_lists(spec, at, "schema_fields")
        fields = _lists(spec.get("schema_fields"))
        for section in ("required_fields", "optional_fields"):
            yield from self._field_lists(spec, at, section)
            for key, names in _lists(spec.get(section)).items():
                if key not in fields:
                    yield (*at, section, key), f"no schema_fields.{key} to refer to; add it"
                    continue
                for i, f in enumerate(names):
                    if f not in fields[key]:
                        yield (*at, section, key, i), f"{f!r} is not in schema_fields.{key}"
        required = _lists(spec.get("required_fields"))
        optional = _lists(spec.get("optional_fields"))
        for key, names in optional.items():
            both = set(names) & set(required.get(key, ()))
            if both:
                yield (*at, "optional_fields", key), f"{sorted(both)} also listed as required"
        yield from self._schemas(spec, at, fields)
        pag = spec.get("pagination")
        if pag is not None and (
            not isinstance(pag, dict) or pag.get("style") not in _PAGINATION_STYLES or set(pag) - {"style"}
        ):
            yield (*at, "pagination"), "expected {style: flat} or {style: nested}"

    def _typed_map(
        self, spec: dict[str, Any], at: Path_, key: str, kind: type, what: str
    ) -> Iterator[tuple[Path_, str]]:
        value = spec.get(key)
        if value is None:
            return
        if not isinstance(value, dict):
            yield (*at, key), f"expected a mapping of name -> {what}"
            return
        for name, v in value.items():
            if not isinstance(v, kind):
                yield (*at, key, name), f"expected {what}, got {v!r}"

    def _field_lists(self, spec: dict[str, Any], at: Path_, section: str) -> Iterator[tuple[Path_, str]]:
        value = spec.get(section)
        if value is None:
            return
        if not isinstance(value, dict):
            yield (*at, section), "expected a mapping of <resource>_<kind> -> list of field names"
            return
        for key, names in value.items():
            where = (*at, section, key)
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                yield where, "expected a list of field names"
                continue
            if "_" not in str(key):
                yield where, "expected a key of the form <resource>_<kind>, e.g. pet_create"
            seen: set[str] = set()
            for i, n in enumerate(names):
                if n in seen:
                    yield (*where, i), f"{n!r} is listed twice"
                seen.add(n)

    def _schemas(self, spec: dict[str, Any], at: Path_, fields: Mapping[str, list[str]]) -> Iterator[tuple[Path_, str]]:
        schemas = spec.get("schemas")
        if schemas is None:
            return
        if not isinstance(schemas, dict):
            yield (*at, "schemas"), "expected a mapping of <resource>_<kind> -> JSON Schema"
            return
        for key, schema in schemas.items():
            where = (*at, "schemas", key)
            if not isinstance(schema, dict):
                yield where, "expected a JSON Schema object (a mapping)"
                continue
            props = schema.get("properties")
            if props is not None and not isinstance(props, dict):
                yield (*where, "properties"), "expected a mapping of field -> schema"
                continue
            for f in fields.get(key, ()):
                if props is not None and f not in props:
                    yield (
                        (*where, "properties"),
                        f"{f!r} of schema_fields.{key} has no property; add it",
                    )

    def _settings(self, gs: Any) -> Iterator[tuple[Path_, str]]:
        if gs is None:
            return
        at: Path_ = ("global_settings",)
        if not isinstance(gs, dict):
            yield at, "expected a mapping (default_timeout, max_retries, parallel_execution)"
            return
        rules: dict[str, tuple[Any, str]] = {
            "default_timeout": (
                lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
                "a number of seconds > 0",
            ),
            "max_retries": (
                lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
                "a whole number >= 0",
            ),
            "parallel_execution": (lambda v: isinstance(v, bool), "true or false"),
        }
        for key, value in gs.items():
            if key not in rules:
                yield (*at, key), f"unknown setting; expected one of {', '.join(rules)}"
            elif not rules[key][0](value):
                yield (*at, key), f"expected {rules[key][1]}, got {value!r}"

    def _templates(self, templates: Any) -> Iterator[tuple[Path_, str]]:
        if templates is None:
            return
        at: Path_ = ("test_data_templates",)
        if not isinstance(templates, dict):
            yield at, "expected a mapping of resource -> {base_data, field_generators}"
            return
        for resource, t in templates.items():
            where = (*at, resource)
            if not isinstance(t, dict) or set(t) - {"base_data", "field_generators"}:
                yield where, "expected a mapping with base_data and/or field_generators"
                continue
            if not isinstance(t.get("base_data") or {}, dict):
                yield (*where, "base_data"), "expected a mapping of field -> value"
            gens = t.get("field_generators") or {}
            if not isinstance(gens, dict):
                yield (*where, "field_generators"), "expected a mapping of field -> generator name"
                continue
            for f, g in gens.items():
                if g not in GENERATORS:
                    known = ", ".join(sorted(GENERATORS))
                    yield (
                        (*where, "field_generators", f),
                        f"unknown generator {g!r}; known: {known}",
                    )
