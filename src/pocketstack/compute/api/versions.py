"""Version discovery: ``/compute/`` lists the API versions, ``/compute/v2.1`` describes one;
clients read ``version`` (our maximum microversion) to decide what they may ask for."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute.api.common import VERSIONS


def _v21(req: ApiRequest) -> dict:
    return {"id": "v2.1", "status": "CURRENT", "version": str(VERSIONS.maximum),
            "min_version": str(VERSIONS.minimum), "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": req.service_url + "/v2.1/"},
                      {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


class VersionsApi:
    @route.get("/", public=True)
    def index(self, req: ApiRequest):
        version = _v21(req)
        version.pop("media-types")
        return {"versions": [version]}

    @route.get("/v2.1", public=True)
    @route.get("/v2.1/", public=True)
    def show(self, req: ApiRequest):
        return {"version": _v21(req)}
