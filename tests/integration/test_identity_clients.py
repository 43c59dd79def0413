"""The real python-openstackclient and openstacksdk against a real ``pocketstack up``."""

from __future__ import annotations

import signal
import ssl

import httpx
import pytest

from pki import issue, loopback_server, name

from cloudproc import ADMIN_PASSWORD, free_port, running_cloud


@pytest.fixture(scope="module")
def pki_files(tmp_path_factory) -> dict[str, str]:
    """A CA, the TLS listener's certificate, a client of the CA and one of another CA."""
    directory = tmp_path_factory.mktemp("identity-pki")
    ca, other = issue(name(O="pocketstack", CN="Test CA"), ca=True), issue(name(CN="Other CA"), ca=True)
    files: dict[str, str] = {}
    for stem, issued in (("ca", ca), ("server", loopback_server(ca)), ("client", issue(name(CN="carol"), ca)),
                         ("stranger", issue(name(CN="eve"), other))):
        files[stem], files[stem + "_key"] = issued.write(directory, stem)
    return files


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory, pki_files):
    """``pocketstack up`` with its TLS listener asking for client certificates of the CA."""
    tls = {"POCKETSTACK_TLS_PORT": str(free_port()), "POCKETSTACK_TLS_CERT_FILE": pki_files["server"],
           "POCKETSTACK_TLS_KEY_FILE": pki_files["server_key"], "POCKETSTACK_TLS_CLIENT_CA_FILE": pki_files["ca"]}
    with running_cloud(tmp_path_factory.mktemp("identity-cli"), env=tls) as proc:
        proc.tls_url = f"https://127.0.0.1:{tls['POCKETSTACK_TLS_PORT']}"  # type: ignore[attr-defined]
        yield proc


def test_tls_listener(cloud_proc, pki_files):
    """The same APIs over HTTPS beside the plain port; a certificate of another CA ends
    the handshake; a client certificate alone (no trusted issuer) authorizes nothing."""
    def tls_client(who: str) -> httpx.Client:
        context = ssl.create_default_context(cafile=pki_files["ca"])  # (httpx ignores cert= beside verify=<path>)
        context.load_cert_chain(pki_files[who], pki_files[who + "_key"])
        return httpx.Client(verify=context)

    with tls_client("client") as client:
        assert client.get(cloud_proc.tls_url + "/identity/v3").json()["version"]["id"] == "v3.14"
        r = client.get(cloud_proc.tls_url + "/identity/v3/projects", headers={"X-Project-Name": "admin",
                                                                              "X-Project-Domain-Id": "default"})
        assert r.status_code == 401, r.text
    with tls_client("stranger") as client:
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            client.get(cloud_proc.tls_url + "/identity/v3")


def test_openstack_cli_identity_workflow(cloud_proc):
    os_ = cloud_proc.openstack
    token = os_("token", "issue", "-f", "json")
    assert token["project_id"] and token["user_id"]

    project = os_("project", "create", "cli-project", "--description", "made by the CLI", "-f", "json")
    assert project["name"] == "cli-project"
    names = [p["Name"] for p in os_("project", "list", "-f", "json")]
    assert {"admin", "demo", "cli-project"} <= set(names)

    user = os_("user", "create", "--password", "cli-pass", "--project", "cli-project", "cli-user", "-f", "json")
    assert user["name"] == "cli-user"
    os_("role", "add", "--project", "cli-project", "--user", "cli-user", "member", parse=False)
    assignments = os_("role", "assignment", "list", "--names", "--project", "cli-project", "-f", "json")
    assert [(a["Role"], a["User"], a["Project"]) for a in assignments] == \
        [("member", "cli-user@Default", "cli-project@Default")]

    cred = os_("application", "credential", "create", "cli-cred", "-f", "json")
    # "--opt=value": a generated secret may start with "-", which argparse would take for an option.
    env_args = ["--os-auth-type", "v3applicationcredential", "--os-auth-url", cloud_proc.url + "/identity",
                "--os-application-credential-id", cred["ID"], "--os-application-credential-secret=" + cred["Secret"]]
    via_cred = os_(*env_args, "token", "issue", "-f", "json", cloud="")
    assert via_cred["project_id"] == token["project_id"]

    fresh = os_("token", "issue", "-f", "json")["id"]
    os_("token", "revoke", fresh, parse=False)
    r = httpx.get(cloud_proc.url + "/identity/v3/auth/projects", headers={"X-Auth-Token": fresh})
    assert r.status_code == 401

    # The demo user sees only its own project and cannot list users.
    demo_projects = [p["Name"] for p in os_("project", "list", "-f", "json", cloud="pocketstack-demo")]
    assert demo_projects == ["demo"]
    denied = os_("user", "list", cloud="pocketstack-demo", check=False)
    assert denied.returncode != 0 and "403" in denied.stderr


