"""Version discovery: ``GET /volume/`` (300, all versions) and ``GET /volume/v3``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.volume.api.common import VERSIONS


def v3(req: ApiRequest) -> dict:
    """The one version this API serves, with its microversion range."""
    return {"id": "v3.0", "status": "CURRENT", "version": str(VERSIONS.maximum),
            "min_version": str(VERSIONS.minimum), "updated": "2023-08-31T00:00:00Z",
            "links": [{"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
                      {"rel": "self", "href": req.service_url + "/v3/"}],
            "media-types": [{"base": "application/json",
                             "type": "application/vnd.openstack.volume+json;version=3"}]}


class VersionsApi:
    @route.get("/", public=True)
    def root(self, req: ApiRequest) -> Response:
        """Every version (Cinder answers 300 Multiple Choices)."""
        return json_response({"versions": [v3(req)]}, status=300)

    @route.get("/v3", public=True)
    @route.get("/v3/", public=True)
    def show(self, req: ApiRequest) -> dict:
        return {"versions": [v3(req)]}
