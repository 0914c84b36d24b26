"""Units of KPI figures: what each unit measures and its size in base units (s, bytes, instructions)."""

from __future__ import annotations

from typing import Literal

__all__ = ["UNITS", "Dimension", "dimension", "scale"]

Dimension = Literal["time", "memory", "instructions", "ratio"]

UNITS: dict[str, tuple[Dimension, float]] = {
    "ns": ("time", 1e-9),
    "us": ("time", 1e-6),
    "ms": ("time", 1e-3),
    "s": ("time", 1.0),
    "B": ("memory", 1.0),
    "KB": ("memory", 1e3),
    "MB": ("memory", 1e6),
    "KiB": ("memory", 1024.0),
    "MiB": ("memory", 1024.0**2),
    "instructions": ("instructions", 1.0),
    "k instructions": ("instructions", 1e3),
    "M instructions": ("instructions", 1e6),
    "x": ("ratio", 1.0),  # ours over a contender measured in the same run
}


def scale(unit: str) -> float:
    """How many base units (seconds, bytes, instructions) one ``unit`` is; KeyError for an unknown unit."""
    return UNITS[unit][1]


def dimension(unit: str) -> Dimension:
    """``time``, ``memory``, ``instructions`` or ``ratio``."""
    return UNITS[unit][0]
