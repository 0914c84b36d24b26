"""End-to-end tests of framework.plugin with pytester: decorators, options, skips, fixtures."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys

import pytest

CONFIG = """\
versions:
  v1:
    base_url: /api/v1
    features: {batch: false, stats: false}
    endpoints: {pet: /pets}
    schema_fields: {pet_create: [name], pet_response: [id, name]}
  v2:
    base_url: /api/v2
    features: {batch: true, stats: true}
    endpoints: {pet: /pets}
    schema_fields: {pet_create: [name], pet_response: [id, name]}
  v3:
    base_url: /api/v3
    features: {batch: false, stats: true}
    endpoints: {pet: /pets}
    schema_fields: {pet_create: [name], pet_response: [id, name]}
"""

APP = '''
import json

async def app(scope, receive, send):
    """A tiny ASGI app: echoes the version of the path in a success envelope."""
    assert scope["type"] == "http"
    version = scope["path"].split("/")[2]
    body = json.dumps({"success": True, "version": version, "data": {"id": "1", "name": "Rex"}}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
'''

INI = """\
[pytest]
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
asgi_app = app:app
{extra}
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester dir with the default config path, a tiny ASGI app and an ini file."""
    pytester.mkdir("tests")
    pytester.mkdir("tests/config")
    (pytester.path / "tests/config/version_config.yaml").write_text(CONFIG)
    pytester.makepyfile(app=APP)
    pytester.makeini(INI.format(extra=""))
    pytester.syspathinsert()
    return pytester


def test_version_parametrize_uses_the_yaml(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        from framework import version_parametrize

        @version_parametrize()
        def test_x(api_version):
            assert api_version in ("v1", "v2", "v3")
        """
    )
    result = project.runpytest("-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*test_x[[]v1[]] PASSED*", "*test_x[[]v2[]] PASSED*", "*test_x[[]v3[]] PASSED*"])


def test_version_parametrize_narrowed(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        from framework import version_parametrize

        @version_parametrize(["v2", "v3"])
        def test_x(api_version):
            assert api_version != "v1"
        """
    )
    project.runpytest().assert_outcomes(passed=2)


def test_unknown_version_in_decorator_is_an_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        from framework import version_parametrize

        @version_parametrize(["v9"])
        def test_x(api_version):
            pass
        """
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown version 'v9'*known: v1, v2, v3*"])


def test_api_version_alone_runs_every_version(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="def test_x(api_version):\n    pass\n")
    project.runpytest().assert_outcomes(passed=3)


def test_feature_test_skips_with_reason(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        from framework import feature_test

        @feature_test("batch")
        def test_batch(api_version):
            assert api_version == "v2"
        """
    )
    result = project.runpytest("-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*v1 does not have feature 'batch'*", "*v3 does not have feature 'batch'*"])


def test_feature_test_unknown_feature(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        from framework import feature_test

        @feature_test("teleport")
        def test_x(api_version):
            pass
        """
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown feature 'teleport'*known: batch, stats*"])


def test_api_versions_option_narrows_every_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        from framework import feature_test, version_parametrize

        @version_parametrize()
        def test_a(api_version):
            pass

        @feature_test("stats")
        def test_b(api_version):
            pass
        """
    )
    result = project.runpytest("--api-versions", "v1,v2", "-v")
    result.assert_outcomes(passed=3, skipped=1)
    assert "[v3]" not in result.stdout.str()


def test_api_versions_unknown_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="def test_x(api_version):\n    pass\n")
    result = project.runpytest("--api-versions", "v1,v7")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--api-versions names v7; version_config.yaml has v1, v2, v3*"])


def test_keyword_selects_a_version(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="def test_x(api_version):\n    assert api_version == 'v2'\n")
    result = project.runpytest("-k", "v2")
    result.assert_outcomes(passed=1, deselected=2)


def test_markers_are_registered(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.smoke
        @pytest.mark.slow
        @pytest.mark.performance
        def test_x():
            pass
        """
    )
    project.runpytest("--strict-markers").assert_outcomes(passed=1)


def test_broken_config_one_line_no_traceback(project: pytest.Pytester) -> None:
    (project.path / "tests/config/version_config.yaml").write_text("versions:\n  v1:\n    features: {a: maybe}\n")
    project.makepyfile(test_x="def test_x(api_version):\n    pass\n")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: *version_config.yaml:3: versions.v1.features.a: expected true or false, got 'maybe'"]
    )
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


