"""``/v2/metadefs/namespaces`` (and their resource type associations) and
``/v2/metadefs/resource_types``.

Policy targets are the namespace's owner and visibility, so Glance's default rules read
as "admin writes; readers of the owning project, or anyone for a public namespace,
read".  The catalog then applies Glance's own visibility and ownership rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.image import errors
from pocketstack.image.api import metadef_render as render
from pocketstack.image.api import schemas
from pocketstack.image.api.lists import list_links, list_paging
from pocketstack.image.api.metadef_common import NAMESPACE, NAMESPACES, authorize_namespace, checked_body
from pocketstack.image.manager import ImageManager

SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "visibility", "id")


def namespace_filters(query: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """``(visibility, resource_types)`` of a namespace listing; 400 for a visibility
    other than ``public`` or ``private``."""
    visibility = query.get("visibility")
    if visibility is not None and visibility not in ("public", "private"):
        raise errors.InvalidFilterValue(name="visibility", value=visibility)
    types = [t.strip() for t in query.get("resource_types", "").split(",") if t.strip()]
    return visibility, types


def create_target(body: dict[str, Any], project_id: str | None) -> dict[str, Any]:
    """What ``add_metadef_namespace`` is checked against: the new namespace's owner."""
    owner = body.get("owner", project_id)
    return {"project_id": owner, "owner": owner, "visibility": body.get("visibility", "private")}


class NamespacesApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.catalog = manager.namespaces

    @route.get(NAMESPACES, policy="get_metadef_namespaces")
    def index(self, req: ApiRequest) -> dict:
        req.authorize("get_metadef_namespaces", {"project_id": req.caller.project_id})
        paging = list_paging(req, SORT_KEYS)
        visibility, types = namespace_filters(req.query)
        namespaces = self.catalog.list_namespaces(req.caller, paging, visibility=visibility, resource_types=types)
        last = namespaces[-1].namespace if namespaces else None
        return {"namespaces": [render.namespace(n) for n in namespaces],
                "schema": "/v2/schemas/metadefs/namespaces",
                **list_links(req, NAMESPACES, len(namespaces), paging.limit, last)}

    @route.post(NAMESPACES, policy="add_metadef_namespace", status=201)
    def create(self, req: ApiRequest) -> Response:
        body = checked_body(req.json(), schemas.NAMESPACE)
        target = create_target(body, req.caller.project_id)
        req.authorize("add_metadef_namespace", target)
        if target["owner"] != req.caller.project_id and not req.caller.is_admin:
            raise errors.NamespaceOwnerForbidden(owner=target["owner"])
        namespace = self.catalog.create_namespace(req.caller, body)
        return json_response(render.namespace(namespace), status=201,
                             headers={"Location": f"{req.service_url}{NAMESPACES}/{namespace.namespace}"})

    @route.get(NAMESPACE, policy="get_metadef_namespace")
    def show(self, req: ApiRequest) -> dict:
        authorize_namespace(req, self.manager, "get_metadef_namespace")
        namespace = self.catalog.get_namespace(req.caller, req.path_params["namespace"], detailed=True)
        return render.namespace(namespace, resource_type=req.query.get("resource_type"))

    @route.put(NAMESPACE, policy="modify_metadef_namespace")
    def update(self, req: ApiRequest) -> dict:
        authorize_namespace(req, self.manager, "modify_metadef_namespace")
        body = checked_body(req.json(), schemas.NAMESPACE)
        return render.namespace(self.catalog.update_namespace(req.caller, req.path_params["namespace"], body))

    @route.delete(NAMESPACE, policy="delete_metadef_namespace")
    def delete(self, req: ApiRequest) -> None:
        authorize_namespace(req, self.manager, "delete_metadef_namespace")
        self.catalog.delete_namespace(req.caller, req.path_params["namespace"])


class ResourceTypesApi:
    """Resource types, and their associations with a namespace."""

    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.catalog = manager.namespaces

    @route.get("/v2/metadefs/resource_types", policy="list_metadef_resource_types")
    def index(self, req: ApiRequest) -> dict:
        req.authorize("list_metadef_resource_types", {"project_id": req.caller.project_id})
        return {"resource_types": [render.resource_type(t) for t in self.catalog.list_resource_types()]}

    @route.get(NAMESPACE + "/resource_types", policy="get_metadef_resource_type")
    def associations(self, req: ApiRequest) -> dict:
        namespace = authorize_namespace(req, self.manager, "get_metadef_resource_type")
        return {"resource_type_associations": [render.association(a) for a in namespace.associations]}

    @route.post(NAMESPACE + "/resource_types", policy="add_metadef_resource_type_association", status=201)
    def associate(self, req: ApiRequest) -> Response:
        namespace = authorize_namespace(req, self.manager, "add_metadef_resource_type_association")
        body = checked_body(req.json(), schemas.ASSOCIATION)
        return json_response(render.association(self.catalog.associate(req.caller, namespace.namespace, body)),
                             status=201)

    @route.delete(NAMESPACE + "/resource_types/{resource_type}", policy="remove_metadef_resource_type_association")
    def dissociate(self, req: ApiRequest) -> None:
        namespace = authorize_namespace(req, self.manager, "remove_metadef_resource_type_association")
        self.catalog.dissociate(req.caller, namespace.namespace, req.path_params["resource_type"])
