"""Keystone to Keystone (keystone/api/os_federation.py, keystone/api/auth.py): the
service providers (``/v3/OS-FEDERATION/service_providers``), the SAML assertions a
token is exchanged for (``/v3/auth/OS-FEDERATION/saml2`` and ``.../saml2/ecp``) and the
identity provider's metadata (``/v3/OS-FEDERATION/saml2/metadata``).

Keystone creates service providers with ``PUT`` on the id the caller picks, and checks
policy before it validates a body.  The assertion routes take no policy (the token in
the body is the credential) and answer ``text/xml`` with the service provider's URLs in
``X-sp-url`` and ``X-auth-url``.
"""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.validation import parse_bool, validate
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body
from pocketstack.identity.auth import ValidatedToken
from pocketstack.identity.manager import Identity
from pocketstack.identity.saml_idp import Assertion

SPS = "/v3/OS-FEDERATION/service_providers"
SP = SPS + "/{sp_id}"
SAML2 = "/v3/auth/OS-FEDERATION/saml2"
METADATA = "/v3/OS-FEDERATION/saml2/metadata"
XML = "text/xml"


class ServiceProvidersApi:
    def __init__(self, identity: Identity):
        self.sps = identity.service_providers

    @route.get(SPS, policy="identity:list_service_providers")
    def list_sps(self, req: ApiRequest) -> dict:
        req.authorize()
        query = validate(dict(req.query), schemas.service_providers_query)
        filters: dict = {"id": query["id"]} if "id" in query else {}
        if "enabled" in query:
            filters["enabled"] = parse_bool(query["enabled"], "enabled")
        return render.collection(req.service_url, "OS-FEDERATION/service_providers", "service_providers",
                                 [render.service_provider(req.service_url, sp) for sp in self.sps.list_sps(filters)])

    @route.get(SP, policy="identity:get_service_provider")
    def show_sp(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"service_provider": render.service_provider(req.service_url, self.sps.get(req.path_params["sp_id"]))}

    @route.put(SP, policy="identity:create_service_provider")
    def create_sp(self, req: ApiRequest) -> Response:
        req.authorize()
        sp_id = req.path_params["sp_id"]
        if len(sp_id) > 64:
            raise errors.ValidationMessage(message=f"Invalid input for field 'id': '{sp_id[:80]}' is too long")
        fields = body(req, schemas.service_provider_create, "service_provider")
        sp = self.sps.create(sp_id, fields)
        return json_response({"service_provider": render.service_provider(req.service_url, sp)}, status=201)

    @route.patch(SP, policy="identity:update_service_provider")
    def update_sp(self, req: ApiRequest) -> dict:
        req.authorize()
        changes = body(req, schemas.service_provider_update, "service_provider")
        sp = self.sps.update(req.path_params["sp_id"], changes)
        return {"service_provider": render.service_provider(req.service_url, sp)}

    @route.delete(SP, policy="identity:delete_service_provider")
    def delete_sp(self, req: ApiRequest) -> None:
        req.authorize()
        self.sps.delete(req.path_params["sp_id"])


def token_assertion(identity: Identity, vt: ValidatedToken) -> Assertion:
    """What Keystone asserts of a project-scoped token: names of the user, its roles,
    the project, their domains, and the user's groups (memberships, with domain names)."""
    if vt.project is None or vt.project_domain is None:
        raise errors.ForbiddenAction(action="Use a project scoped token when attempting to create a SAML assertion")
    groups = []
    for group in identity.users.list_groups({}, user_id=vt.user.id):
        groups.append((group.name, identity.resource.get_domain(group.domain_id).name))
    return Assertion(user=vt.user.name, user_domain=vt.user_domain.name, roles=[r.name for r in vt.roles],
                     project=vt.project.name, project_domain=vt.project_domain.name, groups=groups)


class SamlIdpApi:
    """The identity provider's routes; its settings are read from ``identity`` on each
    request (tests swap them)."""

    def __init__(self, identity: Identity):
        self.identity = identity

    def _assert(self, req: ApiRequest) -> tuple[m.ServiceProvider, Assertion]:
        """Keystone's order: the body (400), the service provider (404, 403 when
        disabled), the token (404), its scope (403)."""
        data = req.json()
        auth = validate(data.get("auth") if isinstance(data, dict) else None, schemas.saml_create)
        sp_id = auth["scope"]["service_provider"]["id"]
        sp = self.identity.service_providers.get(sp_id)
        if not sp.enabled:
            raise errors.ServiceProviderDisabled(sp_id=sp_id)
        vt = self.identity.tokens.validate(auth["identity"]["token"]["id"])
        return sp, token_assertion(self.identity, vt)

    @staticmethod
    def _answer(xml: str, sp: m.ServiceProvider) -> Response:
        return Response(xml, media_type=XML, headers={"X-sp-url": sp.sp_url, "X-auth-url": sp.auth_url})

    @route.post(SAML2, public=True)
    def saml2(self, req: ApiRequest) -> Response:
        """A project-scoped token exchanged for a signed SAML Response for a service provider."""
        sp, asserted = self._assert(req)
        return self._answer(self.identity.saml_idp.response(req.service_url, sp.sp_url, asserted), sp)

    @route.post(SAML2 + "/ecp", public=True)
    def saml2_ecp(self, req: ApiRequest) -> Response:
        """The same Response in the ECP SOAP envelope (keystoneauth's Keystone2Keystone)."""
        sp, asserted = self._assert(req)
        return self._answer(self.identity.saml_idp.ecp(req.service_url, sp.sp_url, asserted,
                                                       sp.relay_state_prefix), sp)

    @route.get(METADATA, public=True)
    def metadata(self, req: ApiRequest) -> Response:
        """The identity provider's SAML metadata, for the service providers to trust."""
        return Response(self.identity.saml_idp.metadata(req.service_url), media_type=XML)
