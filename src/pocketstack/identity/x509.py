"""X.509 client certificates: the attributes Apache's ``mod_ssl`` exports for a verified
client certificate, which federation's ``x509`` protocol maps to a user, and Keystone's
tokenless authorization (keystone/common/tokenless_auth.py and the ``[tokenless_auth]``
part of its auth_context middleware).

The certificate comes only from the TLS listener (common/tls.py), which verified it
during the handshake and put it in the request's ASGI TLS extension; nothing a client
sends as headers stands for one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pocketstack.common.context import RequestContext
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.mapping_rules import EPHEMERAL
from pocketstack.identity.tokens import SCOPE_DOMAIN, SCOPE_PROJECT

if TYPE_CHECKING:
    from cryptography import x509
else:  # only a cloud with a TLS listener reads certificates (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    x509 = lazy("cryptography.x509")

# mod_ssl's names of DN components (SSL_CLIENT_S_DN_<name>, SSL_CLIENT_I_DN_<name>).
DN_COMPONENTS = {  # by OID (X.520 and the PKCS #9/RFC 4519 ones mod_ssl names)
    "2.5.4.6": "C", "2.5.4.8": "ST", "2.5.4.7": "L", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN",
    "2.5.4.12": "T", "2.5.4.43": "I", "2.5.4.42": "G", "2.5.4.4": "S", "2.5.4.46": "D",
    "0.9.2342.19200300.100.1.1": "UID", "1.2.840.113549.1.9.1": "Email", "0.9.2342.19200300.100.1.25": "DC",
}
ISSUER_ATTRIBUTE = "SSL_CLIENT_I_DN"  # Keystone's [tokenless_auth] issuer_attribute
# Keystone's tokenless scope headers.
SCOPE_HEADERS = ("x-project-id", "x-project-name", "x-domain-id", "x-domain-name")


def distinguished_name(name: x509.Name) -> str:
    """A DN as mod_ssl writes it (RFC 2253/4514: the last RDN first, ``CN=…,O=…``)."""
    return name.rfc4514_string({x509.ObjectIdentifier("1.2.840.113549.1.9.1"): "emailAddress"})


def _asn1_time(when: dt.datetime) -> str:
    """OpenSSL's ``ASN1_TIME_print`` form, as SSL_CLIENT_V_START/V_END carry it."""
    return f"{when:%b} {when.day:2d} {when:%H:%M:%S} {when.year} GMT"


def certificate_attributes(pem: str, now: dt.datetime | None = None) -> dict[str, str]:
    """mod_ssl's ``SSL_CLIENT_*`` variables (``+StdEnvVars +ExportCertData``) of a
    verified client certificate."""
    cert = x509.load_der_x509_certificate(ssl.PEM_cert_to_DER_cert(pem))
    now = now or dt.datetime.now(dt.timezone.utc)
    attributes = {"SSL_CLIENT_VERIFY": "SUCCESS", "SSL_CLIENT_CERT": pem,
                  "SSL_CLIENT_M_VERSION": str(cert.version.value + 1),
                  "SSL_CLIENT_M_SERIAL": f"{cert.serial_number:X}",
                  "SSL_CLIENT_V_START": _asn1_time(cert.not_valid_before_utc),
                  "SSL_CLIENT_V_END": _asn1_time(cert.not_valid_after_utc),
                  "SSL_CLIENT_V_REMAIN": str(max((cert.not_valid_after_utc - now).days, 0))}
    for prefix, name in (("SSL_CLIENT_S_DN", cert.subject), ("SSL_CLIENT_I_DN", cert.issuer)):
        attributes[prefix] = distinguished_name(name)
        seen: dict[str, int] = {}
        for attribute in name:
            short = DN_COMPONENTS.get(attribute.oid.dotted_string)
            if short is not None:
                count = seen[short] = seen.get(short, -1) + 1
                value = attribute.value if isinstance(attribute.value, str) else attribute.value.decode()
                attributes[f"{prefix}_{short}" + (f"_{count}" if count else "")] = value
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return attributes
    for kind, general in (("Email", x509.RFC822Name), ("DNS", x509.DNSName)):
        for index, value in enumerate(san.get_values_for_type(general)):
            attributes[f"SSL_CLIENT_SAN_{kind}_{index}"] = value
    return attributes


