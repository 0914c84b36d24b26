"""Create, read, update, list and delete every resource of every version, knowing only the config.

Nothing here names a resource, a field, a path or a response shape: the resources come
from the config's field lists, the records a resource refers to (``owner_id``, a nested
endpoint's ``{pet_id}``) from its references, the shapes from its ``response`` blocks. So
this module runs unchanged on the Pets API and on the Kennel API (``tests/kennel/``),
whose paths, envelopes, lists and errors look nothing alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from framework import DataFactory, ResponseValidator, VersionConfig, VersionedClient, version_parametrize
from framework.plugin import version_config_of

Record = dict[str, Any]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``resource``: every resource that any version of the config has field lists for."""
    if "resource" not in metafunc.fixturenames:
        return
    config = version_config_of(metafunc.config)
    found = dict.fromkeys(r for v in config.get_supported_versions() for r in config.resources(v))
    metafunc.parametrize("resource", list(found))


@dataclass
class Created:
    """A record as the API returned it, with the path parameters that address it."""

    data: Record
    sent: Record
    path: dict[str, object]


class Records:
    """Creates records through the API, parents first, and checks each answer against the config."""

    def __init__(self, api: VersionedClient, factory: DataFactory, validator: ResponseValidator) -> None:
        self.api, self.factory, self.validator = api, factory, validator
        self.config: VersionConfig = api.config

    def has(self, resource: str) -> bool:
        return self.config.resource_name(self.api.version, resource) in self.config.resources(self.api.version)

    async def create(self, resource: str) -> Created:
        api = self.api
        endpoint = api.endpoint(resource)
        fields = set(self.config.get_schema_fields(api.version, self.config.field_key(api.version, resource, "create")))
        overrides: Record = {}
        path: dict[str, object] = {}
        for name, target in self.config.references(api.version, resource).items():
            parent = (await self.create(target)).data["id"]
            if name in endpoint.params:
                path[name] = parent
            if name in fields:
                overrides[name] = parent
        payload = self.factory.build(resource, api.version, **overrides)
        response = api.expect(await api.create(resource, payload, **path), 201)
        data: Record = api.data(response)
        self.validator.assert_valid(data, api.version, resource)
        return Created(data, payload, path)

    def same_values(self, sent: Record, got: Record, resource: str) -> None:
        """Every field sent that the response lists comes back with the value sent."""
        listed = self.config.get_schema_fields(
            self.api.version, self.config.field_key(self.api.version, resource, "response")
        )
        differ = {k: (v, got.get(k)) for k, v in sent.items() if k in listed and got.get(k) != v}
        assert not differ, f"{self.api.version} {resource}: sent -> got {differ}"


@pytest.fixture
def records(api: VersionedClient, data_factory: DataFactory, response_validator: ResponseValidator) -> Records:
    """Creates the records a test needs, in the test's version."""
    return Records(api, data_factory, response_validator)


def _needs(records: Records, resource: str) -> None:
    if not records.has(resource):
        pytest.skip(f"{records.api.version} has no {resource}")


@version_parametrize()
async def test_create_then_get(api: VersionedClient, records: Records, resource: str) -> None:
    """A created record answers its own GET with the same fields, each as sent."""
    _needs(records, resource)
    made = await records.create(resource)
    records.same_values(made.sent, made.data, resource)
    response = api.expect(await api.get(resource, made.data["id"], **made.path), 200)
    assert api.data(response) == made.data


@pytest.mark.xdist_group("store_totals")  # changes statuses: never beside test_statistics_count_new_records
@version_parametrize()
async def test_update(
    api: VersionedClient,
    records: Records,
    data_factory: DataFactory,
    response_validator: ResponseValidator,
    resource: str,
) -> None:
    """An update with fresh values for every update field answers the record with those values."""
    _needs(records, resource)
    made = await records.create(resource)
    changes = data_factory.build_update(resource, api.version)
    for name in api.config.references(api.version, resource):
        if name in changes:  # a reference keeps pointing at a real record
            changes[name] = made.data[name]
    response = api.expect(await api.update(resource, made.data["id"], changes, **made.path), 200)
    updated = api.data(response)
    response_validator.assert_valid(updated, api.version, resource)
    records.same_values(changes, updated, resource)
    assert updated["id"] == made.data["id"]


@version_parametrize()
async def test_list_contains_it(api: VersionedClient, records: Records, resource: str) -> None:
    """A created record is among its collection's items (with the largest page the API allows)."""
    _needs(records, resource)
    made = await records.create(resource)
    response = api.expect(await api.list(resource, **made.path, per_page=100), 200)
    ids = [item["id"] for item in api.items(response, resource)]
    assert made.data["id"] in ids or api.page(response).get("total", 0) > 100, ids


@pytest.mark.xdist_group("store_totals")  # deletes: never beside test_statistics_count_new_records
@version_parametrize()
async def test_delete_then_404(api: VersionedClient, records: Records, resource: str) -> None:
    """A deleted record is gone: its GET answers 404 with an error body of the version's shape."""
    _needs(records, resource)
    made = await records.create(resource)
    api.expect(await api.delete(resource, made.data["id"], **made.path), 200, 204)
    gone = api.expect(await api.get(resource, made.data["id"], **made.path), 404)
    assert api.error(gone)


@version_parametrize()
async def test_unknown_id_is_404(api: VersionedClient, records: Records, resource: str) -> None:
    """An id that was never created answers 404 with an error body of the version's shape."""
    _needs(records, resource)
    path = {}
    if api.endpoint(resource).params:
        path = (await records.create(resource)).path
    response = api.expect(await api.get(resource, str(uuid.uuid4()), **path), 404)
    assert api.error(response)


@version_parametrize()
async def test_missing_required_field_is_rejected(
    api: VersionedClient, records: Records, data_factory: DataFactory, resource: str
) -> None:
    """A create payload without one of its required fields is refused, for each required field."""
    _needs(records, resource)
    made = await records.create(resource)
    real = {k: made.data[k] for k in api.config.references(api.version, resource) if k in made.data}
    for case in data_factory.invalid(resource, api.version):
        if not case.id.startswith("missing-"):
            continue
        payload = {**case.payload, **{k: v for k, v in real.items() if k in case.payload}}
        response = api.expect(await api.create(resource, payload, **made.path), 400, 422)
        assert api.error(response), f"{case.id}: an empty error"
