"""Tests of framework.files: a write is whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from framework.files import atomic_write_text


def test_writes_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.json"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    atomic_write_text(target, "kept")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "\udcff")  # a lone surrogate cannot be encoded
    assert target.read_text() == "kept"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