def client_attributes(scope: Mapping[str, Any]) -> dict[str, str] | None:
    """The mod_ssl attributes of the request's verified client certificate
    (``SSL_CLIENT_VERIFY: NONE`` alone when the client sent none); None for a request
    that did not come over the TLS listener."""
    tls = (scope.get("extensions") or {}).get("tls")
    if tls is None:
        return None
    chain = tls.get("client_cert_chain") or []
    return certificate_attributes(chain[0]) if chain else {"SSL_CLIENT_VERIFY": "NONE"}


def split_issuers(value: str) -> tuple[str, ...]:
    """``tokenless_trusted_issuers``: DNs separated by ``;`` (inside a DN it is escaped, ``\\;``)."""
    return tuple(dn.strip() for dn in re.split(r"(?<!\\);", value) if dn.strip())


class Tokenless:
    """Keystone's X.509 tokenless authorization: a request with a verified client
    certificate of a trusted issuer, no token, and a scope in ``X-Project-*`` or
    ``X-Domain-*`` headers acts as the user the certificate maps to, through the
    ``protocol`` of the identity provider whose id is the sha256 of the issuer DN."""

    def __init__(self, identity, trusted_issuers: tuple[str, ...], protocol: str):
        self.identity = identity
        self.trusted_issuers = trusted_issuers
        self.protocol = protocol

    def context(self, attributes: Mapping[str, str] | None, headers: Mapping[str, str]) -> RequestContext | None:
        """The request's context, or None when tokenless authorization does not apply
        (no certificate, an issuer not trusted, no scope header)."""
        issuer = attributes.get(ISSUER_ATTRIBUTE) if attributes else None
        if not attributes or issuer not in self.trusted_issuers or not any(headers.get(h) for h in SCOPE_HEADERS):
            return None
        # A project or domain scope (no user needed to resolve one).
        scope_type, scope_id = self.identity.tokens.resolve_scope(_scope(headers), "")
        idp_id = hashlib.sha256(issuer.encode()).hexdigest()
        _, mapped, group_ids, _ = self.identity.federation.evaluate(idp_id, self.protocol, attributes)
        user = None if mapped.user["type"] == EPHEMERAL else self.identity.federation.local_user(mapped.user)
        with self.identity.db.session(readonly=True) as s:
            kind = "domain" if scope_type == SCOPE_DOMAIN else "project"
            target = s.get(m.Project, scope_id)
            if target is None or not target.enabled or target.is_domain != (scope_type == SCOPE_DOMAIN):
                raise errors.ScopeNotAvailable(reason=f"Could not find {kind}: {scope_id}.")
            domain = target if target.is_domain else s.get(m.Project, target.domain_id)
            if domain is None or not domain.enabled:
                raise errors.ScopeNotAvailable(reason=f"The domain of project {scope_id} is disabled.")
            assignment = self.identity.assignment
            scoped: dict[str, Any] = ({"project": target} if scope_type == SCOPE_PROJECT else {"domain_id": target.id})
            if user is None:  # an ephemeral user: no one but its mapped groups
                roles = assignment.effective_roles(s, "", groups=group_ids, **scoped)
            else:
                roles = assignment.effective_roles(s, user.id, **scoped)
                if not roles:
                    raise errors.ScopeNotAvailable(reason=f"User {user.id} has no access to {kind} {scope_id}")
            user_domain = s.get(m.Project, user.domain_id) if user is not None else None
        project = target if scope_type == SCOPE_PROJECT else None
        return RequestContext(
            user_id=user.id if user else None, user_name=user.name if user else None,
            user_domain_id=user_domain.id if user_domain else None,
            user_domain_name=user_domain.name if user_domain else None,
            project_id=project.id if project else None, project_name=project.name if project else None,
            project_domain_id=domain.id if project else None, project_domain_name=domain.name if project else None,
            domain_id=None if project else domain.id, domain_name=None if project else domain.name,
            roles=[r.name for r in roles], role_ids=[r.id for r in roles])


def _scope(headers: Mapping[str, str]) -> dict:
    """Keystone's ``_build_scope_info``: the scope the headers name."""
    if headers.get("x-project-id"):
        return {"project": {"id": headers["x-project-id"]}}
    if headers.get("x-project-name"):
        if headers.get("x-project-domain-id"):
            domain = {"id": headers["x-project-domain-id"]}
        elif headers.get("x-project-domain-name"):
            domain = {"name": headers["x-project-domain-name"]}
        else:
            raise errors.ValidationMessage(message="Neither Project Domain ID nor Project Domain Name was provided.")
        return {"project": {"name": headers["x-project-name"], "domain": domain}}
    if headers.get("x-domain-id"):
        return {"domain": {"id": headers["x-domain-id"]}}
    return {"domain": {"name": headers["x-domain-name"]}}
