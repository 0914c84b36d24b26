"""The pytest plugin: options, fixtures, ``version_parametrize`` and ``feature_test``.

Registered by ``plugin/`` (``pytest-dynapi``), whose ``pytest11`` entry point ``dynapi`` imports
this module and registers it by its name, so installing that package enables it.
The versions come from the YAML at collection time: a test that asks for
``api_version`` runs once per version (narrowed by ``--api-versions``), and a
``feature_test`` reports the versions without the feature as skipped, with the reason.
"""

from __future__ import annotations

import importlib
import inspect
import os
import random
import sys
import types
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import pytest_asyncio

from framework.config import ENV_VAR, GlobalSettings, VersionConfig, load_config, resolve_config_path
from framework.errors import ConfigGapError, FrameworkError, RequestFailedError, UnknownNameError

if TYPE_CHECKING:  # imported where used: a session pays for the client, factory and validator when a test asks
    import httpx

    from framework.client import VersionedClient
    from framework.factory import DataFactory
    from framework.validator import ResponseValidator

__all__ = ["feature_test", "version_config_of", "version_parametrize"]

F = TypeVar("F", bound=Callable[..., Any])

API_URL_ENV = "DYNAPI_API_URL"
_VERSIONS_MARK = "dynapi_versions"
_FEATURE_MARK = "dynapi_feature"
_STATE = pytest.StashKey["DynapiState"]()


# -- decorators ------------------------------------------------------------------------------
def version_parametrize(versions: Sequence[str] | str | None = None) -> Callable[[F], F]:
    """Run the test once per version of the config (or only ``versions``: ``"v2"`` or ``["v1", "v2"]``)."""
    if isinstance(versions, str):
        versions = [versions]

    def decorate(fn: F) -> F:
        marked: F = getattr(pytest.mark, _VERSIONS_MARK)(tuple(versions) if versions else None)(fn)
        return _mark_async(marked)

    return decorate


def feature_test(feature: str) -> Callable[[F], F]:
    """Run the test on the versions that have ``feature``; skip the others, saying why."""

    def decorate(fn: F) -> F:
        marked: F = getattr(pytest.mark, _FEATURE_MARK)(feature)(fn)
        return _mark_async(marked)

    return decorate


def _mark_async(fn: F) -> F:
    # Coroutine tests share the session's event loop, like the session-scoped client.
    if inspect.iscoroutinefunction(fn):
        marked: F = pytest.mark.asyncio(loop_scope="session")(fn)
        return marked
    return fn


# -- state -----------------------------------------------------------------------------------
class DynapiState:
    """What the plugin decided at configure time: config path, versions, target, seed."""

    def __init__(self, config: pytest.Config) -> None:
        opt = config.option
        self.config_path, self.source = _config_path(config)
        self.explicit = self.source != "the default"
        self.api_url: str | None = opt.dynapi_api_url or os.environ.get(API_URL_ENV) or config.getini("api_url") or None
        self.asgi_app: str = opt.dynapi_asgi_app or config.getini("asgi_app") or ""
        self.wanted = [v.strip() for v in (opt.dynapi_api_versions or "").split(",") if v.strip()]
        workerinput = getattr(config, "workerinput", None)
        if opt.dynapi_factory_seed is not None:
            self.seed: int = opt.dynapi_factory_seed
        elif workerinput is not None and "dynapi_seed" in workerinput:
            self.seed = int(workerinput["dynapi_seed"])
        else:
            self.seed = random.SystemRandom().randrange(2**32)
        self.worker = workerinput["workerid"] if workerinput else "main"
        self._pytest_config = config
        self._loaded: VersionConfig | None = None
        self._app: Any = None

    @property
    def version_config(self) -> VersionConfig:
        """The loaded config; a missing or broken file stops pytest with its one-line error."""
        if self._loaded is None:
            if not self.config_path.is_file():
                raise pytest.UsageError(
                    f"no version config: {self.config_path} ({self.source}) does not exist; pass "
                    f"--version-config=PATH, set {ENV_VAR} or the ini option version_config"
                )
            try:
                self._loaded = load_config(self.config_path, cache_dir=self._cache_dir())
            except FrameworkError as exc:
                raise pytest.UsageError(str(exc)) from None
            unknown = [v for v in self.wanted if v not in self._loaded.get_supported_versions()]
            if unknown:
                known = ", ".join(self._loaded.get_supported_versions())
                raise pytest.UsageError(
                    f"--api-versions names {', '.join(unknown)}; {self.config_path.name} has {known}"
                )
        return self._loaded

    def app(self) -> Any:
        """The ASGI app to test in-process (``--asgi-app``, ini ``asgi_app``), made once; without
        one, or with one that does not import, the session stops with the reason."""
        if self._app is None:
            if not self.asgi_app:
                pytest.exit(
                    "no app to test: set the ini option asgi_app = 'module:attr', pass --asgi-app or --api-url",
                    returncode=pytest.ExitCode.USAGE_ERROR,
                )
            try:  # on a thread of its own: a fresh frame stack (see pytest_collection_finish)
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dynapi-app") as thread:
                    self._app = thread.submit(import_app, self.asgi_app, self._pytest_config.rootpath).result()
            except pytest.UsageError as exc:
                pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)
        return self._app

    def _cache_dir(self) -> Path | None:
        """Where checked configs are kept between sessions: pytest's cache, unless it is off
        (``-p no:cacheprovider``) or cannot be written."""
        cache = getattr(self._pytest_config, "cache", None)
        if cache is None:
            return None
        try:
            return Path(cache.mkdir("dynapi-config"))
        except OSError:
            return None

    def versions(self) -> list[str]:
        """The versions to run, in config order, narrowed by ``--api-versions``."""
        all_versions = self.version_config.get_supported_versions()
        return [v for v in all_versions if not self.wanted or v in self.wanted]


