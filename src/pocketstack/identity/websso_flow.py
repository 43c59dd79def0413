"""WebSSO's round trip through an identity provider, the part every protocol shares
(the origin check and the page that hands the dashboard its token: identity/websso.py).

In Keystone an Apache module (``mod_auth_openidc``, ``mod_shib``) runs the browser's
round trip to the identity provider before Keystone sees the request.  Here a
:class:`WebSsoProtocol` front end does it: :meth:`~WebSsoProtocol.begin` names the
provider's URL to send the browser to, and :meth:`~WebSsoProtocol.finish` turns the
provider's answer (which comes back to the same websso URL) into the assertion the
protocol's mapping reads.  What must survive the round trip -- the origin, the state the
answer has to echo, the protocol's own secrets (an OpenID Connect nonce and PKCE
verifier, a SAML request id) -- travels in a :class:`PendingLogin` sealed into a cookie
(Fernet with the token keys, with a life of ``federation_websso_timeout``), so that any
API process of a scaled-out cloud can finish a login that another one began, and an
answer is accepted only by the browser that asked for it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol

from pocketstack.identity import errors

if TYPE_CHECKING:
    from pocketstack.identity.keys import KeyRepository
    from pocketstack.identity.websso import WebSso

PENDING_COOKIE = "pocketstack_websso"
_PURPOSE = "websso"


@dataclass
class PendingLogin:
    """A sign-in sent to an identity provider and not back yet."""

    idp_id: str
    protocol_id: str
    origin: str
    redirect_uri: str  # where the provider sends the browser back (the websso URL of the identity provider)
    # The identity API's URL as the request reached it (Host, scheme, mount): where a
    # front end that builds its endpoints from the request, as Apache's modules do, has them.
    base_url: str = ""
    state: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    secrets: dict[str, str] = field(default_factory=dict)  # the protocol's own (nonce, PKCE verifier, request id)


class WebSsoProtocol(Protocol):
    """A front end that signs browsers in at identity providers of one protocol."""

    # The parameter of the provider's answer that echoes :attr:`PendingLogin.state`
    # (OpenID Connect's ``state``, SAML's ``RelayState``).
    state_parameter: str

    def handles(self, idp_id: str, protocol_id: str) -> bool:
        """Whether browsers of ``idp_id`` sign in with ``protocol_id`` through this front end."""
        ...

    def begin(self, pending: PendingLogin) -> str:
        """The provider's URL to send the browser to; may add to ``pending.secrets``."""
        ...

    def is_answer(self, params: Mapping[str, str]) -> bool:
        """Whether a request to the websso URL is the provider's answer (not a new sign-in)."""
        ...

    def finish(self, pending: PendingLogin, params: Mapping[str, str]) -> dict[str, str]:
        """The assertion of the provider's answer ``params``; 401 when it is not valid."""
        ...


class PendingLogins:
    """:class:`PendingLogin` sealed for a cookie: encrypted and authenticated with the
    Fernet token keys (any API process opens it), older than ``ttl`` seconds refused."""

    def __init__(self, keys: KeyRepository, ttl: int):
        self.keys = keys
        self.ttl = ttl

    def seal(self, pending: PendingLogin) -> str:
        return self.keys.seal(_PURPOSE, asdict(pending))

    def open(self, sealed: str | None, idp_id: str, protocol_id: str, state: str | None) -> PendingLogin:
        """The pending login of this browser that the answer ``state`` belongs to, for
        the identity provider and protocol of the URL the answer came to."""
        if not sealed:
            raise errors.WebSsoFailed(reason="No single sign-on is pending in this browser (its cookie is missing); "
                                             "start again from the dashboard")
        data = self.keys.unseal(_PURPOSE, sealed, self.ttl)
        try:
            pending = PendingLogin(**data) if data is not None else None
        except TypeError:  # sealed by another version
            pending = None
        if pending is None:
            raise errors.WebSsoFailed(reason="The pending single sign-on is not valid or has expired; "
                                             "start again from the dashboard")
        if (pending.idp_id, pending.protocol_id) != (idp_id, protocol_id):
            raise errors.WebSsoFailed(reason="The answer came for another identity provider or protocol "
                                             "than the pending single sign-on")
        if not isinstance(state, str) or not secrets.compare_digest(state.encode(), pending.state.encode()):
            raise errors.WebSsoFailed(reason="The state of the identity provider's answer is not the one "
                                             "of the pending single sign-on")
        return pending


class WebSsoFlow:
    """The front ends and the pending logins, with the trusted dashboards of ``websso``."""

    def __init__(self, front_ends: Sequence[WebSsoProtocol], pending: PendingLogins, websso: WebSso):
        self.front_ends = list(front_ends)
        self.pending = pending
        self.websso = websso

    def front_end(self, idp_id: str, protocol_id: str) -> WebSsoProtocol | None:
        return next((f for f in self.front_ends if f.handles(idp_id, protocol_id)), None)

    def begin(self, front_end: WebSsoProtocol, idp_id: str, protocol_id: str, origin: str,
              redirect_uri: str, base_url: str) -> tuple[str, str]:
        """The provider's URL and the sealed pending login (for the cookie)."""
        pending = PendingLogin(idp_id, protocol_id, origin, redirect_uri, base_url)
        url = front_end.begin(pending)
        return url, self.pending.seal(pending)

    def finish(self, front_end: WebSsoProtocol, idp_id: str, protocol_id: str, params: Mapping[str, str],
               sealed: str | None) -> tuple[str, dict[str, str]]:
        """The origin to hand the token to and the assertion of the provider's answer."""
        pending = self.pending.open(sealed, idp_id, protocol_id, params.get(front_end.state_parameter))
        if pending.origin not in self.websso.trusted_dashboards:  # no longer trusted since
            raise errors.UntrustedDashboard(host=pending.origin)
        return pending.origin, front_end.finish(pending, params)
