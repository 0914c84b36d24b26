"""Loading and caching: a YAML file becomes one immutable :class:`VersionConfig` per content.

A file is parsed once per process (the safe, bounded parser of ``safe_yaml``), checked
against the format's rules, and cached by resolved path, modification time and size: a
changed file is read again, an unchanged one never is.

Across processes, a ``cache_dir`` (the pytest plugin passes one in pytest's cache) keeps the
checked data of each file content, keyed by a hash of the file and of the rules that
checked it: a later process with the same file skips the parser and the rules, and so never
imports PyYAML (about 25 ms). The entries are :mod:`marshal` data, written atomically; an
entry that cannot be read is ignored and written again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from framework.config.model import (
    Endpoint,
    GlobalSettings,
    Shape,
    Template,
    VersionConfig,
    VersionSpec,
    placeholders,
)
from framework.config.names import spellings
from framework.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_VAR",
    "clear_cache",
    "load_config",
    "resolve_config_path",
    "validate_file",
]

DEFAULT_CONFIG_PATH = Path("tests/config/version_config.yaml")
ENV_VAR = "DYNAPI_VERSION_CONFIG"

_CACHE: dict[Path, tuple[int, int, VersionConfig]] = {}
_RESOLVED: dict[str, Path] = {}


def load_config(path: str | os.PathLike[str] | None = None, *, cache_dir: Path | None = None) -> VersionConfig:
    """Load, check and cache the config at ``path`` (default: ``DEFAULT_CONFIG_PATH``).

    Cached by resolved path, modification time and size, so one process reads a file
    once and re-reads it only when it changed. An absolute spelling is resolved once,
    so a cached load costs one ``stat``. With ``cache_dir``, a file whose content was
    checked before (by any process) is not parsed or checked again.
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
    config = _load(resolved, cache_dir)
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


def validate_file(path: Path) -> None:
    """Check the file at ``path`` again, as a load does, without the cache."""
    _load(path)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text; save the file as UTF-8", file=str(path)) from None


def _load(path: Path, cache_dir: Path | None = None) -> VersionConfig:
    if cache_dir is None:
        return _build(path, _checked(path, _read(path)))
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", file=str(path)) from None
    entry = cache_dir / f"{hashlib.blake2b(content + _rules_stamp(), digest_size=16).hexdigest()}.marshal"
    try:
        raw = marshal.loads(entry.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):  # no entry yet, or one that cannot be read
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError("not UTF-8 text; save the file as UTF-8", file=str(path)) from None
        raw = _checked(path, text)
        _store(entry, raw)
    return _build(path, raw)


def _checked(path: Path, text: str) -> Any:
    """The parsed document, once it passes every rule (else the first problem's one-line error)."""
    # Imported here: PyYAML, the parser and the rules cost about 25 ms to import, which a
    # process that finds the file's checked data in a cache directory never pays.
    from framework.config import rules  # noqa: PLC0415
    from framework.config.safe_yaml import parse  # noqa: PLC0415

    raw = parse(text, path)
    found = rules.problems(raw)
    if found:
        raise rules.config_error(path, text, found)
    return raw


_RULE_FILES = (
    "loader.py",
    "rules.py",
    "safe_yaml.py",
    "model.py",
    "names.py",
    "version_config.schema.json",
    "../generators.py",
)
_CHECKERS = ("yaml", "jsonschema_rs")  # the parser, and the checker of the format and the metaschema
_STAMP: list[bytes] = []


def _rules_stamp() -> bytes:
    """What decides whether a file passes: the framework's files that parse and check it, the
    installed PyYAML and jsonschema-rs, and the interpreter. Part of a cache key, so that an
    entry checked by other rules (another version of any of them) is not used."""
    if not _STAMP:
        _STAMP.append(stamp_of(Path(__file__).parent))
    return _STAMP[0]


def stamp_of(here: Path) -> bytes:
    """:func:`_rules_stamp` for the config package at ``here``: the name, size and modification
    time of its rule files and of each checker package's files (found, neither read nor
    imported: hashing the rule files' 76 kB cost each session 1.1 M instructions), and the
    interpreter's and marshal's versions. An edit, a checkout or an upgrade of any of them
    gives a new stamp."""
    digest = hashlib.blake2b(repr((sys.version_info, marshal.version)).encode(), digest_size=16)
    for name in _RULE_FILES:
        st = os.stat(here / name)
        digest.update(f"{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    for package in _CHECKERS:
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            continue
        for entry in sorted(os.scandir(Path(spec.origin).parent), key=lambda e: e.name):
            if entry.is_file():
                st = entry.stat()
                digest.update(f"{package}/{entry.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return digest.digest()


def _store(entry: Path, raw: Any) -> None:
    """Write one checked document atomically; a cache that cannot be written is only slower."""
    try:
        data = marshal.dumps(raw)
        entry.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent)
    except (OSError, ValueError):  # read-only, or data marshal cannot hold: no entry
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, entry)
    except OSError:  # a full disk: no entry, and no half-written one
        Path(tmp).unlink(missing_ok=True)


