"""Units of KPI figures: what each unit measures and its size in base units (s or bytes)."""

from __future__ import annotations

from typing import Literal

__all__ = ["UNITS", "Dimension", "dimension", "scale"]

Dimension = Literal["time", "memory"]

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
}


def scale(unit: str) -> float:
    """How many base units (seconds or bytes) one ``unit`` is; KeyError for an unknown unit."""
    return UNITS[unit][1]


def dimension(unit: str) -> Dimension:
    """``time`` or ``memory``."""
    return UNITS[unit][0]