def test_openstacksdk_connect(cloud_proc):
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig(config_files=[str(cloud_proc.clouds_file)])
    conn = openstack.connection.Connection(config=config.get_one("pocketstack"))
    assert conn.identity.find_project("admin") is not None
    domain = conn.identity.create_domain(name="sdk-domain")
    group = conn.identity.create_group(name="sdk-group", domain_id=domain.id)
    user = conn.identity.create_user(name="sdk-user", password="sdk-pass", domain_id=domain.id)
    conn.identity.add_user_to_group(user, group)
    assert conn.identity.check_user_in_group(user, group)
    assert [u.id for u in conn.identity.group_users(group)] == [user.id]
    assert {r.name for r in conn.identity.roles()} >= {"admin", "manager", "member", "reader", "service"}
    conn.close()


def test_restart_keeps_data_and_ctrl_c_is_clean(tmp_path):
    with running_cloud(tmp_path) as first:
        first.openstack("project", "create", "survivor", parse=False)
        first.process.send_signal(signal.SIGINT)
        assert first.process.wait(timeout=15) == 0
        assert "Application shutdown complete" in first.log()
    with running_cloud(tmp_path) as second:
        names = [p["Name"] for p in second.openstack("project", "list", "-f", "json")]
        assert "survivor" in names
        # The admin password given again on restart still works (and was not regenerated).
        r = httpx.post(second.url + "/identity/v3/auth/tokens", json={"auth": {"identity": {
            "methods": ["password"], "password": {"user": {"name": "admin", "domain": {"id": "default"},
                                                            "password": ADMIN_PASSWORD}}}}})
        assert r.status_code == 201


def test_idle_keep_alive_connection_outlives_client_pauses(cloud_proc):
    """A pooled connection idle for longer than uvicorn's default keep-alive (5 s) is still
    open, so a client's next POST on it cannot race the server's close (and fail with a
    connection reset, as a 100-boot race once did)."""
    import http.client
    import socket
    import time

    conn = http.client.HTTPConnection(cloud_proc.url.removeprefix("http://"), timeout=10)
    conn.request("GET", "/identity/v3")
    first = conn.getresponse()
    first.read()
    assert first.status == 200 and not first.will_close
    time.sleep(7)
    conn.sock.setblocking(False)
    try:
        closed = conn.sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        closed = False
    conn.sock.setblocking(True)
    assert not closed, "the server closed an idle keep-alive connection after 7 s"
    conn.request("GET", "/identity/v3")
    again = conn.getresponse()
    assert again.status == 200 and b"v3" in again.read()
    conn.close()


