"""The SAML 2.0 front end of federation: what Apache's ``mod_auth_mellon`` does before
Keystone as a SAML service provider (keystone's "Setting up Mellon" guide).

The identity providers are those of the metadata files ``federation_saml_metadata``
names; an identity provider of Keystone is one of them when its ``remote_ids`` hold
the entityID.  Its ``saml2`` (and ``mapped``) protocol then signs in by SAML:

- ECP (keystoneauth's ``v3samlpassword``): ``GET .../protocols/{protocol}/auth`` with
  ``Accept: application/vnd.paos+xml`` and the ECP ``PAOS`` header answers a PAOS
  envelope around an AuthnRequest; the client posts it to the identity provider's ECP
  endpoint and the signed Response it gets to :data:`PAOS_PATH`, which answers, as
  mellon does, a 303 back to that ``auth`` URL with a session cookie
  (:data:`SESSION_COOKIE`, :data:`SESSION_LIFETIME` seconds): there the session's
  assertion gets the unscoped token;
- WebSSO (the dashboard): :mod:`pocketstack.identity.websso`'s routes redirect the
  browser to the identity provider (HTTP-Redirect binding), whose Response comes back
  to :data:`POST_PATH` (HTTP-POST) and turns into the token form for the dashboard.

The paths and attribute names are mellon's (``MellonEndpointPath /v3/mellon``,
``MellonMergeEnvVars On ";"``): each attribute as ``MELLON_<Name>`` (and
``MELLON_<FriendlyName>``), values ``;``-joined, ``MELLON_NAME_ID`` and ``REMOTE_USER``
the subject's NameID, ``MELLON_IDP`` the issuer (the usual ``remote_id_attribute``).

The service provider remembers each AuthnRequest it sent (in the database, shared by
the API processes, for :data:`REQUEST_LIFETIME` seconds): a Response must answer one, and answers it once --
a replayed Response, one for another identity provider or after its request expired
is refused.  pysaml2 (:mod:`pocketstack.identity.saml_sp`) checks the rest and is
imported by the first SAML request.

One kind of Response answers no request: an identity provider's own ECP assertion,
posted to :data:`PAOS_PATH` with no ``InResponseTo`` -- Keystone to Keystone, where a
Keystone identity provider asserts its user to this cloud (what Shibboleth's ECP
endpoint takes in Keystone's guide).  It must be signed by an identity provider of the
metadata, addressed (``Destination``) to :data:`PAOS_PATH` and still valid, and its
assertion is taken once (the ids of those taken are kept beside the requests for
:data:`UNSOLICITED_MEMORY` seconds, longer than Keystone's assertions live).
"""

from __future__ import annotations

import datetime as dt
import threading
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db import Database, utcnow
from pocketstack.common.db.cas import changed_rows
from pocketstack.identity import errors
from pocketstack.identity.models import SamlRequest

if TYPE_CHECKING:
    from pocketstack.identity import saml_sp
else:  # only a cloud with SAML identity providers loads pysaml2 (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    saml_sp = lazy("pocketstack.identity.saml_sp")

PROTOCOLS = ("saml2", "mapped")
ENDPOINT = "/v3/mellon"
METADATA_PATH, PAOS_PATH, POST_PATH = (f"{ENDPOINT}/metadata", f"{ENDPOINT}/paosResponse",
                                       f"{ENDPOINT}/postResponse")
