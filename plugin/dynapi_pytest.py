"""The framework's pytest plugin, :mod:`framework.plugin`, registered from a distribution of its own.

pytest rewrites the asserts of every module of a distribution that registers a ``pytest11``
entry point, and reads each rewritten module back from its cache more slowly than Python
imports a module (``marshal.load`` on an open file). Registered from here, only this module
and ``framework.plugin`` (which pytest rewrites as a plugin it imports) are rewritten; the
rest of the framework imports as any library does: 16.5 M instructions less a session start
(docs/methodology.md).
"""

pytest_plugins = ["framework.plugin"]
