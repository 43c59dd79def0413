"""Version discovery (``/``, ``/versions``) and the schema documents (``/v2/schemas/*``,
``/v2/schemas/metadefs/*``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.image import errors
from pocketstack.image.metadefs.schemas import DOCUMENTS as METADEF_DOCUMENTS
from pocketstack.image.schemas import DOCUMENTS

# Glance lists every minor version of v2 it speaks, newest (CURRENT) first.
CURRENT = (2, 16)


def served_schema(documents: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The schema document ``name``; 404 for a name Glance does not serve."""
    document = documents.get(name)
    if document is None:
        raise errors.ResourceNotFound()
    return document


def versions_document(service_url: str) -> dict:
    href = f"{service_url}/v2/"
    values = [{"id": f"v2.{minor}", "status": "CURRENT" if minor == CURRENT[1] else "SUPPORTED",
               "links": [{"rel": "self", "href": href}]} for minor in range(CURRENT[1], -1, -1)]
    return {"versions": values}


class DiscoveryApi:
    """Version documents (public) and Glance's schema documents (any valid token)."""

    @route.get("/", public=True)
    def root(self, req: ApiRequest) -> Response:
        return json_response(versions_document(req.service_url), status=300)

    @route.get("/versions", public=True)
    def versions(self, req: ApiRequest) -> dict:
        return versions_document(req.service_url)

    @route.get("/v2/schemas/{name}")
    def schema(self, req: ApiRequest) -> dict:
        return served_schema(DOCUMENTS, req.path_params["name"])

    @route.get("/v2/schemas/metadefs/{name}")
    def metadef_schema(self, req: ApiRequest) -> dict:
        return served_schema(METADEF_DOCUMENTS, req.path_params["name"])
