"""``/v2/metadefs/namespaces/{namespace}/objects|properties|tags``: the definitions
inside a namespace.  The three families share their routes' shape and differ in body
schema, rendering and policy rule names, which :data:`FAMILIES` spells out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import parse_bool
from pocketstack.common.errors import BadRequest
from pocketstack.image.api import metadef_render as render
from pocketstack.image.api.lists import list_links, list_paging
from pocketstack.image.api.metadef_common import read_body
from pocketstack.image.api.metadef_namespaces import NAMESPACE, authorize_namespace
from pocketstack.image.manager import ImageManager
from pocketstack.image.metadefs.records import DefinitionView
from pocketstack.image.metadefs.schemas import OBJECT_VALIDATION, PROPERTY_VALIDATION, TAG_VALIDATION, TAGS_VALIDATION

SORT_KEYS = ("created_at", "updated_at", "name", "id")
MAX_TAG_LENGTH = 255


@dataclass(frozen=True)
class Family:
    kind: str                 # the catalog's kind: "object" | "property" | "tag"
    plural: str               # the path segment and the list key
    rule: str                 # Glance's policy name stem: get_metadef_<rule>, add_metadef_<rule>…
                              # (lists: get_metadef_<plural>)
    remove_verb: str          # Glance says "remove" for properties, "delete" for the others
    delete_all_rule: str
    render: Callable[[str, DefinitionView], dict]
    paged: bool               # objects and tags page; properties come as one mapping


FAMILIES = (
    Family("object", "objects", "object", "delete", "delete_metadef_namespace",
           lambda ns, v: render.definition_object(ns, v), True),
    Family("property", "properties", "property", "remove", "delete_metadef_namespace",
           lambda ns, v: render.definition_property(v), False),
    Family("tag", "tags", "tag", "delete", "delete_metadef_tags", lambda ns, v: render.tag(v), True),
)
BODY_SCHEMAS = {"object": OBJECT_VALIDATION, "property": PROPERTY_VALIDATION, "tag": TAG_VALIDATION}


def _split(kind: str, body: dict) -> tuple[str, dict]:
    """(name, the stored definition) of a request body."""
    data = {k: v for k, v in body.items() if k != "name"}
    return body["name"], ({} if kind == "tag" else data)


def register(router: Router, manager: ImageManager) -> None:
    definitions = manager.definitions
    for family in FAMILIES:
        _register_family(router, manager, definitions, family)
    _register_tag_extras(router, manager, definitions)


def _register_family(router: Router, manager: ImageManager, definitions, family: Family) -> None:
    kind, collection = family.kind, f"{NAMESPACE}/{family.plural}"
    item = collection + "/{name}"

    def list_definitions(req: ApiRequest):
        namespace = authorize_namespace(req, manager, f"get_metadef_{family.plural}")
        if not family.paged:
            views = definitions.list(req.context, namespace.namespace, kind)
            return {family.plural: {v.name: v.body for v in views}}
        paging = list_paging(req, SORT_KEYS)
        views = definitions.list(req.context, namespace.namespace, kind, paging)
        path = f"/v2/metadefs/namespaces/{namespace.namespace}/{family.plural}"
        return {family.plural: [family.render(namespace.namespace, v) for v in views],
                "schema": f"/v2/schemas/metadefs/{family.plural}",
                **list_links(req, path, len(views), paging.limit, views[-1].name if views else None)}

    def create_definition(req: ApiRequest):
        namespace = authorize_namespace(req, manager, f"add_metadef_{family.rule}")
        name, data = _split(kind, read_body(req, BODY_SCHEMAS[kind]))
        view = definitions.create(req.context, namespace.namespace, kind, name, data)
        return json_response(family.render(namespace.namespace, view), status=201)

    def delete_definitions(req: ApiRequest):
        namespace = authorize_namespace(req, manager, family.delete_all_rule)
        definitions.delete_all(req.context, namespace.namespace, kind)

    def show_definition(req: ApiRequest):
        namespace = authorize_namespace(req, manager, f"get_metadef_{family.rule}")
        view = definitions.get(req.context, namespace.namespace, kind, req.path_params["name"])
        return family.render(namespace.namespace, view)

    def update_definition(req: ApiRequest):
        namespace = authorize_namespace(req, manager, f"modify_metadef_{family.rule}")
        new_name, data = _split(kind, read_body(req, BODY_SCHEMAS[kind]))
        view = definitions.update(req.context, namespace.namespace, kind, req.path_params["name"], new_name, data)
        return family.render(namespace.namespace, view)

    def delete_definition(req: ApiRequest):
        namespace = authorize_namespace(req, manager, f"{family.remove_verb}_metadef_{family.rule}")
        definitions.delete(req.context, namespace.namespace, kind, req.path_params["name"])

    for handler in (list_definitions, create_definition, delete_definitions, show_definition,
                    update_definition, delete_definition):
        handler.__name__ = f"{handler.__name__}_{family.plural}"
    router.get(collection)(list_definitions)
    if kind != "tag":  # POST .../tags creates several at once (below)
        router.post(collection)(create_definition)
    router.delete(collection)(delete_definitions)
    router.get(item)(show_definition)
    router.put(item)(update_definition)
    router.delete(item)(delete_definition)


def _register_tag_extras(router: Router, manager: ImageManager, definitions) -> None:
    @router.post(NAMESPACE + "/tags/{name}")
    def create_tag(req: ApiRequest):
        namespace = authorize_namespace(req, manager, "add_metadef_tag")
        name = req.path_params["name"]
        if len(name) > MAX_TAG_LENGTH:
            raise BadRequest(f"Tag names are at most {MAX_TAG_LENGTH} characters long.")
        view = definitions.create(req.context, namespace.namespace, "tag", name, {})
        return json_response(render.tag(view), status=201)

    @router.post(NAMESPACE + "/tags")
    def create_tags(req: ApiRequest):
        """Create several tags; they replace the existing ones unless the request says
        ``X-Openstack-Append: true``."""
        namespace = authorize_namespace(req, manager, "add_metadef_tags")
        body = read_body(req, TAGS_VALIDATION)
        append = parse_bool(req.headers.get("x-openstack-append", "false"), "X-Openstack-Append")
        views = definitions.replace_tags(req.context, namespace.namespace, [t["name"] for t in body["tags"]],
                                         append=append)
        return json_response({"tags": [{"name": v.name} for v in views]}, status=201)