PAOS_MEDIA_TYPE = "application/vnd.paos+xml"
PAOS_VERSION = 'ver="urn:liberty:paos:2003-08";"urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"'
PREFIX = "MELLON_"
IDP_ATTRIBUTE = "MELLON_IDP"
REQUEST_LIFETIME = 300.0
UNSOLICITED_MEMORY = 3600.0 + 300.0
TAKEN = "taken-assertion:"  # the key prefix of an unsolicited assertion taken (never a request)
# mellon's session after an ECP sign-in: a cookie (sealed with the token keys, so any
# API process opens it) that the client brings back to the ``auth`` URL for its token.
SESSION_COOKIE = "pocketstack-saml-session"
# Shibboleth's ECP assertion consumer, at the server's root: where DevStack points a
# Keystone-to-Keystone service provider's sp_url (and keystone-tempest-plugin expects it).
SHIBBOLETH_ECP_PATH = "/Shibboleth.sso/SAML2/ECP"
SESSION_LIFETIME = 120
SESSION_PURPOSE = "saml-ecp-session"
MAX_PENDING = 10_000
# Unsolicited assertions remembered as taken (only a trusted identity provider's signed
# ones get here). Never evicted -- forgetting one early would let it be replayed -- so
# past this many in UNSOLICITED_MEMORY the next one is refused instead.
MAX_TAKEN = 100_000
MAX_SITES = 8
MD_NS = "urn:oasis:names:tc:SAML:2.0:metadata"
BINDING_PAOS = "urn:oasis:names:tc:SAML:2.0:bindings:PAOS"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
# The rows of the table that record unsolicited assertions taken, not requests.
IS_TAKEN = SamlRequest.request_id.like(TAKEN + "%")


def refused(reason: str) -> errors.FederatedAuthFailed:
    return errors.FederatedAuthFailed(reason=f"Invalid SAML response: {reason}")


def wants_ecp(accept: str | None, paos: str | None) -> bool:
    """Whether a request is an ECP client's first (it takes PAOS and offers the ECP service)."""
    return PAOS_MEDIA_TYPE in (accept or "") and PAOS_VERSION in (paos or "")


@dataclass(frozen=True)
class Pending:
    """An AuthnRequest sent: to whom, for which protocol, and for WebSSO the dashboard
    the token goes to (None: ECP)."""

    idp_id: str
    protocol_id: str
    entity_id: str
    origin: str | None = None


@dataclass(frozen=True)
class Site:
    """Where the service provider is: ``base_url``, the identity API as the request
    reached it (its endpoints' URLs, as mellon builds them from the request), and
    ``public_url``, the configured one (the default entityID -- the audience Responses
    must name, so never taken from a request's Host)."""

    base_url: str
    public_url: str
    # The ECP consumer's URL when it is not mellon's under ``base_url``: Shibboleth's at
    # the server's root (:data:`SHIBBOLETH_ECP_PATH`).
    paos_url: str = ""


class PendingRequests:
    """The AuthnRequests awaiting an answer, in the database so that any API process can
    take the Response (a browser's or an ECP client's next connection may reach
    another one); each taken by the first Response to it (a DELETE that only one
    taker can win), forgotten :data:`REQUEST_LIFETIME` seconds after it was sent, and
    at most ``max_entries`` kept (the oldest go first: the start of a sign-in is public).
    The records of unsolicited assertions taken share the table under their own cap,
    ``max_taken``: a flood of sign-in starts never evicts one."""

    def __init__(self, db: Database, lifetime: float = REQUEST_LIFETIME, max_entries: int = MAX_PENDING,
                 max_taken: int = MAX_TAKEN):
        self.db = db
        self.lifetime, self.max_entries, self.max_taken = lifetime, max_entries, max_taken

    def put(self, request_id: str, pending: Pending) -> None:
        now = utcnow()
        with self.db.session() as s:
            s.execute(sa.delete(SamlRequest).where(SamlRequest.expires_at <= now))
            excess = _count(s, ~IS_TAKEN) + 1 - self.max_entries
            if excess > 0:
                oldest = sa.select(SamlRequest.request_id).where(~IS_TAKEN).order_by(SamlRequest.expires_at)
                oldest = oldest.limit(excess)
                s.execute(sa.delete(SamlRequest).where(SamlRequest.request_id.in_(list(s.scalars(oldest)))))
            s.add(SamlRequest(request_id=request_id, idp_id=pending.idp_id, protocol_id=pending.protocol_id,
                              entity_id=pending.entity_id, origin=pending.origin,
                              expires_at=now + dt.timedelta(seconds=self.lifetime)))

    def outstanding(self) -> Mapping[str, str]:
        """Request id → identity provider entityID, as pysaml2 checks InResponseTo (read
        for the one id a Response names)."""
        return _Outstanding(self)

    def first(self, assertion_id: str, issuer: str) -> bool:
        """Note an unsolicited assertion taken, unless it was already, or ``max_taken``
        are remembered (then False): one insert of its key that only one process can win."""
        now, key = utcnow(), TAKEN + assertion_id
        try:
            with self.db.session() as s:
                s.execute(sa.delete(SamlRequest).where(IS_TAKEN, SamlRequest.expires_at <= now))
                if s.get(SamlRequest, key) is not None:
                    return False
                if _count(s, IS_TAKEN) >= self.max_taken:
                    return False
                s.add(SamlRequest(request_id=key, idp_id="", protocol_id="", entity_id=issuer, origin=None,
                                  expires_at=now + dt.timedelta(seconds=UNSOLICITED_MEMORY)))
        except sa_exc.IntegrityError:
            return False
        return True

    def find(self, request_id: str) -> Pending | None:
        if request_id.startswith(TAKEN):
            return None
        with self.db.session(readonly=True) as s:
            row = s.get(SamlRequest, request_id)
        if row is None or row.expires_at <= utcnow():
            return None
        return Pending(row.idp_id, row.protocol_id, row.entity_id, row.origin)

    def take(self, request_id: str) -> Pending | None:
        pending = self.find(request_id)
        if pending is None:
            return None
        with self.db.session() as s:
            won = changed_rows(s, sa.delete(SamlRequest).where(SamlRequest.request_id == request_id,
                                                               SamlRequest.expires_at > utcnow()))
        return pending if won == 1 else None


