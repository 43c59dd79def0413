"""``GET /crossdomain.xml``: the cross-domain policy that lets Flash, Java and
Silverlight pages from other sites call the API (Swift's ``crossdomain`` middleware).

No token is needed; the policy's ``<allow-access-from>`` elements are the setting
``object_cross_domain_policy`` (Swift's ``cross_domain_policy``), by default Swift's
permissive one.
"""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route

DEFAULT_POLICY = '<allow-access-from domain="*" secure="false" />'


def document(policy: str) -> bytes:
    return ('<?xml version="1.0"?>\n'
            '<!DOCTYPE cross-domain-policy SYSTEM "http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n'
            f'<cross-domain-policy>\n{policy}\n</cross-domain-policy>').encode()


class CrossDomainApi:
    def __init__(self, policy: str = DEFAULT_POLICY):
        self.body = document(policy)

    @route.get("/crossdomain.xml", public=True)
    def crossdomain(self, req: ApiRequest) -> Response:
        return Response(self.body, media_type="application/xml")
