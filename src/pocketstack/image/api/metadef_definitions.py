"""``/v2/metadefs/namespaces/{namespace}/objects|properties|tags``: the definitions
inside a namespace.  The three families share their routes' shape (:class:`Definitions`
does the work) and differ in body schema, rendering, paging and Glance's policy rule
names, which each family's handler class declares."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.validation import parse_bool
from pocketstack.image import errors
from pocketstack.image.api import metadef_render as render
from pocketstack.image.api import schemas
from pocketstack.image.api.lists import list_links, list_paging
from pocketstack.image.api.metadef_common import NAMESPACE, NAMESPACES, authorize_namespace, checked_body
from pocketstack.image.manager import ImageManager
from pocketstack.image.metadefs.records import DefinitionView

SORT_KEYS = ("created_at", "updated_at", "name", "id")
MAX_TAG_LENGTH = 255
OBJECTS, PROPERTIES, TAGS = NAMESPACE + "/objects", NAMESPACE + "/properties", NAMESPACE + "/tags"


def split_definition(kind: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(name, the stored definition)`` of a request body (a tag stores nothing but its name)."""
    data = {k: v for k, v in body.items() if k != "name"}
    return body["name"], ({} if kind == "tag" else data)


def tag_name(name: str) -> str:
    """A tag name from the path; 400 when it is longer than Glance stores."""
    if len(name) > MAX_TAG_LENGTH:
        raise errors.TagNameTooLong(limit=MAX_TAG_LENGTH)
    return name


class Definitions:
    """The work of one family's routes: ``kind`` is the catalog's (``object``,
    ``property``, ``tag``), ``plural`` the path segment and the list key."""

    kind = ""
    plural = ""
    schema: dict[str, Any] = {}
    paged = True  # objects and tags page; properties come as one mapping

    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.definitions = manager.definitions

    def shape(self, namespace: str, view: DefinitionView) -> dict:
        raise NotImplementedError

    def _list(self, req: ApiRequest, rule: str) -> dict:
        namespace = authorize_namespace(req, self.manager, rule)
        if not self.paged:
            views = self.definitions.list(req.caller, namespace.namespace, self.kind)
            return {self.plural: {v.name: v.body for v in views}}
        paging = list_paging(req, SORT_KEYS)
        views = self.definitions.list(req.caller, namespace.namespace, self.kind, paging)
        path = f"{NAMESPACES}/{namespace.namespace}/{self.plural}"
        return {self.plural: [self.shape(namespace.namespace, v) for v in views],
                "schema": f"/v2/schemas/metadefs/{self.plural}",
                **list_links(req, path, len(views), paging.limit, views[-1].name if views else None)}

    def _create(self, req: ApiRequest, rule: str) -> Response:
        namespace = authorize_namespace(req, self.manager, rule)
        name, data = split_definition(self.kind, checked_body(req.json(), self.schema))
        view = self.definitions.create(req.caller, namespace.namespace, self.kind, name, data)
        return json_response(self.shape(namespace.namespace, view), status=201)

    def _delete_all(self, req: ApiRequest, rule: str) -> None:
        namespace = authorize_namespace(req, self.manager, rule)
        self.definitions.delete_all(req.caller, namespace.namespace, self.kind)

    def _show(self, req: ApiRequest, rule: str) -> dict:
        namespace = authorize_namespace(req, self.manager, rule)
        view = self.definitions.get(req.caller, namespace.namespace, self.kind, req.path_params["name"])
        return self.shape(namespace.namespace, view)

    def _update(self, req: ApiRequest, rule: str) -> dict:
        namespace = authorize_namespace(req, self.manager, rule)
        new_name, data = split_definition(self.kind, checked_body(req.json(), self.schema))
        view = self.definitions.update(req.caller, namespace.namespace, self.kind, req.path_params["name"],
                                       new_name, data)
        return self.shape(namespace.namespace, view)

    def _delete(self, req: ApiRequest, rule: str) -> None:
        namespace = authorize_namespace(req, self.manager, rule)
        self.definitions.delete(req.caller, namespace.namespace, self.kind, req.path_params["name"])


