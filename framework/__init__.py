"""A version-aware API testing framework: config, data factory, validator, pytest plugin.

The flow: :func:`load_config` reads the version YAML, :class:`DataFactory` builds
payloads from it, :class:`VersionedClient` sends them, :class:`ResponseValidator`
checks what comes back. The pytest plugin (``framework.plugin``) wires them into
fixtures and the ``version_parametrize`` / ``feature_test`` decorators.
"""

from __future__ import annotations

from framework.client import VersionedClient, make_client
from framework.config import (
    Endpoint,
    GlobalSettings,
    Shape,
    Template,
    VersionConfig,
    VersionSpec,
    clear_cache,
    load_config,
    resolve_config_path,
)
from framework.errors import (
    ConfigError,
    ConfigGapError,
    FactoryError,
    FrameworkError,
    MissingParameterError,
    Problem,
    RequestFailedError,
    ResponseValidationError,
    UnknownNameError,
)
from framework.factory import DataFactory, InvalidCase, Item, Related
from framework.plugin import feature_test, version_parametrize
from framework.validator import ResponseValidator, ValidationResult, checked_formats

__all__ = [
    "ConfigError",
    "ConfigGapError",
    "DataFactory",
    "Endpoint",
    "FactoryError",
    "FrameworkError",
    "GlobalSettings",
    "InvalidCase",
    "Item",
    "MissingParameterError",
    "Problem",
    "Related",
    "RequestFailedError",
    "ResponseValidationError",
    "ResponseValidator",
    "Shape",
    "Template",
    "UnknownNameError",
    "ValidationResult",
    "VersionConfig",
    "VersionSpec",
    "VersionedClient",
    "checked_formats",
    "clear_cache",
    "feature_test",
    "load_config",
    "make_client",
    "resolve_config_path",
    "version_parametrize",
]
