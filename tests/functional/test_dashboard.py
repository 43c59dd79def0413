"""The dashboard's security defaults and its form handling, without a browser: headers,
cookie flags, CSRF refusal, login failure, logout and expiry ending the session, member
versus admin pages, escaping, and forms answering bad input in words.

Each test drives its own cookie jar (a ``TestClient`` of the shared cloud's app that does
not start the app's workers a second time)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from pocketstack.dashboard.models import DashboardSession
from pocketstack.dashboard.security import CSP

from conftest import ADMIN_PASSWORD, DEMO_PASSWORD, unique

BASE = "http://127.0.0.1:8780"


def delete_networks_named(api, token, name):
    """The tests share one cloud: what a test made through the dashboard goes again."""
    for network in api.request("GET", f"/network/v2.0/networks?name={quote(name)}", token).json()["networks"]:
        api.request("DELETE", f"/network/v2.0/networks/{network['id']}", token)


def dashboard_of(api):
    return next(f for f in api.cloud.frontends if f.name == "dashboard").dashboard


class Browser:
    """A cookie jar and the forms' CSRF secret: what a browser keeps between pages."""

    def __init__(self, api):
        self.client = TestClient(api.client.app, base_url=BASE, follow_redirects=False)
        self.csrf = ""

    def get(self, path: str, **kwargs):
        response = self.client.get("/dashboard" + path, **kwargs)
        found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict, origin: str | None = BASE, csrf: str | None = None):
        headers = {"Origin": origin} if origin else {}
        return self.client.post("/dashboard" + path, data={"csrf_token": self.csrf if csrf is None else csrf, **data},
                                headers=headers)

    def login(self, user: str, password: str):
        self.get("/login")
        response = self.post("/login", {"method": "password", "domain": "Default", "user": user,
                                         "password": password})
        if response.status_code == 303:
            self.get("/overview")
        return response


def project_of(api, token: str) -> str:
    return api.request("GET", "/identity/v3/auth/tokens", token,
                       headers={"X-Subject-Token": token}).json()["token"]["project"]["id"]


def signed_in(api, user: str, password: str, token: str) -> Browser:
    """Logged in and working in ``token``'s project: the login picks the first project by
    name, and on the shared cloud other tests give admin and demo roles on theirs."""
    browser = Browser(api)
    assert browser.login(user, password).status_code == 303
    assert browser.post("/switch", {"project_id": project_of(api, token)}).status_code == 303
    return browser


@pytest.fixture
def admin(api, admin_token):
    return signed_in(api, "admin", ADMIN_PASSWORD, admin_token)


@pytest.fixture
def member(api, demo_token):
    return signed_in(api, "demo", DEMO_PASSWORD, demo_token)


def test_pages_carry_a_strict_policy_and_are_not_cached(api, admin):
    for response in (Browser(api).get("/login"), admin.get("/overview")):
        assert response.headers["content-security-policy"] == CSP
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "<script>" not in response.text and " onclick=" not in response.text
    static = admin.get("/static/dashboard.js")
    assert static.status_code == 200 and static.headers["x-frame-options"] == "DENY"
    assert "no-store" not in static.headers.get("cache-control", "")


def test_session_cookie_is_httponly_lax_and_carries_no_token(api):
    browser = Browser(api)
    response = browser.login("admin", ADMIN_PASSWORD)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("pocketstack_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # plain http here; https public URLs get Secure
    page = browser.get("/overview").text
    assert "gAAAA" not in page and "gAAAA" not in cookie  # no Fernet token in the page or the cookie


def test_a_wrong_password_is_refused_in_words(api):
    browser = Browser(api)
    browser.get("/login")
    response = browser.post("/login", {"method": "password", "domain": "Default", "user": "admin",
                                       "password": "wrong"})
    assert response.status_code == 401
    assert "The domain, user name or password is not right." in response.text
    assert "pocketstack_session" not in response.headers.get("set-cookie", "")


def test_forms_without_the_csrf_secret_or_from_another_site_are_refused(api, admin, admin_token):
    name = unique("net")
    for csrf, origin in (("", BASE), ("forged", BASE), (None, "https://evil.example"), (None, None)):
        response = admin.post("/networks", {"name": name}, origin=origin, csrf=csrf)
        assert response.status_code == 403, (csrf, origin)
        assert "did not come from this site" in response.text
    assert name not in admin.get("/networks").text
    assert admin.post("/networks", {"name": name}).status_code == 303
    assert name in admin.get("/networks").text
    delete_networks_named(api, admin_token, name)


def test_the_login_form_needs_its_csrf_secret_too(api):
    browser = Browser(api)
    browser.get("/login")
    response = browser.post("/login", {"method": "password", "domain": "Default", "user": "admin",
                                       "password": ADMIN_PASSWORD}, csrf="forged")
    assert response.status_code == 403


def test_logout_ends_the_session_and_its_token(api, admin):
    sid = admin.client.cookies["pocketstack_session"]
    token = dashboard_of(api).sessions.load(sid).login.token
    assert api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token}).status_code == 200
    assert admin.post("/logout", {}).status_code == 303
    assert "pocketstack_session" not in admin.client.cookies
    admin.client.cookies.set("pocketstack_session", sid, path="/dashboard")
    response = admin.get("/overview")
    assert response.status_code == 303 and response.headers["location"].startswith("/dashboard/login")
    assert dashboard_of(api).sessions.load(sid) is None
    admin_token = api.token("admin", ADMIN_PASSWORD, project="admin")
    assert api.request("GET", "/identity/v3/auth/tokens", admin_token,
                       headers={"X-Subject-Token": token}).status_code == 404