# -- config path layers: option > environment > ini > default --------------------------------
def other_config(project: pytest.Pytester, name: str, version: str) -> None:
    (project.path / name).write_text(CONFIG.replace("v1:", f"{version}:", 1))


def versions_run(result: pytest.RunResult) -> set[str]:
    return {v for v in ("v1", "v2", "v3", "v7", "v8", "v9") if f"[{v}]" in result.stdout.str()}


@pytest.fixture
def versions_test(project: pytest.Pytester) -> pytest.Pytester:
    project.makepyfile(test_x="def test_x(api_version):\n    pass\n")
    other_config(project, "opt.yaml", "v7")
    other_config(project, "env.yaml", "v8")
    other_config(project, "ini.yaml", "v9")
    return project


def test_config_from_default(versions_test: pytest.Pytester) -> None:
    assert versions_run(versions_test.runpytest("-v")) == {"v1", "v2", "v3"}


def test_config_from_ini(versions_test: pytest.Pytester) -> None:
    versions_test.makeini(INI.format(extra="version_config = ini.yaml"))
    assert versions_run(versions_test.runpytest("-v")) == {"v9", "v2", "v3"}


def test_config_from_env_beats_ini(versions_test: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    versions_test.makeini(INI.format(extra="version_config = ini.yaml"))
    monkeypatch.setenv("DYNAPI_VERSION_CONFIG", "env.yaml")
    assert versions_run(versions_test.runpytest("-v")) == {"v8", "v2", "v3"}


def test_config_from_option_beats_env(versions_test: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYNAPI_VERSION_CONFIG", "env.yaml")
    assert versions_run(versions_test.runpytest("-v", "--version-config", "opt.yaml")) == {"v7", "v2", "v3"}


def test_missing_explicit_config(project: pytest.Pytester) -> None:
    result = project.runpytest("--version-config", "nope.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nope.yaml (from --version-config) does not exist; pass --version-config=PATH*"])


# -- fixtures --------------------------------------------------------------------------------
def test_in_process_client_and_one_event_loop(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        import asyncio
        from framework import version_parametrize

        LOOPS = set()

        @version_parametrize()
        async def test_get(api, api_version, response_validator):
            LOOPS.add(id(asyncio.get_running_loop()))
            response = await api.get("pet", "1")
            assert response.status_code == 200
            assert str(response.request.url) == f"http://testserver/api/{api_version}/pets/1"
            response_validator.assert_valid(api.data(response), api_version, "pet")

        def test_one_loop():
            assert len(LOOPS) == 1
        """
    )
    project.runpytest().assert_outcomes(passed=4)


@pytest.mark.parametrize("layer", ["option", "env", "ini"])
def test_api_url_layers(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, layer: str, answering_url: str
) -> None:
    project.makepyfile(
        test_x=f"""
        import pytest

        @pytest.mark.asyncio(loop_scope="session")
        async def test_url(api_client):
            assert str(api_client.base_url).rstrip("/") == "{answering_url}"
        """
    )
    args = []
    if layer == "option":
        args = ["--api-url", answering_url]
        monkeypatch.setenv("DYNAPI_API_URL", "http://127.0.0.1:8")
    elif layer == "env":
        monkeypatch.setenv("DYNAPI_API_URL", answering_url)
        project.makeini(INI.format(extra="api_url = http://127.0.0.1:8"))
    else:
        project.makeini(INI.format(extra=f"api_url = {answering_url}"))
    project.runpytest(*args).assert_outcomes(passed=1)


def test_no_app_and_no_url(project: pytest.Pytester) -> None:
    project.makeini(INI.format(extra="").replace("asgi_app = app:app", ""))
    project.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.asyncio(loop_scope="session")
        async def test_url(api_client):
            pass
        """
    )
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR  # the session stops once, not once per test
    result.stdout.fnmatch_lines(["*no app to test: set the ini option asgi_app*"])


def test_factory_seed_option_and_header(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="def test_x(data_factory):\n    assert data_factory.seed == 7\n")
    result = project.runpytest("--factory-seed", "7")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["dynapi: version_config.yaml versions v1,v2,v3; target in-process (app:app); factory seed 7"]
    )


