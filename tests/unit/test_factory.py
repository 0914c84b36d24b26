"""Tests of framework.factory: valid, unique, seeded payloads; invalid cases; related objects."""

from __future__ import annotations

import copy
import itertools
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from framework.config import VersionConfig, load_config
from framework.errors import ConfigGapError, FactoryError
from framework.factory import DataFactory, _copier, _json_copy


def create_schema(config: VersionConfig, version: str, resource: str) -> Draft202012Validator:
    schema = config.get_schema(version, f"{resource}_create")
    assert schema is not None
    return Draft202012Validator(dict(schema), format_checker=Draft202012Validator.FORMAT_CHECKER)


def cases(config: VersionConfig) -> list[tuple[str, str]]:
    return [(v, r) for v in config.get_supported_versions() for r in config.resources(v)]


def test_every_payload_is_valid_for_its_version(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config, seed=1)
    for version, resource in cases(pets_config):
        validator = create_schema(pets_config, version, resource)
        fields = set(pets_config.get_schema_fields(version, f"{resource}_create"))
        for optional in (True, False):
            payload = factory.build(resource, version, optional=optional)
            errors = [e.message for e in validator.iter_errors(payload)]
            assert errors == [], (version, resource, optional)
            assert set(payload) <= fields
            assert set(pets_config.get_required_fields(version, f"{resource}_create")) <= set(payload)


def test_optional_fields_by_choice(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config, seed=1)
    required = set(pets_config.get_required_fields("v2", "pet_create"))
    assert set(factory.build("pet", "v2", optional=False)) == required
    assert set(factory.build("pet", "v2", optional=["temperament"])) == required | {"temperament"}
    assert set(factory.build("pet", "v2")) == set(pets_config.get_schema_fields("v2", "pet_create"))
    with pytest.raises(FactoryError, match=r"\['wings'\] are not fields of v2 pet_create"):
        factory.build("pet", "v2", optional=["wings"])


def test_overrides_win(pets_config: VersionConfig) -> None:
    payload = DataFactory(pets_config).build("pet", "v1", name="Fixed", age=7)
    assert payload["name"] == "Fixed"
    assert payload["age"] == 7


def test_version_differences_follow_the_config(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config)
    assert "age" in factory.build("pet", "v1")
    assert "temperament" not in factory.build("pet", "v1")
    v3 = factory.build("pet", "v3")
    assert "age" not in v3
    assert "date_of_birth" in v3
    assert "phone_number" in factory.build("user", "v3")


def test_unique_values(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config, seed=3)
    users = [factory.build("user", "v2") for _ in range(2000)]
    pets = [factory.build("pet", "v2") for _ in range(2000)]
    assert len({u["email"] for u in users}) == 2000
    assert len({p["name"] for p in pets}) == 2000
    assert len({p["microchip_id"] for p in pets}) == 2000
    assert len({p["owner_id"] for p in pets}) == 2000


def test_deterministic_under_a_seed(pets_config: VersionConfig) -> None:
    a = DataFactory(pets_config, seed=42, namespace="w")
    b = DataFactory(pets_config, seed=42, namespace="w")
    assert [a.build("pet", "v2") for _ in range(5)] == [b.build("pet", "v2") for _ in range(5)]
    c = DataFactory(pets_config, seed=43, namespace="w")
    assert a.build("pet", "v2")["owner_id"] != c.build("pet", "v2")["owner_id"]


def test_namespace_keeps_processes_apart(pets_config: VersionConfig) -> None:
    gw0 = DataFactory(pets_config, seed=42, namespace="gw0")
    gw1 = DataFactory(pets_config, seed=42, namespace="gw1")
    assert gw0.build("user", "v1")["email"] != gw1.build("user", "v1")["email"]
    assert gw0.build("pet", "v2")["microchip_id"] != gw1.build("pet", "v2")["microchip_id"]


def test_payloads_share_no_mutable_state(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config)
    first = factory.build("user", "v2")
    first["address"]["city"] = "Changed"
    first["emergency_contact"]["name"] = "Changed"
    second = factory.build("user", "v2")
    assert second["address"]["city"] != "Changed"
    assert second["emergency_contact"]["name"] != "Changed"
    assert pets_config.get_template("user").base_data["address"]["city"] != "Changed"


def test_stream_is_lazy(pets_config: VersionConfig) -> None:
    stream = DataFactory(pets_config).stream("pet", "v2", 10**12)
    assert iter(stream) is stream
    first = list(itertools.islice(stream, 3))  # a list of 10**12 would never come back
    assert len(first) == 3
    assert len({p["name"] for p in first}) == 3


def test_stream_yields_n_valid_items(pets_config: VersionConfig) -> None:
    validator = create_schema(pets_config, "v3", "appointment")
    items = list(DataFactory(pets_config).stream("appointment", "v3", 50))
    assert len(items) == 50
    assert all(validator.is_valid(i) for i in items)


