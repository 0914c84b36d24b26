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

__all__ = ["changes", "describe", "of_python"]

# The project's own distributions: their version does not change when their code does.
_OWN = {"dynapi-framework", "dynapi-bench"}


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def describe() -> dict[str, Any]:
    """This interpreter (version, implementation, compiler, build) and every installed distribution."""
    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and _canonical(name) not in _OWN:
            packages[_canonical(name)] = dist.version
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "packages": dict(sorted(packages.items())),
    }


def of_python(python: str) -> dict[str, Any]:
    """:func:`describe` of another interpreter (a base worktree's environment)."""
    try:
        done = subprocess.run(
            [python, "-m", "dynapi_bench.environment"], capture_output=True, text=True, check=False, timeout=60
        )
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
