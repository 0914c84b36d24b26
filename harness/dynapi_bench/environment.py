"""What an instruction count depends on besides the code: the interpreter and the installed versions.

A count is exact for one build of Python and one set of packages: a new jsonschema-rs or a
Python patch release moves it with no change to the project's code. Each side's results
record :func:`describe` of the Python that ran it (``python -m dynapi_bench.environment``
prints it as JSON), and :func:`changes` names what differs from a baseline's, so that the
count gate can say "jsonschema-rs 0.29.1 -> 0.30.0" instead of blaming the code.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from typing import Any

from packaging.requirements import Requirement

from dynapi_bench import children

__all__ = ["changes", "describe", "of_python"]

# The project's own distributions: their version does not change when their code does.
_OWN = {"dynapi-framework", "dynapi-bench"}


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _installed() -> dict[str, metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(_canonical(name), dist)
    return found


def _closure(installed: Mapping[str, metadata.Distribution]) -> set[str]:
    """What the measured processes can run: the project's own distributions' requirements
    (with the Pets API's extra; not the development tools), transitively, and every pytest
    plugin that loads itself (``pytest11``)."""
    todo: list[tuple[str, frozenset[str]]] = [("dynapi-bench", frozenset())]  # it asks for the framework's extras
    todo += [
        (name, frozenset()) for name, dist in installed.items() if any(e.group == "pytest11" for e in dist.entry_points)
    ]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen or name not in installed:
            continue
        seen.add((name, extras))
        for text in installed[name].requires or ():
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in ("", *extras)):
                todo.append((_canonical(req.name), frozenset(req.extras)))
    return {name for name, _ in seen} - _OWN


def describe() -> dict[str, Any]:
    """This interpreter (version, implementation, compiler, build) and the installed version of
    every distribution the measured code can reach (tools beside it, like nox or ruff, are not)."""
    installed = _installed()
    packages = {name: installed[name].version for name in _closure(installed)}
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "packages": dict(sorted(packages.items())),
    }


def of_python(python: str) -> dict[str, Any]:
    """:func:`describe` of another interpreter (a base worktree's environment)."""
    try:
        done = children.run([python, "-m", "dynapi_bench.environment"], timeout=60)
        found = json.loads(done.stdout) if done.returncode == 0 else {}
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What differs between two environments, one phrase each; empty when either is unknown."""
    if not before or not after:
        return []
    found = [
        f"{key} {before.get(key)} -> {after.get(key)}"
        for key in ("python", "build", "compiler")
        if before.get(key) != after.get(key)
    ]
    old, new = before.get("packages") or {}, after.get("packages") or {}
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            found.append(f"{name} {old.get(name, 'absent')} -> {new.get(name, 'absent')}")
    return found


if __name__ == "__main__":
    json.dump(describe(), sys.stdout)
