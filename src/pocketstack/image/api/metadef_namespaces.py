"""``/v2/metadefs/namespaces`` (and their resource type associations) and
``/v2/metadefs/resource_types``.

Policy targets are the namespace's owner and visibility, so Glance's default rules read
as "admin writes; readers of the owning project, or anyone for a public namespace,
read".  The catalog then applies Glance's own visibility and ownership rules.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest, Forbidden
from pocketstack.image.api import metadef_render as render
from pocketstack.image.api.lists import list_links, list_paging
from pocketstack.image.api.metadef_common import read_body
from pocketstack.image.manager import ImageManager
from pocketstack.image.metadefs.records import NamespaceView
from pocketstack.image.metadefs.schemas import ASSOCIATION_VALIDATION, NAMESPACE_VALIDATION

SORT_KEYS = ("created_at", "updated_at", "namespace", "display_name", "visibility", "id")
NAMESPACE = "/v2/metadefs/namespaces/{namespace}"


def authorize_namespace(req: ApiRequest, manager: ImageManager, rule: str) -> NamespaceView:
    """The namespace of the path (404 if the caller cannot see it), after ``rule`` (403)."""
    namespace = manager.namespaces.get_namespace(req.context, req.path_params["namespace"])
    req.authorize(rule, namespace.policy_target())
    return namespace


def register(router: Router, manager: ImageManager) -> None:
    catalog = manager.namespaces

    @router.get("/v2/metadefs/namespaces")
    def list_namespaces(req: ApiRequest):
        req.authorize("get_metadef_namespaces", {"project_id": req.context.project_id})
        paging = list_paging(req, SORT_KEYS)
        visibility = req.query.get("visibility")
        if visibility is not None and visibility not in ("public", "private"):
            raise BadRequest(f"Invalid visibility value: {visibility}")
        types = [t.strip() for t in req.query.get("resource_types", "").split(",") if t.strip()]
        namespaces = catalog.list_namespaces(req.context, paging, visibility=visibility, resource_types=types)
        last = namespaces[-1].namespace if namespaces else None
        return {"namespaces": [render.namespace(n) for n in namespaces],
                "schema": "/v2/schemas/metadefs/namespaces",
                **list_links(req, "/v2/metadefs/namespaces", len(namespaces), paging.limit, last)}

    @router.post("/v2/metadefs/namespaces")
    def create_namespace(req: ApiRequest):
        body = read_body(req, NAMESPACE_VALIDATION)
        owner = body.get("owner", req.context.project_id)
        req.authorize("add_metadef_namespace", {"project_id": owner, "owner": owner,
                                                "visibility": body.get("visibility", "private")})
        if owner != req.context.project_id and not req.context.is_admin:
            raise Forbidden(f"You are not permitted to create namespace owned by '{owner}'")
        namespace = catalog.create_namespace(req.context, body)
        return json_response(render.namespace(namespace), status=201,
                             headers={"Location": f"{req.service_url}/v2/metadefs/namespaces/{namespace.namespace}"})

    @router.get(NAMESPACE)
    def show_namespace(req: ApiRequest):
        authorize_namespace(req, manager, "get_metadef_namespace")
        namespace = catalog.get_namespace(req.context, req.path_params["namespace"], detailed=True)
        return render.namespace(namespace, resource_type=req.query.get("resource_type"))

    @router.put(NAMESPACE)
    def update_namespace(req: ApiRequest):
        authorize_namespace(req, manager, "modify_metadef_namespace")
        body = read_body(req, NAMESPACE_VALIDATION)
        return render.namespace(catalog.update_namespace(req.context, req.path_params["namespace"], body))

    @router.delete(NAMESPACE)
    def delete_namespace(req: ApiRequest):
        authorize_namespace(req, manager, "delete_metadef_namespace")
        catalog.delete_namespace(req.context, req.path_params["namespace"])

    @router.get("/v2/metadefs/resource_types")
    def list_resource_types(req: ApiRequest):
        req.authorize("list_metadef_resource_types", {"project_id": req.context.project_id})
        return {"resource_types": [render.resource_type(t) for t in catalog.list_resource_types()]}

    @router.get(NAMESPACE + "/resource_types")
    def list_associations(req: ApiRequest):
        namespace = authorize_namespace(req, manager, "get_metadef_resource_type")
        return {"resource_type_associations": [render.association(a) for a in namespace.associations]}

    @router.post(NAMESPACE + "/resource_types")
    def associate(req: ApiRequest):
        namespace = authorize_namespace(req, manager, "add_metadef_resource_type_association")
        body = read_body(req, ASSOCIATION_VALIDATION)
        return json_response(render.association(catalog.associate(req.context, namespace.namespace, body)),
                             status=201)

    @router.delete(NAMESPACE + "/resource_types/{resource_type}")
    def dissociate(req: ApiRequest):
        namespace = authorize_namespace(req, manager, "remove_metadef_resource_type_association")
        catalog.dissociate(req.context, namespace.namespace, req.path_params["resource_type"])
