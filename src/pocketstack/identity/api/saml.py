"""The SAML service provider's routes (identity/saml.py): mellon's metadata and
assertion consumers, the ECP start of the ``auth`` route, and WebSSO
(``/v3/auth/OS-FEDERATION/.../websso``, keystone/api/auth.py) for SAML identity providers.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.responses import HTMLResponse, RedirectResponse, Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity.api.common import federated_token
from pocketstack.identity.manager import Identity
from pocketstack.identity.saml import (
    METADATA_PATH,
    PAOS_MEDIA_TYPE,
    PAOS_PATH,
    POST_PATH,
    PROTOCOLS,
    Pending,
    SamlFrontEnd,
    Site,
    wants_ecp,
)

WEBSSO = "/v3/auth/OS-FEDERATION/websso/{protocol_id}"
IDP_WEBSSO = "/v3/auth/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/websso"


def site(req: ApiRequest) -> Site:
    """The service provider's URLs for ``req``: its endpoints under the identity API's
    URL as this request reached it (Host, scheme, mount), as mod_auth_mellon builds
    them; its default entityID under the configured public URL."""
    return Site(req.url.split("/v3/", 1)[0], req.service_url)


def saml_entity(identity: Identity, idp_id: str, protocol_id: str) -> str | None:
    """The SAML identity provider (entityID) of ``idp_id``'s protocol; None when it signs
    in some other way (no SAML metadata names one of its remote ids)."""
    saml = identity.saml
    if not saml.entities or protocol_id not in PROTOCOLS:
        return None
    _, remote_ids = identity.federation.get_idp(idp_id)
    return saml.entity_of(protocol_id, remote_ids)


def ecp_start(identity: Identity, req: ApiRequest, idp_id: str, protocol_id: str, entity: str) -> Response:
    """An ECP client's first request: the PAOS envelope of an AuthnRequest (a 401 for a
    request that is no ECP client's: browsers sign in by WebSSO)."""
    if not wants_ecp(req.headers.get("accept"), req.headers.get("paos")):
        raise errors.FederatedAuthFailed(
            reason=f"Identity provider {idp_id} signs in by SAML: as an ECP client (Accept: {PAOS_MEDIA_TYPE} and "
                   f"the ECP PAOS header), or by WebSSO ({IDP_WEBSSO.format(idp_id=idp_id, protocol_id=protocol_id)})")
    envelope = identity.saml.ecp_request(site(req), Pending(idp_id, protocol_id, entity))
    return Response(envelope, media_type=PAOS_MEDIA_TYPE)


class SamlApi:
    """mellon's endpoints and WebSSO; the front end is read from ``identity`` on each
    request (tests and the fuzzer swap it)."""

    def __init__(self, identity: Identity):
        self.identity = identity

    @property
    def saml(self) -> SamlFrontEnd:
        return self.identity.saml

    def _configured(self) -> None:
        """mellon's routes exist with SAML identity providers only (404 otherwise, as
        Keystone without mod_auth_mellon answers)."""
        if not self.saml.entities:
            raise errors.NotFound("The resource could not be found.")

    @route.get(METADATA_PATH, public=True)
    def metadata(self, req: ApiRequest) -> Response:
        """The service provider's SAML metadata, for the identity providers' configuration."""
        self._configured()
        return Response(self.saml.provider(site(req)).metadata(), media_type="application/samlmetadata+xml")

    @route.post(PAOS_PATH, public=True, status=201)
    def paos_response(self, req: ApiRequest) -> Response:
        """ECP's last step: the identity provider's Response, answered with the token."""
        self._configured()
        pending, assertion = self.saml.consume(site(req), req.body.decode("utf-8", "replace"), ecp=True)
        vt = federated_token(self.identity, pending.idp_id, pending.protocol_id, assertion)
        return json_response(self.identity.tokens.render(vt, catalog=False), status=201,
                             headers={"X-Subject-Token": vt.token})

    @route.post(POST_PATH, public=True)
    def post_response(self, req: ApiRequest) -> Response:
        """WebSSO's return (HTTP-POST binding): the page posting the token to the dashboard."""
        self._configured()
        form = parse_qs(req.body.decode("ascii", "replace"))
        message = form.get("SAMLResponse", [""])[0]
        if not message:
            raise errors.ValidationMessage(message="Expected a SAMLResponse form field (HTTP-POST binding)")
        pending, assertion = self.saml.consume(site(req), message, ecp=False)
        assert pending.origin is not None  # a WebSSO request's (consume checks it)
        vt = federated_token(self.identity, pending.idp_id, pending.protocol_id, assertion)
        return HTMLResponse(self.identity.websso.callback(pending.origin, vt.token))

    # -- WebSSO ------------------------------------------------------------------------------
    @route.get(WEBSSO, public=True, status=302)
    @route.post(WEBSSO, public=True, status=302)
    def websso(self, req: ApiRequest) -> Response:
        """WebSSO by protocol: the one SAML identity provider with that protocol."""
        origin = self.identity.websso.origin(req.query.get("origin"))
        protocol_id = req.path_params["protocol_id"]
        found = [(idp.id, entity) for idp, remote_ids in self.identity.federation.list_idps({})
                 if (entity := self.saml.entity_of(protocol_id, remote_ids)) is not None
                 and any(p.id == protocol_id for p in self.identity.federation.list_protocols(idp.id))]
        if not found:
            raise errors.ValidationMessage(message=f"No SAML identity provider has protocol {protocol_id}")
        if len(found) > 1:
            raise errors.ValidationMessage(message=f"Several SAML identity providers have protocol {protocol_id}: "
                                                   f"sign in at {IDP_WEBSSO}")
        idp_id, entity = found[0]
        return self._redirect(req, idp_id, protocol_id, entity, origin)

    @route.get(IDP_WEBSSO, public=True, status=302)
    @route.post(IDP_WEBSSO, public=True, status=302)
    def idp_websso(self, req: ApiRequest) -> Response:
        origin = self.identity.websso.origin(req.query.get("origin"))
        idp_id, protocol_id = req.path_params["idp_id"], req.path_params["protocol_id"]
        self.identity.federation.get_protocol(idp_id, protocol_id)
        entity = saml_entity(self.identity, idp_id, protocol_id)
        if entity is None:
            raise errors.ValidationMessage(
                message=f"Identity provider {idp_id} has no SAML metadata for WebSSO with protocol {protocol_id}")
        return self._redirect(req, idp_id, protocol_id, entity, origin)

    def _redirect(self, req: ApiRequest, idp_id: str, protocol_id: str, entity: str, origin: str) -> Response:
        """To the identity provider with an AuthnRequest (HTTP-Redirect binding)."""
        location = self.saml.redirect(site(req), Pending(idp_id, protocol_id, entity, origin))
        return RedirectResponse(location, status_code=302)

