"""Resource names as APIs spell them: ``pet`` and ``pets``, ``health_record`` and ``health-records``.

A config may key its endpoints in the plural and its field lists in the singular (or the
other way round); tests may use either. Every lookup tries the name as given, then its
other spellings, so all parts of the framework resolve the same resource.
"""

from __future__ import annotations

__all__ = ["plural", "singular", "spellings"]

_ES = ("s", "x", "z", "ch", "sh")
_VOWELS = "aeiou"


def singular(name: str) -> str:
    """``pets`` -> ``pet``, ``categories`` -> ``category``, ``boxes`` -> ``box``; else unchanged."""
    if name.endswith("ies") and len(name) > 3:
        return name[:-3] + "y"
    if name.endswith("es") and name[:-2].endswith(_ES):
        return name[:-2]
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1]
    return name


def plural(name: str) -> str:
    """``pet`` -> ``pets``, ``category`` -> ``categories``, ``box`` -> ``boxes``."""
    if name.endswith("y") and len(name) > 1 and name[-2] not in _VOWELS:
        return name[:-1] + "ies"
    if name.endswith(_ES):
        return name + "es"
    return name + "s"


def spellings(name: str) -> tuple[str, ...]:
    """The name in snake case (``-`` as ``_``), then its singular and plural, without repeats;
    the config keys its endpoints and templates in snake case too."""
    snake = name.replace("-", "_")
    return tuple(dict.fromkeys((snake, singular(snake), plural(snake))))
