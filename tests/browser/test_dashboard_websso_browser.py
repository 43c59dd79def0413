"""Single sign-on in a real browser: a ``pocketstack up`` whose dashboard offers
"Authenticate using: OpenID Connect", the test OpenID provider (tests/oidc_provider.py, its
interactive login page) and Chromium clicking through it -- dashboard, Keystone's WebSSO
URL, the provider's login page, Keystone's callback page posting the token back, the
dashboard's overview, logged in as the federated user."""

from __future__ import annotations

import httpx
import pytest
from test_dashboard_browser import _flash, browser  # noqa: F401 - fixture

from oidc_provider import SSO_CLIENT, SSO_SECRET, running_provider
from pocketstack.testing.harness import free_port

from cloudproc import admin_token, running_cloud

pytestmark = pytest.mark.timeout(180)
IDP, PROJECT = "corp-oidc", "sso-lab"


@pytest.fixture(scope="module")
def provider():
    with running_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, provider):
    """The cloud, its OpenID Connect front end naming the provider's ``corp-oidc``, its
    dashboard trusted by Keystone and offering OpenID Connect beside the credentials."""
    folder = tmp_path_factory.mktemp("websso")
    oidc_file = folder / "oidc.toml"
    oidc_file.write_text(f'[{IDP}]\nissuer = "{provider.issuer}"\naudience = "pocketstack"\n'
                         f'client_id = "{SSO_CLIENT}"\nclient_secret = "{SSO_SECRET}"\n')
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"POCKETSTACK_FEDERATION_OIDC_FILE": str(oidc_file),
           "POCKETSTACK_FEDERATION_TRUSTED_DASHBOARDS": f"{url}/dashboard/auth/websso/",
           "POCKETSTACK_DASHBOARD_WEBSSO_CHOICES": "credentials=Keystone Credentials,openid=OpenID Connect"}
    with running_cloud(folder, env=env, port=port) as cloud:
        token, _project = admin_token(cloud.url)
        v3 = f"{cloud.url}/identity/v3/OS-FEDERATION"
        for path, key, body in [
            ("/mappings/corp-map", "mapping", {"rules": [
                {"local": [{"user": {"name": "{0}", "email": "{1}"}},
                           {"projects": [{"name": PROJECT, "roles": [{"name": "member"}]}]}],
                 "remote": [{"type": "OIDC_CLAIM_preferred_username"}, {"type": "OIDC_CLAIM_email"}]}]}),
            (f"/identity_providers/{IDP}", "identity_provider", {"enabled": True, "remote_ids": [provider.issuer]}),
            (f"/identity_providers/{IDP}/protocols/openid", "protocol",
             {"mapping_id": "corp-map", "remote_id_attribute": "HTTP_OIDC_ISS"}),
        ]:
            r = httpx.put(v3 + path, json={key: body}, headers={"X-Auth-Token": token})
            assert r.status_code == 201, r.text
        provider.clients[SSO_CLIENT].redirect_uris.append(
            f"{cloud.url}/identity/v3/auth/OS-FEDERATION/identity_providers/{IDP}/protocols/openid/websso")
        yield cloud


def test_authenticate_using_openid_connect(browser, cloud):  # noqa: F811
    context = browser.new_context(base_url=cloud.url)
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto("/dashboard/login")
    assert page.get_by_role("heading", name="Authenticate using").is_visible()
    with page.expect_navigation(url="**/authorize?**"):
        page.get_by_role("link", name="OpenID Connect").click()
    assert page.title() == "Test provider: sign in"  # the provider's own login page
    page.fill("#username", "alice")
    page.fill("#password", "wonderland")
    # The provider sends the browser to Keystone, whose page posts the token to the
    # dashboard, which logs alice in.
    with page.expect_navigation(url="**/dashboard/overview"):
        page.get_by_role("button", name="Sign in").click()
    assert page.url == f"{cloud.url}/dashboard/overview", _flash(page)
    header = page.text_content("header") or ""
    assert "alice" in header and PROJECT in header
    context.close()


def test_a_wrong_password_stays_at_the_provider(browser, cloud):  # noqa: F811
    context = browser.new_context(base_url=cloud.url)
    page = context.new_page()
    page.goto("/dashboard/login")
    with page.expect_navigation(url="**/authorize?**"):
        page.get_by_role("link", name="OpenID Connect").click()
    page.fill("#username", "alice")
    page.fill("#password", "not-her-password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").text_content() == "Wrong user name or password."
    page.goto("/dashboard/overview")
    assert page.url.endswith("/dashboard/login")  # no session
    context.close()