# -- from checked data to the model ----------------------------------------------------------
def _build(path: Path, raw: Mapping[str, Any]) -> VersionConfig:
    versions = {str(name): _version(str(name), spec) for name, spec in raw["versions"].items()}
    gs = raw.get("global_settings") or {}
    settings = GlobalSettings(
        default_timeout=float(gs.get("default_timeout", 5.0)),
        max_retries=int(gs.get("max_retries", 0)),
        parallel_execution=bool(gs.get("parallel_execution", False)),
        follow_redirects=bool(gs.get("follow_redirects", True)),
    )
    templates = {
        str(r).replace("-", "_"): Template(
            base_data=MappingProxyType(dict(t.get("base_data") or {})),
            field_generators=MappingProxyType(dict(t.get("field_generators") or {})),
            references=MappingProxyType(dict(t.get("references") or {})),
        )
        for r, t in (raw.get("test_data_templates") or {}).items()
    }
    return VersionConfig(path, versions, settings, templates)


def _version(name: str, spec: Mapping[str, Any]) -> VersionSpec:
    fields: dict[str, tuple[str, ...]] = {}
    types: dict[str, Mapping[str, str]] = {}
    for key, entries in (spec.get("schema_fields") or {}).items():
        fields[key] = tuple(e if isinstance(e, str) else next(iter(e)) for e in entries)
        typed = {k: v for e in entries if isinstance(e, dict) for k, v in e.items()}
        if typed:
            types[key] = MappingProxyType(typed)
    schemas = dict(spec.get("schemas") or {})
    keys = list(fields) + [k for k in schemas if k not in fields]
    resources = tuple(dict.fromkeys(k.rpartition("_")[0] for k in keys))
    base_url = str(spec.get("base_url", "")).rstrip("/")
    response = spec.get("response") or {}
    update = str(spec.get("update_method", "PUT"))
    endpoints = {  # keyed in snake case: health-records and health_records are one resource
        str(k).replace("-", "_"): _endpoint(str(k), v, base_url, response, update)
        for k, v in (spec.get("endpoints") or {}).items()
    }
    extra = spec.get("extra_fields", "forbid")
    if isinstance(extra, str):
        allowed = {"*": extra == "allow"}
    else:  # keyed by the spelling of the field lists (the rules made sure there is one)
        allowed = {next(s for s in spellings(str(k)) if s in resources): v == "allow" for k, v in extra.items()}
    return VersionSpec(
        name=name,
        base_url=base_url,
        features=MappingProxyType(dict(spec.get("features") or {})),
        endpoints=MappingProxyType(endpoints),
        schema_fields=MappingProxyType(fields),
        required_fields=MappingProxyType({k: tuple(v) for k, v in (spec.get("required_fields") or {}).items()}),
        optional_fields=MappingProxyType({k: tuple(v) for k, v in (spec.get("optional_fields") or {}).items()}),
        field_types=MappingProxyType(types),
        schemas=MappingProxyType(schemas),
        shape=shape(response, "items"),
        extra_fields=MappingProxyType(allowed),
        resources=resources,
    )


def join(base_url: str, path: str) -> str:
    """An endpoint as written, made a full path: relative to ``base_url`` unless it already
    starts with base_url's path (a full path) or is an absolute URL; never prefixed twice."""
    if path.startswith(("http://", "https://")):
        return path
    if not path.startswith("/"):
        return f"{base_url}/{path}"
    parts = urlsplit(base_url)
    prefix = parts.path.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        return base_url[: len(base_url) - len(parts.path)] + path if parts.scheme else path
    return base_url + path


def _endpoint(name: str, entry: Any, base_url: str, response: Mapping[str, Any], update: str) -> Endpoint:
    if isinstance(entry, str):
        entry = {"path": entry}
    path = join(base_url, entry["path"])
    item = join(base_url, entry["item"]) if "item" in entry else path.rstrip("/") + "/{id}"
    last = [s for s in urlsplit(path).path.split("/") if s and not s.startswith("{")]
    collection = last[-1].replace("-", "_") if last else name
    merged = {**response, **(entry.get("response") or {})}
    params = tuple(dict.fromkeys(placeholders(path)))
    return Endpoint(
        name=name,
        path=path,
        item=item,
        params=params,
        shape=shape(merged, collection),
        update_method=str(entry.get("update_method", update)),
    )


def _path(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(p for p in text.split(".") if p)


def shape(block: Mapping[str, Any], collection: str) -> Shape:
    """A :class:`Shape` from a ``response`` block; presets placed under the envelope's data."""
    envelope = block.get("envelope", "standard")
    if envelope == "standard":
        data: tuple[str, ...] = ("data",)
        success: tuple[str, ...] | None = ("success",)
        version: tuple[str, ...] | None = ("version",)
        error: tuple[str, ...] = ("error",)
    elif envelope == "none":
        data, success, version, error = (), None, None, ()
    else:
        data = _path(envelope.get("data", "data")) or ()
        success, version, error = _path(envelope.get("success")), _path(envelope.get("version")), ("error",)
    if "error" in block:
        error = _path(block["error"]) or ()
    listing = block.get("list", "flat")
    if listing == "flat":
        paging = {k: (*data, k) for k in ("total", "page", "per_page", "total_pages")}
        items = (*data, collection)
    elif listing == "nested":
        paging = {k: (*data, "pagination", k) for k in ("total", "page", "per_page", "total_pages")}
        items = (*data, "items")
    elif listing == "bare":
        paging, items = {}, data
    else:
        paging = {k: p for k in ("total", "page", "per_page", "total_pages") if (p := _path(listing.get(k)))}
        items = _path(listing["items"]) or ()
    return Shape(data=data, success=success, version=version, error=error, items=items, **paging)
