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


def _wheel(tmp_path: Path, project: Path, name: str) -> zipfile.ZipFile:
    tmp_path.mkdir()
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(project)]
    built = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob(f"{name}-*.whl")
    return zipfile.ZipFile(wheel)


def _entry_points(wheel: zipfile.ZipFile) -> str:
    found = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    return wheel.read(found[0]).decode() if found else ""


def test_the_plugin_is_registered_by_a_distribution_of_its_own(tmp_path: Path) -> None:
    """pytest rewrites every module of a distribution that registers a pytest11 entry point:
    the framework's registers none; plugin/ registers one module, which registers framework.plugin."""
    plugin = _wheel(tmp_path / "p", ROOT / "plugin", "pytest_dynapi")
    assert {n for n in plugin.namelist() if n.endswith(".py")} == {"dynapi_pytest.py"}
    assert "[pytest11]\ndynapi = dynapi_pytest" in _entry_points(plugin)
    assert "pytest11" not in _entry_points(_wheel(tmp_path / "f", ROOT, "dynapi_framework"))


def test_pytest_rewrites_no_framework_module_and_the_plugin_is_registered_by_its_name(tmp_path: Path) -> None:
    (tmp_path / "test_loaders.py").write_text(
        "import sys\n"
        "import framework.plugin\n"
        "def test_loaders(version_config, request):\n"  # a fixture of the plugin: it is loaded
        "    rewritten = sorted(n for n, m in sys.modules.items() if n.startswith('framework')\n"
        "                       and type(getattr(m, '__loader__', None)).__name__ == 'AssertionRewritingHook')\n"
        "    assert rewritten == [], rewritten\n"
        "    assert request.config.pluginmanager.get_plugin('framework.plugin') is framework.plugin\n"
    )
    config = ROOT / "tests" / "config" / "version_config.yaml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        f"--version-config={config}",
        "test_loaders.py",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]
    unknown_option = [c for c in cmd if not c.startswith("--version-config")]  # blocked: no such option
    blocked = subprocess.run(
        [*unknown_option, "-p", "no:framework.plugin"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert blocked.returncode == 1, blocked.stdout[-3000:]
    assert "fixture 'version_config' not found" in blocked.stdout
