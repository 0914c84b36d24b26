"""Helpers of the dynamic suite: create records through the API, check error envelopes.

Every helper goes through the ``api`` client of the test's version and validates what
it gets back against that version's schema; none of them knows the API's rules. Tests
marked ``@pytest.mark.defects("pet")`` take a ``defect`` argument, parametrized with the
kinds of invalid payload the data factory makes for that resource in any version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from framework import (
    DataFactory,
    InvalidCase,
    ResponseValidator,
    VersionConfig,
    VersionedClient,
)
from framework.plugin import version_config_of

Record = dict[str, Any]
Maker = Callable[..., Awaitable[Record]]
ErrorCheck = Callable[[httpx.Response, int, str], dict[str, Any]]
InvalidPayloads = Callable[[str, str], Awaitable[list[tuple[InvalidCase, Record]]]]


# -- collection: one test case per kind of defect ---------------------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "defects(resource): parametrize 'defect' with the factory's defect kinds of resource"
    )
    # pytest-xdist's own marker, named here too: the benchmarks run the suite without xdist installed.
    config.addinivalue_line("markers", "xdist_group(name): run on one worker with the group's other tests")


def _kind(case: InvalidCase) -> str:
    return case.id.removesuffix(f"-{case.field}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    mark = metafunc.definition.get_closest_marker("defects")
    if mark is None or "defect" not in metafunc.fixturenames:
        return
    resource = mark.args[0]
    config = version_config_of(metafunc.config)
    factory = DataFactory(config, seed=0)
    kinds: dict[str, None] = {}
    for version in config.get_supported_versions():
        if f"{resource}_create" in config.get_version(version).schema_fields:
            kinds.update(dict.fromkeys(_kind(c) for c in factory.invalid(resource, version)))
    metafunc.parametrize("defect", sorted(kinds))


# -- fixtures ---------------------------------------------------------------------------------
@pytest.fixture
def expect_error(api: VersionedClient) -> ErrorCheck:
    """``expect_error(response, status, code)``: assert a failure envelope of the test's version
    (and, for validation errors, field details); return its ``error``."""

    def check(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
        request = response.request
        assert response.status_code == status, (
            f"{request.method} {request.url.path}: expected {status}, got {response.status_code}: {response.text}"
        )
        error = api.error(response)
        assert response.json()["version"] == api.version
        assert error["code"] == code, error
        assert isinstance(error["message"], str)
        assert error["message"]
        if code == "validation_error":
            details = error.get("details")
            assert isinstance(details, list), error
            assert details, error
            for detail in details:
                assert {"field", "message"} <= detail.keys(), detail
        return error

    return check


@pytest.fixture
def client_for(api_client: httpx.AsyncClient, version_config: VersionConfig) -> Callable[[str], VersionedClient]:
    """``client_for("v2")``: the session client bound to any version, for cross-version reads."""
    return lambda version: VersionedClient(api_client, version_config, version)


async def _create(api: VersionedClient, validator: ResponseValidator, resource: str, payload: Record) -> Record:
    response = await api.create(resource, payload)
    assert response.status_code == 201, f"create {resource}: {response.status_code} {response.text}"
    data: Record = api.data(response)
    validator.assert_valid(data, api.version, resource)
    return data


@pytest.fixture
def make_user(api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator) -> Maker:
    """``await make_user(**overrides)``: a new user of the test's version, as the API returned it."""

    async def make(*, optional: bool | list[str] = True, **overrides: Any) -> Record:
        payload = data_factory.build("user", api.version, optional=optional, **overrides)
        return await _create(api, response_validator, "user", payload)

    return make


@pytest.fixture
def make_pet(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator, make_user: Maker
) -> Maker:
    """``await make_pet(owner_id=None, **overrides)``: a new pet, of a new owner unless one is given."""

    async def make(*, owner_id: str | None = None, optional: bool | list[str] = True, **overrides: Any) -> Record:
        owner = owner_id or (await make_user())["id"]
        payload = data_factory.build("pet", api.version, optional=optional, owner_id=owner, **overrides)
        return await _create(api, response_validator, "pet", payload)

    return make


