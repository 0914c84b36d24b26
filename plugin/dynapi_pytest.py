"""The framework's pytest plugin, :mod:`framework.plugin`, registered from a distribution of its own.

pytest rewrites the asserts of every module of a distribution that registers a ``pytest11``
entry point, and of every plugin it imports by name, and reads each rewritten module back
from its cache with ``marshal.load`` on an open file, several times dearer than an import.
Registered from here, only this module is rewritten: the framework, its plugin module too,
imports as any library does. Measured on a session start (docs/methodology.md): rewriting
every framework module cost 16.5 M instructions; rewriting the plugin module alone 7.8 M;
``pytest_plugins = ["framework.plugin"]`` a further 8.7 M, as pytest first reads the entry
points of every installed distribution for one named ``framework.plugin``.
"""

from __future__ import annotations

import pytest

import framework.plugin


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Called as pytest registers this module, before any option is read: the plugin then
    takes part in every hook from the first (``-p no:framework.plugin`` still blocks it)."""
    pluginmanager.register(framework.plugin, "framework.plugin")
