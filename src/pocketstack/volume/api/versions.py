"""Version discovery: ``GET /volume/`` (300, all versions) and ``GET /volume/v3``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.volume.api.common import VERSIONS


def _v3(req: ApiRequest) -> dict:
    return {"id": "v3.0", "status": "CURRENT", "version": str(VERSIONS.maximum),
            "min_version": str(VERSIONS.minimum), "updated": "2023-08-31T00:00:00Z",
            "links": [{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": req.service_url + "/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.volume+json;version=3"}]}


def register(router, service) -> None:
    @router.get("/", public=True)
    def root(req: ApiRequest):
        return json_response({"versions": [_v3(req)]}, status=300)

    @router.get("/v3", public=True)
    @router.get("/v3/", public=True)
    def v3(req: ApiRequest):
        return {"versions": [_v3(req)]}
