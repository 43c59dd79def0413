"""The five CRUD routes every Keystone entity collection has, served once.

``/v3/domains``, ``/v3/projects``, ``/v3/users``, ``/v3/groups``, ``/v3/roles``,
``/v3/regions``, ``/v3/services``, ``/v3/endpoints`` and ``/v3/policies`` list, create,
show, update and delete the same way: an ``{"<entity>": {...}}`` envelope validated against the family's
schema (after the policy check, as Keystone does), the entity's own attributes split
from the extra ones Keystone stores verbatim, a ``links`` collection.  A :class:`Family`
says what differs -- rule names, filters, the logic calls, the rendering -- and one
:class:`EntityApi` per family serves it.

The routes are declared once, on :class:`EntityApi`, with the operation (``list``,
``get``, ...) as a placeholder policy and ``{id}`` as the path parameter;
:meth:`EntityApi.adapt_route` gives each instance's routes the family's own rule names
and parameter name as the router collects them, so ``openapi.json`` and the policy check see the real
ones (``identity:get_user`` on ``/v3/users/{user_id}``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import RouteSpec, route
from pocketstack.identity.api import render
from pocketstack.identity.api.common import body, filters, split_extra

LIST, GET, CREATE, UPDATE, DELETE = "list", "get", "create", "update", "delete"


def crud_rules(key: str, plural: str) -> dict[str, str]:
    """Keystone's rule names for an entity: ``identity:list_users``, ``identity:get_user``..."""
    return {LIST: f"identity:list_{plural}", GET: f"identity:get_{key}", CREATE: f"identity:create_{key}",
            UPDATE: f"identity:update_{key}", DELETE: f"identity:delete_{key}"}


def catalog_rules(key: str, plural: str) -> dict[str, str]:
    """The catalog's rule names: one ``manage`` rule for every write."""
    manage = f"identity:manage_{plural}"
    return {LIST: f"identity:list_{plural}", GET: f"identity:get_{key}", CREATE: manage, UPDATE: manage,
            DELETE: manage}


def no_target(entity_id: str) -> dict[str, Any] | None:
    return None


@dataclass(frozen=True)
class Family:
    """One entity collection: what its CRUD routes call and show."""

    key: str                                   # "user": the body's envelope
    plural: str                                # "users": the collection's path and key
    fields: frozenset[str]                     # the entity's own attributes; the rest is "extra"
    create_schema: dict[str, Any]
    update_schema: dict[str, Any]
    rules: Mapping[str, str]                   # operation -> policy rule name
    find: Callable[[dict[str, Any]], list[Any]]                # filters -> entities
    fetch: Callable[[str], Any]                                 # id -> entity (404 if none)
    add: Callable[[dict[str, Any], dict[str, Any]], Any]       # (own, extra) -> new entity
    change: Callable[[str, dict[str, Any]], Any]               # (id, changes) -> entity
    remove: Callable[[str], None]
    # (service URL, entities) -> their API bodies, in order (one call: tags in one query).
    render: Callable[[str, list[Any]], list[dict[str, Any]]]
    filters: tuple[str, ...] = ()              # query filters the list accepts
    bools: tuple[str, ...] = ("enabled",)      # ... of which these are booleans
    # The list rule targets the domain_id filter (the filters are then parsed first).
    scoped_list: bool = False
    # The show rule's target, from the id (may look the entity up: a 404 before the 403).
    target: Callable[[str], dict[str, Any] | None] = no_target
    # Adds what the query asks for to a shown entity (a project's parents and subtree).
    decorate: Callable[[ApiRequest, Any, dict[str, Any]], None] | None = None

    @property
    def param(self) -> str:
        """The id's path parameter: ``user_id``."""
        return f"{self.key}_id"

    def show(self, base: str, entity: Any) -> dict[str, Any]:
        return self.render(base, [entity])[0]


class EntityApi:
    """List, create, show, update and delete one :class:`Family`'s entities."""

    def __init__(self, family: Family):
        self.family = family

    def _id(self, req: ApiRequest) -> str:
        return str(req.path_params[self.family.param])

    def adapt_route(self, spec: RouteSpec) -> RouteSpec:
        """The family's rule name for the operation and its path parameter name."""
        assert spec.policy is not None
        return dataclasses.replace(spec, path=spec.path.replace("{id}", "{" + self.family.param + "}"),
                                   policy=self.family.rules[spec.policy])

    @route.get("", policy=LIST)
    def index(self, req: ApiRequest) -> dict[str, Any]:
        """List the collection, filtered by the query."""
        family = self.family
        if family.scoped_list:
            wanted = filters(req, family.filters, family.bools)
            req.authorize(target={"target.domain_id": wanted.get("domain_id")})
        else:
            req.authorize()
            wanted = filters(req, family.filters, family.bools)
        return render.collection(req.service_url, family.plural, family.plural,
                                 family.render(req.service_url, family.find(wanted)))

    @route.post("", policy=CREATE)
    def create(self, req: ApiRequest):
        """Create an entity (201)."""
        req.authorize()
        family = self.family
        own, extra = split_extra(body(req, family.create_schema, family.key), family.fields)
        entity = family.add(own, extra)
        return json_response({family.key: family.show(req.service_url, entity)}, status=201)

    @route.get("/{id}", policy=GET)
    def show(self, req: ApiRequest) -> dict[str, Any]:
        """Show an entity."""
        family, entity_id = self.family, self._id(req)
        req.authorize(target=family.target(entity_id))
        entity = family.fetch(entity_id)
        shown = family.show(req.service_url, entity)
        if family.decorate is not None:
            family.decorate(req, entity, shown)
        return {family.key: shown}

    @route.patch("/{id}", policy=UPDATE)
    def update(self, req: ApiRequest) -> dict[str, Any]:
        """Update an entity: the attributes given, extra ones merged."""
        req.authorize()
        family = self.family
        own, extra = split_extra(body(req, family.update_schema, family.key), family.fields)
        if extra:
            own["extra"] = extra
        return {family.key: family.show(req.service_url, family.change(self._id(req), own))}

    @route.delete("/{id}", policy=DELETE)
    def delete(self, req: ApiRequest) -> None:
        """Delete an entity (204)."""
        req.authorize()
        self.family.remove(self._id(req))
