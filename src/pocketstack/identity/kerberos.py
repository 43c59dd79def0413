"""Kerberos: the SPNEGO front end Apache's ``mod_auth_gssapi`` is before Keystone.

A client with a Kerberos ticket (``kinit``) signs in with HTTP ``Negotiate`` (RFC 4559):
its first request gets a 401 with ``WWW-Authenticate: Negotiate``, and it sends the
request again with ``Authorization: Negotiate <GSS-API token>`` for the service
principal ``HTTP/<host>@REALM``.  Here the token is accepted with the service's keytab
(python-gssapi over the system's MIT Kerberos), the principal's realm must be one of
those accepted, and the answer carries the server's token back (``WWW-Authenticate:
Negotiate <token>``) for the client's mutual authentication.  Two entry points, as
Keystone's:

- ``POST /v3/auth/tokens`` with the ``kerberos`` method (keystoneauth's ``v3kerberos``;
  Keystone's ``KerberosDomain`` plugin reading ``REMOTE_USER``): the principal without
  its realm is the name of a user of the domain ``kerberos_user_domain``;
- ``/v3/OS-FEDERATION/identity_providers/{idp}/protocols/kerberos/auth``
  (keystoneauth's ``v3fedkerb``): the principal is an assertion the protocol's mapping
  reads, ``REMOTE_USER`` (``user@REALM``, as mod_auth_gssapi sets it), ``AUTH_TYPE``
  (``Negotiate``), ``KRB5_NAME`` (the principal without its realm) and ``KRB5_REALM``.

Both only while ``kerberos`` is in ``auth_methods``.  python-gssapi is the ``kerberos``
extra, imported by the first ticket checked.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pocketstack.identity import errors

if TYPE_CHECKING:
    import gssapi
else:  # only a cloud that takes Kerberos tickets loads it (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    gssapi = lazy("gssapi")

LOG = logging.getLogger(__name__)
METHOD = PROTOCOL = "kerberos"
SCHEME = "Negotiate"
CHALLENGE = {"WWW-Authenticate": SCHEME}


def refused(reason: str) -> errors.KerberosAuthFailed:
    """A 401 that asks for a ticket again (``WWW-Authenticate: Negotiate``)."""
    return errors.KerberosAuthFailed(reason=reason, headers=CHALLENGE)


def split_principal(principal: str) -> tuple[str, str]:
    """``alice@REALM`` → (``alice``, ``REALM``); the last unescaped ``@`` separates them."""
    at = len(principal)
    while (at := principal.rfind("@", 0, at)) > 0 and principal[at - 1] == "\\":
        pass
    return (principal[:at], principal[at + 1:]) if at > 0 else (principal, "")


@dataclass(frozen=True)
class Negotiated:
    """An accepted security context: who the client is, and the token that proves this
    server to it (None when the client asked for no mutual authentication)."""

    principal: str
    output_token: bytes | None = None

    @property
    def name(self) -> str:
        return split_principal(self.principal)[0]

    @property
    def realm(self) -> str:
        return split_principal(self.principal)[1]

    @property
    def response_headers(self) -> dict[str, str]:
        """``WWW-Authenticate: Negotiate <token>`` of a successful answer (RFC 4559 §5)."""
        if not self.output_token:
            return {}
        return {"WWW-Authenticate": f"{SCHEME} {base64.b64encode(self.output_token).decode()}"}

    def assertion(self) -> dict[str, str]:
        """The attributes federation's ``kerberos`` protocol maps (mod_auth_gssapi's
        ``REMOTE_USER`` and ``AUTH_TYPE``, and the principal's two parts)."""
        return {"REMOTE_USER": self.principal, "AUTH_TYPE": SCHEME, "KRB5_NAME": self.name, "KRB5_REALM": self.realm}


def _gss_reason(error: Exception) -> str:
    """The most specific sentence of a GSS-API error (the mechanism's minor status,
    e.g. ``Ticket expired``, else the major one)."""
    for code, major in ((getattr(error, "min_code", 0), False), (getattr(error, "maj_code", 0), True)):
        if code:
            try:
                messages = [m for m in error.get_all_statuses(code, major)  # type: ignore[attr-defined]
                            if m and m != "Unknown error"]
            except Exception:  # a status the library cannot put in words
                messages = []
            if messages:
                return "; ".join(messages)
    return str(error)


