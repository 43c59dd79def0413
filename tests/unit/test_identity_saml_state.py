"""The SAML front end's own state and settings (no pysaml2): outstanding AuthnRequests
(in the database, shared by processes), the identity providers of metadata files, and
WebSSO's trusted dashboards and page."""

from __future__ import annotations

import pytest

from pocketstack.common.db import Base, Database
from pocketstack.identity import errors
from pocketstack.identity.models import SamlRequest
from pocketstack.identity.saml import Pending, PendingRequests, SamlFrontEnd, idp_entities, wants_ecp
from pocketstack.identity.websso import WebSso

METADATA = """<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">
  <md:EntityDescriptor entityID="https://idp.test/idp"><md:IDPSSODescriptor/></md:EntityDescriptor>
  <md:EntityDescriptor entityID="https://sp.test/sp"><md:SPSSODescriptor/></md:EntityDescriptor>
</md:EntitiesDescriptor>"""


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'identity.db'}")
    Base.metadata.create_all(database.engine, tables=[SamlRequest.__table__])
    yield database
    database.engine.dispose()


def test_a_request_is_answered_once_and_expires(db):
    pending = PendingRequests(db, lifetime=60, max_entries=2)
    first = Pending("idp", "saml2", "https://idp.test/idp")
    pending.put("_1", first)
    assert dict(pending.outstanding()) == {"_1": "https://idp.test/idp"}
    # Another process's store (a new object on the same database) takes it: once.
    assert PendingRequests(db).take("_1") == first and pending.take("_1") is None
    pending.put("_2", first)
    pending.put("_3", first)
    pending.put("_4", Pending("idp", "saml2", "https://idp.test/idp", "https://dash.test/"))  # the oldest goes
    assert set(pending.outstanding()) == {"_3", "_4"} and "_2" not in pending.outstanding()
    assert pending.take("_4") == Pending("idp", "saml2", "https://idp.test/idp", "https://dash.test/")
    expired = PendingRequests(db, lifetime=0)
    expired.put("_5", first)
    assert expired.take("_5") is None and "_5" not in expired.outstanding()


def test_taken_assertions_have_their_own_cap_and_are_never_evicted(db):
    """A flood of sign-in starts (public) must not push out the record of an unsolicited
    assertion taken (that would let it be replayed); past their own cap, new unsolicited
    assertions are refused rather than old records forgotten."""
    pending = PendingRequests(db, max_entries=2, max_taken=2)
    assert pending.first("_a1", "https://idp.test/idp")
    for n in range(5):
        pending.put(f"_{n}", Pending("idp", "saml2", "https://idp.test/idp"))
    assert set(pending.outstanding()) == {"_3", "_4"}
    assert not pending.first("_a1", "https://idp.test/idp")  # still remembered: a replay
    assert pending.first("_a2", "https://idp.test/idp")
    assert not pending.first("_a3", "https://idp.test/idp")  # the cap: refused, nothing evicted
    assert not pending.first("_a2", "https://idp.test/idp") and not pending.first("_a1", "https://idp.test/idp")
    pending.put("_5", Pending("idp", "saml2", "https://idp.test/idp"))
    assert set(pending.outstanding()) == {"_4", "_5"}


def test_identity_providers_of_metadata(tmp_path, db):
    path = tmp_path / "md.xml"
    path.write_text(METADATA)
    assert idp_entities([str(path)]) == {"https://idp.test/idp"}
    front = SamlFrontEnd(PendingRequests(db), (str(path),))
    assert front.entity_of("saml2", ["other", "https://idp.test/idp"]) == "https://idp.test/idp"
    assert front.entity_of("openid", ["https://idp.test/idp"]) is None
    assert front.entity_of("mapped", ["https://sp.test/sp"]) is None
    (tmp_path / "bad.xml").write_text("<unclosed")
    with pytest.raises(ValueError, match="federation_saml_metadata"):
        idp_entities([str(tmp_path / "bad.xml")])
    with pytest.raises(ValueError, match="federation_saml_metadata"):
        SamlFrontEnd.from_settings(PendingRequests(db), str(tmp_path / "missing.xml"), "")


def test_ecp_clients_are_told_by_their_headers():
    paos = 'ver="urn:liberty:paos:2003-08";"urn:oasis:names:tc:SAML:2.0:profiles:SSO:ecp"'
    assert wants_ecp("text/html, application/vnd.paos+xml", paos)
    assert not wants_ecp("text/html", paos) and not wants_ecp("application/vnd.paos+xml", None)


def test_trusted_dashboards_and_the_callback_page(tmp_path):
    sso = WebSso.from_settings("https://Dash.Example.com/auth/websso/, ", "")
    assert sso.trusted_dashboards == ("https://dash.example.com/auth/websso/",)
    assert sso.origin("https%3A%2F%2Fdash.example.com%2Fauth%2Fwebsso%2F") == "https://dash.example.com/auth/websso/"
    with pytest.raises(errors.UntrustedDashboard):
        sso.origin("https://evil.test/")
    with pytest.raises(errors.ValidationMessage):
        sso.origin(None)
    page = sso.callback("https://dash.example.com/?a=1&b=2", "tok\"en")
    assert 'action="https://dash.example.com/?a=1&amp;b=2"' in page and 'value="tok&quot;en"' in page
    template = tmp_path / "sso.html"
    template.write_text("<p>$host $token</p>")
    assert WebSso.from_settings("", str(template)).callback("h", "t") == "<p>h t</p>"
    with pytest.raises(ValueError, match="federation_sso_callback_template"):
        WebSso.from_settings("", str(tmp_path / "missing.html"))
