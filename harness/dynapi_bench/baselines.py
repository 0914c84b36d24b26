"""Stored baselines: ``baselines/<machine-id>/<UTC time>-<commit>.json``, written only on
purpose (``--save-baseline``), atomically, and never over another."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from dynapi_bench.errors import BenchError
from dynapi_bench.results import Results

__all__ = ["newest_baseline", "save_baseline"]


def newest_baseline(baselines: Path, machine: str) -> Path | None:
    """The newest baseline of this machine kind, or None: another kind's figures differ by
    more than the large-change factors (an Intel run against an AMD baseline read x2.3)."""
    mine = sorted((baselines / machine).glob("*.json"))
    return mine[-1] if mine else None


def save_baseline(results: Results, baselines: Path, now: dt.datetime | None = None) -> Path:
    """Store ``results`` as a new baseline. The file appears whole or not at all, and a
    second run saving at the same second gets an error rather than overwriting (a hard
    link fails when the target exists, unlike a rename)."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    target = baselines / results.machine / f"{stamp}-{results.commit}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(results.to_json(), f, separators=(",", ":"))
        os.chmod(tmp, 0o644)
        os.link(tmp, target)
    except FileExistsError:
        raise BenchError(f"{target} exists; baselines are never overwritten, wait a second and save again") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target
