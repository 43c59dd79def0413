"""``/v3/domains/{domain_id}/config/security_compliance``: the password rules any
token holder may read (Keystone shows only the regex and its description, and only
for the default domain), so clients can explain them before a change is refused."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity.compliance import READABLE
from pocketstack.identity.manager import Identity
from pocketstack.identity.resource import DEFAULT_DOMAIN_ID

CONFIG = "/v3/domains/{domain_id}/config/security_compliance"


class SecurityComplianceConfigApi:
    def __init__(self, identity: Identity):
        self.identity = identity

    def _readable(self, req: ApiRequest) -> dict[str, str | None]:
        req.authorize()
        if req.path_params["domain_id"] != DEFAULT_DOMAIN_ID:
            raise errors.InvalidDomainConfig(reason="Reading security compliance information for any domain other "
                                                    "than the default domain is not allowed or supported.")
        return self.identity.compliance.readable()

    @route.get(CONFIG, policy="identity:get_security_compliance_domain_config")
    @route.head(CONFIG, policy="identity:get_security_compliance_domain_config")
    def group(self, req: ApiRequest) -> dict:
        return {"config": {"security_compliance": self._readable(req)}}

    @route.get(CONFIG + "/{option}", policy="identity:get_security_compliance_domain_config")
    @route.head(CONFIG + "/{option}", policy="identity:get_security_compliance_domain_config")
    def option(self, req: ApiRequest) -> dict:
        readable, option = self._readable(req), req.path_params["option"]
        if option not in READABLE:
            raise errors.InvalidDomainConfig(reason="Reading security compliance values other than password_regex "
                                                    "and password_regex_description is not allowed.")
        return {"config": {option: readable[option]}}