def _config_path(config: pytest.Config) -> tuple[Path, str]:
    """The config's path and where it came from: a command-line or environment path is taken
    from the directory pytest was invoked in, an ini path from the ini file's directory, the
    default from the root directory."""
    option, env, ini = config.option.dynapi_version_config, os.environ.get(ENV_VAR), config.getini("version_config")
    here, ini_dir = config.invocation_params.dir, config.inipath.parent if config.inipath else config.rootpath
    if option:
        return resolve_config_path(option, {}, None, here), "from --version-config"
    if env:
        return resolve_config_path(None, {ENV_VAR: env}, None, here), f"from ${ENV_VAR}"
    if ini:
        return resolve_config_path(None, {}, ini, ini_dir), "from the ini option version_config"
    return resolve_config_path(None, {}, None, config.rootpath), "the default"


def version_config_of(config: pytest.Config) -> VersionConfig:
    """The session's version config, for hooks that run before fixtures (``pytest_generate_tests``)."""
    state: DynapiState = config.stash[_STATE]
    return state.version_config


# -- hooks -----------------------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dynapi", "version-aware API testing")
    group.addoption(
        "--version-config",
        dest="dynapi_version_config",
        metavar="PATH",
        help="version config YAML (else $DYNAPI_VERSION_CONFIG, ini version_config, tests/config/version_config.yaml)",
    )
    group.addoption(
        "--api-url",
        dest="dynapi_api_url",
        metavar="URL",
        help=f"test a live server at URL instead of the app in-process (else ${API_URL_ENV}, ini api_url)",
    )
    group.addoption(
        "--asgi-app",
        dest="dynapi_asgi_app",
        metavar="MODULE:ATTR",
        help="the ASGI app to test in-process; 'module:factory()' calls a factory (else ini asgi_app)",
    )
    group.addoption(
        "--api-versions",
        dest="dynapi_api_versions",
        metavar="V1,V2",
        help="run only these versions",
    )
    group.addoption(
        "--factory-seed",
        dest="dynapi_factory_seed",
        type=int,
        metavar="N",
        help="seed of the data factory (default: random, shown in the header)",
    )
    group.addoption(
        "--record-perf",
        dest="dynapi_record_perf",
        nargs="?",
        const="both",
        choices=("time", "memory", "both"),
        help="record each test's duration and/or peak traced memory into its report",
    )
    group.addoption(
        "--record-perf-json",
        dest="dynapi_record_perf_json",
        metavar="PATH",
        help="also write the recorded figures to PATH as JSON (implies --record-perf)",
    )
    parser.addini("version_config", "path of the version config YAML", default="")
    parser.addini("api_url", "URL of a live server to test", default="")
    parser.addini(
        "asgi_app",
        "the ASGI app to test in-process, 'module:attr' or 'module:factory()'",
        default="",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    _default_loop_scope(config)
    for line in (
        "smoke: quick checks that the API answers at all",
        "slow: tests that take long; deselect with -m 'not slow'",
        "performance: tests that measure rather than check",
        f"{_VERSIONS_MARK}(versions): run once per API version (set by version_parametrize)",
        f"{_FEATURE_MARK}(feature): run on the versions that have a feature (set by feature_test)",
    ):
        config.addinivalue_line("markers", line)
    state = DynapiState(config)
    config.stash[_STATE] = state
    config.pluginmanager.register(session_fixtures(state), "dynapi-fixtures")
    if state.api_url:
        config.pluginmanager.register(_LiveGuard(), "dynapi-live-guard")
    mode = config.option.dynapi_record_perf
    json_path = config.option.dynapi_record_perf_json
    if mode or json_path:
        from framework.recorder import PerfRecorder  # noqa: PLC0415 - only --record-perf needs it

        config.pluginmanager.register(
            PerfRecorder(mode or "both", Path(json_path) if json_path else None), "dynapi-recorder"
        )


_LOOP_SCOPE = "asyncio_default_fixture_loop_scope"


def _default_loop_scope(config: pytest.Config) -> None:
    """Where the project has not chosen, async fixtures share the session's loop, like the
    session client; pytest-asyncio would otherwise warn on every run that the scope is unset.
    This runs before pytest-asyncio reads the option (tryfirst), through pytest's ini cache."""
    if config.getini(_LOOP_SCOPE) is None:
        config._inicache[_LOOP_SCOPE] = "session"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    """A dynamic test (one per version) that needs a list its version lacks is skipped, saying
    where to add it; any other test fails on the error as usual."""
    try:
        return (yield)
    except ConfigGapError as exc:
        _skip_if_dynamic(item, exc)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """As in setup: a gap in the config met by a dynamic test is a skip with the gap named."""
    try:
        return (yield)
    except ConfigGapError as exc:
        _skip_if_dynamic(item, exc)
        raise


def _skip_if_dynamic(item: pytest.Item, exc: ConfigGapError) -> None:
    if "api_version" in getattr(item, "fixturenames", ()):
        raise pytest.skip.Exception(str(exc), _use_item_location=True) from None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: every worker uses the controller's factory seed."""
    node.workerinput["dynapi_seed"] = node.config.stash[_STATE].seed


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None or state._loaded is None:
        return None
    target = state.api_url or f"in-process ({state.asgi_app or 'no asgi_app set'})"
    return (
        f"dynapi: {state.config_path.name} versions {','.join(state.versions())}; "
        f"target {target}; factory seed {state.seed}"
    )


_PLUGIN_FIXTURES = frozenset({"api", "api_version", "api_client"})
_CLIENT_FIXTURES = frozenset({"api", "api_client"})


class _Misuse(Exception):
    """A test that uses the plugin in a way it cannot serve; reported as its collection error."""


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """A coroutine test that uses the session client runs in the session's loop, decorated or not
    (pytest-asyncio would otherwise say it is missing, or run it in a loop of its own)."""
    if not inspect.iscoroutinefunction(obj) or not name.startswith("test"):
        return
    if any(m.name == "asyncio" for m in getattr(obj, "pytestmark", ())):
        return
    if _PLUGIN_FIXTURES & set(inspect.signature(obj).parameters):
        pytest.mark.asyncio(loop_scope="session")(obj)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "api_version" not in metafunc.fixturenames:
        return
    try:
        _parametrize(metafunc)
        return
    except (UnknownNameError, _Misuse) as exc:  # this test's collection error, in one line
        problem = f"{metafunc.definition.nodeid}: {exc}"
    except pytest.UsageError as exc:  # no config: this module's collection error, in one line
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


def _parametrize(metafunc: pytest.Metafunc) -> None:
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if "api_version" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            if mark.kwargs.get("scope") != "session" and "api" in metafunc.fixturenames:
                raise _Misuse(
                    "the api fixture is one per version for the session: write "
                    "@pytest.mark.parametrize('api_version', [...], scope='session'), or use @version_parametrize"
                )
            return  # the test parametrizes api_version itself
    state: DynapiState = metafunc.config.stash[_STATE]
    config = state.version_config
    versions = state.versions()
    vmark = metafunc.definition.get_closest_marker(_VERSIONS_MARK)
    if vmark is not None and vmark.args and vmark.args[0]:
        for v in vmark.args[0]:
            config.get_version(v)  # an unknown version in the decorator is an error, not a skip
        versions = [v for v in versions if v in vmark.args[0]]
    fmark = metafunc.definition.get_closest_marker(_FEATURE_MARK)
    params = []
    for v in versions:
        if fmark is not None and not config.is_feature_enabled(v, fmark.args[0]):
            reason = f"{v} does not have feature '{fmark.args[0]}'"
            params.append(pytest.param(v, id=v, marks=pytest.mark.skip(reason=reason)))
        else:
            params.append(pytest.param(v, id=v))
    metafunc.parametrize("api_version", params, scope="session")


# -- fixtures ----------------------------------------------------------------------------------
# pytest looks every fixture of a test's closure up again for every test, cached or not: about
# 55 k instructions each here, and about 80 k more for each one that takes ``request`` (pytest
# builds it a fixture definition of its own, signature and all). So no fixture here takes
# ``request``: the session fixtures are closures over the session's state, made at configure
# time, and ``api`` takes no more than the client and the version.
@pytest.fixture
def api_version() -> str:
    """The API version this test runs against: a session-scoped parameter the plugin sets from
    the config, once per version (this definition documents it; the parametrization replaces it)."""
    pytest.fail(
        "api_version is set by the plugin's parametrization: take it (or api) as a test argument, "
        "or write @pytest.mark.parametrize('api_version', [...], scope='session') without indirect=True",
        pytrace=False,
    )


def session_fixtures(state: DynapiState) -> types.ModuleType:
    """This session's fixtures, as a plugin module of their own: each reads the session's state
    from its closure rather than through ``request`` (see above)."""

    @pytest.fixture(scope="session")
    def version_config() -> VersionConfig:
        """The loaded version config (checked in full, JSON Schemas too, when it was loaded)."""
        return state.version_config

    @pytest.fixture(scope="session")
    def response_validator() -> ResponseValidator:
        """The session's response validator; its compiled schemas are reused by every test."""
        from framework.validator import ResponseValidator  # noqa: PLC0415 - see TYPE_CHECKING above

        return ResponseValidator(state.version_config)

    @pytest.fixture(scope="session")
    def data_factory() -> DataFactory:
        """The session's data factory, seeded (see the header) and namespaced per xdist worker."""
        from framework.factory import DataFactory  # noqa: PLC0415 - see TYPE_CHECKING above

        namespace = f"{state.seed % 65536:x}{state.worker}"
        return DataFactory(state.version_config, seed=state.seed, namespace=namespace)

    @pytest_asyncio.fixture(scope="session", loop_scope="session")
    async def api_client() -> AsyncIterator[httpx.AsyncClient]:
        """One ``httpx.AsyncClient`` for the whole session, in-process or against ``--api-url``."""
        from framework.client import make_client  # noqa: PLC0415 - see TYPE_CHECKING above

        settings = state.version_config.settings
        timeout, follow = settings.default_timeout, settings.follow_redirects
        client = (
            make_client(base_url=state.api_url, timeout=timeout, follow_redirects=follow)
            if state.api_url
            else make_client(app=state.app(), timeout=timeout, follow_redirects=follow)
        )
        async with client:
            yield client

    @pytest.fixture(scope="session")
    def api(api_client: httpx.AsyncClient, api_version: str) -> VersionedClient:
        """The session client bound to this test's version: ``await api.create("pet", payload)``;
        one per version for the session (``api_version`` is a session-scoped parameter)."""
        from framework.client import VersionedClient  # noqa: PLC0415 - see TYPE_CHECKING above

        return VersionedClient(api_client, state.version_config, api_version)

    module = types.ModuleType("dynapi_fixtures", session_fixtures.__doc__)
    for fixture in (version_config, response_validator, data_factory, api_client, api):
        setattr(module, fixture.__name__, fixture)
    return module


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """A broken config fails fast, before collection (here rather than at configure time, so
    that pytest's cache is set up). Under pytest-xdist the controller then checks the target
    before any worker starts (a worker cannot stop the run cleanly): that the app imports, or
    that the server answers."""
    config = session.config
    state: DynapiState | None = config.stash.get(_STATE, None)
    if state is None:
        return
    if state.explicit or state.config_path.exists():
        state.version_config  # noqa: B018
    if not config.pluginmanager.hasplugin("dsession"):
        return
    if state.api_url:
        _probe(state)
    elif state.asgi_app:
        try:
            import_app(state.asgi_app, config.rootpath, call=False)
        except pytest.UsageError as exc:
            pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Once the tests are known, when one of them uses the client: a server that does not
    answer stops the session in one line (without xdist: with it the controller probed at
    session start), and the app to test in-process is made, so that a bad one stops the
    session before its first test.

    The app is made on a thread of its own, on a fresh frame stack: CPython 3.11 maps and
    unmaps a 16 kB frame-stack chunk at every call that crosses a chunk's end, so where the
    import of a web framework runs decides how often. Made in the first test's set-up, some 40
    frames deep, the Pets API's one-test session unmapped 2,993 chunks (1,202 by hand); made
    here, 639, with fewer page faults than by hand (see docs/methodology.md)."""
    config = session.config
    state: DynapiState | None = config.stash.get(_STATE, None)
    if state is None or config.option.collectonly:
        return
    if all(_CLIENT_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())) for item in session.items):
        return
    if not state.api_url:
        state.app()
    elif not hasattr(config, "workerinput") and not config.pluginmanager.hasplugin("dsession"):
        _probe(state)


def _probe(state: DynapiState) -> None:
    assert state.api_url is not None
    from framework.client import probe  # noqa: PLC0415 - see TYPE_CHECKING above

    settings = state._loaded.settings if state._loaded is not None else GlobalSettings()
    problem = probe(state.api_url, timeout=settings.default_timeout, retries=settings.max_retries)
    if problem is not None:
        pytest.exit(
            f"--api-url {state.api_url}: {problem}; is the server running?", returncode=pytest.ExitCode.USAGE_ERROR
        )


_STOP_AFTER = 3
"""Tests in a row whose requests got no answer before the session stops (the server went away)."""


class _LiveGuard:
    """Against a live server only: counts tests in a row that failed because the server did
    not answer, and stops the session after a few (in-process there is no connection to lose)."""

    def __init__(self) -> None:
        self.unanswered = 0

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        report = yield
        if call.excinfo is not None and call.excinfo.errisinstance(RequestFailedError):
            self.unanswered += 1
            if self.unanswered >= _STOP_AFTER:
                item.session.shouldstop = f"{self.unanswered} tests in a row got no answer: {call.excinfo.value}"
        elif call.when == "call":
            self.unanswered = 0
        return report


def import_app(spec: str, root: Path | None = None, *, call: bool = True) -> Any:
    """Import ``module:attr``; ``module:factory()`` calls the factory (unless ``call`` is False:
    only checked). A module that lives in the project's root (``root``) imports without a
    ``pythonpath`` ini line."""
    module_name, _, attr = spec.partition(":")
    factory = attr.endswith("()")
    attr = attr.removesuffix("()")
    top = module_name.partition(".")[0]
    try:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if root is None or exc.name != top or not _lives_in(root, top):
                raise
            sys.path.insert(0, str(root))
            module = importlib.import_module(module_name)
        obj: Any = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise pytest.UsageError(f"asgi_app {spec!r}: {exc}; expected 'module:attr' or 'module:factory()'") from None
    if factory:
        return obj() if call else obj
    if inspect.isfunction(obj) and not inspect.signature(obj).parameters:
        raise pytest.UsageError(f"asgi_app {spec!r} is a function of no arguments, a factory: write '{spec}()'")
    return obj


def _lives_in(root: Path, top: str) -> bool:
    return (root / f"{top}.py").is_file() or (root / top).is_dir()