def test_an_idle_session_expires(api, member):
    sid = member.client.cookies["pocketstack_session"]
    with api.cloud.db.session() as s:
        row = s.get(DashboardSession, hashlib.sha256(sid.encode()).hexdigest())
        row.last_seen -= dt.timedelta(seconds=api.cloud.settings.dashboard_idle_timeout + 1)
    response = member.get("/overview")
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/login?expired=1"
    assert "Your session has ended" in member.get("/login?expired=1").text


def test_members_see_no_admin_menu_and_get_403_on_admin_pages(member):
    assert "/dashboard/admin/" not in member.get("/overview").text
    for path in ("/admin/projects", "/admin/users", "/admin/hypervisors"):
        response = member.get(path)
        assert response.status_code == 403 and "for administrators" in response.text
    assert member.post("/admin/projects", {"action": "create", "name": unique("p")}).status_code == 403


def test_names_are_escaped(api, admin, admin_token):
    name = "<img src=x onerror=alert(1)>" + unique("")
    assert admin.post("/networks", {"name": name}).status_code == 303
    page = admin.get("/networks").text
    assert name not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    delete_networks_named(api, admin_token, name)


@pytest.mark.parametrize("path, data, message", [
    ("/instances/launch", {"name": "", "flavor": "x"}, "A name is required."),
    ("/instances/launch", {"name": "x", "flavor": "x", "count": "many"}, "must be a whole number"),
    ("/volumes", {"name": "v", "size": "0"}, "The size must be at least 1."),
    ("/networks", {"name": "n", "cidr": "not-a-cidr"}, "not-a-cidr"),
    ("/security-groups", {"action": "add-rule", "group_id": "g", "protocol": "tcp", "port_min": "9",
                          "port_max": "2"}, "Ports run from 1 to 65535"),
    ("/containers", {"name": "a/b"}, "cannot contain"),
    ("/security-groups", {"action": "fly"}, "There is no action &#39;fly&#39;."),
])
def test_forms_answer_bad_input_in_words(admin, path, data, message):
    response = admin.post(path, {**data, "back": "/dashboard/overview"})
    assert response.status_code == 303 and response.headers["location"] == "/dashboard/overview"
    assert message in admin.get("/overview").text


def test_an_application_credential_made_here_logs_in(api, admin):
    name = unique("cred")
    page = admin.post("/credentials", {"action": "create", "name": name})
    assert page.status_code == 200 and "shown this once" in page.text
    credential_id = re.search(r'class="credential-id">([^<]+)<', page.text).group(1)
    secret = re.search(r'class="credential-secret">([^<]+)<', page.text).group(1)
    assert secret not in admin.get("/credentials").text  # shown once, kept nowhere
    browser = Browser(api)
    browser.get("/login")
    response = browser.post("/login", {"method": "application_credential", "credential_id": credential_id,
                                       "secret": "wrong"})
    assert response.status_code == 401 and "application credential id or secret is not right" in response.text
    browser.get("/login")
    assert browser.post("/login", {"method": "application_credential", "credential_id": credential_id,
                                   "secret": secret}).status_code == 303
    overview = browser.get("/overview").text
    assert 'name="project_id"' not in overview  # an application credential stays in its project
    assert "Project <strong>admin</strong>" in overview


def test_switching_project_rescopes_the_token(api, admin, admin_token):
    project = api.request("POST", "/identity/v3/projects", admin_token,
                          json={"project": {"name": unique("proj"), "domain_id": "default"}}).json()["project"]
    roles = api.request("GET", "/identity/v3/roles?name=member", admin_token).json()["roles"]
    user_id = api.request("GET", "/identity/v3/users?name=admin", admin_token).json()["users"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project['id']}/users/{user_id}/roles/{roles[0]['id']}", admin_token)
    admin.get("/overview")
    assert admin.post("/switch", {"project_id": project["id"]}).status_code == 303
    page = admin.get("/overview").text
    assert f"Now working in project {project['name']}." in page
    assert f'<option value="{project["id"]}" selected>' in page


