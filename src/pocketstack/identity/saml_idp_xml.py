"""The XML of Keystone as a SAML identity provider (:mod:`pocketstack.identity.saml_idp`):
the Response and assertion as keystone/federation/idp.py builds them, the signature
(xmlsec1, through pysaml2's backend, over the assertion), the ECP envelope and the
metadata.  Imports pysaml2 (the ``saml`` extra): loaded on first use, never at start.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from saml2 import BINDING_URI, saml, samlp
from saml2 import md as saml_md
from saml2 import xmldsig as ds
from saml2.sigver import CryptoBackendXmlSec1, get_xmlsec_binary, pre_signature_part, read_cert_from_file

from pocketstack.identity import errors

if TYPE_CHECKING:
    from pocketstack.identity.saml_idp import Assertion, KeyPair

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ECP_NS = "urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"
SOAP_ACTOR = "http://schemas.xmlsoap.org/soap/actor/next"
ASSERTION_NODE = f"{saml.NAMESPACE}:Assertion"


def _id() -> str:
    """A random id, as Keystone's (a uuid4's hex) but an XML NCName, as xs:ID must be:
    schema-validating service providers (pysaml2's) refuse one that starts with a digit."""
    return "_" + uuid.uuid4().hex


def _time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _issuer(entity_id: str) -> saml.Issuer:
    return saml.Issuer(text=entity_id, format=saml.NAMEID_FORMAT_ENTITY)


def _attribute(name: str, values: list[str]) -> saml.Attribute:
    attribute = saml.Attribute(name=name)
    for value in values:
        attribute_value = saml.AttributeValue()
        attribute_value.set_text(value)
        attribute.attribute_value.append(attribute_value)
    return attribute


def attributes(asserted: Assertion) -> saml.AttributeStatement:
    """Keystone's attributes, in its order; ``openstack_groups`` only for a user in groups."""
    statement = saml.AttributeStatement(attribute=[
        _attribute("openstack_user", [asserted.user]),
        _attribute("openstack_roles", asserted.roles),
        _attribute("openstack_project", [asserted.project]),
        _attribute("openstack_project_domain", [asserted.project_domain]),
        _attribute("openstack_user_domain", [asserted.user_domain]),
    ])
    if asserted.groups:
        statement.attribute.append(_attribute("openstack_groups", [
            "JSON:" + json.dumps({"name": group, "domain": {"name": domain}}) for group, domain in asserted.groups]))
    return statement


def signed_response(issuer: str, recipient: str, asserted: Assertion, keys: KeyPair, expiration: int) -> str:
    now = dt.datetime.now(dt.timezone.utc)
    expires = _time(now + dt.timedelta(seconds=expiration))
    assertion_id = _id()
    subject = saml.Subject(
        name_id=saml.NameID(text=asserted.user),
        subject_confirmation=[saml.SubjectConfirmation(
            method=saml.SCM_BEARER,
            subject_confirmation_data=saml.SubjectConfirmationData(recipient=recipient, not_on_or_after=expires))])
    authn = saml.AuthnStatement(
        authn_instant=_time(now), session_index=uuid.uuid4().hex, session_not_on_or_after=expires,
        authn_context=saml.AuthnContext(
            authn_context_class_ref=saml.AuthnContextClassRef(text=saml.AUTHN_PASSWORD),
            authenticating_authority=[saml.AuthenticatingAuthority(text=issuer)]))
    certificate = read_cert_from_file(keys.cert_file, "pem")
    assertion = saml.Assertion(
        id=assertion_id, issue_instant=_time(now), version="2.0", issuer=_issuer(issuer),
        signature=pre_signature_part(assertion_id, public_key=certificate, digest_alg=ds.DIGEST_SHA256,
                                     sign_alg=ds.SIG_RSA_SHA256),
        subject=subject, authn_statement=[authn], attribute_statement=[attributes(asserted)])
    response = samlp.Response(
        id=_id(), destination=recipient, issue_instant=_time(now), version="2.0",
        issuer=_issuer(issuer), status=samlp.Status(status_code=samlp.StatusCode(value=samlp.STATUS_SUCCESS)),
        assertion=assertion)
    try:
        signed = CryptoBackendXmlSec1(get_xmlsec_binary()).sign_statement(
            response.to_string(), ASSERTION_NODE, keys.key_file, assertion_id)
    except Exception as exc:  # noqa: BLE001 -- pysaml2 raises bare errors for a missing binary, a bad key
        raise errors.SamlSigningError(reason=f"{type(exc).__name__}: {exc}") from None
    return signed.split("?>", 1)[1].lstrip() if signed.startswith("<?xml") else signed


def ecp_envelope(response: str, relay_state_prefix: str) -> str:
    """The signed Response (kept byte for byte) in a SOAP envelope whose header is the
    ECP RelayState (``relay_state_prefix`` and a random part), as Keystone's ECPGenerator."""
    relay_state = escape(relay_state_prefix + uuid.uuid4().hex)
    return (f'<ns0:Envelope xmlns:ns0="{SOAP_NS}" xmlns:ns1="{ECP_NS}"><ns0:Header>'
            f'<ns1:RelayState ns0:actor="{SOAP_ACTOR}" ns0:mustUnderstand="1">{relay_state}</ns1:RelayState>'
            f'</ns0:Header><ns0:Body>{response}</ns0:Body></ns0:Envelope>')


def metadata(entity_id: str, sso_endpoint: str, cert_file: str) -> str:
    """An EntityDescriptor with one IDPSSODescriptor: the signing certificate, the SSO
    endpoint (URI binding) and the transient NameID format, as Keystone's generator."""
    certificate = read_cert_from_file(cert_file, "pem")
    descriptor = saml_md.EntityDescriptor(entity_id=entity_id, idpsso_descriptor=[saml_md.IDPSSODescriptor(
        protocol_support_enumeration=samlp.NAMESPACE,
        key_descriptor=[saml_md.KeyDescriptor(use="signing", key_info=ds.KeyInfo(x509_data=[ds.X509Data(
            x509_certificate=ds.X509Certificate(text=certificate))]))],
        single_sign_on_service=[saml_md.SingleSignOnService(binding=BINDING_URI, location=sso_endpoint)],
        name_id_format=[saml_md.NameIDFormat(text=saml.NAMEID_FORMAT_TRANSIENT)])])
    return descriptor.to_string().decode()
