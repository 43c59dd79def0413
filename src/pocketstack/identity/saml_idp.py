"""Keystone as a SAML 2.0 identity provider (Keystone to Keystone federation,
keystone/federation/idp.py): a project-scoped token becomes a signed SAML assertion
about its user for one of the service providers (``identity.service_providers``),
bare (``POST /v3/auth/OS-FEDERATION/saml2``) or in an ECP SOAP envelope (``.../ecp``),
which keystoneauth's ``Keystone2Keystone`` posts to the service provider's ``sp_url``.

The assertion carries Keystone's attributes: ``openstack_user``,
``openstack_user_domain``, ``openstack_roles``, ``openstack_project``,
``openstack_project_domain`` and, for a user in groups, ``openstack_groups`` (each
``JSON:{"name": ..., "domain": {"name": ...}}``); the NameID is the user's name; the
subject is confirmed (bearer) for ``sp_url``, which is also the Response's Destination.

Settings (Keystone's ``[saml]``): ``saml_idp_entity_id`` and ``saml_idp_sso_endpoint``
(empty: ``<identity URL>/v3/OS-FEDERATION/saml2/idp`` and ``.../saml2/sso``, what
DevStack configures), ``saml_idp_certfile``/``saml_idp_keyfile`` (PEM; empty: a
self-signed RSA pair made in ``<data_dir>/saml-idp/`` on first use, kept for later
starts), ``saml_assertion_expiration`` (seconds).  The signature is made by ``xmlsec1``
through pysaml2 (the ``saml`` extra), loaded on the first assertion or metadata request.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pocketstack.identity import saml_idp_xml
else:  # pysaml2 only for a cloud that asserts (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    saml_idp_xml = lazy("pocketstack.identity.saml_idp_xml")

IDP_PATH = "/v3/OS-FEDERATION/saml2/idp"
SSO_PATH = "/v3/OS-FEDERATION/saml2/sso"
CERT_DAYS = 3650


@dataclass(frozen=True)
class Assertion:
    """What a token asserts about its user: names, as Keystone's assertion carries them."""

    user: str
    user_domain: str
    roles: list[str]
    project: str
    project_domain: str
    groups: list[tuple[str, str]]  # (group name, its domain's name)


@dataclass(frozen=True)
class KeyPair:
    key_file: str
    cert_file: str


def make_key_pair(directory: Path, common_name: str) -> KeyPair:
    """A self-signed RSA key pair in ``directory`` (made once: an existing pair is kept,
    so service providers that trust its metadata keep trusting it)."""
    key_file, cert_file = directory / "signing_key.pem", directory / "signing_cert.pem"
    if key_file.exists() and cert_file.exists():
        return KeyPair(str(key_file), str(cert_file))
    from cryptography import x509  # on first use: a cloud that never asserts never loads it
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CERT_DAYS)).sign(key, hashes.SHA256()))
    temporary = key_file.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(temporary, key_file)
    return KeyPair(str(key_file), str(cert_file))


class SamlIdentityProvider:
    """This cloud as a SAML identity provider: its entityID and SSO endpoint (None:
    under the identity URL a request reached), its signing pair (None: generated in
    ``key_directory``) and how long an assertion is valid."""

    def __init__(self, entity_id: str | None, sso_endpoint: str | None, keys: KeyPair | None,
                 key_directory: Path, expiration: int = 3600):
        self.entity_id, self.sso_endpoint = entity_id, sso_endpoint
        self.key_directory, self.expiration = key_directory, expiration
        self._keys = keys
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> SamlIdentityProvider:
        if bool(settings.saml_idp_certfile) != bool(settings.saml_idp_keyfile):
            raise ValueError("settings 'saml_idp_certfile' and 'saml_idp_keyfile' go together")
        for option in ("saml_idp_certfile", "saml_idp_keyfile"):
            if "," in getattr(settings, option):  # as Keystone: xmlsec1 takes them comma-joined
                raise ValueError(f"setting '{option}' cannot contain a comma")
        keys = KeyPair(settings.saml_idp_keyfile, settings.saml_idp_certfile) if settings.saml_idp_keyfile else None
        return cls(settings.saml_idp_entity_id or None, settings.saml_idp_sso_endpoint or None, keys,
                   Path(settings.data_dir) / "saml-idp", settings.saml_assertion_expiration)

    def keys(self) -> KeyPair:
        with self._lock:
            if self._keys is None:
                self._keys = make_key_pair(self.key_directory, "pocketstack SAML identity provider")
            return self._keys

    def entity(self, identity_url: str) -> str:
        return self.entity_id or identity_url + IDP_PATH

    def sso(self, identity_url: str) -> str:
        return self.sso_endpoint or identity_url + SSO_PATH

    def metadata(self, identity_url: str) -> str:
        """The IdP's SAML metadata (Keystone's ``keystone-manage saml_idp_metadata``)."""
        return saml_idp_xml.metadata(self.entity(identity_url), self.sso(identity_url), self.keys().cert_file)

    def response(self, identity_url: str, recipient: str, asserted: Assertion) -> str:
        """A Response to ``recipient`` (the service provider's ``sp_url``) around the
        signed assertion, as XML text."""
        return saml_idp_xml.signed_response(self.entity(identity_url), recipient, asserted, self.keys(),
                                            self.expiration)

    def ecp(self, identity_url: str, recipient: str, asserted: Assertion, relay_state_prefix: str) -> str:
        """The Response in the ECP SOAP envelope, with a RelayState of ``relay_state_prefix``."""
        return saml_idp_xml.ecp_envelope(self.response(identity_url, recipient, asserted), relay_state_prefix)
