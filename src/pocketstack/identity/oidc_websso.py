"""OpenID Connect WebSSO: what ``mod_auth_openidc`` does for Keystone's websso URLs in
its relying-party mode -- the authorization code flow (OpenID Connect Core §3.1).

The browser goes to the provider's ``authorization_endpoint`` with a ``state``, a
``nonce`` and a PKCE challenge (RFC 7636, S256) that the pending login keeps
(identity/websso_flow.py); the provider sends it back to the websso URL of the identity
provider with a ``code``, which is exchanged at the ``token_endpoint`` (as
``client_id``, with ``client_secret`` when there is one) for an ID token.  The ID token
is checked as the front end checks access tokens (identity/oidc.py: signature by the
provider's JWKS, issuer, expiry) with ``client_id`` as its audience and the sign-in's
nonce; its claims become the assertion, named as ``mod_auth_openidc`` names them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from pocketstack.identity import errors
from pocketstack.identity.oidc import FETCH_TIMEOUT, OidcFrontEnd, OidcVerifier, assertion

if TYPE_CHECKING:
    import httpx

    from pocketstack.identity.websso_flow import PendingLogin
else:  # only a cloud whose dashboard signs in by OpenID Connect fetches tokens
    from pocketstack.common.lazy import lazy

    httpx = lazy("httpx")


def _failed(reason: str) -> errors.WebSsoFailed:
    return errors.WebSsoFailed(reason=f"OpenID Connect sign-in failed: {reason}")


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OidcWebSso:
    """The providers of the OpenID Connect front end that have a ``client_id``."""

    state_parameter = "state"

    def __init__(self, front_end: OidcFrontEnd):
        self.front_end = front_end

    def _verifier(self, idp_id: str) -> OidcVerifier:
        return self.front_end.verifiers[idp_id]

    def handles(self, idp_id: str, protocol_id: str) -> bool:
        return self.front_end.handles(idp_id, protocol_id) and bool(self._verifier(idp_id).provider.client_id)

    def _endpoint(self, verifier: OidcVerifier, name: str) -> str:
        url = getattr(verifier.provider, name) or verifier.metadata().get(name)
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _failed(f"identity provider {verifier.provider.idp_id} publishes no {name}")
        return url

    def begin(self, pending: PendingLogin) -> str:
        verifier = self._verifier(pending.idp_id)
        p = verifier.provider
        pending.secrets.update(nonce=secrets.token_urlsafe(24), code_verifier=secrets.token_urlsafe(48))
        query = urlencode({"response_type": "code", "client_id": p.client_id, "redirect_uri": pending.redirect_uri,
                           "scope": p.scope, "state": pending.state, "nonce": pending.secrets["nonce"],
                           "code_challenge": _challenge(pending.secrets["code_verifier"]),
                           "code_challenge_method": "S256"})
        url = self._endpoint(verifier, "authorization_endpoint")
        return f"{url}{'&' if '?' in url else '?'}{query}"

    def is_answer(self, params: Mapping[str, str]) -> bool:
        return "state" in params and ("code" in params or "error" in params)

    def finish(self, pending: PendingLogin, params: Mapping[str, str]) -> dict[str, str]:
        if "error" in params:  # RFC 6749 §4.1.2.1: the user or the provider said no
            description = params.get("error_description")
            raise _failed(f"the identity provider answered {params['error']}" + (f": {description}" if description
                                                                                  else ""))
        verifier = self._verifier(pending.idp_id)
        id_token = self._exchange(verifier, pending, params["code"])
        return assertion(verifier.id_token_claims(id_token, pending.secrets["nonce"]))

    def _exchange(self, verifier: OidcVerifier, pending: PendingLogin, code: str) -> str:
        """The ID token the token endpoint gives for ``code`` (§3.1.3.1)."""
        p = verifier.provider
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri,
                "code_verifier": pending.secrets["code_verifier"]}
        auth = (p.client_id, p.client_secret) if p.client_secret else None
        if auth is None:
            form["client_id"] = p.client_id  # a public client (RFC 6749 §3.2.1)
        try:
            response = httpx.post(self._endpoint(verifier, "token_endpoint"), data=form, auth=auth,
                                  timeout=FETCH_TIMEOUT)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise _failed(f"the token endpoint of identity provider {p.idp_id} did not answer: {exc}") from None
        if not isinstance(body, dict):
            raise _failed(f"the token endpoint of identity provider {p.idp_id} answered no JSON object")
        if response.status_code != 200 or "error" in body:
            raise _failed(f"the identity provider refused the authorization code: {body.get('error')}")
        if not isinstance(body.get("id_token"), str):
            raise _failed(f"the token endpoint of identity provider {p.idp_id} answered no ID token")
        return body["id_token"]
