"""Sessions: ``bench`` (the main job), ``bench-selftest``, ``profile``, ``tests``, ``lint``, ``typecheck``.

The framework (``.``, with the Pets API) and the harness (``harness/``, the ``dynapi-bench``
command) are two distributions: API test suites install only the first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nox
from packaging.specifiers import SpecifierSet

nox.options.sessions = ["bench", "tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYPROJECT = nox.project.load_toml("pyproject.toml")
REQUIRES_PYTHON = SpecifierSet(PYPROJECT["project"]["requires-python"])
BUILD_REQUIRES = PYPROJECT["build-system"]["requires"]  # the three projects build with hatchling
# Every session runs on the interpreter nox runs under (`python3.13 -m nox` for 3.13), checked
# against requires-python by install(); `--force-python 3.12` picks another.
PYTHON = None
PYTEST = ("pytest", "-p", "no:cacheprovider")
KENNEL_CONFIG = "tests/kennel/version_config.yaml"
KENNEL_APP = "tests.kennel.app:create_app()"


def install(session: nox.Session, *groups: str, harness: bool = True) -> None:
    """Install the framework with the Pets API and its pytest plugin (plugin/), the harness
    unless told not to, and the named dependency groups; skipped in a reused environment whose
    project files are unchanged (the installs are editable, so code changes need none; pip's
    no-op still cost ~12 s a run)."""
    check_python(session)
    deps = [d for g in groups for d in nox.project.dependency_groups(PYPROJECT, g)]
    args = ["-e", ".[petstore]", "-e", "plugin", *(["-e", "harness"] if harness else []), *deps]
    projects = [
        Path("pyproject.toml"),
        Path("plugin/pyproject.toml"),
        *([Path("harness/pyproject.toml")] if harness else []),
    ]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in projects) + repr(args).encode()).hexdigest()
    marker = Path(str(session.virtualenv.location)) / ".dynapi-installed"
    if marker.is_file() and marker.read_text() == key:
        session.log("project files unchanged since the last install: nothing to install")
        return
    # The build backend once, not in an isolated environment per project (~7 s); no byte-compiling
    # by pip, one file at a time, but by compileall on every core after it (~5 s less).
    session.install(*BUILD_REQUIRES, "editables")
    session.install("--no-build-isolation", "--no-compile", *args)
    session.run_install(  # 1: a file that does not compile, which pip's own compiling skips too
        "python",
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        *site_packages(session),
        silent=True,
        log=False,
        success_codes=[0, 1],
    )
    marker.write_text(key)


def site_packages(session: nox.Session) -> list[str]:
    """The session's site-packages folders, to byte-compile what was installed."""
    program = "import site; print('\\n'.join(site.getsitepackages()))"
    return str(session.run_install("python", "-c", program, silent=True, log=False)).split()


def check_python(session: nox.Session) -> None:
    """Stop the session with one line where its interpreter is outside requires-python, or
    where a reused virtualenv was made by another interpreter than the one nox runs under."""
    program = "import platform; print(platform.python_version())"
    # run_install: it runs under --install-only too (session.run would return None there)
    version = str(session.run_install("python", "-c", program, silent=True, log=False)).strip()
    if not REQUIRES_PYTHON.contains(version, prereleases=True):
        session.error(
            f"Python {version} is outside requires-python {REQUIRES_PYTHON} (pyproject.toml): "
            f"run nox with a Python {REQUIRES_PYTHON}, e.g. `python3.12 -m pip install nox && python3.12 -m nox`"
        )
    if session.python is None and version != platform.python_version():
        session.error(
            f"{session.virtualenv.location} holds Python {version} but nox runs on {platform.python_version()}: "
            f"rebuild it with `nox -N -s {session.name}`"
        )


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmark every KPI, judge it, write reports/ (args: --quick | --against REF, --save-baseline;
    --suite PATH for your own suite: FastAPI is installed for its example, on the Kennel API)."""
    install(session, "kennel")
    session.run("dynapi-bench", "run", *session.posargs)


@nox.session(name="bench-selftest", python=PYTHON)
def bench_selftest(session: nox.Session) -> None:
    """Measure the gate itself: A/A false alarms and detection of injected +5..50% changes."""
    install(session)
    session.run("dynapi-bench", "selftest", *session.posargs)


@nox.session(python=PYTHON)
def profile(session: nox.Session) -> None:
    """Only profile: pyinstrument per KPI and memray flamegraphs, into reports/profiles/."""
    install(session)
    session.run("dynapi-bench", "profile", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the unit and harness tests, then the dynamic suite in-process and against a live server,
    its CRUD slice against the Kennel API (tests/kennel/: another framework, another shape), and
    against a Pets API that injects faults (tests/faults/)."""
    install(session, "test")
    session.run(*PYTEST, "tests/unit", "tests/harness", *session.posargs)
    session.run(*PYTEST, "tests/integration", *session.posargs)
    xdist = ("-n", "2", "--dist", "loadgroup")  # the tests that delete run beside the statistics test's
    session.run(*PYTEST, "tests/integration", *xdist, *session.posargs)
    with live_server(session, "petstore", "/api/v1/pets") as url:
        session.run(*PYTEST, "tests/integration", *xdist, f"--api-url={url}", *session.posargs)
    kennel = (*PYTEST, "tests/integration/test_crud_dynamic.py", f"--version-config={KENNEL_CONFIG}")
    session.run(*kennel, f"--asgi-app={KENNEL_APP}", *session.posargs)
    with live_server(session, "tests.kennel", "/api/v1/pets/") as url:
        session.run(*kennel, *xdist, f"--api-url={url}", *session.posargs)
    session.run(*PYTEST, "tests/faults", *session.posargs)  # the Pets API with faults injected


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff; check the GitHub workflows with actionlint."""
    install(session, "lint", harness=False)
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("actionlint")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check framework/, petstore/ and the harness with mypy --strict."""
    install(session, "typecheck")
    session.run("mypy")


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def live_server(session: nox.Session, module: str, probe: str, timeout: float = 30.0) -> Iterator[str]:
    """Serve an API (``python -m module --port N``) on a free loopback port until ``probe``
    answers 200; stop it by its pid."""
    port = free_port()
    python = str(Path(session.bin) / "python")
    log = Path(session.create_tmp()) / f"{module}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([python, "-m", module, "--port", str(port)], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    session.log(f"{module} serving at {url} (pid {proc.pid})")
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                session.error(f"{module} exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}{probe}", timeout=1) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                session.error(f"{module} did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