def test_invalid_cases_break_exactly_their_field(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config, seed=5)
    for version, resource in cases(pets_config):
        validator = create_schema(pets_config, version, resource)
        invalid = factory.invalid(resource, version)
        required = pets_config.get_required_fields(version, f"{resource}_create")
        assert {f"missing-{f}" for f in required} <= {c.id for c in invalid}
        for case in invalid:
            errors = list(validator.iter_errors(case.payload))
            assert errors, f"{version} {resource} {case.id} is valid"
            for error in errors:
                path = list(error.absolute_path)
                assert (path and path[0] == case.field) or case.field in error.message, (
                    case.id,
                    error.message,
                )


def test_invalid_kinds_present(pets_config: VersionConfig) -> None:
    ids = {c.id for c in DataFactory(pets_config).invalid("pet", "v2")}
    assert {"wrong-type-age", "bad-enum-species", "bad-format-owner_id", "bad-pattern-microchip_id"} <= ids
    assert "out-of-range-weight" in ids


def test_build_update(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config)
    update = factory.build_update("pet", "v2")
    assert set(update) == set(pets_config.get_schema_fields("v2", "pet_update"))
    assert factory.build_update("pet", "v1", name="New") == {"name": "New"}
    with pytest.raises(FactoryError, match=r"\['species'\] cannot be updated in v1 pet; update fields: name"):
        factory.build_update("pet", "v1", species="cat")


def test_related_objects_have_consistent_ids(pets_config: VersionConfig) -> None:
    graph = DataFactory(pets_config).related("v2", pets=2, appointments=2, health_records=1)
    pet_ids = {p.id for p in graph.pets}
    assert len(pet_ids) == 2
    assert all(p.payload["owner_id"] == graph.user.id for p in graph.pets)
    assert len(graph.appointments) == 4
    assert all(a.payload["user_id"] == graph.user.id and a.payload["pet_id"] in pet_ids for a in graph.appointments)
    assert [h.payload["pet_id"] for h in graph.health_records] == [p.id for p in graph.pets]


def test_related_needs_the_resource_in_the_version(pets_config: VersionConfig) -> None:
    with pytest.raises(ConfigGapError) as caught:
        DataFactory(pets_config).related("v1", health_records=1)
    assert str(caught.value) == (
        "v1 has no schema_fields.health_record_create; add it under versions.v1.schema_fields in version_config.yaml"
    )


