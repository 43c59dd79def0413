"""LDAP as a read-only identity backend per domain (Keystone's domain-specific
configuration), against a real OpenLDAP ``slapd`` this module starts on a free loopback
port: the ``/v3/domains/{id}/config`` API with Keystone's codes and messages, users and
groups read from the directory under stable SHA-256 public IDs, password logins that
bind to the directory (through keystoneauth and the real ``openstack`` CLI), role
assignments on directory users and groups that other services honour, writes refused,
and a directory that is down answering a clean 503."""

from __future__ import annotations

import hashlib
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session
from keystoneauth1.identity import v3
from test_identity_trusts import assert_error, role_id

from ldapserver import group_ldif, require_ldap3, running_slapd, user_ldif

from cloudproc import BIN, free_port
from conftest import unique

V3 = "/identity/v3"
TOKENS = V3 + "/auth/tokens"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    with running_slapd(tmp_path_factory.mktemp("slapd")) as server:
        server.add(user_ldif("alice", "alice-pw-1", mail="alice@example.org", description="Alice A.")
                   + user_ldif("bob", "bob-pw-1") + user_ldif("carol", "carol-pw-1")
                   + group_ldif("staff", "alice", "bob") + group_ldif("ops", "carol"))
        yield server


def ldap_config(url: str) -> dict:
    return {"identity": {"driver": "ldap"}, "ldap": {
        "url": url, "user": "cn=admin,dc=example,dc=org", "password": "slapd-root-secret",
        "suffix": "dc=example,dc=org", "user_id_attribute": "uid", "user_name_attribute": "uid",
        "user_mail_attribute": "mail", "group_id_attribute": "cn", "group_name_attribute": "cn",
        "group_member_attribute": "member", "query_scope": "one", "page_size": 2}}


def new_domain(api, admin_token) -> str:
    response = api.request("POST", V3 + "/domains", admin_token, json={"domain": {"name": unique("ldapdom")}})
    assert response.status_code == 201, response.text
    return response.json()["domain"]["id"]


@pytest.fixture(scope="module")
def domain(api, admin_token, slapd):
    """A domain whose users and groups are the directory's."""
    domain_id = new_domain(api, admin_token)
    response = api.request("PUT", f"{V3}/domains/{domain_id}/config", admin_token,
                           json={"config": ldap_config(slapd.url)})
    assert response.status_code == 201, response.text
    return domain_id


def sha256_id(domain_id: str, local_id: str, entity_type: str) -> str:
    return hashlib.sha256((domain_id + entity_type + local_id).encode()).hexdigest()


def login(api, domain_id, name, password, project_id=None):
    auth = {"identity": {"methods": ["password"], "password": {
        "user": {"name": name, "domain": {"id": domain_id}, "password": password}}}}
    if project_id:
        auth["scope"] = {"project": {"id": project_id}}
    return api.request("POST", TOKENS, json={"auth": auth})


def new_project(api, admin_token, domain_id):
    response = api.request("POST", V3 + "/projects", admin_token,
                           json={"project": {"name": unique("ldapproj"), "domain_id": domain_id}})
    assert response.status_code == 201, response.text
    return response.json()["project"]["id"]


