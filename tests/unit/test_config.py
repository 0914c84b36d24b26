"""Tests of framework.config: lookups, caching, path precedence and every bad input."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from framework.config import (
    DEFAULT_CONFIG_PATH,
    ENV_VAR,
    FORMAT_SCHEMA,
    VersionConfig,
    clear_cache,
    load_config,
    loader,
    resolve_config_path,
)
from framework.errors import ConfigError, ConfigGapError, UnknownNameError

MINIMAL = """\
versions:
  v1:
    schema_fields:
      pet_create: [name, species]
      pet_response: [id, name, species]
"""


def write(tmp_path: Path, text: str, name: str = "version_config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# -- lookups ---------------------------------------------------------------------------------
def test_versions_in_file_order(pets_config: VersionConfig) -> None:
    assert pets_config.get_supported_versions() == ["v1", "v2", "v3"]


def test_endpoint_joins_base_url(pets_config: VersionConfig) -> None:
    assert pets_config.get_endpoint("v2", "pet") == "/api/v2/pets"
    assert pets_config.get_endpoint("v3", "appointment_cancel") == "/api/v3/appointments/{id}/cancel"


def test_field_lists(pets_config: VersionConfig) -> None:
    assert "temperament" in pets_config.get_schema_fields("v2", "pet_response")
    assert "temperament" not in pets_config.get_schema_fields("v1", "pet_response")
    assert pets_config.get_required_fields("v1", "pet_create") == ("name", "species", "owner_id")
    assert "breed" in pets_config.get_optional_fields("v1", "pet_create")
    # No required list: every field is required; no optional list: none is optional.
    assert pets_config.get_required_fields("v1", "pet_response") == pets_config.get_schema_fields("v1", "pet_response")
    assert pets_config.get_optional_fields("v1", "pet_response") == ()


def test_features(pets_config: VersionConfig) -> None:
    assert not pets_config.is_feature_enabled("v1", "health_records")
    assert pets_config.is_feature_enabled("v2", "health_records")
    assert pets_config.versions_with("batch_operations") == ["v2"]
    assert pets_config.versions_with("appointment_cancellation") == ["v3"]


def test_resources_come_from_field_lists(pets_config: VersionConfig) -> None:
    assert pets_config.resources("v1") == ("pet", "user", "appointment")
    assert pets_config.resources("v2") == ("pet", "user", "appointment", "health_record")


def test_list_presets(pets_config: VersionConfig) -> None:
    flat, nested = pets_config.endpoint("v1", "pet").shape, pets_config.endpoint("v3", "pet").shape
    assert flat.items == ("data", "pets")
    assert flat.paging() == {k: ("data", k) for k in ("total", "page", "per_page", "total_pages")}
    assert nested.items == ("data", "items")
    assert nested.paging() == {k: ("data", "pagination", k) for k in ("total", "page", "per_page", "total_pages")}


@pytest.mark.parametrize(
    ("call", "kind", "known"),
    [
        (lambda c: c.get_version("v9"), "version", "v1, v2, v3"),
        (lambda c: c.get_endpoint("v1", "health_record"), "endpoint", "appointment, pet, user"),
        (lambda c: c.get_schema_fields("v1", "pet_delete"), "field list", "pet_create"),
        (lambda c: c.is_feature_enabled("v1", "teleport"), "feature", "batch_operations"),
        (lambda c: c.versions_with("teleport"), "feature", "statistics"),
    ],
)
def test_unknown_names_list_the_known_ones(pets_config: VersionConfig, call: object, kind: str, known: str) -> None:
    with pytest.raises(UnknownNameError, match=f"unknown {kind} .*known: .*{known}"):
        call(pets_config)  # type: ignore[operator]


def test_a_file_with_only_field_lists_works(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.get_supported_versions() == ["v1"]
    assert config.get_schema_fields("v1", "pet_create") == ("name", "species")
    assert config.get_schema("v1", "pet_create") is None
    # Endpoints are optional: the file loads without them, and asking for one names the gap.
    with pytest.raises(UnknownNameError) as caught:
        config.get_endpoint("v1", "pet")
    assert str(caught.value) == (
        "unknown endpoint 'pet' (also tried 'pets') in version_config.yaml versions.v1.endpoints; known: none"
    )
    assert config.settings.default_timeout == 5.0
    config.validate_configuration()


# -- caching ---------------------------------------------------------------------------------
def test_loaded_once_per_file(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    assert load_config(path) is load_config(path)
    assert load_config(str(path)) is load_config(tmp_path / "." / path.name)


def test_not_a_singleton_each_path_its_own_config(tmp_path: Path) -> None:
    a = load_config(write(tmp_path, MINIMAL, "a.yaml"))
    b = load_config(write(tmp_path, MINIMAL.replace("v1", "v7"), "b.yaml"))
    assert a is not b
    assert b.get_supported_versions() == ["v7"]


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    first = load_config(path)
    path.write_text(MINIMAL.replace("v1", "v2"), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = load_config(path)
    assert second is not first
    assert second.get_supported_versions() == ["v2"]


def test_clear_cache_forces_a_new_read(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    first = load_config(path)
    clear_cache()
    assert load_config(path) is not first


# -- the checked-config cache across processes -------------------------------------------------
def _no_parse(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every file that is parsed and checked from now on."""
    parsed: list[Path] = []
    real = loader._checked

    def checked(path: Path, text: str) -> object:
        parsed.append(path)
        return real(path, text)

    monkeypatch.setattr(loader, "_checked", checked)
    return parsed


