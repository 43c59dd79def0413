"""The dashboard's single sign-on: the login page's "Authenticate using" choices, the
hop to Keystone's WebSSO URL, and ``POST /auth/websso/`` taking the token Keystone's page
posts -- checked with Keystone, scoped to the user's first project, a session made -- or
refusing it with the login page and no session.  The round trip runs against the real
test OpenID provider (tests/oidc_provider.py) through the in-process Keystone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from test_dashboard import BASE, Browser, dashboard_of
from test_identity_websso import AUTH, DASHBOARD_ORIGIN, come_back, posted_token, provider, provider_login, sso  # noqa: F401 - fixtures

from pocketstack.common.config import Settings
from pocketstack.dashboard.websso import SsoChoice, SsoSettings


@pytest.fixture
def choices(api, sso, monkeypatch):  # noqa: F811
    """OpenID Connect through the protocol's URL, and the same provider by its own."""
    settings = Settings(dashboard_websso_choices="credentials=Keystone Credentials, openid=OpenID Connect, "
                                                 "corp=Corporate login",
                        dashboard_websso_idp_mapping=f"corp={sso['id']}:openid")
    monkeypatch.setattr(dashboard_of(api), "sso", SsoSettings.from_settings(settings))
    return sso


def test_choices_from_settings():
    sso = SsoSettings.from_settings(Settings(dashboard_websso_choices="openid=OpenID Connect,acme=Acme",
                                             dashboard_websso_idp_mapping="acme=acme-idp:saml2"))
    assert not sso.credentials
    assert sso.choices == (SsoChoice("openid", "OpenID Connect", "openid"),
                           SsoChoice("acme", "Acme", "saml2", "acme-idp"))
    assert SsoSettings.from_settings(Settings()) == SsoSettings(credentials=True, choices=())
    for bad in ({"dashboard_websso_choices": "openid"}, {"dashboard_websso_idp_mapping": "acme=idp-only"}):
        with pytest.raises(ValueError, match="setting 'dashboard_websso_"):
            SsoSettings.from_settings(Settings(**bad))


def test_login_page_offers_the_choices(api, choices):
    page = Browser(api).get("/login").text
    assert "Authenticate using" in page and 'id="f-password"' in page
    assert '/dashboard/auth/websso/start?auth_type=openid">OpenID Connect</a>' in page
    assert '/dashboard/auth/websso/start?auth_type=corp">Corporate login</a>' in page
    # Without "credentials" among the choices the password forms go.
    dashboard_of(api).sso = SsoSettings(credentials=False, choices=dashboard_of(api).sso.choices)
    assert 'id="f-password"' not in Browser(api).get("/login").text


def test_a_choice_leads_to_keystone(api, choices):
    browser = Browser(api)
    for choice, path in (("openid", f"{AUTH}/websso/openid"),
                         ("corp", f"{AUTH}/identity_providers/{choices['id']}/protocols/openid/websso")):
        r = browser.get("/auth/websso/start", params={"auth_type": choice})
        assert r.status_code == 303, r.text
        target = urlsplit(r.headers["location"])
        assert f"{target.scheme}://{target.netloc}{target.path}" == BASE + path
        assert parse_qs(target.query) == {"origin": [DASHBOARD_ORIGIN]}
    r = browser.get("/auth/websso/start", params={"auth_type": "nope"})
    assert r.status_code == 400 and "There is no such way to authenticate." in r.text


def test_sso_login_makes_a_session_in_the_first_project(api, choices):
    browser = Browser(api)
    keystone = urlsplit(browser.get("/auth/websso/start", params={"auth_type": "openid"}).headers["location"])
    r = api.client.get(f"{keystone.path}?{keystone.query}", follow_redirects=False)
    assert r.status_code == 302, r.text
    sealed = r.cookies["pocketstack_websso"]
    api.client.cookies.delete("pocketstack_websso")
    action, token = posted_token(come_back(api, provider_login(r.headers["location"]), sealed))
    assert action == DASHBOARD_ORIGIN
    # Keystone's page posts from Keystone's origin, with no CSRF field: accepted.
    done = browser.client.post(urlsplit(action).path, data={"token": token}, headers={"Origin": BASE})
    assert done.status_code == 303 and done.headers["location"] == "/dashboard/overview", done.text
    assert any(c.startswith("pocketstack_session=") for c in done.headers.get_list("set-cookie"))
    overview = browser.get("/overview")
    assert overview.status_code == 200 and "alice" in overview.text and choices["project"] in overview.text


@pytest.mark.parametrize("token, message", [
    ("gAAAAABnot-a-real-token", "The single sign-on token is not valid (or has expired); sign in again."),
    ("", "The single sign-on did not hand over a token."),
    ("a token\r\nX-Injected: 1", "The single sign-on did not hand over a token."),
])
def test_a_bad_token_makes_no_session(api, token, message):
    browser = Browser(api)
    r = browser.client.post("/dashboard/auth/websso/", data={"token": token})
    assert r.status_code == 401 and message in r.text
    assert not any(c.startswith("pocketstack_session=") for c in r.headers.get_list("set-cookie"))
    assert browser.get("/overview").status_code == 303  # still logged out
