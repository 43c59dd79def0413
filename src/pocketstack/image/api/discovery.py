"""Version discovery (``/``, ``/versions``) and the schema documents (``/v2/schemas/*``,
``/v2/schemas/metadefs/*``)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import NotFound
from pocketstack.image.metadefs.schemas import DOCUMENTS as METADEF_DOCUMENTS
from pocketstack.image.schemas import DOCUMENTS

# Glance lists every minor version of v2 it speaks, newest (CURRENT) first.
CURRENT = (2, 16)


def versions_document(service_url: str) -> dict:
    href = f"{service_url}/v2/"
    values = [{"id": f"v2.{minor}", "status": "CURRENT" if minor == CURRENT[1] else "SUPPORTED",
               "links": [{"rel": "self", "href": href}]} for minor in range(CURRENT[1], -1, -1)]
    return {"versions": values}


def register(router: Router) -> None:
    @router.get("/", public=True)
    def root(req: ApiRequest):
        return json_response(versions_document(req.service_url), status=300)

    @router.get("/versions", public=True)
    def versions(req: ApiRequest):
        return versions_document(req.service_url)

    @router.get("/v2/schemas/{name}")
    def schema(req: ApiRequest):
        document = DOCUMENTS.get(req.path_params["name"])
        if document is None:
            raise NotFound("The resource could not be found.")
        return document

    @router.get("/v2/schemas/metadefs/{name}")
    def metadef_schema(req: ApiRequest):
        document = METADEF_DOCUMENTS.get(req.path_params["name"])
        if document is None:
            raise NotFound("The resource could not be found.")
        return document
