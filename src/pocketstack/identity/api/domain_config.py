"""Domain-specific configuration (keystone/api/domains.py ``DomainConfig*``):
``/v3/domains/{domain_id}/config[/{group}[/{option}]]`` (GET, HEAD, PATCH, DELETE; PUT
on the whole), ``/v3/domains/config[/{group}[/{option}]]/default``, and the password
rules any token holder may read at ``/config/security_compliance`` (Keystone shows only
the regex and its description, and only for the default domain).

As in Keystone, a read checks the policy before it reveals whether the domain exists;
the writes check the policy, then the domain (404), then the configuration (403
``InvalidDomainConfig`` for a group or option a domain may not set, 404 for one it has
not set).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity.compliance import READABLE
from pocketstack.identity.manager import Identity
from pocketstack.identity.resource import DEFAULT_DOMAIN_ID

COMPLIANCE = "/v3/domains/{domain_id}/config/security_compliance"
CONFIG = "/v3/domains/{domain_id}/config"
GROUP = CONFIG + "/{group}"
OPTION = GROUP + "/{option}"
DEFAULT = "/v3/domains/config"


class SecurityComplianceConfigApi:
    def __init__(self, identity: Identity):
        self.identity = identity

    def _readable(self, req: ApiRequest) -> dict[str, str | None]:
        req.authorize("identity:get_security_compliance_domain_config")
        if req.path_params["domain_id"] != DEFAULT_DOMAIN_ID:
            raise errors.InvalidDomainConfig(reason="Reading security compliance information for any domain other "
                                                    "than the default domain is not allowed or supported.")
        return self.identity.compliance.readable()

    @route.get(COMPLIANCE, policy="identity:get_security_compliance_domain_config")
    @route.head(COMPLIANCE, policy="identity:get_security_compliance_domain_config")
    def group(self, req: ApiRequest) -> dict:
        return {"config": {"security_compliance": self._readable(req)}}

    @route.get(COMPLIANCE + "/{option}", policy="identity:get_security_compliance_domain_config")
    @route.head(COMPLIANCE + "/{option}", policy="identity:get_security_compliance_domain_config")
    def option(self, req: ApiRequest) -> dict:
        readable, option = self._readable(req), req.path_params["option"]
        if option not in READABLE:
            raise errors.InvalidDomainConfig(reason="Reading security compliance values other than password_regex "
                                                    "and password_regex_description is not allowed.")
        return {"config": {option: readable[option]}}


def _config_body(req: ApiRequest) -> Any:
    """The ``config`` object of the body (Keystone reads a missing one as empty, which
    its validation then refuses)."""
    data = req.json()
    if not isinstance(data, dict):
        raise errors.ValidationMessage(message="The request body must be a JSON object with a 'config' object.")
    return data.get("config", {})


class DomainConfigApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.configs = identity.domain_config
        self.compliance = SecurityComplianceConfigApi(identity)

    def _read(self, req: ApiRequest) -> dict:
        params = req.path_params
        req.authorize("identity:get_domain_config")
        missing: errors.NotFound | None = None
        try:
            self.identity.resource.get_domain(params["domain_id"])
        except errors.NotFound as error:
            # Keystone reads the configuration anyway, so its own 403 or 404 comes first.
            missing = error
        config = self.configs.get(params["domain_id"], params.get("group"), params.get("option"))
        if missing is not None:
            raise missing
        return {"config": config}

    def _write(self, req: ApiRequest) -> str:
        req.authorize()
        domain_id = req.path_params["domain_id"]
        self.identity.resource.get_domain(domain_id)
        return domain_id

    @route.get(CONFIG, policy="identity:get_domain_config")
    @route.head(CONFIG, policy="identity:get_domain_config")
    def show(self, req: ApiRequest) -> dict:
        return self._read(req)

    @route.get(GROUP, policy="identity:get_domain_config")
    @route.head(GROUP, policy="identity:get_domain_config")
    def show_group(self, req: ApiRequest) -> dict:
        if req.path_params["group"] == "security_compliance":
            return self.compliance.group(req)
        return self._read(req)

    @route.get(OPTION, policy="identity:get_domain_config")
    @route.head(OPTION, policy="identity:get_domain_config")
    def show_option(self, req: ApiRequest) -> dict:
        if req.path_params["group"] == "security_compliance":
            return self.compliance.option(req)
        return self._read(req)

    @route.put(CONFIG, policy="identity:create_domain_config")
    def create(self, req: ApiRequest) -> Response:
        domain_id = self._write(req)
        config, existed = self.configs.create(domain_id, _config_body(req))
        return json_response({"config": config}, status=200 if existed else 201)

    @route.patch(CONFIG, policy="identity:update_domain_config")
    @route.patch(GROUP, policy="identity:update_domain_config")
    @route.patch(OPTION, policy="identity:update_domain_config")
    def update(self, req: ApiRequest) -> dict:
        domain_id = self._write(req)
        params = req.path_params
        return {"config": self.configs.update(domain_id, _config_body(req), params.get("group"),
                                              params.get("option"))}

    @route.delete(CONFIG, policy="identity:delete_domain_config")
    @route.delete(GROUP, policy="identity:delete_domain_config")
    @route.delete(OPTION, policy="identity:delete_domain_config")
    def delete(self, req: ApiRequest) -> None:
        domain_id = self._write(req)
        self.configs.delete(domain_id, req.path_params.get("group"), req.path_params.get("option"))

    @route.get(DEFAULT + "/default", policy="identity:get_domain_config_default")
    @route.head(DEFAULT + "/default", policy="identity:get_domain_config_default")
    @route.get(DEFAULT + "/{group}/default", policy="identity:get_domain_config_default")
    @route.head(DEFAULT + "/{group}/default", policy="identity:get_domain_config_default")
    @route.get(DEFAULT + "/{group}/{option}/default", policy="identity:get_domain_config_default")
    @route.head(DEFAULT + "/{group}/{option}/default", policy="identity:get_domain_config_default")
    def default(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"config": self.configs.default(req.path_params.get("group"), req.path_params.get("option"))}