def _count(session, *where) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(SamlRequest).where(*where)) or 0


class _Outstanding(Mapping[str, str]):
    """:meth:`PendingRequests.outstanding`: a lookup per id asked, not a copy of the table."""

    def __init__(self, requests: PendingRequests):
        self.requests = requests

    def __getitem__(self, request_id: str) -> str:
        pending = self.requests.find(request_id) if isinstance(request_id, str) else None
        if pending is None:
            raise KeyError(request_id)
        return pending.entity_id

    def __iter__(self) -> Iterator[str]:
        now = utcnow()
        with self.requests.db.session(readonly=True) as s:
            return iter(list(s.scalars(sa.select(SamlRequest.request_id).where(
                SamlRequest.expires_at > now, ~IS_TAKEN))))

    def __len__(self) -> int:
        now = utcnow()
        with self.requests.db.session(readonly=True) as s:
            return _count(s, SamlRequest.expires_at > now, ~IS_TAKEN)


def idp_entities(metadata_files: Iterable[str]) -> frozenset[str]:
    """The entityIDs of the identity providers (``IDPSSODescriptor``) of metadata files
    (read at start, so a missing or broken file stops the cloud, not a sign-in)."""
    found: set[str] = set()
    for path in metadata_files:
        try:
            root = ET.parse(path).getroot()
        except (OSError, ET.ParseError) as exc:
            raise ValueError(f"setting 'federation_saml_metadata': {path}: {exc}") from None
        for entity in root.iter(f"{{{MD_NS}}}EntityDescriptor"):
            if entity.find(f"{{{MD_NS}}}IDPSSODescriptor") is not None and entity.get("entityID"):
                found.add(entity.attrib["entityID"])
    return frozenset(found)


def mellon_attributes(asserted: saml_sp.Asserted) -> dict[str, str]:
    """The Response's attributes as mod_auth_mellon exports them (module docstring)."""
    attributes = {PREFIX + name: ";".join(values) for name, values in asserted.attributes.items()}
    attributes[IDP_ATTRIBUTE] = asserted.issuer
    if asserted.name_id:
        attributes[PREFIX + "NAME_ID"] = attributes["REMOTE_USER"] = asserted.name_id
    return attributes


