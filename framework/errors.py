"""The exceptions of the framework.

Every message says what is wrong, where (file, line, key path) and how to fix it::

    FrameworkError
     +-- ConfigError               the version config cannot be used (file, YAML line, key path)
     +-- UnknownNameError          a lookup named a version, resource, feature or generator
     |    |                        that the config does not have; lists the known ones
     |    +-- ConfigGapError       a list the config has elsewhere but not in this version
     |                             (the plugin skips the test, saying where to add it)
     +-- MissingParameterError     an endpoint's path needs a parameter that was not given
     +-- RequestFailedError        a request got no answer (connection refused, dropped, timed
                                   out) after its attempts (also an AssertionError: a test failure)
     +-- FactoryError              a payload cannot be built from the config
     +-- ResponseValidationError   a response broke its schema or field list (also an
                                   AssertionError, so pytest shows it as a test failure)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "ConfigError",
    "ConfigGapError",
    "FactoryError",
    "FrameworkError",
    "MissingParameterError",
    "Problem",
    "RequestFailedError",
    "ResponseValidationError",
    "UnknownNameError",
]


class FrameworkError(Exception):
    """Base class of every error raised on purpose by the framework."""


class ConfigError(FrameworkError):
    """The version config file is missing, not YAML, or breaks a rule of its format."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key_path: str | None = None,
        more: int = 0,
    ) -> None:
        self.file = file
        self.line = line
        self.key_path = key_path
        self.reason = message
        where = file or "<config>"
        if line is not None:
            where = f"{where}:{line}"
        text = f"{where}: {key_path}: {message}" if key_path else f"{where}: {message}"
        if more:
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        super().__init__(text)


class UnknownNameError(FrameworkError, LookupError):
    """A version, resource, feature, field list or generator that the config does not define."""

    def __init__(
        self, kind: str, name: str, known: Iterable[str], where: str = "", *, tried: Iterable[str] = ()
    ) -> None:
        self.kind = kind
        self.name = name
        self.known = tuple(sorted(known))
        scope = f" in {where}" if where else ""
        others = [repr(t) for t in tried if t != name]
        also = f" (also tried {', '.join(others)})" if others else ""
        choices = ", ".join(self.known) or "none"
        super().__init__(f"unknown {kind} {name!r}{also}{scope}; known: {choices}")

    def __str__(self) -> str:  # LookupError would otherwise quote the message like a key
        return str(self.args[0])


class ConfigGapError(UnknownNameError):
    """A field list this version lacks, of a resource the config knows: a gap, not a typo.

    The pytest plugin reports a test that meets one as skipped, with this message.
    """

    def __init__(self, file: str, version: str, section: str, key: str) -> None:
        Exception.__init__(
            self, f"{version} has no {section}.{key}; add it under versions.{version}.{section} in {file}"
        )
        self.kind = "field list"
        self.name = key
        self.known = ()
        self.version = version
        self.section = section


class MissingParameterError(FrameworkError, LookupError):
    """An endpoint's path has a ``{name}`` that the call did not fill."""

    def __init__(self, endpoint: str, template: str, missing: Iterable[str]) -> None:
        self.endpoint = endpoint
        self.missing = tuple(missing)
        example = ", ".join(f"{m}=..." for m in self.missing)
        names = ", ".join(self.missing)
        super().__init__(f"endpoint {endpoint!r} ({template}) needs {names}: pass {example} to the call")

    def __str__(self) -> str:
        return str(self.args[0])


class FactoryError(FrameworkError):
    """The data factory cannot build a payload; the message names the config entry to fix."""


class Problem(NamedTuple):
    """One thing wrong with a response: where (a JSON path) and what. A named tuple: the
    validator makes one per problem, and a tuple is made in C."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ResponseValidationError(FrameworkError, AssertionError):
    """A response does not match its version's schema or field list."""

    def __init__(self, version: str, resource: str, kind: str, problems: Iterable[Problem]) -> None:
        self.version = version
        self.resource = resource
        self.kind = kind
        self.problems = tuple(problems)
        listed = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{version} {resource}_{kind}: {listed}")


class RequestFailedError(FrameworkError, AssertionError):
    """A request that got no answer: the method, the URL, why, and how many attempts were made."""

    def __init__(self, method: str, url: str, reason: BaseException, attempts: int, retries: int) -> None:
        self.method = method
        self.url = url
        self.reason = reason
        self.attempts = attempts
        why = f"{type(reason).__name__}: {reason}" if str(reason) else type(reason).__name__
        tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
        super().__init__(f"{method} {url}: no answer ({why}) after {tries} (global_settings.max_retries: {retries})")