def test_xdist_workers_share_the_seed(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        import os
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_x(data_factory, n, tmp_path_factory):
            out = tmp_path_factory.getbasetemp().parent.parent / "seeds"
            out.mkdir(exist_ok=True)
            (out / os.environ["PYTEST_XDIST_WORKER"]).write_text(str(data_factory.seed))
        """
    )
    result = project.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    seeds = {p.read_text() for p in project.path.parent.rglob("seeds/gw*")}
    assert len(seeds) == 1


# -- the recorder ----------------------------------------------------------------------------
RECORDED = """
import pytest

def test_holds_memory():
    block = bytearray(3_000_000)
    assert len(block) == 3_000_000

def test_small():
    pass

def test_fails():
    assert False
"""


def test_recorder_writes_time_and_memory(project: pytest.Pytester) -> None:
    project.makepyfile(test_x=RECORDED)
    result = project.runpytest("--record-perf-json", "perf.json")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*time per test: median * ms over 3 tests*", "*peak traced memory per test*"])
    data = json.loads((project.path / "perf.json").read_text())
    assert data["peak_rss_bytes"] > 10_000_000  # this process's own VmHWM
    records = {nodeid.rsplit("::", 1)[1]: r for nodeid, r in data["tests"].items()}
    assert records["test_holds_memory"]["peak_memory_bytes"] >= 3_000_000
    assert records["test_small"]["peak_memory_bytes"] < 1_000_000
    assert records["test_fails"]["outcome"] == "failed"
    assert records["test_small"]["outcome"] == "passed"
    for r in records.values():
        assert r["duration_s"] > 0
        assert r["duration_s"] == pytest.approx(r["setup_s"] + r["call_s"] + r["teardown_s"])


def test_recorder_time_only(project: pytest.Pytester) -> None:
    project.makepyfile(test_x=RECORDED)
    project.runpytest("--record-perf=time", "--record-perf-json", "perf.json")
    records = json.loads((project.path / "perf.json").read_text())["tests"]
    assert len(records) == 3
    assert all("peak_memory_bytes" not in r and r["duration_s"] > 0 for r in records.values())


def test_recorder_puts_figures_in_the_report(project: pytest.Pytester) -> None:
    project.makepyfile(test_x=RECORDED)
    project.runpytest("--record-perf", "--junitxml", "out.xml")
    xml = (project.path / "out.xml").read_text()
    assert xml.count('name="dynapi_duration_s"') == 3
    assert xml.count('name="dynapi_peak_memory_bytes"') == 3


def test_recorder_across_xdist(project: pytest.Pytester) -> None:
    project.makepyfile(test_x=RECORDED)
    project.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "--record-perf-json", "perf.json")
    records = json.loads((project.path / "perf.json").read_text())["tests"]
    assert len(records) == 3
    memory = {nodeid.rsplit("::", 1)[1]: r["peak_memory_bytes"] for nodeid, r in records.items()}
    assert memory["test_holds_memory"] >= 3_000_000


def test_recorder_names_each_tests_api_version(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_v="""
from framework import version_parametrize

@version_parametrize()
def test_versioned(api_version):
    pass

def test_plain():
    pass
"""
    )
    project.runpytest("--record-perf=time", "--record-perf-json", "perf.json")
    records = json.loads((project.path / "perf.json").read_text())["tests"]
    versions = {nodeid.rsplit("::", 1)[1]: r["api_version"] for nodeid, r in records.items()}
    assert versions == {
        "test_versioned[v1]": "v1",
        "test_versioned[v2]": "v2",
        "test_versioned[v3]": "v3",
        "test_plain": None,
    }


def test_plugin_is_registered_by_entry_point(project: pytest.Pytester) -> None:
    result = project.runpytest("--help")
    result.stdout.fnmatch_lines(["*version-aware API testing*", "*--api-versions*", "*--record-perf*"])


# -- a fresh project: no friction, and unsafe YAML stopped in one line ------------------------
FRESH_TEST = """
from framework import version_parametrize


@version_parametrize()
async def test_create(api, data_factory):
    response = await api.create("pets", data_factory.build("pets", api.version))
    assert api.data(response)["name"] == "Rex"
"""


def test_fresh_project_needs_no_ini_lines_and_warns_nothing(pytester: pytest.Pytester) -> None:
    """No pythonpath line for asgi_app, no asyncio loop-scope options: no error, no warning."""
    pytester.mkdir("tests")
    pytester.mkdir("tests/config")
    (pytester.path / "tests/config/version_config.yaml").write_text(CONFIG)
    pytester.makepyfile(app=APP)
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nasgi_app = "app:app"\n')
    (pytester.path / "tests" / "test_fresh.py").write_text(FRESH_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::pytest.PytestDeprecationWarning")
    result.assert_outcomes(passed=3)
    assert "is unset" not in result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["*asyncio_default_fixture_loop_scope=session*"])


def test_a_list_the_version_lacks_skips_saying_where_to_add_it(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_gap="""
        from framework import version_parametrize

        @version_parametrize()
        def test_update(data_factory, api_version):
            data_factory.build_update("pet", api_version)
        """
    )
    result = project.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] test_gap.py:*: v1 has no schema_fields.pet_update; add it under versions.v1.schema_fields in *"
        ]
    )


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            CONFIG + "  v1:\n    base_url: /again\n",
            "*version_config.yaml:17: duplicate key 'v1' (first at line 2); keep one",
        ),
        (
            CONFIG.replace(
                "versions:",
                "x-a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
                + "".join(
                    f"x-{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
                )
                + "test_data_templates: {pet: {base_data: {bomb: *i}}}\nversions:",
            ),
            "*anchor &* expands to * values (limit *)*",
        ),
    ],
    ids=["duplicate-key", "alias-bomb"],
)
def test_unsafe_yaml_stops_in_one_line(project: pytest.Pytester, yaml_text: str, message: str) -> None:
    (project.path / "tests/config/version_config.yaml").write_text(yaml_text)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", timeout=30)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "Traceback" not in result.stderr.str()


def test_a_gap_met_outside_a_dynamic_test_fails(project: pytest.Pytester) -> None:
    """Only tests that run per version turn a gap into a skip: elsewhere it may be a bug."""
    project.makepyfile(
        test_plain="""
        def test_update(data_factory):
            data_factory.build_update("pet", "v1")
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ConfigGapError: v1 has no schema_fields.pet_update*"])


def test_undecorated_async_test_and_a_single_version(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nasgi_app = app:app\n")  # pytest-asyncio's strict mode, its defaults
    project.makepyfile(
        test_async="""
        from framework import version_parametrize

        async def test_plain(api):
            assert api.data(await api.get("pet", "1"))["name"] == "Rex"

        @version_parametrize("v2")
        async def test_one(api, api_version):
            assert api_version == "v2"
        """
    )
    result = project.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*test_one?v2? PASSED*"])


def test_unknown_feature_is_one_line_naming_the_test(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_typo="""
        from framework import feature_test

        @feature_test("stat")
        def test_x(api_version):
            pass
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*test_typo.py::test_x: unknown feature 'stat' in version_config.yaml; known: batch, stats"]
    )
    assert "Traceback" not in result.stdout.str()
    assert "_hooks.py" not in result.stdout.str()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("app:make", "ERROR: asgi_app 'app:make' is a function of no arguments, a factory: write 'app:make()'"),
        ("nosuch:app", "ERROR: asgi_app 'nosuch:app': No module named 'nosuch'; expected 'module:attr' or *"),
    ],
)
@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_bad_app_stops_the_session_once(
    project: pytest.Pytester, spec: str, message: str, workers: list[str]
) -> None:
    project.makepyfile(app=APP + "\n\ndef make():\n    return app\n")
    project.makepyfile(test_x="def test_x(api):\n    pass\n")
    result = project.runpytest_subprocess("-p", "no:cacheprovider", f"--asgi-app={spec}", *workers)
    assert result.ret != 0
    out = (result.stdout.str() + result.stderr.str()).splitlines()
    assert len(fnmatch.filter(out, f"*{message.removeprefix('ERROR: ')}*")) == 1
    assert not fnmatch.filter(out, "*Traceback*")


# -- errors a user can act on -----------------------------------------------------------------
def test_no_config_is_one_line_naming_the_path_tried(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasgi_app = app:app\n")
    pytester.makepyfile(test_x="def test_x(api_version):\n    pass\n\ndef test_plain():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            f"no version config: {pytester.path}/tests/config/version_config.yaml (the default) does not exist; "
            "pass --version-config=PATH, set DYNAPI_VERSION_CONFIG or the ini option version_config"
        ]
    )
    assert not fnmatch.filter(result.stdout.lines, "*Traceback*")
    assert not fnmatch.filter(result.stdout.lines, "*_hooks.py*")


def test_a_project_without_dynamic_tests_needs_no_config(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_plain():\n    pass\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_relative_config_path_is_taken_from_where_pytest_runs(project: pytest.Pytester) -> None:
    sub = project.mkdir("sub")
    (sub / "mine.yaml").write_text(CONFIG.replace("v1:", "v7:", 1))
    project.makepyfile(test_x="def test_x(api_version):\n    pass\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(sub)
        result = project.runpytest("-p", "no:cacheprovider", "--version-config=mine.yaml", str(project.path))
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*mine.yaml versions v7,v2,v3*"])


def test_a_server_that_does_not_answer_stops_the_session_in_one_line(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="def test_x(api):\n    pass\n")
    for workers in ([], ["-n", "2"]):
        result = project.runpytest_subprocess("-p", "no:cacheprovider", "--api-url=http://127.0.0.1:9", *workers)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        out = result.stdout.lines + result.stderr.lines
        assert len(out) < 25  # the header and one line
        expected = "*--api-url http://127.0.0.1:9: no answer (ConnectError: *) after 1 attempt within 5 s each; is the server running?*"
        assert fnmatch.filter(out, expected)


def test_the_session_stops_after_three_tests_in_a_row_without_an_answer(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_gone="""
        import pytest
        from framework.errors import RequestFailedError

        @pytest.mark.parametrize("n", range(6))
        def test_gone(n):
            raise RequestFailedError("GET", "http://127.0.0.1:9/x", ConnectionError("refused"), 1, 0)
        """
    )
    result = project.runpytest("-p", "no:cacheprovider", "--api-url=http://127.0.0.1:9")  # counted live only
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines(
        [
            "*3 tests in a row got no answer: GET http://127.0.0.1:9/x: no answer (ConnectionError: refused) after 1 attempt (global_settings.max_retries: 0)*"
        ]
    )


def test_the_package_exports_every_name_lazily() -> None:
    """``framework.__all__`` names exactly what ``from framework import X`` gives, each importable,
    and importing the plugin loads neither the factory, the validator nor the client."""
    script = (
        "import sys, framework.plugin\n"
        "heavy = [m for m in ('framework.factory', 'framework.validator', 'framework.client') if m in sys.modules]\n"
        "import framework\n"
        "missing = [n for n in framework.__all__ if getattr(framework, n, None) is None]\n"
        "print(heavy, missing, sorted(framework.__all__) == framework.__all__)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] [] True"


def test_parametrizing_api_version_by_hand_needs_session_scope(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_own="""
        import pytest

        @pytest.mark.parametrize("api_version", ["v2"], scope="session")
        def test_ok(api, api_version):
            assert api.version == "v2"

        @pytest.mark.parametrize("api_version", ["v2"])
        def test_function_scoped(api, api_version):
            pass
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*test_own.py::test_function_scoped: the api fixture is one per version for the session: write *scope='session'*"
        ]
    )
    assert not fnmatch.filter(result.stdout.lines, "*Traceback*")


def test_a_second_session_reads_the_checked_config_from_pytest_cache(project: pytest.Pytester) -> None:
    # Checked once per content: a later session neither parses the YAML nor imports PyYAML.
    project.makepyfile(
        test_x="""
        import sys

        def test_x(version_config):
            print("PYYAML LOADED:", "yaml" in sys.modules)
        """
    )
    first = project.runpytest_subprocess("-s")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*PYYAML LOADED: True*"])
    assert len(list(project.path.glob(".pytest_cache/d/dynapi-config/*.marshal"))) == 1
    second = project.runpytest_subprocess("-s")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["*PYYAML LOADED: False*"])
    # a broken edit is reported as ever, from the file itself
    config = project.path / "tests/config/version_config.yaml"
    config.write_text(config.read_text().replace("schema_fields", "schema_feilds", 1))
    broken = project.runpytest_subprocess()
    assert broken.ret == pytest.ExitCode.USAGE_ERROR
    broken.stderr.fnmatch_lines(["*schema_feilds*"])
    # without pytest's cache the session works as before
    config.write_text(config.read_text().replace("schema_feilds", "schema_fields", 1))
    project.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_plugins_fixtures_add_no_request_to_a_tests_closure(project: pytest.Pytester) -> None:
    # pytest builds a fixture definition of its own, every test, for each fixture of the
    # closure that takes ``request``; the plugin's fixtures take none, and ``api`` takes
    # only the client and the version.
    project.makeconftest(
        """
        def pytest_collection_finish(session):
            (item,) = session.items
            defs = item._fixtureinfo.name2fixturedefs
            print("CLOSURE", sorted(n for n in item.fixturenames if not n.startswith("event_loop")))
            print("REQUEST", [n for n in item.fixturenames if n in defs and "request" in defs[n][-1].argnames])
        """
    )
    project.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.asyncio(loop_scope="session")
        async def test_x(api, data_factory, response_validator, version_config):
            pass
        """
    )
    result = project.runpytest("-s", "-p", "no:cacheprovider", "-k", "v1")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "CLOSURE ['api', 'api_client', 'api_version', 'data_factory', 'response_validator', 'version_config']",
            "REQUEST ['api_version']",  # the parametrization's own, as for any parameter
        ]
    )


def test_api_version_outside_the_parametrization_says_how(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_x="""
        import pytest

        @pytest.mark.parametrize("api_version", ["v1"], indirect=True, scope="session")
        def test_indirect(api_version):
            pass

        def test_asked(request):
            request.getfixturevalue("api_version")
        """
    )
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1, failed=1)
    result.stdout.fnmatch_lines(["*api_version is set by the plugin's parametrization: take it (or api) as a test*"])
    assert not fnmatch.filter(result.stdout.lines, "*Traceback*")


def test_an_api_client_of_your_own_is_the_one_api_uses(project: pytest.Pytester) -> None:
    project.makeconftest(
        """
        import httpx
        import pytest_asyncio

        from app import app

        @pytest_asyncio.fixture(scope="session", loop_scope="session")
        async def api_client():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://mine", headers={"x-mine": "1"}) as c:
                yield c
        """
    )
    project.makepyfile(
        test_x="""
        async def test_x(api):
            response = await api.get("pet", "1")
            assert response.request.headers["x-mine"] == "1"
            assert str(response.request.url).startswith("http://mine/")
        """
    )
    project.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_the_app_is_made_once_before_the_first_test_on_a_fresh_stack(project: pytest.Pytester) -> None:
    # Made where CPython 3.11 does not map and unmap a frame-stack chunk at every call that
    # crosses one's end (see pytest_collection_finish): a thread of its own, once.
    project.makepyfile(
        app=APP
        + """

import inspect, threading

MADE = []

def make():
    MADE.append((threading.current_thread().name, len(inspect.stack())))
    return app
"""
    )
    project.makepyfile(
        test_x="""
        import app

        def test_first(api):
            (made,) = app.MADE
            print("MADE", made[0].startswith("dynapi-app"), made[1] < 10)

        def test_second(api_client):
            assert len(app.MADE) == 1
        """
    )
    result = project.runpytest("-s", "-p", "no:cacheprovider", "--asgi-app=app:make()", "-k", "v1 or second")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*MADE True True*"])