class KerberosFrontEnd:
    """Accepts ``Negotiate`` tokens for the service's principal (``kerberos_*`` settings)."""

    def __init__(self, *, enabled: bool = False, keytab: str = "", service_principal: str = "",
                 realms: tuple[str, ...] = (), user_domain: str = "Default"):
        self.enabled = enabled
        self.keytab = keytab
        self.service_principal = service_principal
        self._realms = realms
        self.user_domain = user_domain

    @classmethod
    def from_settings(cls, settings) -> KerberosFrontEnd:
        """The front end of ``settings``; with ``kerberos`` enabled, a keytab that cannot
        be read or a missing python-gssapi stops the cloud at start, not at a login."""
        enabled = METHOD in settings.auth_method_list
        keytab = settings.kerberos_keytab
        if enabled:
            if importlib.util.find_spec("gssapi") is None:
                raise ValueError("setting 'auth_methods': the kerberos method needs python-gssapi "
                                 "(pip install 'pocketstack[kerberos]')")
            if keytab and not os.access(keytab, os.R_OK):
                raise ValueError(f"setting 'kerberos_keytab': {keytab} cannot be read")
        realms = tuple(r.strip() for r in settings.kerberos_realms.split(",") if r.strip())
        return cls(enabled=enabled, keytab=keytab, service_principal=settings.kerberos_service_principal,
                   realms=realms, user_domain=settings.kerberos_user_domain)

    def handles(self, protocol_id: str) -> bool:
        return self.enabled and protocol_id == PROTOCOL

    @property
    def realms(self) -> tuple[str, ...]:
        """The accepted realms: the configured ones, else the service principal's, else
        the Kerberos library's default realm."""
        if not self._realms:
            realm = split_principal(self.service_principal)[1] if self.service_principal else ""
            if not realm:
                probe = gssapi.Name("pocketstack", gssapi.NameType.kerberos_principal)
                realm = split_principal(str(probe.canonicalize(gssapi.MechType.kerberos)))[1]
            self._realms = (realm,)
        return self._realms

    def _credentials(self) -> gssapi.Credentials:
        name = (gssapi.Name(self.service_principal, gssapi.NameType.kerberos_principal)
                if self.service_principal else None)
        try:
            return gssapi.Credentials(name=name, usage="accept", store={"keytab": self.keytab} if self.keytab else None)
        except gssapi.exceptions.GSSError as error:
            LOG.error("Kerberos: no acceptor credentials for %s in %s: %s", self.service_principal or "any principal",
                      self.keytab or "the default keytab", _gss_reason(error))
            raise errors.KerberosUnavailable() from None

    def negotiate(self, authorization: str | None) -> Negotiated:
        """The client of an ``Authorization: Negotiate <token>`` header; 401 (asking for
        a ticket) for a missing, malformed or refused token, a context that would need
        another round trip, or a realm not accepted."""
        scheme, _, value = (authorization or "").strip().partition(" ")
        if scheme.lower() != SCHEME.lower() or not value.strip():
            raise refused("send a Kerberos ticket as 'Authorization: Negotiate <token>' (kinit first)")
        try:
            token = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise refused("the Negotiate token is not base64") from None
        context = gssapi.SecurityContext(creds=self._credentials(), usage="accept")
        try:
            # python-gssapi keeps some failures (with a token for the peer) for the next
            # read of the context: ``complete`` raises them.
            output = context.step(token)
            complete = context.complete
            principal = str(context.initiator_name) if complete else ""
        except gssapi.exceptions.GSSError as error:
            raise refused(_gss_reason(error)) from None
        if not complete:
            raise refused("the security context needs another round trip, which this server does not take")
        negotiated = Negotiated(principal=principal, output_token=output)
        if negotiated.realm not in self.realms:
            raise refused(f"principals of realm {negotiated.realm!r} are not accepted here")
        return negotiated