def shibboleth_attributes(asserted: saml_sp.Asserted) -> dict[str, str]:
    """The Response's attributes as Shibboleth's SP exports them with an attribute map
    naming each by itself (DevStack's for Keystone to Keystone: ``openstack_user``,
    ``openstack_roles``…): values ``;``-joined, ``Shib-Identity-Provider`` the issuer,
    ``REMOTE_USER`` the NameID."""
    attributes = {name: ";".join(values) for name, values in asserted.attributes.items()}
    attributes["Shib-Identity-Provider"] = asserted.issuer
    if asserted.name_id:
        attributes["REMOTE_USER"] = asserted.name_id
    return attributes


class SamlFrontEnd:
    """The identity providers of ``metadata_files`` and the service provider
    ``entity_id`` (empty: the public URL of its metadata, mellon's default) that trusts them."""

    def __init__(self, requests: PendingRequests, metadata_files: tuple[str, ...] = (), entity_id: str = ""):
        self.metadata_files = metadata_files
        self.entity_id = entity_id
        self.entities = idp_entities(metadata_files)
        self.pending = requests
        self._providers: OrderedDict[str, saml_sp.ServiceProvider] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, requests: PendingRequests, metadata: str, entity_id: str) -> SamlFrontEnd:
        return cls(requests, tuple(p.strip() for p in metadata.split(",") if p.strip()), entity_id)

    def entity_of(self, protocol_id: str, remote_ids: Iterable[str]) -> str | None:
        """The SAML identity provider an identity provider's protocol signs in with (the
        first of its remote ids in the metadata), None when it is no SAML one."""
        if protocol_id not in PROTOCOLS:
            return None
        return next((r for r in sorted(remote_ids) if r in self.entities), None)

    def provider(self, site: Site) -> saml_sp.ServiceProvider:
        """The service provider at ``site``: one per URL the API is reached by, the
        :data:`MAX_SITES` last used kept (a request's Host names the URL)."""
        with self._lock:
            key = f"{site.base_url} {site.paos_url}"
            sp = self._providers.pop(key, None)
            if sp is None:
                sp = saml_sp.ServiceProvider(self.entity_id or site.public_url + METADATA_PATH,
                                             site.paos_url or site.base_url + PAOS_PATH, site.base_url + POST_PATH,
                                             self.metadata_files)
            self._providers[key] = sp
            while len(self._providers) > MAX_SITES:
                self._providers.popitem(last=False)
        return sp

    def ecp_request(self, site: Site, pending: Pending) -> str:
        request_id, envelope = self.provider(site).ecp_request(pending.entity_id)
        self.pending.put(request_id, pending)
        return envelope

    def redirect(self, site: Site, pending: Pending) -> str:
        request_id, location = self.provider(site).redirect(pending.entity_id, "")
        self.pending.put(request_id, pending)
        return location

    def consume(self, site: Site, message: str, *, ecp: bool,
                naming: Callable[[saml_sp.Asserted], dict[str, str]] = mellon_attributes,
                ) -> tuple[Pending | None, str, dict[str, str]]:
        """The request a Response answers (None for an identity provider's unsolicited
        ECP Response), its issuer and its attributes as ``naming`` exports them; 401 for
        an invalid Response, one that answers no request (any more), or another
        issuer's, and an unsolicited assertion taken before."""
        binding = BINDING_PAOS if ecp else BINDING_POST
        asserted = self.provider(site).check(message, binding, self.pending.outstanding())
        if not asserted.in_response_to:
            if not asserted.assertion_id or not self.pending.first(asserted.assertion_id, asserted.issuer):
                raise refused(f"its assertion {asserted.assertion_id[:64]} was used already "
                              "(or too many unsolicited ones were, in the last hour)")
            return None, asserted.issuer, naming(asserted)
        pending = self.pending.take(asserted.in_response_to)
        if pending is None:
            raise refused(f"request {asserted.in_response_to} was answered already")
        if asserted.issuer != pending.entity_id:
            raise refused(f"issued by {asserted.issuer}, not {pending.entity_id}")
        if (pending.origin is None) != ecp:
            raise refused("it answers a request of another binding")
        return pending, asserted.issuer, naming(asserted)