# -- domain configuration API -----------------------------------------------------------------------
def test_config_crud_hides_the_password(api, admin_token, slapd):
    domain_id = new_domain(api, admin_token)
    url = f"{V3}/domains/{domain_id}/config"
    assert_error(api.request("GET", url, admin_token), 404,
                 f"Could not find any options in domain configuration for domain {domain_id}.")
    created = api.request("PUT", url, admin_token, json={"config": ldap_config(slapd.url)})
    assert created.status_code == 201, created.text
    config = created.json()["config"]
    assert config["identity"] == {"driver": "ldap"} and config["ldap"]["url"] == slapd.url
    assert "password" not in config["ldap"]
    assert api.request("GET", url, admin_token).json()["config"] == config
    assert api.request("GET", url + "/ldap/url", admin_token).json() == {"config": {"url": slapd.url}}
    assert api.request("GET", url + "/identity", admin_token).json() == {"config": {"identity": {"driver": "ldap"}}}
    assert_error(api.request("GET", url + "/ldap/password", admin_token), 404,
                 f"Could not find option password in group ldap in domain configuration for domain {domain_id}.")
    # PUT again replaces (200); PATCH merges; DELETE of an option, a group, the whole.
    again = api.request("PUT", url, admin_token, json={"config": ldap_config(slapd.url)})
    assert again.status_code == 200, again.text
    patched = api.request("PATCH", url + "/ldap", admin_token, json={"config": {"ldap": {"page_size": 5}}})
    assert patched.status_code == 200 and patched.json()["config"]["ldap"]["page_size"] == 5
    option = api.request("PATCH", url + "/ldap/page_size", admin_token, json={"config": {"page_size": 7}})
    assert option.json()["config"]["ldap"]["page_size"] == 7
    assert api.request("DELETE", url + "/ldap/page_size", admin_token).status_code == 204
    assert_error(api.request("GET", url + "/ldap/page_size", admin_token), 404)
    # Any driver name is stored, as Keystone does (Tempest's test_domain_configuration sets random ones);
    # one other than ldap reads the SQL tables.
    driver = api.request("PATCH", url + "/identity/driver", admin_token, json={"config": {"driver": "driver-x"}})
    assert driver.status_code == 200 and driver.json()["config"]["identity"] == {"driver": "driver-x"}
    api.request("PATCH", url + "/identity", admin_token, json={"config": {"identity": {"driver": "ldap"}}})
    assert api.request("DELETE", url + "/ldap", admin_token).status_code == 204
    assert api.request("GET", url, admin_token).json()["config"] == {"identity": {"driver": "ldap"}}
    assert api.request("DELETE", url, admin_token).status_code == 204
    assert_error(api.request("GET", url, admin_token), 404)


@pytest.mark.parametrize(("method", "path", "body", "code", "message"), [
    ("PUT", "", {"config": {"nova": {"x": 1}}}, 403,
     "Invalid domain specific configuration: Group nova is not supported for domain specific configurations."),
    ("PUT", "", {"config": {"ldap": {"bogus": 1}}}, 403,
     "Invalid domain specific configuration: Option bogus in group ldap is not supported for domain specific "
     "configurations."),
    ("PUT", "", {"config": {}}, 403, "Invalid domain specific configuration: No options specified."),
    ("PUT", "", {"config": {"ldap": "x"}}, 403, "Invalid domain specific configuration: The value of group ldap "
     "specified in the config should be a dictionary of options."),
    ("PUT", "", ["config"], 400, None),
    ("GET", "/nova", None, 403, None),
    ("GET", "/ldap/bogus", None, 403, None),
    ("PATCH", "/ldap/url", {"config": {"url": "ldap://x", "user": "y"}}, 403, None),
    ("PATCH", "/identity", {"config": {"ldap": {"url": "ldap://x"}}}, 403, None),
    ("PATCH", "/ldap", {"config": {"ldap": {"url": "ldap://x"}}}, 404, None),
    ("DELETE", "/ldap", None, 404, None),
])
def test_config_errors(api, admin_token, method, path, body, code, message):
    domain_id = new_domain(api, admin_token)
    url = f"{V3}/domains/{domain_id}/config"
    if method != "PUT":
        api.request("PUT", url, admin_token, json={"config": {"identity": {"driver": "sql"}}})
    response = api.request(method, url + path, admin_token, **({"json": body} if body is not None else {}))
    assert_error(response, code, message)


def test_config_of_unknown_domain_and_policy(api, admin_token, demo_token):
    assert_error(api.request("PUT", f"{V3}/domains/nope/config", admin_token,
                             json={"config": {"identity": {"driver": "sql"}}}), 404, "Could not find domain: nope.")
    assert_error(api.request("GET", f"{V3}/domains/nope/config", admin_token), 404)
    assert_error(api.request("GET", f"{V3}/domains/default/config", demo_token), 403)
    assert_error(api.request("GET", f"{V3}/domains/config/default", demo_token), 403)


def test_config_defaults(api, admin_token):
    defaults = api.request("GET", f"{V3}/domains/config/default", admin_token).json()["config"]
    assert defaults["identity"]["driver"] == "sql" and defaults["ldap"]["user_objectclass"] == "inetOrgPerson"
    assert "password" not in defaults["ldap"]
    assert api.request("GET", f"{V3}/domains/config/ldap/default", admin_token).json()["config"]["ldap"][
        "group_member_attribute"] == "member"
    assert api.request("GET", f"{V3}/domains/config/ldap/url/default", admin_token).json() == {
        "config": {"url": "ldap://localhost"}}
    assert_error(api.request("GET", f"{V3}/domains/config/ldap/password/default", admin_token), 403,
                 "Invalid domain specific configuration: Reading the default for option password in group ldap is "
                 "not supported.")
    assert_error(api.request("GET", f"{V3}/domains/config/nova/default", admin_token), 403)


