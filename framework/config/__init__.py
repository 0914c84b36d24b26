"""The version config manager: one YAML file that lists an API's versions.

Per version: ``base_url``, ``features`` (name -> bool), ``endpoints`` (name -> path, or
``{path, item, response}``), ``schema_fields`` / ``required_fields`` / ``optional_fields``
(``<resource>_<kind>`` -> field names), optionally full JSON Schemas under ``schemas``, the
``response`` shape (envelope, list, error) and ``extra_fields``. Top level:
``global_settings`` and ``test_data_templates``.

Three concepts, one module each: :mod:`~framework.config.model` (what a config says),
:mod:`~framework.config.loader` (reading and caching, through the bounded parser of
:mod:`~framework.config.safe_yaml`) and :mod:`~framework.config.rules` (the format: a
JSON Schema, ``version_config.schema.json``, and the cross-field rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from framework.config.loader import (
    DEFAULT_CONFIG_PATH,
    ENV_VAR,
    clear_cache,
    load_config,
    resolve_config_path,
)
from framework.config.model import (
    Endpoint,
    GlobalSettings,
    Shape,
    Template,
    VersionConfig,
    VersionSpec,
)

if TYPE_CHECKING:
    from framework.config.rules import FORMAT_SCHEMA

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ENV_VAR",
    "FORMAT_SCHEMA",
    "Endpoint",
    "GlobalSettings",
    "Shape",
    "Template",
    "VersionConfig",
    "VersionSpec",
    "clear_cache",
    "load_config",
    "resolve_config_path",
]


def __getattr__(name: str) -> Any:
    # The rules import PyYAML and jsonschema-rs; a session that loads a cached config needs neither.
    if name == "FORMAT_SCHEMA":
        from framework.config.rules import FORMAT_SCHEMA  # noqa: PLC0415

        return FORMAT_SCHEMA
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
