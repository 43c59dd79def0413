"""The real python-openstackclient and openstacksdk against a real ``pocketstack up``."""

from __future__ import annotations

import signal

import httpx
import pytest

from cloudproc import ADMIN_PASSWORD, running_cloud


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    with running_cloud(tmp_path_factory.mktemp("identity-cli")) as proc:
        yield proc


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
