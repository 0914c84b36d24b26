"""Stored baselines: ``baselines/<machine-id>/<UTC time>-<commit>.json``, written only on
purpose (``--save-baseline``), atomically, and never over another. A second baseline of the
same commit in the same second (two runs saving at once) takes the next free number:
``<UTC time>-<commit>-2.json``, and counts as the newer."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from dynapi_bench.results import Results

__all__ = ["newest_baseline", "save_baseline", "saved_baselines"]

_STAMP = len("20261129T083005Z")


def _order(path: Path) -> tuple[str, int, str]:
    """Time, then number (``-2`` after none), then name: an order that does not depend on
    how the folder lists its files."""
    stem = path.name.removesuffix(".json")
    _, _, number = stem[_STAMP + 1 :].rpartition("-")  # a commit id has no "-"
    return stem[:_STAMP], int(number) if number.isdigit() else 1, path.name


def saved_baselines(baselines: Path, machine: str) -> list[Path]:
    """Every baseline of this machine kind, oldest first."""
    return sorted((baselines / machine).glob("*.json"), key=_order)


def newest_baseline(baselines: Path, machine: str) -> Path | None:
    """The newest baseline of this machine kind, or None: another kind's figures differ by
    more than the large-change factors (an Intel run against an AMD baseline read x2.3)."""
    mine = saved_baselines(baselines, machine)
    return mine[-1] if mine else None


def save_baseline(results: Results, baselines: Path, now: dt.datetime | None = None) -> Path:
    """Store ``results`` as a new baseline. The file appears whole or not at all, and never
    over another: a hard link fails when the target exists (a rename would replace it), and
    then the next number is tried."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = baselines / results.machine
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{stamp}-{results.commit}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(results.to_json(), f, separators=(",", ":"))
        os.chmod(tmp, 0o644)
        number = 1
        while True:
            target = folder / (f"{stamp}-{results.commit}" + (f"-{number}" if number > 1 else "") + ".json")
            try:
                os.link(tmp, target)
            except FileExistsError:
                number += 1
            else:
                return target
    finally:
        Path(tmp).unlink(missing_ok=True)