# -- users and groups from the directory ------------------------------------------------------------
def test_users_and_groups_come_from_the_directory(api, admin_token, domain):
    users = api.request("GET", f"{V3}/users?domain_id={domain}", admin_token).json()["users"]
    # (test_directory_changes_show_up adds users to the module's directory: one per backend run)
    names = [u["name"] for u in users]
    assert names[:3] == ["alice", "bob", "carol"] and names == sorted(names)
    alice = users[0]
    assert alice["id"] == sha256_id(domain, "alice", "user")
    assert alice["email"] == "alice@example.org" and alice["enabled"] is True and alice["domain_id"] == domain
    shown = api.request("GET", f"{V3}/users/{alice['id']}", admin_token).json()["user"]
    assert shown["name"] == "alice" and shown["description"] == "Alice A."
    named = api.request("GET", f"{V3}/users?domain_id={domain}&name=bob", admin_token).json()["users"]
    assert [u["name"] for u in named] == ["bob"]
    assert [g["name"] for g in api.request("GET", f"{V3}/groups?domain_id={domain}&name=ops",
                                           admin_token).json()["groups"]] == ["ops"]
    groups = api.request("GET", f"{V3}/groups?domain_id={domain}", admin_token).json()["groups"]
    assert [g["name"] for g in groups] == ["ops", "staff"]
    staff = groups[1]
    assert staff["id"] == sha256_id(domain, "staff", "group")
    members = api.request("GET", f"{V3}/groups/{staff['id']}/users", admin_token).json()["users"]
    assert [u["name"] for u in members] == ["alice", "bob"]
    assert api.request("HEAD", f"{V3}/groups/{staff['id']}/users/{alice['id']}", admin_token).status_code == 204
    carol = sha256_id(domain, "carol", "user")
    assert api.request("HEAD", f"{V3}/groups/{staff['id']}/users/{carol}", admin_token).status_code == 404
    of_alice = api.request("GET", f"{V3}/users/{alice['id']}/groups", admin_token).json()["groups"]
    assert [g["name"] for g in of_alice] == ["staff"]
    # SQL users of the default domain are unchanged.
    assert any(u["name"] == "admin" for u in
               api.request("GET", f"{V3}/users?domain_id=default", admin_token).json()["users"])


def test_directory_changes_show_up(api, admin_token, domain, slapd):
    uid = unique("dave").replace("-", "")
    slapd.add(user_ldif(uid, "dave-pw-1"))
    found = api.request("GET", f"{V3}/users?domain_id={domain}&name={uid}", admin_token).json()["users"]
    assert [u["id"] for u in found] == [sha256_id(domain, uid, "user")]
    slapd.modify(f"dn: uid={uid},ou=Users,dc=example,dc=org\nchangetype: modify\nreplace: mail\n"
                 f"mail: {uid}@example.org\n")
    assert api.request("GET", f"{V3}/users/{found[0]['id']}", admin_token).json()["user"]["email"] == \
        f"{uid}@example.org"


def test_disabled_in_the_directory(api, admin_token, slapd):
    """``user_enabled_attribute`` read as Keystone does: a disabled user is listed as such
    and cannot sign in; flipping the attribute in the directory lets them in."""
    uid = unique("erin").replace("-", "")
    slapd.add(user_ldif(uid, "erin-pw-1", employeeType="FALSE"))
    domain_id = new_domain(api, admin_token)
    config = ldap_config(slapd.url)
    config["ldap"]["user_enabled_attribute"] = "employeeType"
    api.request("PUT", f"{V3}/domains/{domain_id}/config", admin_token, json={"config": config})
    [erin] = api.request("GET", f"{V3}/users?domain_id={domain_id}&name={uid}", admin_token).json()["users"]
    assert erin["enabled"] is False
    enabled = api.request("GET", f"{V3}/users?domain_id={domain_id}&enabled=true", admin_token).json()["users"]
    assert uid not in {u["name"] for u in enabled} and "alice" in {u["name"] for u in enabled}
    assert_error(login(api, domain_id, uid, "erin-pw-1"), 401, f"User {erin['id']} is disabled.")
    slapd.modify(f"dn: uid={uid},ou=Users,dc=example,dc=org\nchangetype: modify\nreplace: employeeType\n"
                 "employeeType: TRUE\n")
    assert login(api, domain_id, uid, "erin-pw-1").status_code == 201