def test_checked_data_kept_per_content_across_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, cache = write(tmp_path, MINIMAL), tmp_path / "cache"
    parsed = _no_parse(monkeypatch)
    first = load_config(path, cache_dir=cache)
    assert parsed == [path]
    assert len(list(cache.glob("*.marshal"))) == 1
    clear_cache()  # as a new process would start
    second = load_config(path, cache_dir=cache)
    assert parsed == [path]  # not parsed again
    assert second is not first
    assert second.get_version("v1") == first.get_version("v1")
    # another file with the same content shares the entry; a changed content makes its own
    load_config(write(tmp_path, MINIMAL, "copy.yaml"), cache_dir=cache)
    assert len(parsed) == 1
    path.write_text(MINIMAL.replace("v1", "v2"), encoding="utf-8")
    clear_cache()
    assert load_config(path, cache_dir=cache).get_supported_versions() == ["v2"]
    assert len(parsed) == 2
    assert len(list(cache.glob("*.marshal"))) == 2


def test_the_pets_config_reads_back_equal(pets_config: VersionConfig, tmp_path: Path) -> None:
    clear_cache()
    load_config(pets_config.path, cache_dir=tmp_path)
    clear_cache()
    cached = load_config(pets_config.path, cache_dir=tmp_path)  # read from the entry
    versions = pets_config.get_supported_versions()
    assert cached is not pets_config
    assert cached.get_supported_versions() == versions
    assert [cached.get_version(v) for v in versions] == [pets_config.get_version(v) for v in versions]
    assert (cached.settings, cached.templates) == (pets_config.settings, pets_config.templates)


def test_a_broken_file_is_never_cached(tmp_path: Path) -> None:
    path, cache = write(tmp_path, MINIMAL.replace("schema_fields", "schema_feilds")), tmp_path / "cache"
    for _ in range(2):
        clear_cache()
        with pytest.raises(ConfigError, match="schema_feilds"):
            load_config(path, cache_dir=cache)
    assert not cache.exists() or not list(cache.iterdir())