class ObjectsApi(Definitions):
    kind, plural, schema = "object", "objects", schemas.OBJECT

    def shape(self, namespace: str, view: DefinitionView) -> dict:
        return render.definition_object(namespace, view)

    @route.get(OBJECTS, policy="get_metadef_objects")
    def index(self, req: ApiRequest) -> dict:
        return self._list(req, "get_metadef_objects")

    @route.post(OBJECTS, policy="add_metadef_object", status=201)
    def create(self, req: ApiRequest) -> Response:
        return self._create(req, "add_metadef_object")

    @route.delete(OBJECTS, policy="delete_metadef_namespace")
    def delete_all(self, req: ApiRequest) -> None:
        self._delete_all(req, "delete_metadef_namespace")

    @route.get(OBJECTS + "/{name}", policy="get_metadef_object")
    def show(self, req: ApiRequest) -> dict:
        return self._show(req, "get_metadef_object")

    @route.put(OBJECTS + "/{name}", policy="modify_metadef_object")
    def update(self, req: ApiRequest) -> dict:
        return self._update(req, "modify_metadef_object")

    @route.delete(OBJECTS + "/{name}", policy="delete_metadef_object")
    def delete(self, req: ApiRequest) -> None:
        self._delete(req, "delete_metadef_object")


class PropertiesApi(Definitions):
    kind, plural, schema, paged = "property", "properties", schemas.PROPERTY, False

    def shape(self, namespace: str, view: DefinitionView) -> dict:
        return render.definition_property(view)

    @route.get(PROPERTIES, policy="get_metadef_properties")
    def index(self, req: ApiRequest) -> dict:
        return self._list(req, "get_metadef_properties")

    @route.post(PROPERTIES, policy="add_metadef_property", status=201)
    def create(self, req: ApiRequest) -> Response:
        return self._create(req, "add_metadef_property")

    @route.delete(PROPERTIES, policy="delete_metadef_namespace")
    def delete_all(self, req: ApiRequest) -> None:
        self._delete_all(req, "delete_metadef_namespace")

    @route.get(PROPERTIES + "/{name}", policy="get_metadef_property")
    def show(self, req: ApiRequest) -> dict:
        return self._show(req, "get_metadef_property")

    @route.put(PROPERTIES + "/{name}", policy="modify_metadef_property")
    def update(self, req: ApiRequest) -> dict:
        return self._update(req, "modify_metadef_property")

    @route.delete(PROPERTIES + "/{name}", policy="remove_metadef_property")
    def delete(self, req: ApiRequest) -> None:
        self._delete(req, "remove_metadef_property")


class TagsApi(Definitions):
    kind, plural, schema = "tag", "tags", schemas.TAG

    def shape(self, namespace: str, view: DefinitionView) -> dict:
        return render.tag(view)

    @route.get(TAGS, policy="get_metadef_tags")
    def index(self, req: ApiRequest) -> dict:
        return self._list(req, "get_metadef_tags")

    @route.post(TAGS, policy="add_metadef_tags", status=201)
    def create_many(self, req: ApiRequest) -> Response:
        """Create several tags; they replace the existing ones unless the request says
        ``X-Openstack-Append: true``."""
        namespace = authorize_namespace(req, self.manager, "add_metadef_tags")
        body = checked_body(req.json(), schemas.TAGS)
        append = parse_bool(req.headers.get("x-openstack-append", "false"), "X-Openstack-Append")
        views = self.definitions.replace_tags(req.caller, namespace.namespace, [t["name"] for t in body["tags"]],
                                              append=append)
        return json_response({"tags": [{"name": v.name} for v in views]}, status=201)

    @route.delete(TAGS, policy="delete_metadef_tags")
    def delete_all(self, req: ApiRequest) -> None:
        self._delete_all(req, "delete_metadef_tags")

    @route.post(TAGS + "/{name}", policy="add_metadef_tag", status=201)
    def create(self, req: ApiRequest) -> Response:
        namespace = authorize_namespace(req, self.manager, "add_metadef_tag")
        name = tag_name(req.path_params["name"])
        view = self.definitions.create(req.caller, namespace.namespace, "tag", name, {})
        return json_response(render.tag(view), status=201)

    @route.get(TAGS + "/{name}", policy="get_metadef_tag")
    def show(self, req: ApiRequest) -> dict:
        return self._show(req, "get_metadef_tag")

    @route.put(TAGS + "/{name}", policy="modify_metadef_tag")
    def update(self, req: ApiRequest) -> dict:
        return self._update(req, "modify_metadef_tag")

    @route.delete(TAGS + "/{name}", policy="delete_metadef_tag")
    def delete(self, req: ApiRequest) -> None:
        self._delete(req, "delete_metadef_tag")
