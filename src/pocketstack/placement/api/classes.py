"""``/resource_classes`` (1.2) and ``/traits`` (1.6): the names inventories and
providers may use."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.placement.api import render, schemas
from pocketstack.placement.api.common import body, require, version
from pocketstack.placement.catalog import check_custom_name
from pocketstack.placement.manager import PlacementManager


def register(router: Router, manager: PlacementManager) -> None:
    catalog = manager.catalog

    def rc_body(req: ApiRequest, name: str) -> dict:
        return {"name": name, "links": [{"rel": "self", "href": f"{render.prefix(req)}/resource_classes/{name}"}]}

    @router.get("/resource_classes")
    def list_classes(req: ApiRequest):
        require(req, (1, 2))
        req.authorize("placement:resource_classes")
        return {"resource_classes": [rc_body(req, n) for n in catalog.resource_classes()]}

    @router.post("/resource_classes")
    def create_class(req: ApiRequest):
        require(req, (1, 2))
        req.authorize("placement:resource_classes")
        name = body(req, schemas.resource_class)["name"]
        catalog.create_resource_class(name)
        return Response(status_code=201, headers={"Location": render.location(req, f"/resource_classes/{name}")})

    @router.get("/resource_classes/{name}")
    def show_class(req: ApiRequest):
        require(req, (1, 2))
        req.authorize("placement:resource_classes")
        name = req.path_params["name"]
        if not catalog.resource_class_exists(name):
            raise NotFound(f"No such resource class {name}.")
        return rc_body(req, name)

    @router.put("/resource_classes/{name}")
    def put_class(req: ApiRequest):
        """1.7+: create-or-confirm (201/204).  1.2–1.6 renamed a class; renaming is
        refused here since a class in use cannot change name safely."""
        require(req, (1, 2))
        req.authorize("placement:resource_classes")
        name = req.path_params["name"]
        if version(req) < (1, 7):
            raise BadRequest("Renaming resource classes is not supported; use microversion 1.7 or later "
                             "to create a resource class with PUT.")
        check_custom_name(name, "resource class")
        created = catalog.create_resource_class(name, exist_ok=True)
        headers = {"Location": render.location(req, f"/resource_classes/{name}")}
        return Response(status_code=201 if created else 204, headers=headers)

    @router.delete("/resource_classes/{name}")
    def delete_class(req: ApiRequest):
        require(req, (1, 2))
        req.authorize("placement:resource_classes")
        catalog.delete_resource_class(req.path_params["name"])

    # -- traits ------------------------------------------------------------------------
    @router.get("/traits")
    def list_traits(req: ApiRequest):
        require(req, (1, 6))
        req.authorize("placement:traits")
        names = catalog.traits()
        wanted = req.query.get("name")
        if wanted:
            if wanted.startswith("startswith:"):
                names = [n for n in names if n.startswith(wanted[len("startswith:"):])]
            elif wanted.startswith("in:"):
                chosen = set(wanted[3:].split(","))
                names = [n for n in names if n in chosen]
            else:
                raise BadRequest(f"Badly formatted name parameter. Expected name query string parameter in form: "
                                 f"?name=[in|startswith]:[name1,name2|prefix]. Got: \"{wanted}\"")
        if "associated" in req.query:
            associated = req.query["associated"].lower()
            if associated not in ("true", "false"):
                raise BadRequest("The query parameter associated only accepts 'true' or 'false'")
            used = catalog.associated_traits()
            names = [n for n in names if (n in used) == (associated == "true")]
        return {"traits": names}

    @router.get("/traits/{name}")
    def show_trait(req: ApiRequest):
        require(req, (1, 6))
        req.authorize("placement:traits")
        name = req.path_params["name"]
        if catalog.unknown_traits({name}):
            raise NotFound(f"No such trait(s): {name}.")

    @router.put("/traits/{name}")
    def put_trait(req: ApiRequest):
        require(req, (1, 6))
        req.authorize("placement:traits")
        name = req.path_params["name"]
        created = catalog.create_trait(name)
        return Response(status_code=201 if created else 204,
                        headers={"Location": render.location(req, f"/traits/{name}")})

    @router.delete("/traits/{name}")
    def delete_trait(req: ApiRequest):
        require(req, (1, 6))
        req.authorize("placement:traits")
        catalog.delete_trait(req.path_params["name"])