def test_an_unreadable_entry_is_checked_again_and_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, cache = write(tmp_path, MINIMAL), tmp_path / "cache"
    load_config(path, cache_dir=cache)
    (entry,) = cache.glob("*.marshal")
    entry.write_bytes(b"\x00half")
    clear_cache()
    parsed = _no_parse(monkeypatch)
    assert load_config(path, cache_dir=cache).get_supported_versions() == ["v1"]
    assert parsed == [path]
    clear_cache()
    load_config(path, cache_dir=cache)
    assert parsed == [path]  # the entry was written again, whole


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    path, cache = write(tmp_path, MINIMAL), tmp_path / "not-a-folder"
    cache.write_text("a file where the cache folder would be", encoding="utf-8")
    assert load_config(path, cache_dir=cache).get_supported_versions() == ["v1"]
    assert cache.read_text(encoding="utf-8").startswith("a file")


def test_the_stamp_changes_with_every_file_that_decides(tmp_path: Path) -> None:
    here = Path(loader.__file__).parent
    copy = tmp_path / "framework" / "config"
    copy.mkdir(parents=True)
    for name in loader._RULE_FILES:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2((here / name).resolve(), target)  # the same size and modification time
    assert loader.stamp_of(copy) == loader.stamp_of(here)  # the files' sizes and times, not where they are
    stamps = {loader.stamp_of(copy)}
    for name in loader._RULE_FILES:
        target = copy / name
        st = target.stat()
        target.write_bytes(target.read_bytes() + b"\n")  # an edit: another size, another time
        stamps.add(loader.stamp_of(copy))
        target.write_bytes(target.read_bytes()[:-1])
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # as long as before, touched since
        stamps.add(loader.stamp_of(copy))
    assert len(stamps) == 1 + 2 * len(loader._RULE_FILES)


def test_the_stamp_changes_with_an_installed_checker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site" / "checker_x"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "_native.so").write_bytes(b"version 1")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(loader, "_CHECKERS", ("checker_x",))
    here = Path(loader.__file__).parent
    before = loader.stamp_of(here)
    (package / "_native.so").write_bytes(b"version 2!")  # an upgrade rewrites the package's files
    assert loader.stamp_of(here) != before
    assert "checker_x" not in sys.modules  # found, never imported


def test_entries_are_keyed_by_the_rules_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, cache = write(tmp_path, MINIMAL), tmp_path / "cache"
    load_config(path, cache_dir=cache)
    monkeypatch.setattr(loader, "_STAMP", [b"other rules"])
    clear_cache()
    parsed = _no_parse(monkeypatch)
    load_config(path, cache_dir=cache)
    assert parsed == [path]
    assert len(list(cache.glob("*.marshal"))) == 2


# -- path precedence: option > environment > ini > default -----------------------------------
def test_path_from_option_wins(tmp_path: Path) -> None:
    got = resolve_config_path("opt.yaml", {ENV_VAR: "env.yaml"}, "ini.yaml", tmp_path)
    assert got == tmp_path / "opt.yaml"


def test_path_from_environment(tmp_path: Path) -> None:
    assert resolve_config_path(None, {ENV_VAR: "env.yaml"}, "ini.yaml", tmp_path) == tmp_path / "env.yaml"


def test_path_from_ini(tmp_path: Path) -> None:
    assert resolve_config_path(None, {}, "ini.yaml", tmp_path) == tmp_path / "ini.yaml"


def test_path_default(tmp_path: Path) -> None:
    assert resolve_config_path(None, {}, None, tmp_path) == tmp_path / DEFAULT_CONFIG_PATH


def test_absolute_path_kept(tmp_path: Path) -> None:
    absolute = tmp_path / "x" / "c.yaml"
    assert resolve_config_path(str(absolute), {}, None, Path("/elsewhere")) == absolute


