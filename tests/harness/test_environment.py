"""Tests of dynapi_bench.environment: what a count depends on, and what changed."""

from __future__ import annotations

import sys

from dynapi_bench.environment import changes, describe, of_python


def test_describe_names_the_interpreter_and_packages() -> None:
    found = describe()
    assert found["python"].split()[1] == ".".join(map(str, sys.version_info[:3]))
    assert "pytest" in found["packages"]
    assert "jsonschema-rs" in found["packages"]
    assert "dynapi-framework" not in found["packages"]  # the project's own: its code is what is measured


def test_of_python_is_describe_of_that_interpreter() -> None:
    assert of_python(sys.executable)["packages"] == describe()["packages"]
    assert of_python("/nonexistent/python") == {}  # unknown: the count gate then has nothing to name


def test_changes_name_each_difference() -> None:
    before = {"python": "CPython 3.11.2", "build": "b", "compiler": "c", "packages": {"a": "1", "b": "2"}}
    after = {**before, "packages": {"a": "1.1", "c": "3"}}
    assert changes(before, after) == ["a 1 -> 1.1", "b 2 -> absent", "c absent -> 3"]
    assert changes(before, {**before, "python": "CPython 3.11.9"}) == ["python CPython 3.11.2 -> CPython 3.11.9"]
    assert changes(before, before) == []
    assert changes({}, after) == []  # a baseline from before environments were recorded: nothing to say
