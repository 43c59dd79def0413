"""``/v3/auth/OS-FEDERATION/…/websso``: Keystone's web single sign-on
(keystone/api/auth.py ``AuthFederationWebSSOResource``, ``AuthFederationWebSSOIDPsResource``).

Both URLs take ``GET`` and ``POST`` and answer the page that posts the unscoped token to
the ``origin`` dashboard (identity/websso.py).  An identity provider and protocol that a
WebSSO front end serves (identity/websso_flow.py; OpenID Connect's: identity/oidc_websso.py)
first send the browser
to the provider, whose answer comes back to the identity provider's websso URL; any
other signs in the assertion a trusted front proxy sent, as in Keystone.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity.api.common import federated_token
from pocketstack.identity.api.federation import assertion_of
from pocketstack.identity.manager import Identity
from pocketstack.identity.websso import WebSso
from pocketstack.identity.websso_flow import PENDING_COOKIE, WebSsoFlow, WebSsoProtocol

WEBSSO_ROOT = "/v3/auth/OS-FEDERATION"
WEBSSO = WEBSSO_ROOT + "/websso/{protocol_id}"
IDP_WEBSSO = WEBSSO_ROOT + "/identity_providers/{idp_id}/protocols/{protocol_id}/websso"


def _params(req: ApiRequest) -> dict[str, str]:
    """The query's parameters, and a posted form's (an identity provider's ``form_post``
    answer) over them."""
    params = dict(req.query)
    if req.method == "POST" and req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(req.body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


class WebSsoApi:
    def __init__(self, identity: Identity):
        self.identity = identity
        self.federation = identity.federation

    @property
    def websso(self) -> WebSso:
        return self.identity.websso

    @property
    def flow(self) -> WebSsoFlow:
        return self.identity.websso_flow

    @route.post(WEBSSO, public=True)
    @route.get(WEBSSO, public=True)
    def protocol_websso(self, req: ApiRequest) -> Response:
        """The protocol's identity provider: the one a front end serves it for, else the
        one whose remote id the assertion names in the protocol's ``remote_id_attribute``."""
        protocol_id = req.path_params["protocol_id"]
        served = [(idp_id, front_end) for idp_id, _ in self.federation.protocol_idps(protocol_id)
                  if (front_end := self.flow.front_end(idp_id, protocol_id)) is not None]
        if len(served) > 1:
            names = ", ".join(idp_id for idp_id, _ in served)
            raise errors.ValidationMessage(
                message=f"Identity providers {names} all sign in with protocol {protocol_id}: use "
                        f"{WEBSSO_ROOT}/identity_providers/{{idp_id}}/protocols/{protocol_id}/websso")
        if served:
            idp_id, front_end = served[0]
            return self._begin(req, front_end, idp_id, protocol_id)
        assertion = assertion_of(self.identity, req)
        idp_id = self._idp_of(protocol_id, assertion)
        return self._token_page(self.websso.origin(req.query.get("origin")), idp_id, protocol_id, assertion)

    @route.post(IDP_WEBSSO, public=True)
    @route.get(IDP_WEBSSO, public=True)
    def idp_websso(self, req: ApiRequest) -> Response:
        idp_id, protocol_id = req.path_params["idp_id"], req.path_params["protocol_id"]
        front_end = self.flow.front_end(idp_id, protocol_id)
        if front_end is None:
            origin = self.websso.origin(req.query.get("origin"))
            return self._token_page(origin, idp_id, protocol_id, assertion_of(self.identity, req))
        params = _params(req)
        if not front_end.is_answer(params):
            return self._begin(req, front_end, idp_id, protocol_id)
        origin, assertion = self.flow.finish(front_end, idp_id, protocol_id, params,
                                               req.raw.cookies.get(PENDING_COOKIE))
        response = self._token_page(origin, idp_id, protocol_id, assertion)
        response.delete_cookie(PENDING_COOKIE, path=_cookie_path(req))
        return response

    def _idp_of(self, protocol_id: str, assertion: dict[str, str]) -> str:
        for _idp_id, attribute in self.federation.protocol_idps(protocol_id):
            remote_id = assertion.get(attribute) if attribute else None
            if remote_id:
                return self.federation.idp_of_remote_id(remote_id)
        raise errors.FederatedAuthFailed(reason="Missing entity ID from environment")

    def _begin(self, req: ApiRequest, front_end: WebSsoProtocol, idp_id: str, protocol_id: str) -> Response:
        """To the identity provider, the pending login in a cookie for the way back; not
        for a dashboard that is not trusted, nor a disabled or unknown provider."""
        origin = self.websso.origin(req.query.get("origin"))
        idp, _remote_ids = self.federation.get_idp(idp_id)
        if not idp.enabled:
            raise errors.IdentityProviderDisabled(idp_id=idp_id)
        self.federation.get_protocol(idp_id, protocol_id)
        redirect_uri = (f"{req.service_url}{WEBSSO_ROOT}/identity_providers/{quote(idp_id, safe='')}/protocols/"
                        f"{quote(protocol_id, safe='')}/websso")
        url, sealed = self.flow.begin(front_end, idp_id, protocol_id, origin, redirect_uri,
                                      req.url.split("/v3/", 1)[0])
        response = RedirectResponse(url, status_code=302)
        response.set_cookie(PENDING_COOKIE, sealed, max_age=self.flow.pending.ttl, path=_cookie_path(req),
                            httponly=True, samesite="lax", secure=req.service_url.startswith("https:"))
        return response

    def _token_page(self, origin: str, idp_id: str, protocol_id: str, assertion: dict[str, str]) -> HTMLResponse:
        vt = federated_token(self.identity, idp_id, protocol_id, assertion)
        return HTMLResponse(self.websso.callback(origin, vt.token))


def _cookie_path(req: ApiRequest) -> str:
    """The pending login goes back to the websso URLs only."""
    return urlsplit(req.service_url).path.rstrip("/") + WEBSSO_ROOT + "/"