def test_the_overview_lists_recent_failures(api, admin, admin_token):
    project_id = api.request("GET", "/identity/v3/auth/tokens", admin_token,
                             headers={"X-Subject-Token": admin_token}).json()["token"]["project"]["id"]
    name = unique("broken")
    volumes = f"/volume/v3/{project_id}/volumes"
    volume = api.request("POST", volumes, admin_token, json={"volume": {"name": name, "size": 1}}).json()["volume"]
    response = api.request("POST", f"{volumes}/{volume['id']}/action", admin_token,
                           json={"os-reset_status": {"status": "error"}})
    assert response.status_code == 202
    page = admin.get("/overview").text
    assert f'<a href="/dashboard/volumes/{volume["id"]}">Volume {name}</a></td><td>in error' in page
    api.request("DELETE", f"{volumes}/{volume['id']}", admin_token)


def test_a_shared_link_lets_anyone_download_one_object(api, admin):
    container = unique("box")
    assert admin.post("/containers", {"name": container}).status_code == 303
    admin.get(f"/containers/{container}")
    response = admin.client.post(f"/dashboard/containers/{container}/action", headers={"Origin": BASE}, data={
        "csrf_token": admin.csrf, "action": "upload", "prefix": "", "object_name": "a/b.txt"},
        files={"file": ("b.txt", b"shared bytes", "text/plain")})
    assert response.status_code == 303
    page = admin.post(f"/containers/{container}/action", {"action": "tempurl", "object": "a/b.txt", "minutes": "5"})
    assert page.status_code == 200 and "for 5 minutes" in page.text
    link = re.search(r'class="link" readonly value="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert link.startswith(BASE + "/object-store/v1/AUTH_") and "temp_url_sig=" in link
    anonymous = api.client.get(link.removeprefix(BASE))
    assert anonymous.status_code == 200 and anonymous.content == b"shared bytes"
    other = api.client.get(link.removeprefix(BASE).replace("a/b.txt", "a/c.txt"))
    assert other.status_code == 401
    too_long = admin.post(f"/containers/{container}/action", {"action": "tempurl", "object": "a/b.txt",
                                                              "minutes": "999999", "back": "/dashboard/overview"})
    assert too_long.status_code == 303 and "at most 10080 minutes" in admin.get("/overview").text


def test_an_image_shared_with_another_project_is_offered_there(api, admin, member, admin_token, demo_token):
    name = unique("img")
    image = api.request("POST", "/image/v2/images", admin_token,
                        json={"name": name, "disk_format": "raw", "container_format": "bare"}).json()
    demo_project = api.request("GET", "/identity/v3/auth/tokens", demo_token,
                               headers={"X-Subject-Token": demo_token}).json()["token"]["project"]["id"]
    admin.get(f"/images/{image['id']}")
    assert admin.post(f"/images/{image['id']}/action", {"action": "visibility", "visibility": "shared"}).status_code \
        == 303
    assert admin.post(f"/images/{image['id']}/action", {"action": "add-member", "project_id": demo_project}) \
        .status_code == 303
    assert demo_project in admin.get(f"/images/{image['id']}").text
    offered = member.get("/images").text
    assert f'data-offered="{name}"' in offered and f'data-image="{name}"' not in offered
    assert member.post(f"/images/{image['id']}/action", {"action": "accept"}).status_code == 303
    assert f'data-image="{name}"' in member.get("/images").text
    # The member may not change what it does not own: the API says so, in words.
    refused = member.post(f"/images/{image['id']}/action", {"action": "visibility", "visibility": "public",
                                                            "back": "/dashboard/images"})
    assert refused.status_code == 303
    assert 'class="flash error"' in member.get("/images").text
    api.request("DELETE", f"/image/v2/images/{image['id']}", admin_token)


def test_admin_manages_groups_and_volume_types(admin):
    group, kind = unique("grp"), unique("type")
    assert admin.post("/admin/groups", {"action": "create", "name": group}).status_code == 303
    page = admin.get("/admin/groups").text
    group_id = re.search(rf'data-group="{group}".*?name="group_id" value="([0-9a-f]+)"', page, re.S).group(1)
    user_id = re.search(r'<option value="([0-9a-f]+)">demo</option>', page).group(1)
    assert admin.post("/admin/groups", {"action": "add-user", "group_id": group_id, "user_id": user_id}) \
        .status_code == 303
    section = admin.get("/admin/groups").text.split(f'data-group="{group}"')[1].split("</section>")[0]
    assert "demo" in section and "Remove" in section
    assert admin.post("/admin/volume-types", {"action": "create", "name": kind}).status_code == 303
    assert kind in admin.get("/admin/volume-types").text
