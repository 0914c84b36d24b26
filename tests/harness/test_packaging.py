"""The framework's distribution ships the framework and the Pets API, not the harness, and
importing the framework pulls in none of the harness's heavy dependencies."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HEAVY = {"pandas", "scipy", "matplotlib", "jinja2", "numpy", "dynapi_bench"}


def test_the_framework_wheel_holds_no_harness(tmp_path: Path) -> None:
    # With build isolation: hatchling is not in the dev environment (pip finds it in its index).
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)]
    built = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("dynapi_framework-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    modules = {name for name in names if name.endswith(".py")}
    assert {"framework/__init__.py", "framework/plugin.py", "petstore/__init__.py", "petstore/app.py"} <= modules
    assert {name.split("/")[0] for name in modules} == {"framework", "petstore"}
    assert not [name for name in names if "dynapi_bench" in name or name.startswith("framework/perf/")]
    assert not [name for name in names if name.startswith(("benchmarks/", "tests/", "harness/"))]


def test_importing_the_framework_loads_no_heavy_module(tmp_path: Path) -> None:
    code = f"import framework, sys; print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == "[]"