def test_field_lists_only_config(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            versions:
              v1:
                schema_fields:
                  user_create: [email, full_name, owner_id, created_at, birth_date, phone, homepage_url, bio]
            """
        )
    )
    payload = DataFactory(load_config(path)).build("user", "v1")
    assert "@" in payload["email"]
    assert len(payload["owner_id"]) == 36
    assert payload["created_at"][4] == "-"
    assert payload["birth_date"][4] == "-"
    assert payload["homepage_url"].startswith("https://")
    assert isinstance(payload["bio"], str)


def test_pattern_without_generator_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "versions:\n  v1:\n    schema_fields: {pet_create: [chip]}\n"
        "    schemas:\n      pet_create:\n        properties: {chip: {type: string, pattern: '^[0-9]{15}$'}}\n"
    )
    with pytest.raises(
        FactoryError,
        match=r"versions.v1.schemas.pet_create.properties.chip has a pattern .* name a generator",
    ):
        DataFactory(load_config(path)).build("pet", "v1")


def test_unknown_resource(pets_config: VersionConfig) -> None:
    with pytest.raises(FactoryError, match="unknown field list 'dragon_create'"):
        DataFactory(pets_config).build("dragon", "v1")


def test_update_fields_described_only_in_the_response(pets_config: VersionConfig) -> None:
    # appointment_update has no schema; status is described by appointment_response's enum.
    factory = DataFactory(pets_config, seed=1)
    statuses = {factory.build_update("appointment", v)["status"] for v in ("v1", "v2", "v3") for _ in range(20)}
    assert statuses <= {"scheduled", "confirmed", "completed", "cancelled"}


def test_invalid_cases_take_overrides(pets_config: VersionConfig) -> None:
    owner = "00000000-0000-4000-8000-000000000001"
    for case in DataFactory(pets_config).invalid("pet", "v1", owner_id=owner):
        if case.field != "owner_id":
            assert case.payload["owner_id"] == owner


def test_kennel_fields_get_the_types_the_config_states() -> None:
    """A field without a schema gets a value of its type hint (``tags: array``), else of its
    template's base_data, else one guessed from its name; names resolve in the plural too."""
    config = load_config(Path(__file__).parents[2] / "tests" / "kennel" / "version_config.yaml")
    factory = DataFactory(config, seed=3)
    pet = factory.build("pets", "v2", owner_id="u1")
    assert set(pet) == {"name", "species", "owner_id", "birth_date", "tags", "attributes"}
    assert (type(pet["tags"]), type(pet["attributes"]), pet["species"]) == (list, dict, "dog")
    assert len(pet["birth_date"]) == 10
    assert pet["birth_date"][4] == "-"
    assert isinstance(factory.build("pet", "v1", owner_id="u1")["age"], int)
    user = factory.build("users", "v2")
    assert (type(user["preferences"]), type(user["roles"]), type(user["phone_number"])) == (dict, list, str)
    assert factory.build_update("health-records", "v2").keys() == {"kind", "date", "notes"}


def test_a_kind_in_the_resource_name_says_which_call_to_make(pets_config: VersionConfig) -> None:
    with pytest.raises(FactoryError, match=r"for an update payload call build_update\('pet', 'v2'\)$"):
        DataFactory(pets_config).build("pet_update", "v2")


def test_values_for_a_seed_are_unchanged(pets_config: VersionConfig) -> None:
    """A seed gives the values it gave before plans were compiled (written down from that
    version): reruns with ``--factory-seed`` reproduce old data. Dates depend on the day, so
    they are left out, but the draws they take decide every id that follows them."""
    factory = DataFactory(pets_config, seed=42, namespace="gw1")
    undated = [
        {k: v for k, v in factory.build(resource, version).items() if not k.endswith(("date", "_at", "_birth"))}
        for version, resource in [("v2", "health_record"), ("v2", "pet"), ("v1", "appointment"), ("v3", "user")]
    ]
    contact = {"name": "Name gw13", "phone": "+1 555 0000004", "relationship": "Generated text 5"}
    address = {"street": "12 Harbour Road", "city": "Portsmouth", "postal_code": "PO1 3AX", "country": "GB"}
    assert undated == [
        {
            **{"record_type": "vaccination", "description": "Rabies booster", "veterinarian": "Dr. Rivera"},
            "pet_id": "bdd640fb-0667-4ad1-9c80-317fa3b1799d",
        },
        {
            **{"species": "dog", "breed": "Labrador", "age": 3, "weight": 24.5, "temperament": "friendly"},
            "name": "Luna gw11",
            "owner_id": "1a3d1fa7-bc89-40a9-a3b8-c1e9392456de",
            "behavioral_notes": "Generated text 2",
            "emergency_contact": contact,
            "additional_photos": ["https://example.org/photos/gw1/6.jpg"],
            "microchip_id": "805500000000007",
        },
        {
            **{"reason": "Annual checkup", "notes": None},
            "pet_id": "8b9d2434-e465-4150-bd9c-66b3ad3c2d6d",
            "user_id": "0822e8f3-6c03-4199-972a-846916419f82",
        },
        {
            **{"first_name": "Alex", "last_name": "Morgan", "email": "user9.gw1@example.com"},
            "phone_number": "+1 555 0000010",
            "address": address,
            "emergency_contact": {"name": "Name gw111", "phone": "+1 555 0000012", "relationship": "Generated text 13"},
        },
    ]
    # Key order too: constants first, then the generated fields in field-list order.
    assert [list(p) for p in undated][1][:7] == ["species", "breed", "age", "weight", "temperament", "name", "owner_id"]


@pytest.mark.parametrize(
    "value",
    [
        {"street": "1 Road", "city": "Town"},  # flat: its own dict.copy
        ["a", "b"],  # flat: its own list.copy
        {"tags": ["a"], "owner": {"name": "x", "pets": [{"n": 1}]}},  # nested: _json_copy
        [{"a": [1, 2]}, [3, {"b": 4}]],
    ],
)
def test_copier_gives_independent_copies(value: Any) -> None:
    original = copy.deepcopy(value)
    make = _copier(value)
    first, second = make(), make()
    assert first == second == original
    assert first is not value
    assert second is not first
    for made in (first, second):  # every dict and list inside is new, at every depth
        stack: list[tuple[Any, Any]] = [(made, value)]
        while stack:
            a, b = stack.pop()
            if isinstance(a, dict | list):
                assert a is not b
                pairs = zip(a.values(), b.values(), strict=True) if isinstance(a, dict) else zip(a, b, strict=True)
                stack.extend(pairs)
    first["x" if isinstance(first, dict) else 0] = "changed"
    assert value == original
    assert _json_copy(value) == original


def test_nested_generated_values_are_fresh(pets_config: VersionConfig) -> None:
    factory = DataFactory(pets_config, seed=2)
    a, b = factory.build("pet", "v2"), factory.build("pet", "v2")
    assert a["emergency_contact"] is not b["emergency_contact"]
    assert a["additional_photos"] is not b["additional_photos"]
    assert a["emergency_contact"]["name"] != b["emergency_contact"]["name"]
    a["additional_photos"].append("x")
    assert len(factory.build("pet", "v2")["additional_photos"]) == 1
