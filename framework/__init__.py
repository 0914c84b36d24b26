"""A version-aware API testing framework: config, data factory, validator, pytest plugin.

The flow: :func:`load_config` reads the version YAML, :class:`DataFactory` builds
payloads from it, :class:`VersionedClient` sends them, :class:`ResponseValidator`
checks what comes back. The pytest plugin (``framework.plugin``) wires them into
fixtures and the ``version_parametrize`` / ``feature_test`` decorators.

The names below are imported on first use (PEP 562), so that pytest loading the plugin
does not pay for the factory, the validator or the client before a test needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_EXPORTS = {
    "ConfigError": "framework.errors",
    "ConfigGapError": "framework.errors",
    "DataFactory": "framework.factory",
    "Endpoint": "framework.config",
    "FactoryError": "framework.errors",
    "FrameworkError": "framework.errors",
    "GlobalSettings": "framework.config",
    "InvalidCase": "framework.factory",
    "Item": "framework.factory",
    "MissingParameterError": "framework.errors",
    "Problem": "framework.errors",
    "Related": "framework.factory",
    "RequestFailedError": "framework.errors",
    "ResponseValidationError": "framework.errors",
    "ResponseValidator": "framework.validator",
    "Shape": "framework.config",
    "Template": "framework.config",
    "UnknownNameError": "framework.errors",
    "ValidationResult": "framework.validator",
    "VersionConfig": "framework.config",
    "VersionSpec": "framework.config",
    "VersionedClient": "framework.client",
    "checked_formats": "framework.validator",
    "clear_cache": "framework.config",
    "feature_test": "framework.plugin",
    "load_config": "framework.config",
    "make_client": "framework.client",
    "resolve_config_path": "framework.config",
    "version_parametrize": "framework.plugin",
}
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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'framework' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
