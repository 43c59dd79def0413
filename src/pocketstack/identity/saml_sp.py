"""The SAML 2.0 service provider pysaml2 is for :mod:`pocketstack.identity.saml`: the
AuthnRequests it sends (ECP's PAOS envelope, the HTTP-Redirect binding), its metadata,
and the checks of a Response (the identity provider's signature by its metadata,
audience, Destination, InResponseTo, NotBefore/NotOnOrAfter, status).

This module imports pysaml2 (the ``saml`` extra, which needs the ``xmlsec1`` binary):
:mod:`pocketstack.identity.saml` loads it on the first SAML request, never at start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, BINDING_PAOS, BINDING_SOAP
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.population import Population
from saml2.sigver import get_xmlsec_binary

from pocketstack.identity import errors
from pocketstack.identity.saml import refused

LOG = logging.getLogger(__name__)
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SAMLP_NS = "urn:oasis:names:tc:SAML:2.0:protocol"
CLOCK_SKEW = 60  # seconds of clock difference with an identity provider tolerated
# What an XML parser of untrusted input must not do: fetch, expand entities, grow huge.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)


@dataclass(frozen=True)
class Asserted:
    """What a valid Response says: the request it answers, its issuer, the subject's
    NameID and the attributes (name → values; a FriendlyName too when it has one)."""

    in_response_to: str
    issuer: str
    name_id: str
    attributes: dict[str, list[str]]


class _Forgetful(Population):
    """pysaml2 keeps each signed-in subject in memory for its logout and attribute
    queries, which this service provider never makes: keep none (an unbounded cache
    otherwise, a transient NameID per sign-in)."""

    def add_information_about_person(self, session_info):
        return session_info.get("name_id")


class _Client(Saml2Client):
    """pysaml2's client that checks an ECP (PAOS) Response as one of the HTTP-POST
    binding: its InResponseTo must be outstanding and its Destination ours (pysaml2
    checks neither for PAOS, and cannot unpack it)."""

    def __init__(self, config: SPConfig):
        super().__init__(config=config)
        self.users = _Forgetful(None)

    @staticmethod
    def unravel(txt, binding, msgtype="response"):
        return Saml2Client.unravel(txt, None if binding == BINDING_PAOS else binding, msgtype)

    def _parse_response(self, xmlstr, response_cls, service, binding, outstanding_certs=None, **kwargs):
        kwargs["asynchop"] = True
        return super()._parse_response(xmlstr, response_cls, service, binding, outstanding_certs, **kwargs)


class ServiceProvider:
    """The service provider ``entity_id`` whose assertion consumer URLs are ``paos_url``
    (ECP) and ``post_url`` (HTTP-POST), trusting the identity providers of
    ``metadata_files``; it never signs (AuthnRequests need no signature)."""

    def __init__(self, entity_id: str, paos_url: str, post_url: str, metadata_files: tuple[str, ...]):
        self.paos_url, self.post_url = paos_url, post_url
        config = SPConfig()
        config.load({
            "entityid": entity_id,
            "xmlsec_binary": get_xmlsec_binary(),
            "metadata": {"local": list(metadata_files)},
            "accepted_time_diff": CLOCK_SKEW,
            "allow_unknown_attributes": True,
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(post_url, BINDING_HTTP_POST),
                                                             (paos_url, BINDING_PAOS)]},
                "allow_unsolicited": False,
                "authn_requests_signed": False,
                "want_response_signed": False,
                "want_assertions_signed": False,
                "want_assertions_or_response_signed": True,
            }},
        })
        self.config = config
        self.client = _Client(config=config)

    def metadata(self) -> str:
        return create_metadata_string(None, config=self.config).decode()

    def ecp_request(self, entity_id: str) -> tuple[str, str]:
        """(request id, the PAOS envelope of an AuthnRequest for the identity provider
        ``entity_id``, answered to :attr:`paos_url`)."""
        try:
            request_id, envelope = self.client.create_ecp_authn_request(entity_id, binding=BINDING_SOAP)
        except Exception as exc:  # noqa: BLE001 -- pysaml2 raises bare exceptions for metadata it lacks
            raise errors.ValidationMessage(message=f"Identity provider {entity_id} has no ECP (SOAP) single sign-on "
                                                   f"service in its SAML metadata: {exc}") from None
        return request_id, envelope

    def redirect(self, entity_id: str, relay_state: str) -> tuple[str, str]:
        """(request id, the identity provider's URL carrying an AuthnRequest by the
        HTTP-Redirect binding, answered by HTTP-POST to :attr:`post_url`)."""
        try:
            request_id, info = self.client.prepare_for_authenticate(
                entityid=entity_id, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT)
        except Exception as exc:  # noqa: BLE001 -- as above
            raise errors.ValidationMessage(message=f"Identity provider {entity_id} has no HTTP-Redirect single "
                                                   f"sign-on service in its SAML metadata: {exc}") from None
        return request_id, dict(info["headers"])["Location"]

    def ecp_response(self, envelope: bytes) -> str:
        """The ``samlp:Response`` of an ECP envelope, as XML text (exactly as signed)."""
        try:
            root = etree.fromstring(envelope, PARSER)
        except etree.XMLSyntaxError as exc:
            raise refused(f"the ECP message is not XML ({exc})") from None
        found = root.findall(f"{{{SOAP_NS}}}Body/{{{SAMLP_NS}}}Response")
        if root.tag != f"{{{SOAP_NS}}}Envelope" or len(found) != 1:
            raise refused("the ECP message is no SOAP envelope around one samlp:Response")
        return etree.tostring(found[0]).decode()

    def check(self, message: str, binding: str, outstanding: Mapping[str, str]) -> Asserted:
        """The assertion of a Response (base64 for HTTP-POST, XML for PAOS) answering one
        of the ``outstanding`` request ids; 401 with the reason for any other."""
        if binding == BINDING_PAOS:
            message = self.ecp_response(message.encode())
        try:
            response = self.client.parse_authn_request_response(message, binding, outstanding=outstanding)
        except Exception as exc:  # noqa: BLE001 -- pysaml2's checks raise many bare exception types
            LOG.info("SAML response refused: %s: %s", type(exc).__name__, exc)
            raise refused(_reason(exc)) from None
        if response is None or response.assertion is None:
            # pysaml2's answer for a wrong Destination, IssueInstant or version, too
            raise refused("it is not addressed to this assertion consumer, or carries no assertion")
        return Asserted(in_response_to=response.in_response_to, issuer=response.issuer(),
                        name_id=response.name_id.text if response.name_id is not None else "",
                        attributes=_attributes(response.assertion))


# pysaml2's refusals (their class names and messages) → Keystone-style sentences.
REASONS = (
    ("SignatureError", "", "its signature does not verify with the identity provider's metadata"),
    ("IncorrectlySigned", "", "its signature does not verify with the identity provider's metadata"),
    ("SigverError", "", "it is not signed by the identity provider"),
    ("", "AudienceRestrictions", "its audience is not this service provider"),
    ("VerificationError", "Condition not OK", "it has expired or is not valid yet"),
    ("ResponseLifetimeExceed", "", "it has expired"),
    ("ToEarly", "", "it is not valid yet"),
    ("UnsolicitedResponse", "", "it answers no outstanding request (unsolicited, too late, or replayed)"),
    ("StatusError", "", "the identity provider did not sign the user in"),
)


def _reason(exc: Exception) -> str:
    """Why pysaml2 refused a Response, in a sentence (with pysaml2's detail)."""
    name, text = type(exc).__name__, str(exc).strip()
    for kind, fragment, sentence in REASONS:
        if (not kind or kind == name) and fragment in text:
            return f"{sentence} ({name}: {text[:200]})"
    return f"{name}: {text[:200] or 'no detail'}"


def _attributes(assertion) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [v.text or "" for v in attribute.attribute_value]
            for name in dict.fromkeys(n for n in (attribute.name, attribute.friendly_name) if n):
                found.setdefault(name, []).extend(values)
    return found