def test_writes_are_refused(api, admin_token, domain):
    read_only = "You are not authorized to perform the requested action: LDAP does not support write operations."
    alice, staff = sha256_id(domain, "alice", "user"), sha256_id(domain, "staff", "group")
    api.request("GET", f"{V3}/groups?domain_id={domain}", admin_token)
    cases = [
        ("POST", "/users", {"user": {"name": "x", "domain_id": domain, "password": "pw-1"}}),
        ("PATCH", f"/users/{alice}", {"user": {"description": "x"}}),
        ("DELETE", f"/users/{alice}", None),
        ("POST", "/groups", {"group": {"name": "x", "domain_id": domain}}),
        ("PATCH", f"/groups/{staff}", {"group": {"description": "x"}}),
        ("DELETE", f"/groups/{staff}", None),
        ("PUT", f"/groups/{staff}/users/{sha256_id(domain, 'carol', 'user')}", None),
        ("DELETE", f"/groups/{staff}/users/{alice}", None),
    ]
    for method, path, body in cases:
        response = api.request(method, V3 + path, admin_token, **({"json": body} if body else {}))
        assert_error(response, 403, read_only)
    sql_group = api.request("POST", V3 + "/groups", admin_token,
                            json={"group": {"name": unique("sqlg")}}).json()["group"]
    assert_error(api.request("PUT", f"{V3}/groups/{sql_group['id']}/users/{alice}", admin_token), 403,
                 f"Group membership across backend boundaries is not allowed. Group in question is "
                 f"{sql_group['id']}, user is {alice}.")
    assert_error(api.request("POST", f"{V3}/users/{alice}/password",
                             json={"user": {"original_password": "alice-pw-1", "password": "new-pw-2"}}), 403)


