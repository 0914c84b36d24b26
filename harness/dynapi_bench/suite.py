"""A user's own dynamic suite (``dynapi-bench run --suite PATH``): what the harness measures
instead of the project's ``tests/integration``, and the plugin options that point it at its API.

Only the suite's KPIs are measured (:data:`SUITE_KPIS`): each test's time and peak memory,
the suite's wall time and peak RSS, and, in-process, each test's instructions under callgrind
(against ``--api-url`` the server's work is in another process, which callgrind does not
see). Everything the user typed is checked before anything is measured: the paths, taken
from where the command runs, the config (loaded as the plugin loads it), the target, and a
live server's answer; each problem is one line naming the option and the fix.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dynapi_bench.errors import BenchError, ThresholdsError
from dynapi_bench.protocol import SUITE_ENV
from dynapi_bench.results import Results
from dynapi_bench.thresholds import Thresholds
from framework.config import load_config
from framework.errors import FrameworkError

__all__ = ["BASELINES_FOLDER", "SUITE_KPIS", "UserSuite", "add_options", "require_same_suite"]

# The KPIs a suite run measures; the instruction counts only where it can count them.
SUITE_KPIS = ("test_execution", "suite_wall_time", "suite_peak_rss", "memory_per_test", "test_execution_instructions")
BASELINES_FOLDER = ".dynapi-baselines"  # the default --baselines, in the suite's folder


@dataclass(frozen=True)
class UserSuite:
    """A user's suite: its path, version config and target (an app in-process or a live
    server's URL), all absolute, and the folder its pytest processes start in (where the
    command was typed: ``--asgi-app`` names a module importable from there)."""

    path: Path
    version_config: Path
    cwd: Path
    asgi_app: str | None = None
    api_url: str | None = None

    @classmethod
    def from_options(
        cls,
        path: str | None,
        version_config: str | None,
        asgi_app: str | None,
        api_url: str | None,
        cwd: Path | None = None,
    ) -> UserSuite | None:
        """The suite the options name (None without ``--suite``), checked before any measurement;
        :class:`BenchError` with one line naming the option and the fix."""
        here = (cwd or Path.cwd()).resolve()
        if path is None:
            given = [name for name, value in _targets(version_config, asgi_app, api_url) if value is not None]
            if given:
                raise BenchError(
                    f"{', '.join(given)} without --suite PATH: they point a suite of yours at its API "
                    "(the project's own suite has its config); add --suite PATH"
                )
            return None
        suite = here / path
        if not suite.exists():
            raise BenchError(f"--suite {path}: {suite} does not exist; name your suite's folder or test file")
        if version_config is None:
            raise BenchError("--suite needs --version-config FILE: the version config of the API it tests")
        config = here / version_config
        if not config.is_file():
            raise BenchError(
                f"--version-config {version_config}: {config} does not exist; name your suite's version config YAML"
            )
        if asgi_app is not None and api_url is not None:
            raise BenchError("--asgi-app and --api-url: give one, the app in-process or a live server, not both")
        if asgi_app is None and api_url is None:
            raise BenchError(
                "--suite needs its target: --asgi-app MODULE:ATTR (the app in-process) or --api-url URL (a live server)"
            )
        found = cls(suite.resolve(), config.resolve(), here, asgi_app, api_url)
        found.check()
        return found

    def check(self) -> None:
        """The config loads, the target is well formed, and a live server answers."""
        try:
            settings = load_config(self.version_config).settings
        except FrameworkError as exc:
            raise BenchError(f"--version-config: {exc}") from None
        if self.asgi_app is not None:
            module, _, attr = self.asgi_app.partition(":")
            if not module or not attr.removesuffix("()"):
                raise BenchError(f"--asgi-app {self.asgi_app!r}: expected 'module:attr' or 'module:factory()'")
        if self.api_url is not None:
            parts = urlsplit(self.api_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise BenchError(f"--api-url {self.api_url!r}: expected an http:// or https:// URL")
            from framework.client import probe  # noqa: PLC0415 - httpx, only for a live server

            problem = probe(self.api_url, timeout=settings.default_timeout, retries=settings.max_retries)
            if problem is not None:
                raise BenchError(f"--api-url {self.api_url}: {problem}; start the server, or measure with --asgi-app")

    @property
    def plugin_options(self) -> tuple[str, ...]:
        """The plugin's options (with ``=``: pytest #8846) that point the suite at its API."""
        target = f"--asgi-app={self.asgi_app}" if self.asgi_app is not None else f"--api-url={self.api_url}"
        return (f"--version-config={self.version_config}", target)

    @property
    def args(self) -> tuple[str, ...]:
        """The suite's pytest arguments: its path, then the plugin's options."""
        return (str(self.path), *self.plugin_options)

    @property
    def baselines(self) -> Path:
        """The default ``--baselines``: a folder of its own beside the tests (never the project's
        own Pets baselines, which measure another suite)."""
        return (self.path if self.path.is_dir() else self.path.parent) / BASELINES_FOLDER

    def environ(self) -> dict[str, str]:
        """What tells ``benchmarks/`` to run this suite instead of the project's (:data:`SUITE_ENV`)."""
        return {SUITE_ENV: json.dumps({"args": list(self.args), "cwd": str(self.cwd)})}

    def uncounted(self) -> str | None:
        """Why its instructions cannot be counted (one line), or None."""
        if self.api_url is None:
            return None
        return (
            "instruction counts skipped: --api-url: the server's work is in another process, which callgrind "
            "does not count; measure with --asgi-app to count it"
        )

    def kpis(self, *, counted: bool) -> tuple[str, ...]:
        """The KPIs this run measures."""
        return SUITE_KPIS if counted else tuple(k for k in SUITE_KPIS if not k.endswith("_instructions"))

    def require_rules(self, thresholds: Thresholds, *, counted: bool) -> None:
        """Fail before measuring, not after, when the thresholds lack a rule for a KPI measured."""
        missing = [kpi for kpi in self.kpis(counted=counted) if kpi not in thresholds.kpis]
        if missing:
            raise ThresholdsError(
                f"{thresholds.path}: no rule for {', '.join(missing)}, which a run of your suite measures; "
                "add them (benchmarks/thresholds.yaml has one of each to copy)"
            )

    def describe(self) -> str:
        """The suite and its target, in a few words."""
        target = f"in-process {self.asgi_app}" if self.asgi_app is not None else f"live {self.api_url}"
        return f"{self.path} with {self.version_config.name}, {target}"

    def info(self) -> dict[str, str | None]:
        """What results.json keeps of it: which suite, which config, which target."""
        return {
            "path": str(self.path),
            # what identifies it across checkouts (a moved clone, a CI runner's folder)
            "relative": self.path.relative_to(self.cwd).as_posix() if self.path.is_relative_to(self.cwd) else None,
            "version_config": str(self.version_config),
            "asgi_app": self.asgi_app,
            "api_url": self.api_url,
        }


