"""Endpoints of one API version, written once and parameterised by a :class:`VersionSpec`.

Each endpoint validates the body with the version's model, maps it onto canonical
fields, calls the store and serialises the result in the version's shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from . import queries
from .errors import ApiError, BadRequest, FieldError, NotFound, ValidationFailed, field_error
from .responses import error_response, no_content, ok_response
from .serializers import health_record
from .store import Store
from .versions import VersionSpec

__all__ = ["VersionAPI", "validation_details"]

M = TypeVar("M", bound=BaseModel)
Endpoint = Callable[[Request], Awaitable[Response]]
_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def validation_details(exc: ValidationError, *, batch: bool = False) -> list[FieldError]:
    """Turn pydantic errors into ``details``; a root-level error means "not a JSON object".

    For batch bodies an ``items.<i>.<field>`` location becomes ``index=i, field=<field>``.
    """
    details: list[FieldError] = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = error["loc"]
        if not loc:
            raise BadRequest("Request body must be a JSON object")
        index: int | None = None
        if batch and len(loc) > 1 and loc[0] == "items" and isinstance(loc[1], int):
            index = loc[1]
            loc = loc[2:] or loc[:1]
        details.append(field_error(".".join(str(part) for part in loc), error["msg"], index))
    return details


class VersionAPI:
    """The routes of one version over the shared store."""

    def __init__(self, store: Store, spec: VersionSpec) -> None:
        self.store = store
        self.spec = spec
        self.version = spec.name

    # --- plumbing -------------------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """The version's route table (mounted under ``/api/<version>``)."""
        spec = self.spec
        routes = [
            self._route("/pets", GET=self.list_pets, POST=self.create_pet),
            # v1/v3 still claim /pets/batch, so it is a 404 rather than a 405 on /pets/{id}.
            self._route("/pets/batch", POST=self.create_pets_batch)
            if spec.pet_batch is not None
            else self._route("/pets/batch", **dict.fromkeys(_ALL_METHODS, self.no_batch)),
            self._route("/pets/{id}", GET=self.get_pet, PUT=self.update_pet, DELETE=self.delete_pet),
            self._route("/users", GET=self.list_users, POST=self.create_user),
            self._route("/users/{id}", GET=self.get_user, PUT=self.update_user, DELETE=self.delete_user),
            self._route("/appointments", GET=self.list_appointments, POST=self.create_appointment),
            self._route(
                "/appointments/{id}",
                GET=self.get_appointment,
                PUT=self.update_appointment,
                DELETE=self.delete_appointment,
            ),
        ]
        if spec.appointment_cancel is not None:
            routes.append(self._route("/appointments/{id}/cancel", POST=self.cancel_appointment))
        if spec.health_record_create is not None:
            routes += [
                self._route("/health-records", GET=self.list_health_records, POST=self.create_health_record),
                self._route(
                    "/health-records/{id}",
                    GET=self.get_health_record,
                    DELETE=self.delete_health_record,
                ),
            ]
        if spec.statistics:
            routes.append(self._route("/statistics", GET=self.statistics))
        return list(routes)

    def _route(self, path: str, **endpoints: Endpoint) -> Route:
        """One route per path, dispatching on the method (so 405s list every allowed method).

        Any :class:`ApiError` raised by an endpoint becomes this version's error envelope.
        """
        version = self.version
        if "GET" in endpoints:
            endpoints.setdefault("HEAD", endpoints["GET"])

        async def handle(request: Request) -> Response:
            try:
                return await endpoints[request.method](request)
            except ApiError as error:
                return error_response(version, error)

        name = "_".join(endpoint.__name__ for endpoint in dict.fromkeys(endpoints.values()))
        return Route(path, handle, methods=list(endpoints), name=name)

    async def _body(self, request: Request, model: type[M]) -> M:
        """Parse and validate the JSON body in one pass (400 if not an object, else 422)."""
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            raise ValidationFailed(validation_details(exc)) from None

    def _ok(self, data: Any, status_code: int = 200) -> Response:
        """Success envelope for this version."""
        return ok_response(self.version, data, status_code)

    def _page(self, items: list[Any], request: Request, serialize: Any, collection: str) -> Response:
        """One page of ``items`` in this version's pagination shape."""
        return self._ok(
            queries.page_of(
                items,
                request.query_params,
                store=self.store,
                serialize=serialize,
                nested=self.spec.nested_pagination,
                collection=collection,
            )
        )

    async def no_batch(self, request: Request) -> Response:
        """``/pets/batch`` in a version without batch operations."""
        raise NotFound(f"Batch operations are not available in {self.version}")

    # --- pets -----------------------------------------------------------------------

    async def list_pets(self, request: Request) -> Response:
        """GET /pets."""
        pets = queries.filter_pets(self.store, request.query_params, self.spec.pet_filters)
        return self._page(pets, request, self.spec.pet_out, "pets")

    async def create_pet(self, request: Request) -> Response:
        """POST /pets."""
        body = await self._body(request, self.spec.pet_create)
        pet = self.store.add_pet(self.spec.pet_in(body.model_dump(), None))
        return self._ok(self.spec.pet_out(self.store, pet), 201)

    async def create_pets_batch(self, request: Request) -> Response:
        """POST /pets/batch (v2): all items valid and created, or nothing created."""
        assert self.spec.pet_batch is not None
        try:
            batch = self.spec.pet_batch.model_validate_json(await request.body())
        except ValidationError as exc:
            raise ValidationFailed(validation_details(exc, batch=True)) from None
        items = [self.spec.pet_in(item, None) for item in batch.model_dump()["items"]]
        pets = self.store.add_pets(items)
        created = [self.spec.pet_out(self.store, pet) for pet in pets]
        return self._ok({"created": created, "count": len(created)}, 201)

    async def get_pet(self, request: Request) -> Response:
        """GET /pets/{id}."""
        pet = self.store.get_pet(request.path_params["id"])
        return self._ok(self.spec.pet_out(self.store, pet))

    async def update_pet(self, request: Request) -> Response:
        """PUT /pets/{id}: partial update."""
        pet = self.store.get_pet(request.path_params["id"])
        body = await self._body(request, self.spec.pet_update)
        changes = self.spec.pet_in(body.model_dump(exclude_unset=True), pet)
        pet = self.store.update_pet(pet.id, changes)
        return self._ok(self.spec.pet_out(self.store, pet))

    async def delete_pet(self, request: Request) -> Response:
        """DELETE /pets/{id}: also removes its appointments and health records."""
        self.store.delete_pet(request.path_params["id"])
        return no_content()

    # --- users ----------------------------------------------------------------------

    async def list_users(self, request: Request) -> Response:
        """GET /users."""
        users = queries.filter_users(self.store, request.query_params)
        return self._page(users, request, self.spec.user_out, "users")

    async def create_user(self, request: Request) -> Response:
        """POST /users."""
        body = await self._body(request, self.spec.user_create)
        user = self.store.add_user(**self.spec.user_in(body.model_dump(), None))
        return self._ok(self.spec.user_out(self.store, user), 201)

    async def get_user(self, request: Request) -> Response:
        """GET /users/{id}."""
        user = self.store.get_user(request.path_params["id"])
        return self._ok(self.spec.user_out(self.store, user))

    async def update_user(self, request: Request) -> Response:
        """PUT /users/{id}: partial update."""
        user = self.store.get_user(request.path_params["id"])
        body = await self._body(request, self.spec.user_update)
        changes = self.spec.user_in(body.model_dump(exclude_unset=True), user)
        user = self.store.update_user(user.id, changes)
        return self._ok(self.spec.user_out(self.store, user))

    async def delete_user(self, request: Request) -> Response:
        """DELETE /users/{id}: 409 while the user owns pets."""
        self.store.delete_user(request.path_params["id"])
        return no_content()

    # --- appointments ---------------------------------------------------------------

    async def list_appointments(self, request: Request) -> Response:
        """GET /appointments."""
        appointments = queries.filter_appointments(
            self.store, request.query_params, time_bounds=self.spec.appointment_time_filters
        )
        return self._page(appointments, request, self.spec.appointment_out, "appointments")

    async def create_appointment(self, request: Request) -> Response:
        """POST /appointments."""
        body = await self._body(request, self.spec.appointment_create)
        appointment = self.store.add_appointment(body.model_dump())
        return self._ok(self.spec.appointment_out(self.store, appointment), 201)

    async def get_appointment(self, request: Request) -> Response:
        """GET /appointments/{id}."""
        appointment = self.store.get_appointment(request.path_params["id"])
        return self._ok(self.spec.appointment_out(self.store, appointment))

    async def update_appointment(self, request: Request) -> Response:
        """PUT /appointments/{id}: partial update."""
        appointment = self.store.get_appointment(request.path_params["id"])
        body = await self._body(request, self.spec.appointment_update)
        appointment = self.store.update_appointment(appointment.id, body.model_dump(exclude_unset=True))
        return self._ok(self.spec.appointment_out(self.store, appointment))

    async def delete_appointment(self, request: Request) -> Response:
        """DELETE /appointments/{id}."""
        self.store.delete_appointment(request.path_params["id"])
        return no_content()

    async def cancel_appointment(self, request: Request) -> Response:
        """POST /appointments/{id}/cancel (v3): 409 if already cancelled."""
        assert self.spec.appointment_cancel is not None
        appointment = self.store.get_appointment(request.path_params["id"])
        body = await self._body(request, self.spec.appointment_cancel)
        appointment = self.store.cancel_appointment(appointment.id, body.model_dump()["reason"])
        return self._ok(self.spec.appointment_out(self.store, appointment))

    # --- health records and statistics ----------------------------------------------

    async def list_health_records(self, request: Request) -> Response:
        """GET /health-records."""
        records = queries.filter_health_records(self.store, request.query_params)
        return self._page(records, request, health_record, "health_records")

    async def create_health_record(self, request: Request) -> Response:
        """POST /health-records."""
        assert self.spec.health_record_create is not None
        body = await self._body(request, self.spec.health_record_create)
        record = self.store.add_health_record(body.model_dump())
        return self._ok(health_record(self.store, record), 201)

    async def get_health_record(self, request: Request) -> Response:
        """GET /health-records/{id}."""
        record = self.store.get_health_record(request.path_params["id"])
        return self._ok(health_record(self.store, record))

    async def delete_health_record(self, request: Request) -> Response:
        """DELETE /health-records/{id}."""
        self.store.delete_health_record(request.path_params["id"])
        return no_content()

    async def statistics(self, request: Request) -> Response:
        """GET /statistics."""
        return self._ok(self.store.statistics())
