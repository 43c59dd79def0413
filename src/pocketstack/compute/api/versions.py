"""Version discovery: ``/compute/`` lists the API versions, ``/compute/v2.1`` describes one;
clients read ``version`` (our maximum microversion) to decide what they may ask for.

As Nova, the list names the legacy v2.0 API too (deprecated, without microversions) and
``/compute/v2`` describes it; the v2.0 API itself is not served (its requests are the
2.1 ones), which is why only its root answers."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute.api.common import VERSIONS

_DESCRIBED_BY = {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}


def _v20(req: ApiRequest) -> dict:
    return {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "",
            "updated": "2025-07-04T12:00:00Z",
            "links": [{"rel": "self", "href": req.service_url + "/v2/"}, _DESCRIBED_BY],
            "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}]}


def _v21(req: ApiRequest) -> dict:
    return {"id": "v2.1", "status": "CURRENT", "version": str(VERSIONS.maximum),
            "min_version": str(VERSIONS.minimum), "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": req.service_url + "/v2.1/"}, _DESCRIBED_BY],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.compute+json;version=2.1"}]}


class VersionsApi:
    @route.get("/", public=True)
    def index(self, req: ApiRequest):
        """Each version with only its ``self`` link and no media types, as Nova lists them."""
        versions = []
        for version in (_v20(req), _v21(req)):
            version.pop("media-types")
            version["links"] = version["links"][:1]
            versions.append(version)
        return {"versions": versions}

    @route.get("/v2", public=True)
    @route.get("/v2/", public=True)
    def show_v20(self, req: ApiRequest):
        return {"version": _v20(req)}

    @route.get("/v2.1", public=True)
    @route.get("/v2.1/", public=True)
    def show(self, req: ApiRequest):
        return {"version": _v21(req)}