def add_options(parser: argparse.ArgumentParser) -> None:
    """``dynapi-bench run``'s options for a user's suite (checked by :meth:`UserSuite.from_options`)."""
    group = parser.add_argument_group(
        "your own suite", "measure a dynamic suite of yours instead of the project's: its test KPIs only"
    )
    group.add_argument("--suite", metavar="PATH", help="the suite's folder or test file")
    group.add_argument("--version-config", metavar="FILE", help="the version config of the API it tests")
    group.add_argument("--asgi-app", metavar="MODULE:ATTR", help="its app in-process ('module:factory()' calls one)")
    group.add_argument("--api-url", metavar="URL", help="its live server instead (no instruction counts)")


def _measured(info: object) -> tuple[str, bool] | None:
    """Which suite a run measured, and whether in-process: None for the project's own."""
    if not isinstance(info, dict):
        return None
    return str(info.get("relative") or info.get("path")), info.get("api_url") is None


def require_same_suite(suite: UserSuite | None, baseline: Results) -> None:
    """A baseline of another suite (or of one in-process against one live) would judge
    nothing real: refused before measuring, in one line."""
    mine = _measured(suite.info()) if suite is not None else None
    theirs = _measured(baseline.extra.get("suite"))
    if mine == theirs:
        return

    def name(found: tuple[str, bool] | None) -> str:
        if found is None:
            return "the project's own suite"
        return f"{found[0]} ({'in-process' if found[1] else 'live'})"

    raise BenchError(
        f"{baseline.where}: a baseline of {name(theirs)}, but this run measures {name(mine)}; "
        "pass --baselines DIR of this suite's own baselines (a new folder starts without one)"
    )


def _targets(version_config: str | None, asgi_app: str | None, api_url: str | None) -> list[tuple[str, str | None]]:
    return [("--version-config", version_config), ("--asgi-app", asgi_app), ("--api-url", api_url)]
