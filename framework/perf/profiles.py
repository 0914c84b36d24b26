"""Profiles of each KPI's code path: pyinstrument HTML, one file per KPI.

Run as ``python -m framework.perf.profiles OUTDIR``: a process of its own, since a
profiler hooks the interpreter and would distort any timing or memory taken beside it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from pyinstrument import Profiler

from framework.config import clear_cache, load_config
from framework.factory import DataFactory
from framework.validator import ResponseValidator

__all__ = ["main", "profile_to"]

PETS_CONFIG = Path("tests/config/version_config.yaml")


def profile_to(path: Path, work: Callable[[], object], *, interval: float = 0.0005) -> None:
    """Run ``work`` under pyinstrument and write its HTML profile to ``path``."""
    profiler = Profiler(interval=interval)
    profiler.start()
    work()
    profiler.stop()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(profiler.output_html(), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write ``config_load.html``, ``data_generation.html`` and ``response_validation.html``."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path("reports/profiles")
    rounds = int(args[1]) if len(args) > 1 else 1

    def cold_loads() -> None:
        for _ in range(20 * rounds):
            clear_cache()
            load_config(PETS_CONFIG)

    config = load_config(PETS_CONFIG)
    factory = DataFactory(config, seed=1, namespace="profile")
    cases = [(v, r) for v in config.get_supported_versions() for r in config.resources(v)]

    def builds() -> None:
        for _ in range(500 * rounds):
            for version, resource in cases:
                factory.build(resource, version)

    validator = ResponseValidator(config)
    responses = [(v, r, factory.build_response(r, v)) for v, r in cases]
    broken = [(v, r, factory.build_response(r, v, id="not-a-uuid", unexpected=1)) for v, r in cases]

    def validations() -> None:
        for _ in range(500 * rounds):
            for version, resource, data in responses:
                validator.validate(data, version, resource)
        for _ in range(50 * rounds):
            for version, resource, data in broken:
                validator.validate(data, version, resource)

    profile_to(out / "config_load.html", cold_loads)
    profile_to(out / "data_generation.html", builds)
    profile_to(out / "response_validation.html", validations)
    return 0


if __name__ == "__main__":
    sys.exit(main())