# -- bad input: one line naming the file, the line, the key path and the fix ------------------
BAD = [
    pytest.param(
        """\
        versions:
          v1:
            schema_fields:
              pet_create: [name, species]
          v2:
            schema_fields:
              pet_create: [name, species]
            required_fields:
              pet_create:
                - name
                - weight
        """,
        11,
        "versions.v2.required_fields.pet_create: 'weight' is not in schema_fields.pet_create",
        id="required-not-in-fields",
    ),
    pytest.param("versions: [v1, v2]\n", 1, "versions: expected a mapping", id="versions-not-mapping"),
    pytest.param("- a\n- b\n", 1, "expected a mapping with a top-level 'versions:' key", id="top-not-mapping"),
    pytest.param(MINIMAL + "verions: {}\n", 6, "verions: unknown key; expected one of", id="unknown-top-key"),
    pytest.param(
        "versions:\n  v1:\n    features:\n      batch: yes please\n",
        4,
        "versions.v1.features.batch: expected true or false, got 'yes please'",
        id="feature-not-bool",
    ),
    pytest.param(
        "versions:\n  v1:\n    endpoints:\n      pet: 5\n",
        4,
        "versions.v1.endpoints.pet: expected a path ('/pets', '/api/v1/pets/', '/pets/{pet_id}/records', an http(s) URL)",
        id="endpoint-not-a-path",
    ),
    pytest.param(
        "versions:\n  v1:\n    schema_fields:\n      pet_create: [name, name]\n",
        4,
        "versions.v1.schema_fields.pet_create: 'name' is listed twice",
        id="duplicate-field",
    ),
    pytest.param(
        "versions:\n  v1:\n    schema_fields:\n      pet_create: name\n",
        4,
        "versions.v1.schema_fields.pet_create: expected a list of field names",
        id="field-list-not-a-list",
    ),
    pytest.param(
        MINIMAL + "    required_fields: {pet_create: [name]}\n    optional_fields: {pet_create: [name]}\n",
        7,
        "versions.v1.optional_fields.pet_create: ['name'] also listed as required",
        id="required-and-optional",
    ),
    pytest.param(
        MINIMAL + "    required_fields:\n      pet_update: [name]\n",
        7,
        "versions.v1.required_fields.pet_update: no schema_fields.pet_update to refer to",
        id="required-without-field-list",
    ),
    pytest.param(
        MINIMAL + "    schemas:\n      pet_create:\n        type: object\n        properties: {name: {type: string}}\n",
        9,
        "versions.v1.schemas.pet_create.properties: 'species' of schema_fields.pet_create has no property",
        id="schema-misses-a-field",
    ),
    pytest.param(
        MINIMAL + "    schemas:\n      pet_create: not-a-schema\n",
        7,
        "versions.v1.schemas.pet_create: expected a JSON Schema object",
        id="schema-not-mapping",
    ),
    pytest.param(
        MINIMAL + "    pagination: {style: cursor}\n",
        6,
        "versions.v1.pagination: pagination is now response.list: write response: {list: flat}",
        id="pagination-moved",
    ),
    pytest.param(
        MINIMAL + "    base_url: api/v1\n",
        6,
        "versions.v1.base_url: expected a path starting with '/'",
        id="bad-base-url",
    ),
    pytest.param(
        MINIMAL + "global_settings:\n  default_timeout: -1\n",
        7,
        "global_settings.default_timeout: expected a number of seconds > 0, got -1",
        id="bad-timeout",
    ),
    pytest.param(
        MINIMAL + "global_settings:\n  retries: 3\n",
        7,
        "global_settings.retries: unknown key; expected one of default_timeout, follow_redirects, max_retries",
        id="unknown-setting",
    ),
    pytest.param(
        MINIMAL + "test_data_templates:\n  pet:\n    field_generators:\n      name: generate_unicorn\n",
        9,
        "test_data_templates.pet.field_generators.name: unknown generator 'generate_unicorn'; known: ",
        id="unknown-generator",
    ),
    pytest.param(
        MINIMAL.replace("pet_response", "pet_respones"),
        5,
        "versions.v1.schema_fields.pet_respones: expected <resource>_<kind> with kind one of create, update, response",
        id="typo-in-kind",
    ),
    pytest.param(
        MINIMAL + "    endpoints: {pets: /pets}\n    schemas: {prodct_response: {type: object}}\n",
        7,
        "versions.v1.schemas.prodct_response: no endpoint for 'prodct' in this version's endpoints (pets); add one",
        id="field-list-without-endpoint",
    ),
    pytest.param(
        MINIMAL + "    extra_fields: {prodcut: allow}\n",
        6,
        "versions.v1.extra_fields.prodcut: no resource 'prodcut' in this version; known: pet",
        id="extra-fields-unknown-resource",
    ),
    pytest.param(
        MINIMAL + "test_data_templates:\n  ordrs: {base_data: {a: 1}}\n",
        7,
        "test_data_templates.ordrs: no version has a resource 'ordrs'; known: pet",
        id="template-unknown-resource",
    ),
    pytest.param(
        MINIMAL + "test_data_templates:\n  pets:\n    references: {owner_id: usr}\n",
        8,
        "test_data_templates.pets.references.owner_id: no version has a resource 'usr'; known: pet",
        id="reference-unknown-resource",
    ),
    pytest.param(
        "versions:\n  v1:\n    schema_fields: {pet_create: [name}\n",
        3,
        "not valid YAML",
        id="not-yaml",
    ),
]