# -- authentication and roles -----------------------------------------------------------------------
def test_password_login_binds_to_the_directory(api, admin_token, domain):
    ok = login(api, domain, "alice", "alice-pw-1")
    assert ok.status_code == 201, ok.text
    assert ok.json()["token"]["user"]["id"] == sha256_id(domain, "alice", "user")
    assert_error(login(api, domain, "alice", "wrong"), 401, "The request you have made requires authentication.")
    assert_error(login(api, domain, "alice", ""), 401)
    assert_error(login(api, domain, "nobody", "x"), 401)
    by_id = api.request("POST", TOKENS, json={"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"id": sha256_id(domain, "bob", "user"), "password": "bob-pw-1"}}}}})
    assert by_id.status_code == 201, by_id.text


def test_user_role_works_across_services(api, admin_token, domain):
    project = new_project(api, admin_token, domain)
    alice = sha256_id(domain, "alice", "user")
    assert api.request("PUT", f"{V3}/projects/{project}/users/{alice}/roles/{role_id(api, admin_token, 'member')}",
                       admin_token).status_code == 204
    response = login(api, domain, "alice", "alice-pw-1", project)
    assert response.status_code == 201, response.text
    token = response.headers["X-Subject-Token"]
    assert api.request("GET", "/compute/v2.1/servers", token).status_code == 200
    network = api.request("POST", "/network/v2.0/networks", token, json={"network": {"name": unique("ldapnet")}})
    assert network.status_code == 201, network.text
    assert network.json()["network"]["project_id"] == project
    assert api.request("DELETE", f"/network/v2.0/networks/{network.json()['network']['id']}",
                       token).status_code == 204


def test_group_role_reaches_its_members(api, admin_token, domain):
    project = new_project(api, admin_token, domain)
    ops = sha256_id(domain, "ops", "group")
    api.request("GET", f"{V3}/groups?domain_id={domain}", admin_token)
    assert api.request("PUT", f"{V3}/projects/{project}/groups/{ops}/roles/{role_id(api, admin_token, 'reader')}",
                       admin_token).status_code == 204
    carol = login(api, domain, "carol", "carol-pw-1", project)
    assert carol.status_code == 201, carol.text
    assert [r["name"] for r in carol.json()["token"]["roles"]] == ["reader"]
    assert api.request("GET", "/compute/v2.1/servers", carol.headers["X-Subject-Token"]).status_code == 200
    # bob is not in ops: no role on the project.
    assert_error(login(api, domain, "bob", "bob-pw-1", project), 401)


def test_keystoneauth_and_the_cli(api, admin_token, domain, keystone_url):
    project = new_project(api, admin_token, domain)
    bob = sha256_id(domain, "bob", "user")
    api.request("PUT", f"{V3}/projects/{project}/users/{bob}/roles/{role_id(api, admin_token, 'member')}",
                admin_token)
    auth = v3.Password(auth_url=keystone_url, username="bob", password="bob-pw-1", user_domain_id=domain,
                       project_id=project)
    access = auth.get_access(session.Session())
    assert access.user_id == bob and access.project_id == project
    with pytest.raises(ks_exc.Unauthorized):
        v3.Password(auth_url=keystone_url, username="bob", password="nope", user_domain_id=domain,
                    project_id=project).get_access(session.Session())
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_AUTH_URL=keystone_url, OS_USERNAME="bob", OS_PASSWORD="bob-pw-1", OS_USER_DOMAIN_ID=domain,
               OS_PROJECT_ID=project, OS_IDENTITY_API_VERSION="3", OS_INTERFACE="public")
    issued = subprocess.run([str(BIN / "openstack"), "token", "issue", "-f", "value", "-c", "user_id"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.strip() == bob
    env["OS_PASSWORD"] = "wrong"
    refused = subprocess.run([str(BIN / "openstack"), "token", "issue"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0 and "401" in refused.stderr


def test_directory_down_is_a_clean_503(api, admin_token):
    require_ldap3()
    domain_id = new_domain(api, admin_token)
    config = ldap_config(f"ldap://127.0.0.1:{free_port()}")
    assert api.request("PUT", f"{V3}/domains/{domain_id}/config", admin_token,
                       json={"config": config}).status_code == 201
    response = api.request("GET", f"{V3}/users?domain_id={domain_id}", admin_token)
    assert_error(response, 503)
    assert response.json()["error"]["message"].startswith(f"The LDAP server of domain {domain_id} is unavailable")
    assert_error(login(api, domain_id, "alice", "alice-pw-1"), 503)


def test_wrong_bind_password_is_a_503(api, admin_token, slapd):
    domain_id = new_domain(api, admin_token)
    config = ldap_config(slapd.url)
    config["ldap"]["password"] = "not-the-root-password"
    api.request("PUT", f"{V3}/domains/{domain_id}/config", admin_token, json={"config": config})
    response = api.request("GET", f"{V3}/groups?domain_id={domain_id}", admin_token)
    assert_error(response, 503)
    assert "bind as cn=admin,dc=example,dc=org refused" in response.json()["error"]["message"]


def test_back_to_sql_hides_the_directory(api, admin_token, slapd):
    domain_id = new_domain(api, admin_token)
    url = f"{V3}/domains/{domain_id}/config"
    api.request("PUT", url, admin_token, json={"config": ldap_config(slapd.url)})
    alice = api.request("GET", f"{V3}/users?domain_id={domain_id}&name=alice", admin_token).json()["users"][0]
    assert api.request("PATCH", url + "/identity/driver", admin_token,
                       json={"config": {"driver": "sql"}}).status_code == 200
    assert_error(api.request("GET", f"{V3}/users/{alice['id']}", admin_token), 404)
    created = api.request("POST", V3 + "/users", admin_token, json={"user": {"name": unique("sqlu"),
                                                                             "domain_id": domain_id}})
    assert created.status_code == 201, created.text


def test_concurrent_first_reads_agree(api, admin_token, slapd, keystone_url):
    """Requests racing to read a domain's directory for the first time insert the same
    rows: each answers 200 with the same IDs (the loser re-reads the winner's rows)."""
    domain_id = new_domain(api, admin_token)
    api.request("PUT", f"{V3}/domains/{domain_id}/config", admin_token, json={"config": ldap_config(slapd.url)})

    def fetch(kind: str) -> httpx.Response:
        return httpx.get(f"{keystone_url}/{kind}?domain_id={domain_id}", headers={"X-Auth-Token": admin_token},
                         timeout=60)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(fetch, ["users", "groups"] * 4))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers if a.status_code != 200]
    for kind, answer in zip(["users", "groups"] * 4, answers, strict=True):
        ids = {item["name"]: item["id"] for item in answer.json()[kind]}
        entity = kind[:-1]
        assert all(ids[name] == sha256_id(domain_id, name, entity) for name in ids)
        assert {"alice", "bob", "carol"} <= set(ids) if kind == "users" else {"ops", "staff"} == set(ids)