def test_openstack_cli_trusts_and_ec2_credentials(cloud_proc):
    """A trust used by its trustee through ``--os-trust-id``, revoked, then refused; EC2
    credentials made by the CLI authenticate a signed request at /v3/ec2tokens."""
    from keystoneclient.contrib.ec2.utils import Ec2Signer

    os_ = cloud_proc.openstack
    admin = os_("token", "issue", "-f", "json")
    os_("user", "create", "--password", "trustee-pass", "cli-trustee", "-f", "json")
    trust = os_("trust", "create", "--project", "admin", "--role", "member", "--impersonate", "admin", "cli-trustee",
                "-f", "json")
    assert trust["is_impersonation"] is True and trust["project_id"] == admin["project_id"]
    assert trust["id"] in [t["ID"] for t in os_("trust", "list", "-f", "json")]
    as_trustee = ["--os-auth-type", "password", "--os-auth-url", cloud_proc.url + "/identity",
                  "--os-username", "cli-trustee", "--os-password", "trustee-pass", "--os-user-domain-id", "default",
                  "--os-trust-id", trust["id"]]
    token = os_(*as_trustee, "token", "issue", "-f", "json", cloud="")
    assert token["project_id"] == admin["project_id"] and token["user_id"] == admin["user_id"]
    r = httpx.get(cloud_proc.url + "/identity/v3/auth/tokens", headers={"X-Auth-Token": admin["id"],
                                                                       "X-Subject-Token": token["id"]})
    assert r.json()["token"]["OS-TRUST:trust"]["id"] == trust["id"]
    os_("trust", "delete", trust["id"], parse=False)
    assert httpx.get(cloud_proc.url + "/identity/v3/auth/projects",
                     headers={"X-Auth-Token": token["id"]}).status_code == 401
    refused = os_(*as_trustee, "token", "issue", cloud="", check=False)
    assert refused.returncode != 0 and "401" in refused.stderr

    cred = os_("ec2", "credentials", "create", "-f", "json")
    assert cred["project_id"] == admin["project_id"] and cred["access"] and cred["secret"]
    assert cred["access"] in [c["Access"] for c in os_("ec2", "credentials", "list", "-f", "json")]
    request = {"access": cred["access"], "host": "127.0.0.1:8788", "verb": "GET", "path": "/",
               "params": {"SignatureVersion": "2", "Action": "DescribeRegions", "AWSAccessKeyId": cred["access"]}}
    request["signature"] = Ec2Signer(cred["secret"]).generate(dict(request, params=dict(request["params"])))
    issued = httpx.post(cloud_proc.url + "/identity/v3/ec2tokens", json={"credentials": request},
                        headers={"X-Auth-Token": admin["id"]})
    assert issued.status_code == 200, issued.text
    assert issued.json()["token"]["methods"] == ["ec2credential"]
    os_("ec2", "credentials", "delete", cred["access"], parse=False)
    assert cred["access"] not in [c["Access"] for c in os_("ec2", "credentials", "list", "-f", "json")]


def test_openstack_cli_unified_limits(cloud_proc):
    """python-openstackclient's ``registered limit`` and ``limit`` commands (keystoneclient's
    managers) through their whole life, and the demo user seeing only its own project's."""
    os_ = cloud_proc.openstack
    registered = os_("registered", "limit", "create", "--service", "keystone", "--default-limit", "10",
                     "--description", "cli widgets", "cli-widgets", "-f", "json")
    assert registered["default_limit"] == 10 and registered["resource_name"] == "cli-widgets"
    assert registered["id"] in [r["ID"] for r in os_("registered", "limit", "list", "--resource-name", "cli-widgets",
                                                     "-f", "json")]
    limit = os_("limit", "create", "--project", "demo", "--service", "keystone", "--resource-limit", "3",
                "cli-widgets", "-f", "json")
    assert limit["resource_limit"] == 3 and limit["service_id"] == registered["service_id"]
    assert os_("limit", "set", "--resource-limit", "4", limit["id"], "-f", "json")["resource_limit"] == 4
    demo_limits = os_("limit", "list", "-f", "json", cloud="pocketstack-demo")
    assert [lim["ID"] for lim in demo_limits] == [limit["id"]]
    in_use = os_("registered", "limit", "delete", registered["id"], check=False)
    assert in_use.returncode != 0 and "403" in in_use.stderr
    os_("limit", "delete", limit["id"], parse=False)
    os_("registered", "limit", "delete", registered["id"], parse=False)
    assert os_("limit", "list", "-f", "json") == []