@pytest.fixture
def make_appointment(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator, make_pet: Maker
) -> Maker:
    """``await make_appointment(pet=None, **overrides)``: a new appointment for ``pet`` (else a new
    pet), booked by the pet's owner unless ``user_id`` is given."""

    async def make(*, pet: Record | None = None, optional: bool | list[str] = True, **overrides: Any) -> Record:
        pet = pet or await make_pet()
        overrides.setdefault("user_id", pet["owner_id"])
        payload = data_factory.build("appointment", api.version, optional=optional, pet_id=pet["id"], **overrides)
        return await _create(api, response_validator, "appointment", payload)

    return make


@pytest.fixture
def make_health_record(
    api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator, make_pet: Maker
) -> Maker:
    """``await make_health_record(pet_id=None, **overrides)``: a new health record (of a new pet
    unless ``pet_id`` is given)."""

    async def make(*, pet_id: str | None = None, optional: bool | list[str] = True, **overrides: Any) -> Record:
        pet = pet_id or (await make_pet())["id"]
        payload = data_factory.build("health_record", api.version, optional=optional, pet_id=pet, **overrides)
        return await _create(api, response_validator, "health_record", payload)

    return make


@pytest.fixture
def invalid_payloads(api: VersionedClient, data_factory: DataFactory, make_pet: Maker) -> InvalidPayloads:
    """``await invalid_payloads(resource, kind)``: the factory's invalid create payloads of one kind
    for the test's version, with every reference (owner_id, user_id, pet_id) pointing at a real
    record, so that the named defect is the payload's only one."""

    async def make(resource: str, kind: str) -> list[tuple[InvalidCase, Record]]:
        cases = [c for c in data_factory.invalid(resource, api.version) if _kind(c) == kind]
        if not cases:
            return []
        pet = await make_pet()
        real = {"owner_id": pet["owner_id"], "user_id": pet["owner_id"], "pet_id": pet["id"]}
        return [(c, {**c.payload, **{k: v for k, v in real.items() if k in c.payload and k != c.field}}) for c in cases]

    return make


@pytest.fixture
def assert_rejects_invalid(
    api: VersionedClient, invalid_payloads: InvalidPayloads
) -> Callable[[str, str], Awaitable[int]]:
    """``await assert_rejects_invalid(resource, kind)``: post every invalid payload of that kind,
    expect 422 ``validation_error`` naming the defective field; fail listing every miss; return
    the number of cases (skip the test when the version's config yields none)."""

    async def check(resource: str, kind: str) -> int:
        cases = await invalid_payloads(resource, kind)
        if not cases:
            pytest.skip(f"{api.version} {resource}_create has no field that admits a {kind} defect")
        failures = []
        for case, payload in cases:
            response = await api.create(resource, payload)
            if response.status_code != 422:
                failures.append(f"{case.id}: {response.status_code} {response.text[:200]}")
                continue
            error = api.error(response)
            fields = [str(d.get("field", "")) for d in error.get("details") or ()]
            if error.get("code") != "validation_error" or not any(
                f == case.field or f.startswith((f"{case.field}.", f"{case.field}[")) for f in fields
            ):
                failures.append(f"{case.id}: error does not name {case.field!r}: {error}")
        assert not failures, f"{len(failures)} of {len(cases)} invalid payloads not rejected:\n" + "\n".join(failures)
        return len(cases)

    return check


@pytest.fixture
def foreign_fields(
    api: VersionedClient, version_config: VersionConfig, data_factory: DataFactory
) -> Callable[[str, str], Record]:
    """``foreign_fields(resource, kind)``: fields other versions list under ``<resource>_<kind>``
    (``create`` or ``update``) that the test's version does not, each with a value that is
    valid where it belongs (taken from the factory's payload for that version)."""

    def find(resource: str, kind: str) -> Record:
        key = f"{resource}_{kind}"
        mine = set(version_config.get_schema_fields(api.version, key))
        found: Record = {}
        for version in version_config.get_supported_versions():
            if version == api.version or key not in version_config.get_version(version).schema_fields:
                continue
            if kind == "create":
                sample = data_factory.build(resource, version)
            else:
                sample = data_factory.build_update(resource, version)
            for name in version_config.get_schema_fields(version, key):
                if name not in mine and name in sample:
                    found.setdefault(name, sample[name])
        return found

    return find
