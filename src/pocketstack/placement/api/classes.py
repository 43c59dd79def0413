"""``/resource_classes`` (1.2) and ``/traits`` (1.6): the names inventories and
providers may use."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.placement import errors
from pocketstack.placement.api import render, schemas
from pocketstack.placement.catalog import Catalog, check_custom_name

CLASSES, TRAITS = "placement:resource_classes", "placement:traits"


def parse_name_filter(names: list[str], wanted: str) -> list[str]:
    """``?name=startswith:CUSTOM_`` or ``?name=in:A,B`` applied to ``names``."""
    if wanted.startswith("startswith:"):
        return [n for n in names if n.startswith(wanted[len("startswith:"):])]
    if wanted.startswith("in:"):
        chosen = set(wanted[3:].split(","))
        return [n for n in names if n in chosen]
    raise errors.BadNameFilter(value=wanted)


class ResourceClassesApi:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    @staticmethod
    def _body(req: ApiRequest, name: str) -> dict:
        return {"name": name, "links": [{"rel": "self", "href": f"{render.prefix(req)}/resource_classes/{name}"}]}

    @route.get("/resource_classes", policy=CLASSES, since="1.2")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"resource_classes": [self._body(req, n) for n in self.catalog.resource_classes()]}

    @route.post("/resource_classes", policy=CLASSES, since="1.2", body=schemas.resource_class)
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        name = req.data["name"]
        self.catalog.create_resource_class(name)
        return Response(status_code=201, headers={"Location": render.location(req, f"/resource_classes/{name}")})

    @route.get("/resource_classes/{name}", policy=CLASSES, since="1.2")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        name = req.path_params["name"]
        if not self.catalog.resource_class_exists(name):
            raise errors.ResourceClassNotFound(name=name)
        return self._body(req, name)

    @route.put("/resource_classes/{name}", policy=CLASSES, since="1.2", until="1.6")
    def rename(self, req: ApiRequest) -> Response:
        """1.2–1.6 renamed a class; renaming is refused here since a class in use cannot
        change name safely (after the rule, as Placement checks it first)."""
        req.authorize()
        raise errors.RenameNotSupported()

    @route.put("/resource_classes/{name}", policy=CLASSES, since="1.7")
    def put(self, req: ApiRequest) -> Response:
        """Create-or-confirm (201/204)."""
        req.authorize()
        name = req.path_params["name"]
        check_custom_name(name, "resource class")
        created = self.catalog.create_resource_class(name, exist_ok=True)
        headers = {"Location": render.location(req, f"/resource_classes/{name}")}
        return Response(status_code=201 if created else 204, headers=headers)

    @route.delete("/resource_classes/{name}", policy=CLASSES, since="1.2")
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.catalog.delete_resource_class(req.path_params["name"])


class TraitsApi:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    @route.get("/traits", policy=TRAITS, since="1.6")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        names = self.catalog.traits()
        if req.query.get("name"):
            names = parse_name_filter(names, req.query["name"])
        if "associated" in req.query:
            associated = req.query["associated"].lower()
            if associated not in ("true", "false"):
                raise errors.NotABoolean(name="associated")
            used = self.catalog.associated_traits()
            names = [n for n in names if (n in used) == (associated == "true")]
        return {"traits": names}

    @route.get("/traits/{name}", policy=TRAITS, since="1.6")
    def show(self, req: ApiRequest) -> None:
        req.authorize()
        name = req.path_params["name"]
        if self.catalog.unknown_traits({name}):
            raise errors.TraitNotFound(names=name)

    @route.put("/traits/{name}", policy=TRAITS, since="1.6")
    def put(self, req: ApiRequest) -> Response:
        req.authorize()
        name = req.path_params["name"]
        created = self.catalog.create_trait(name)
        return Response(status_code=201 if created else 204,
                        headers={"Location": render.location(req, f"/traits/{name}")})

    @route.delete("/traits/{name}", policy=TRAITS, since="1.6")
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.catalog.delete_trait(req.path_params["name"])