def test_openstack_cli_endpoint_filtering(cloud_proc, tmp_path):
    """python-openstackclient's ``endpoint group`` and ``endpoint add project`` commands,
    and the catalog of a project filtered down to one endpoint."""
    os_ = cloud_proc.openstack
    keystone = next(e for e in os_("endpoint", "list", "--service", "keystone", "-f", "json")
                    if e["Interface"] == "public")
    filters = tmp_path / "filters.json"
    filters.write_text('{"interface": "public"}')
    group = os_("endpoint", "group", "create", "--description", "public ones", "cli-public", str(filters),
                "-f", "json")
    assert group["filters"] == {"interface": "public"} and group["name"] == "cli-public"
    assert group["id"] in [g["ID"] for g in os_("endpoint", "group", "list", "-f", "json")]
    os_("project", "create", "cli-filtered", "-f", "json")
    os_("endpoint", "add", "project", keystone["ID"], "cli-filtered", parse=False)
    assert [e["ID"] for e in os_("endpoint", "list", "--project", "cli-filtered", "-f", "json")] == [keystone["ID"]]
    os_("user", "create", "--password", "filtered-pass", "--project", "cli-filtered", "cli-filtered-user",
        "-f", "json")
    os_("role", "add", "--project", "cli-filtered", "--user", "cli-filtered-user", "member", parse=False)
    as_user = ["--os-auth-type", "password", "--os-auth-url", cloud_proc.url + "/identity",
               "--os-username", "cli-filtered-user", "--os-password", "filtered-pass",
               "--os-user-domain-id", "default", "--os-project-name", "cli-filtered",
               "--os-project-domain-id", "default"]
    catalog = os_(*as_user, "catalog", "list", "-f", "json", cloud="")
    assert [c["Type"] for c in catalog] == ["identity"]
    os_("endpoint", "remove", "project", keystone["ID"], "cli-filtered", parse=False)
    os_("endpoint", "group", "delete", group["id"], parse=False)
    assert len(os_(*as_user, "catalog", "list", "-f", "json", cloud="")) > 1


def test_openstack_cli_totp_and_policies(cloud_proc, tmp_path):
    """keystoneauth's ``v3totp`` plugin gets a token with a passcode of the user's
    ``totp`` credential; ``openstack policy create/show`` use /v3/policies."""
    import base64
    import time

    from pocketstack.identity.totp import totp

    os_ = cloud_proc.openstack
    admin = {"X-Auth-Token": os_("token", "issue", "-f", "json")["id"]}
    v3 = cloud_proc.url + "/identity/v3"
    user = httpx.post(v3 + "/users", headers=admin, json={"user": {"name": "cli-totp", "password": "totp-pass"}})
    user_id = user.json()["user"]["id"]
    seed = b"pocketstack-totp-cli"
    httpx.post(v3 + "/credentials", headers=admin, json={"credential": {
        "type": "totp", "user_id": user_id, "blob": base64.b32encode(seed).decode()}}).raise_for_status()
    as_user = ["--os-auth-type", "v3totp", "--os-auth-url", cloud_proc.url + "/identity",
               "--os-username", "cli-totp", "--os-user-domain-id", "default", "--os-passcode", totp(seed, time.time())]
    token = os_(*as_user, "token", "issue", "-f", "json", cloud="")
    assert token["user_id"] == user_id

    blob = tmp_path / "policy.json"
    blob.write_text('{"identity:list_users": "role:admin"}')
    policy = os_("policy", "create", "--type", "application/json", str(blob), "-f", "json")
    assert policy["type"] == "application/json" and "identity:list_users" in policy["rules"]
