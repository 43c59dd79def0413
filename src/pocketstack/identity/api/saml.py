"""The SAML service provider's routes (identity/saml.py): mellon's metadata and
assertion consumers, the ECP start of the ``auth`` route, and WebSSO
(``/v3/auth/OS-FEDERATION/.../websso``, keystone/api/auth.py) for SAML identity providers.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, quote, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from pocketstack.common.api.request import ApiRequest
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
    SESSION_COOKIE,
    SESSION_LIFETIME,
    SESSION_PURPOSE,
    SHIBBOLETH_ECP_PATH,
    Pending,
    SamlFrontEnd,
    Site,
    mellon_attributes,
    refused,
    shibboleth_attributes,
    wants_ecp,
)
from pocketstack.identity.websso_flow import PendingLogin

WEBSSO = "/v3/auth/OS-FEDERATION/websso/{protocol_id}"
IDP_WEBSSO = "/v3/auth/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/websso"
AUTH = "/v3/OS-FEDERATION/identity_providers/{idp_id}/protocols/{protocol_id}/auth"


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


def ecp_session(identity: Identity, req: ApiRequest, idp_id: str, protocol_id: str) -> dict[str, str] | None:
    """The assertion of the ECP sign-in whose session cookie came with ``req`` for this
    identity provider and protocol (a session of an unsolicited Response, Keystone to
    Keystone's, is the identity provider's for any of its SAML protocols: the client
    takes its token at the auth URL it knows); None without one (or an expired or
    foreign one)."""
    sealed = req.raw.cookies.get(SESSION_COOKIE)
    session = identity.receipt_keys.unseal(SESSION_PURPOSE, sealed, SESSION_LIFETIME) if sealed else None
    if session is None or session.get("idp_id") != idp_id or session.get("protocol_id") not in (protocol_id, None):
        return None
    assertion = session.get("assertion")
    return assertion if isinstance(assertion, dict) else None


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
            raise errors.SamlNotConfigured()

    @route.get(METADATA_PATH, public=True)
    def metadata(self, req: ApiRequest) -> Response:
        """The service provider's SAML metadata, for the identity providers' configuration."""
        self._configured()
        return Response(self.saml.provider(site(req)).metadata(), media_type="application/samlmetadata+xml")

    @route.post(PAOS_PATH, public=True, status=303)
    def paos_response(self, req: ApiRequest) -> Response:
        """ECP's last step: the identity provider's Response, answered as mellon does --
        a session, and back to the ``auth`` URL the sign-in started from, where the
        client (keystoneauth, Tempest) takes its token with the session's cookie."""
        return self._ecp_session(req, site(req), mellon_attributes)

    @route.post(SHIBBOLETH_ECP_PATH, public=True, status=303)
    def shibboleth_ecp(self, req: ApiRequest) -> Response:
        """Shibboleth's ECP consumer (also served at the server's root, identity/service.py):
        the same, its attributes named as Shibboleth exports them.  The Response's
        Destination is Shibboleth's URL at the root of the host the request reached."""
        parts = urlsplit(req.url)
        where = Site(req.service_url, req.service_url, f"{parts.scheme}://{parts.netloc}{SHIBBOLETH_ECP_PATH}")
        return self._ecp_session(req, where, shibboleth_attributes)

    def _ecp_session(self, req: ApiRequest, where: Site, naming) -> Response:
        self._configured()
        pending, issuer, assertion = self.saml.consume(where, req.body.decode("utf-8", "replace"), ecp=True,
                                                       naming=naming)
        idp_id, protocol_id = (pending.idp_id, pending.protocol_id) if pending else self._unsolicited(issuer)
        path = AUTH.format(idp_id=quote(idp_id, safe=""), protocol_id=quote(protocol_id, safe=""))
        response = RedirectResponse(where.base_url + path, status_code=303)
        sealed = self.identity.receipt_keys.seal(SESSION_PURPOSE, {
            "idp_id": idp_id, "protocol_id": pending.protocol_id if pending else None, "assertion": assertion})
        response.set_cookie(SESSION_COOKIE, sealed, max_age=SESSION_LIFETIME, httponly=True, samesite="lax",
                            path=urlsplit(where.base_url).path.rstrip("/") + AUTH.split("{", 1)[0],
                            secure=where.base_url.startswith("https:"))
        return response

    def _unsolicited(self, issuer: str) -> tuple[str, str]:
        """The identity provider (its remote id the issuer) and SAML protocol an
        unsolicited Response signs in through (Keystone to Keystone); 401 for none."""
        try:
            idp_id = self.identity.federation.idp_of_remote_id(issuer)
        except errors.IdentityProviderNotFound:
            raise refused(f"no identity provider has the remote id {issuer}") from None
        protocols = {p.id for p in self.identity.federation.list_protocols(idp_id)}
        protocol_id = next((p for p in PROTOCOLS if p in protocols), None)
        if protocol_id is None:
            raise refused(f"identity provider {idp_id} has no SAML protocol ({', '.join(PROTOCOLS)})")
        return idp_id, protocol_id

    @route.post(POST_PATH, public=True)
    def post_response(self, req: ApiRequest) -> Response:
        """WebSSO's return (HTTP-POST binding): the page posting the token to the dashboard."""
        self._configured()
        form = parse_qs(req.body.decode("ascii", "replace"))
        message = form.get("SAMLResponse", [""])[0]
        if not message:
            raise errors.ValidationMessage(message="Expected a SAMLResponse form field (HTTP-POST binding)")
        pending, _issuer, assertion = self.saml.consume(site(req), message, ecp=False)
        assert pending is not None and pending.origin is not None  # a WebSSO request's (consume checks it)
        vt = federated_token(self.identity, pending.idp_id, pending.protocol_id, assertion)
        return HTMLResponse(self.identity.websso.callback(pending.origin, vt.token))


class SamlWebSso:
    """WebSSO's SAML front end (identity/websso_flow.py): the AuthnRequest by the
    HTTP-Redirect binding; the Response comes back to mellon's postResponse (its request
    id finds the pending login there), not to the websso URL."""

    state_parameter = "RelayState"

    def __init__(self, identity: Identity):
        self.identity = identity

    def handles(self, idp_id: str, protocol_id: str) -> bool:
        return saml_entity(self.identity, idp_id, protocol_id) is not None

    def begin(self, pending: PendingLogin) -> str:
        entity = saml_entity(self.identity, pending.idp_id, pending.protocol_id)
        assert entity is not None  # handles() said so
        where = Site(pending.base_url, pending.redirect_uri.split("/v3/", 1)[0])
        return self.identity.saml.redirect(where, Pending(pending.idp_id, pending.protocol_id, entity, pending.origin))

    def is_answer(self, params: Mapping[str, str]) -> bool:
        return False

    def finish(self, pending: PendingLogin, params: Mapping[str, str]) -> dict[str, str]:
        raise errors.WebSsoFailed(reason="A SAML Response goes to the assertion consumer, not the websso URL")