@pytest.mark.parametrize(("text", "line", "expected"), BAD)
def test_bad_config_one_line_error(tmp_path: Path, text: str, line: int, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: ")
    assert expected in message
    assert info.value.line == line


def test_several_problems_are_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "versions:\n  v1:\n    features: {a: 1, b: 2}\n")
    with pytest.raises(ConfigError, match=r"\(and 1 more problem\)"):
        load_config(path)


def test_missing_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"nope.yaml: file not found; pass --version-config, set {ENV_VAR}"):
        load_config(tmp_path / "nope.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"versions:\n  v1: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8 text; save the file as UTF-8"):
        load_config(path)


def test_invalid_json_schema_caught_when_loading(tmp_path: Path) -> None:
    text = MINIMAL + (
        "    schemas:\n      pet_create:\n        type: object\n"
        "        properties: {name: {type: strnig}, species: {type: string}}\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path}:9: versions.v1.schemas.pet_create.properties.name.type: not a valid JSON Schema: "
        "\"strnig\" is not valid under any of the schemas listed in the 'anyOf' keyword"
    )


def test_project_config_validates_in_full(pets_config: VersionConfig) -> None:
    pets_config.validate_configuration()


# -- endpoints as APIs write them --------------------------------------------------------------
@pytest.mark.parametrize(
    ("base_url", "written", "path"),
    [
        ("/api/v1", "/pets", "/api/v1/pets"),
        ("/api/v1", "pets", "/api/v1/pets"),
        ("/api/v1", "/api/v1/pets", "/api/v1/pets"),
        ("/api/v1", "/api/v1/pets/", "/api/v1/pets/"),
        ("/api/v1", "/api/v10/pets", "/api/v1/api/v10/pets"),
        ("/api/v1/", "/pets", "/api/v1/pets"),
        ("http://h:8/api/v1", "/pets", "http://h:8/api/v1/pets"),
        ("http://h:8/api/v1", "/api/v1/pets", "http://h:8/api/v1/pets"),
        ("/api/v1", "https://other.example/v1/pets", "https://other.example/v1/pets"),
        ("", "/pets", "/pets"),
    ],
)
def test_endpoint_never_prefixed_twice(tmp_path: Path, base_url: str, written: str, path: str) -> None:
    config = load_config(
        write(tmp_path, f"versions:\n  v1:\n    base_url: '{base_url}'\n    endpoints: {{pet: '{written}'}}\n")
    )
    assert config.get_endpoint("v1", "pet") == path
    assert config.endpoint("v1", "pets").item == path.rstrip("/") + "/{id}"


def test_item_path_and_shape_per_endpoint(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
            versions:
              v1:
                base_url: /api/v1
                response: {error: detail, list: nested}
                endpoints:
                  pets: {path: /pets/, item: '/pets/{id}/'}
                  records:
                    path: /pets/{pet_id}/records
                    response: {envelope: none, list: bare}
                  users: {path: /users, response: {envelope: {data: result, success: ok, version: null}}}
            """,
        )
    )
    pets, records, users = (config.endpoint("v1", r) for r in ("pet", "record", "user"))
    assert (pets.path, pets.item, pets.params) == ("/api/v1/pets/", "/api/v1/pets/{id}/", ())
    assert pets.shape.items == ("data", "items")
    assert pets.shape.error == ("detail",)
    assert records.params == ("pet_id",)
    assert (records.shape.data, records.shape.items, records.shape.success, records.shape.paging()) == (
        (),
        (),
        None,
        {},
    )
    assert (users.shape.data, users.shape.success, users.shape.version) == (("result",), ("ok",), None)
    assert users.shape.items == ("result", "items")


def test_names_resolve_in_any_spelling(pets_config: VersionConfig) -> None:
    assert pets_config.get_schema_fields("v2", "pets_create") == pets_config.get_schema_fields("v2", "pet_create")
    assert pets_config.endpoint("v2", "health-records") is pets_config.endpoint("v2", "health_record")
    assert pets_config.get_template("pets") is pets_config.get_template("pet")
    assert pets_config.field_key("v1", "users", "response") == "user_response"
    assert pets_config.references("v2", "appointments") == {"pet_id": "pet", "user_id": "user"}
    assert pets_config.references("v1", "pet") == {"owner_id": "user"}


def test_type_hints_extra_fields_and_gaps(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """\
            versions:
              v1:
                extra_fields: {pet: allow}
                schema_fields:
                  pet_create: [name, tags: array, meta: object]
                  pet_response: [id, name]
                  user_response: [id]
              v2:
                extra_fields: allow
                schema_fields:
                  pet_create: [name]
                  pet_update: [name]
            """,
        )
    )
    assert config.get_schema_fields("v1", "pet_create") == ("name", "tags", "meta")
    assert config.get_field_type("v1", "pet_create", "tags") == "array"
    assert config.get_field_type("v1", "pet_create", "name") is None
    v1, v2 = config.get_version("v1"), config.get_version("v2")
    assert (v1.allows_extra_fields("pet"), v1.allows_extra_fields("user"), v2.allows_extra_fields("user")) == (
        True,
        False,
        True,
    )
    with pytest.raises(ConfigGapError) as gap:  # another version has it: a gap, skipped by the plugin
        config.get_schema_fields("v1", "pet_update")
    assert (
        str(gap.value)
        == "v1 has no schema_fields.pet_update; add it under versions.v1.schema_fields in version_config.yaml"
    )
    with pytest.raises(ConfigGapError):  # a standard kind of a known resource
        config.get_schema_fields("v2", "user_create")
    with pytest.raises(UnknownNameError) as typo:
        config.get_schema_fields("v1", "pet_updat")
    assert not isinstance(typo.value, ConfigGapError)


# -- the format's JSON Schema: one file for the loader and for editors -------------------------
def test_format_schema_is_a_valid_schema_that_passes_our_configs() -> None:
    schema = json.loads(FORMAT_SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    root = Path(__file__).parents[2]
    for name in ("tests/config/version_config.yaml", "tests/kennel/version_config.yaml"):
        text = (root / name).read_text(encoding="utf-8")
        errors = list(Draft202012Validator(schema).iter_errors(yaml.safe_load(text)))
        assert errors == [], name
    kennel = (root / "tests/kennel/version_config.yaml").read_text(encoding="utf-8")
    comment = kennel.splitlines()[0].removeprefix("# yaml-language-server: $schema=")
    assert (root / "tests/kennel" / comment).resolve() == FORMAT_SCHEMA.resolve()
