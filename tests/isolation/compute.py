"""Compute (Nova v2.1) in the isolation matrix: servers, their actions and
sub-resources, key pairs, server groups, flavors, aggregates, quotas, limits, usage and
the admin-only host APIs.

Nova looks an instance up in the caller's project before it checks a policy (its
``project_only`` queries), so another project's server is a 404 for every operation,
admin-only ones included; the admin (``context_is_admin``) sees every project's.
"""

from __future__ import annotations

import time

from pocketstack.compute.console_tokens import ConnectInfo

from conftest import unique
from isolation.matrix import (
    ADMIN_ONLY,
    BAD_REQUEST,
    CONFLICT,
    CREATE,
    EVERYONE,
    FORBIDDEN,
    LISTED,
    NOT_FOUND,
    OK,
    OWN_READ,
    OWN_WRITE,
    UNLISTED,
    Op,
    Resource,
    expect,
)
from isolation.volume import wait_for

V = "/compute/v2.1"
SERVERS = V + "/servers"
SERVER = SERVERS + "/{server}"
MICRO = {"OpenStack-API-Version": "compute 2.64"}
# The proxy APIs (os-hosts, server security groups, ...) are gone after 2.35.
LEGACY = {"OpenStack-API-Version": "compute 2.1"}
# Admin-only operations on a project-A server: A's own users are refused, other
# projects do not learn the server exists.
ADMIN_ON_SERVER = expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)
# Listings only the admin may make (``all_tenants``, ``all_projects``): it sees A's.
ADMIN_LISTS = expect(LISTED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# A project's own quota, usage, limits: its users read it, others are refused (403:
# the target is a project id, nothing is looked up).
PROJECT_A_READ = expect(OK, OK, OK, FORBIDDEN, FORBIDDEN)
# The Neutron proxies (os-security-groups, os-floating-ips) check Nova's policy on the
# caller's own project first, then look the resource up: readers are refused (403)
# before another project's member is told it does not exist (404).
PROXY_WRITE = expect(OK, OK, FORBIDDEN, NOT_FOUND, FORBIDDEN)


def unlimited_quotas(w, project_id: str) -> None:
    """No compute quota stands in the way of the servers the cells boot."""
    w.call("PUT", f"{V}/os-quota-sets/{project_id}", headers=MICRO, json={"quota_set": {
        "instances": -1, "cores": -1, "ram": -1, "server_groups": -1}})


# -- factories -----------------------------------------------------------------------------
def make_zone(w) -> dict:
    """A private availability zone with a roomy fake host for the matrix's servers
    (disabled again when the matrix is done, so other tests' servers never land there)."""
    hosts = w.api.cloud.service("compute").compute.hosts
    zone = unique("iso-zone")
    node = hosts.add_fake_host(unique("iso-host"), 1000, 1_000_000, 10_000, availability_zone=zone)
    w.on_close(lambda: hosts.update_service(node.service_id, disabled=True, disabled_reason="matrix done"))
    return {"id": zone, "host": node.host, "hypervisor": node.id, "service": node.service_id}


def make_boot_image(w) -> dict:
    image = w.call("POST", "/image/v2/images", json={
        "name": unique("iso-boot"), "disk_format": "qcow2", "container_format": "bare",
        "visibility": "public"}).json()
    w.call("PUT", f"/image/v2/images/{image['id']}/file", content=b"isolation boot image",
           headers={"Content-Type": "application/octet-stream"})
    return {"id": image["id"]}


def make_flavor(w) -> dict:
    flavor = w.call("POST", V + "/flavors", headers=MICRO, json={"flavor": {
        "name": unique("iso-flavor"), "vcpus": 1, "ram": 64, "disk": 1}}).json()["flavor"]
    return {"id": flavor["id"], "name": flavor["name"]}


def make_big_flavor(w) -> dict:
    flavor = w.call("POST", V + "/flavors", headers=MICRO, json={"flavor": {
        "name": unique("iso-big"), "vcpus": 2, "ram": 128, "disk": 1}}).json()["flavor"]
    return {"id": flavor["id"], "name": flavor["name"]}


def make_private_flavor(w) -> dict:
    """A private flavor project A has access to (B has not); extra spec ``k=v``."""
    flavor = w.call("POST", V + "/flavors", headers=MICRO, json={"flavor": {
        "name": unique("iso-private"), "vcpus": 1, "ram": 64, "disk": 1,
        "os-flavor-access:is_public": False}}).json()["flavor"]
    w.call("POST", f"{V}/flavors/{flavor['id']}/action", headers=MICRO,
           json={"addTenantAccess": {"tenant": str(w.project("a"))}})
    w.call("POST", f"{V}/flavors/{flavor['id']}/os-extra_specs", headers=MICRO, json={"extra_specs": {"k": "v"}})
    return {"id": flavor["id"], "name": flavor["name"]}


def wait_server(w, server_id: str, until=("ACTIVE",)) -> dict:
    deadline = time.monotonic() + 60
    while True:
        server = w.call("GET", f"{SERVERS}/{server_id}", headers=MICRO).json()["server"]
        if server["status"] in until and server["OS-EXT-STS:task_state"] is None:
            return server
        assert server["status"] != "ERROR", server
        assert time.monotonic() < deadline, f"server {server_id} stuck in {server['status']}"
        time.sleep(0.02)


def boot(w) -> dict:
    """An ACTIVE server of a_member's in project A, with metadata ``k=v``, tag ``t1``
    and its boot's request id (the instance action's id)."""
    response = w.call("POST", SERVERS, "a_member", headers=MICRO, json={"server": {
        "name": unique("iso-vm"), "imageRef": str(w.shared("boot_image")), "flavorRef": str(w.shared("flavor")),
        "networks": "none", "metadata": {"k": "v"}, "tags": ["t1"], "availability_zone": str(w.shared("zone"))}})
    server_id = response.json()["server"]["id"]
    wait_server(w, server_id)
    return {"id": server_id, "request_id": response.headers["x-openstack-request-id"]}


def deleted_server(w) -> dict:
    """A server of a_member's, deleted (its actions stay readable from 2.21, as Nova's)."""
    server = boot(w)
    w.call("DELETE", f"{SERVERS}/{server['id']}", "a_member", headers=MICRO)
    deadline = time.monotonic() + 60
    while w.call("GET", f"{SERVERS}/{server['id']}", headers=MICRO, status=(200, 404)).status_code != 404:
        assert time.monotonic() < deadline, f"server {server['id']} was not deleted"
        time.sleep(0.02)
    return server


def server_in(status: str, action: str, args=None):
    """A factory of servers brought into ``status`` by a_member's ``action`` (the one the
    cell then undoes); ``args`` may be a function of the world."""
    def make(w) -> dict:
        server = boot(w)
        w.call("POST", f"{SERVERS}/{server['id']}/action", "a_member", headers=MICRO,
               json={action: args(w) if callable(args) else args})
        wait_server(w, server["id"], until=(status,))
        return server
    return make


def make_keypair(w) -> dict:
    keypair = w.call("POST", V + "/os-keypairs", "a_member", headers=MICRO,
                     json={"keypair": {"name": unique("iso-key")}}).json()["keypair"]
    return {"id": keypair["name"]}


def make_server_group(w) -> dict:
    group = w.call("POST", V + "/os-server-groups", "a_member", headers=MICRO, json={"server_group": {
        "name": unique("iso-group"), "policy": "affinity"}}).json()["server_group"]
    return {"id": group["id"]}


def make_aggregate(w) -> dict:
    aggregate = w.call("POST", V + "/os-aggregates", headers=MICRO, json={"aggregate": {
        "name": unique("iso-agg")}}).json()["aggregate"]
    w.on_close(lambda: delete_aggregates(w), key="aggregates")
    return {"id": aggregate["id"]}


def delete_aggregates(w) -> None:
    """Every aggregate the matrix made (all named iso-…): other tests expect none."""
    for aggregate in w.call("GET", V + "/os-aggregates", headers=MICRO).json()["aggregates"]:
        if aggregate["name"].startswith("iso-"):
            w.call("DELETE", f"{V}/os-aggregates/{aggregate['id']}", headers=MICRO)


def make_interface_server(w) -> dict:
    """A server with a port on A's network attached (for os-interface)."""
    server = boot(w)
    attached = w.call("POST", f"{SERVERS}/{server['id']}/os-interface", "a_member", headers=MICRO, json={
        "interfaceAttachment": {"net_id": str(w.shared("network"))}}).json()["interfaceAttachment"]
    return {**server, "port": attached["port_id"]}


def make_attachable_server(w) -> dict:
    """A server and an available volume of A's (to attach)."""
    return {**boot(w), "volume": str(w.fresh("volume"))}


def make_attached_server(w) -> dict:
    """A server with one of A's volumes attached (for os-volume_attachments)."""
    server = make_attachable_server(w)
    w.call("POST", f"{SERVERS}/{server['id']}/os-volume_attachments", "a_member", headers=MICRO, json={
        "volumeAttachment": {"volumeId": server["volume"]}})
    # The host completes the attach after the API's answer.
    wait_for(w, f"/volume/v3/{w.persona('admin').project}/volumes/{server['volume']}", "volume", ("in-use",))
    return server


def make_console_token(w) -> dict:
    """A console token for one of A's servers, authorized as a QEMU host would (the fake
    hosts of the matrix have no VNC server, so their console URLs store none)."""
    server = boot(w)
    compute = w.api.cloud.service("compute").compute
    info = ConnectInfo(instance_uuid=server["id"], console_type="novnc", host="127.0.0.1", port=5900,
                       internal_access_path=None, compute_host=compute.instances.get(server["id"]).host,
                       access_url_base=w.api.cloud.settings.effective_novncproxy_base_url, expires=0)
    return {"id": compute.consoles.tokens.authorize(info), "server": server["id"]}


RESOURCES = [
    Resource("zone", make_zone),
    Resource("boot_image", make_boot_image),
    Resource("flavor", make_flavor),
    Resource("big_flavor", make_big_flavor),
    Resource("private_flavor", make_private_flavor),
    Resource("server", boot),
    Resource("deleted_server", deleted_server),
    Resource("stopped_server", server_in("SHUTOFF", "os-stop")),
    Resource("paused_server", server_in("PAUSED", "pause")),
    Resource("suspended_server", server_in("SUSPENDED", "suspend")),
    Resource("rescued_server", server_in("RESCUE", "rescue")),
    Resource("resized_server", server_in("VERIFY_RESIZE", "resize",
                                         lambda w: {"flavorRef": str(w.shared("big_flavor"))})),
    Resource("locked_server", server_in("ACTIVE", "lock")),
    Resource("shelved_server", server_in("SHELVED_OFFLOADED", "shelve")),
    Resource("interface_server", make_interface_server),
    Resource("attachable_server", make_attachable_server),
    Resource("attached_server", make_attached_server),
    Resource("keypair", make_keypair),
    Resource("server_group", make_server_group),
    Resource("aggregate", make_aggregate),
    Resource("console_token", make_console_token),
]


def server_op(name: str, method: str, path: str, profile, **kw) -> Op:
    return Op("server", name, method, path, profile, headers=MICRO, **kw)


def action(name: str, body, profile=OWN_WRITE, server: str = "server", **kw) -> Op:
    """``POST /servers/{id}/action`` on the ``server`` resource (or a server already in
    the state the action needs); a state-changing action consumes its server."""
    return Op("server", f"action:{name}", "POST",
              SERVERS + "/{" + server + "}/action", profile, body=body, headers=MICRO, **kw)


OPS = [
    # -- servers -------------------------------------------------------------------------
    server_op("list", "GET", SERVERS, expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{server}",
              everywhere=True),
    server_op("list-detail", "GET", SERVERS + "/detail", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
              watch="{server}"),
    server_op("list-all-tenants", "GET", SERVERS + "/detail?all_tenants=1", ADMIN_LISTS, watch="{server}",
              everywhere=True),
    server_op("list-other-project", "GET", SERVERS + "/detail?all_tenants=1&project_id={project_a}", ADMIN_LISTS,
              watch="{server}"),
    server_op("list-deleted", "GET", SERVERS + "/detail?deleted=True&all_tenants=1&project_id={project_a}",
              ADMIN_LISTS, watch="{deleted_server}"),
    server_op("list-status-deleted", "GET", SERVERS + "?status=deleted",
              expect(UNLISTED, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN), watch="{deleted_server}"),
    server_op("show", "GET", SERVER, OWN_READ, everywhere=True),
    server_op("create", "POST", SERVERS, CREATE, everywhere=True, body={"server": {
        "name": "{new}", "imageRef": "{boot_image}", "flavorRef": "{flavor}", "networks": "none",
        "availability_zone": "{zone}"}}),
    # The legacy block_device_mapping (v1) naming one of A's volumes: B's member cannot see
    # it (Nova's 400 "failed to get volume"), readers may not create.
    server_op("create-with-legacy-volume", "POST", SERVERS, expect(OK, OK, FORBIDDEN, BAD_REQUEST, FORBIDDEN),
              consumes="attachable_server", body={"server": {
                  "name": "{new}", "imageRef": "{boot_image}", "flavorRef": "{flavor}", "networks": "none",
                  "availability_zone": "{zone}",
                  "block_device_mapping": [{"volume_id": "{attachable_server.volume}"}]}}),
    server_op("update", "PUT", SERVER, OWN_WRITE, body={"server": {"name": "{new}"}}, everywhere=True),
    server_op("delete", "DELETE", SERVER, OWN_WRITE, consumes="server", everywhere=True),
    server_op("ips", "GET", SERVER + "/ips", OWN_READ),
    Op("server", "security-groups", "GET", SERVER + "/os-security-groups", OWN_READ, headers=LEGACY),
    server_op("password", "GET", SERVER + "/os-server-password", OWN_READ),
    server_op("password-clear", "DELETE", SERVER + "/os-server-password", OWN_WRITE),
    server_op("diagnostics", "GET", SERVER + "/diagnostics", ADMIN_ON_SERVER),
    server_op("migrations", "GET", SERVER + "/migrations", ADMIN_ON_SERVER),
    Op("server", "topology", "GET", SERVER + "/topology", OWN_READ, headers={"OpenStack-API-Version": "compute 2.78"}),
    # 2.97's shares: none exist (no host offers virtiofs), so the owner's attach is the 409 of a running server
    Op("server", "shares", "GET", SERVER + "/shares", OWN_READ, headers={"OpenStack-API-Version": "compute 2.97"}),
    Op("server", "share-attach", "POST", SERVER + "/shares",
       expect(CONFLICT, CONFLICT, FORBIDDEN, NOT_FOUND, NOT_FOUND), headers={"OpenStack-API-Version": "compute 2.97"},
       body={"share": {"share_id": "0c5f7a64-5b8a-4a3c-9a43-6f1b2d6c2e11"}}),
    server_op("remote-console", "POST", SERVER + "/remote-consoles", OWN_WRITE,
              body={"remote_console": {"protocol": "vnc", "type": "novnc"}}),
    Op("console-token", "show", "GET", V + "/os-console-auth-tokens/{console_token}", ADMIN_ONLY, headers=MICRO),
    # actions (each changes the server: the ones expected to pass get a fresh server)
    action("os-stop", {"os-stop": None}, consumes="server", everywhere=True),
    action("os-start", {"os-start": None}, server="stopped_server", consumes="stopped_server"),
    action("reboot", {"reboot": {"type": "SOFT"}}, consumes="server"),
    action("pause", {"pause": None}, consumes="server"),
    action("unpause", {"unpause": None}, server="paused_server", consumes="paused_server"),
    action("suspend", {"suspend": None}, consumes="server"),
    action("resume", {"resume": None}, server="suspended_server", consumes="suspended_server"),
    action("lock", {"lock": None}, consumes="server"),
    action("unlock", {"unlock": None}, server="locked_server", consumes="locked_server"),
    action("changePassword", {"changePassword": {"adminPass": "pw-iso-1"}}, consumes="server"),
    action("rescue", {"rescue": None}, consumes="server"),
    action("unrescue", {"unrescue": None}, server="rescued_server", consumes="rescued_server"),
    action("rebuild", {"rebuild": {"imageRef": "{boot_image}"}}, consumes="server"),
    action("resize", {"resize": {"flavorRef": "{big_flavor}"}}, consumes="server"),
    action("confirmResize", {"confirmResize": None}, server="resized_server", consumes="resized_server"),
    action("revertResize", {"revertResize": None}, server="resized_server", consumes="resized_server"),
    action("createImage", {"createImage": {"name": "{new}"}}, consumes="server"),
    action("createBackup", {"createBackup": {"name": "{new}", "backup_type": "daily", "rotation": 1}},
           consumes="server"),
    action("os-getConsoleOutput", {"os-getConsoleOutput": {"length": 5}}),
    action("addSecurityGroup", {"addSecurityGroup": {"name": "{security_group}"}}, server="interface_server",
           consumes="interface_server"),
    action("removeSecurityGroup", {"removeSecurityGroup": {"name": "default"}}, server="interface_server",
           consumes="interface_server"),
    action("forceDelete", {"forceDelete": None}, consumes="server"),
    action("os-resetState", {"os-resetState": {"state": "active"}}, ADMIN_ON_SERVER, consumes="server"),
    action("injectNetworkInfo", {"injectNetworkInfo": None}, ADMIN_ON_SERVER),
    action("migrate", {"migrate": None}, ADMIN_ON_SERVER, consumes="server"),
    action("os-migrateLive", {"os-migrateLive": {"host": None, "block_migration": "auto"}}, ADMIN_ON_SERVER,
           consumes="server"),
    # Evacuating a server whose host is up: the admin's is Nova's 400 "still in use".
    action("evacuate", {"evacuate": {}}, expect(BAD_REQUEST, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)),
    action("shelve", {"shelve": None}, consumes="server"),
    action("unshelve", {"unshelve": None}, server="shelved_server", consumes="shelved_server"),
    # metadata
    Op("server-metadata", "list", "GET", SERVER + "/metadata", OWN_READ, headers=MICRO),
    Op("server-metadata", "show", "GET", SERVER + "/metadata/k", OWN_READ, headers=MICRO),
    Op("server-metadata", "create", "POST", SERVER + "/metadata", OWN_WRITE, headers=MICRO,
       body={"metadata": {"k2": "v2"}}),
    Op("server-metadata", "replace", "PUT", SERVER + "/metadata", OWN_WRITE, headers=MICRO,
       body={"metadata": {"k": "v"}}),
    Op("server-metadata", "update", "PUT", SERVER + "/metadata/k", OWN_WRITE, headers=MICRO,
       body={"meta": {"k": "v"}}),
    Op("server-metadata", "delete", "DELETE", SERVER + "/metadata/k", OWN_WRITE, headers=MICRO, consumes="server"),
    # tags
    Op("server-tags", "list", "GET", SERVER + "/tags", OWN_READ, headers=MICRO),
    Op("server-tags", "show", "GET", SERVER + "/tags/t1", OWN_READ, headers=MICRO),
    Op("server-tags", "add", "PUT", SERVER + "/tags/t2", OWN_WRITE, headers=MICRO),
    Op("server-tags", "replace", "PUT", SERVER + "/tags", OWN_WRITE, headers=MICRO, body={"tags": ["t1"]}),
    Op("server-tags", "delete", "DELETE", SERVER + "/tags/t1", OWN_WRITE, headers=MICRO, consumes="server"),
    Op("server-tags", "delete-all", "DELETE", SERVER + "/tags", OWN_WRITE, headers=MICRO, consumes="server"),
    # instance actions (events are the admin's)
    Op("instance-action", "list", "GET", SERVER + "/os-instance-actions", OWN_READ, headers=MICRO),
    Op("instance-action", "show", "GET", SERVER + "/os-instance-actions/{server.request_id}", OWN_READ,
       headers=MICRO),
    Op("instance-action", "list-deleted-server", "GET", SERVERS + "/{deleted_server}/os-instance-actions",
       OWN_READ, headers=MICRO),
    Op("instance-action", "show-deleted-server", "GET",
       SERVERS + "/{deleted_server}/os-instance-actions/{deleted_server.request_id}", OWN_READ, headers=MICRO),
    # interfaces (ports) and volume attachments
    Op("os-interface", "list", "GET", SERVERS + "/{interface_server}/os-interface",
       expect(LISTED, LISTED, LISTED, NOT_FOUND, NOT_FOUND), headers=MICRO, watch="{interface_server.port}"),
    Op("os-interface", "show", "GET", SERVERS + "/{interface_server}/os-interface/{interface_server.port}",
       OWN_READ, headers=MICRO),
    Op("os-interface", "attach", "POST", SERVERS + "/{server}/os-interface", OWN_WRITE, headers=MICRO,
       body={"interfaceAttachment": {"net_id": "{network}"}}, consumes="server"),
    # Even the admin may not give a server another project's port (Nova's PortNotUsable,
    # nova/network/neutron.py _validate_requested_port_ids).
    Op("os-interface", "attach-other-project-port", "POST", SERVERS + "/{server}/os-interface",
       expect(BAD_REQUEST, NOT_FOUND, FORBIDDEN, NOT_FOUND, NOT_FOUND), headers=MICRO,
       body={"interfaceAttachment": {"port_id": "{b_port}"}}, consumes="server"),
    Op("os-interface", "detach", "DELETE", SERVERS + "/{interface_server}/os-interface/{interface_server.port}",
       OWN_WRITE, headers=MICRO, consumes="interface_server"),
    Op("volume-attachment", "list", "GET", SERVERS + "/{attached_server}/os-volume_attachments",
       expect(LISTED, LISTED, LISTED, NOT_FOUND, NOT_FOUND), headers=MICRO, watch="{attached_server.volume}"),
    Op("volume-attachment", "show", "GET",
       SERVERS + "/{attached_server}/os-volume_attachments/{attached_server.volume}", OWN_READ, headers=MICRO),
    Op("volume-attachment", "attach", "POST", SERVERS + "/{attachable_server}/os-volume_attachments", OWN_WRITE,
       headers=MICRO, body={"volumeAttachment": {"volumeId": "{attachable_server.volume}"}},
       consumes="attachable_server"),
    Op("volume-attachment", "attach-other-project-volume", "POST", SERVERS + "/{server}/os-volume_attachments",
       expect(OK, NOT_FOUND, FORBIDDEN, NOT_FOUND, NOT_FOUND), headers=MICRO,
       body={"volumeAttachment": {"volumeId": "{b_volume}"}}, consumes="server"),
    # Swap (PUT) is for Cinder (service or admin) while it migrates the volume; none migrates
    # here, so the admin gets Nova's 409 "not migrating".
    Op("volume-attachment", "swap", "PUT",
       SERVERS + "/{attached_server}/os-volume_attachments/{attached_server.volume}",
       expect(CONFLICT, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND), headers=MICRO,
       body={"volumeAttachment": {"volumeId": "{attached_server.volume}"}}),
    # Extending the attached volume (Cinder 3.42, volume:extend_attached_volume), which
    # sends its server's host volume-extended.
    Op("volume-attachment", "extend-attached-volume", "POST",
       "/volume/v3/{me.project}/volumes/{attached_server.volume}/action", OWN_WRITE,
       headers={"OpenStack-API-Version": "volume 3.42"}, body={"os-extend": {"new_size": 2}},
       consumes="attached_server"),
    Op("volume-attachment", "detach", "DELETE",
       SERVERS + "/{attached_server}/os-volume_attachments/{attached_server.volume}", OWN_WRITE, headers=MICRO,
       consumes="attached_server"),
    # -- key pairs (a_member's; others look up their own user's unless the admin names it)
    Op("keypair", "list", "GET", V + "/os-keypairs", expect(UNLISTED, LISTED, UNLISTED, UNLISTED, UNLISTED),
       headers=MICRO, watch="{keypair}"),
    Op("keypair", "list-of-user", "GET", V + "/os-keypairs?user_id={a_member}",
       expect(LISTED, LISTED, FORBIDDEN, FORBIDDEN, FORBIDDEN), headers=MICRO, watch="{keypair}"),
    Op("keypair", "show", "GET", V + "/os-keypairs/{keypair}",
       expect(NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND), headers=MICRO),
    Op("keypair", "show-of-user", "GET", V + "/os-keypairs/{keypair}?user_id={a_member}",
       expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN), headers=MICRO),
    Op("keypair", "create", "POST", V + "/os-keypairs", EVERYONE, headers=MICRO, body={"keypair": {"name": "{new}"}}),
    Op("keypair", "create-for-user", "POST", V + "/os-keypairs", expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN),
       headers=MICRO, body={"keypair": {"name": "{new}", "user_id": "{a_member}"}}),
    Op("keypair", "delete", "DELETE", V + "/os-keypairs/{keypair}",
       expect(NOT_FOUND, OK, NOT_FOUND, NOT_FOUND, NOT_FOUND), headers=MICRO, consumes="keypair"),
    Op("keypair", "delete-of-user", "DELETE", V + "/os-keypairs/{keypair}?user_id={a_member}",
       expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN), headers=MICRO, consumes="keypair"),
    # -- server groups ---------------------------------------------------------------------
    Op("server-group", "list", "GET", V + "/os-server-groups", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       headers=MICRO, watch="{server_group}"),
    Op("server-group", "list-all-projects", "GET", V + "/os-server-groups?all_projects=True", ADMIN_LISTS,
       headers=MICRO, watch="{server_group}"),
    Op("server-group", "show", "GET", V + "/os-server-groups/{server_group}", OWN_READ, headers=MICRO),
    Op("server-group", "create", "POST", V + "/os-server-groups", CREATE, headers=MICRO,
       body={"server_group": {"name": "{new}", "policy": "anti-affinity"}}),
    Op("server-group", "delete", "DELETE", V + "/os-server-groups/{server_group}", OWN_WRITE, headers=MICRO,
       consumes="server_group"),
    # -- flavors (a private one A has access to) ---------------------------------------------
    Op("flavor", "list", "GET", V + "/flavors", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       headers=MICRO, watch="{private_flavor}"),
    Op("flavor", "list-all", "GET", V + "/flavors/detail?is_public=None",
       expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED), headers=MICRO, watch="{private_flavor}"),
    Op("flavor", "show", "GET", V + "/flavors/{private_flavor}", OWN_READ, headers=MICRO),
    Op("flavor", "create", "POST", V + "/flavors", ADMIN_ONLY, headers=MICRO,
       body={"flavor": {"name": "{new}", "vcpus": 1, "ram": 64, "disk": 1}}),
    Op("flavor", "update", "PUT", V + "/flavors/{private_flavor}", ADMIN_ONLY, headers=MICRO,
       body={"flavor": {"description": "changed"}}),
    Op("flavor", "delete", "DELETE", V + "/flavors/{private_flavor}", ADMIN_ONLY, headers=MICRO,
       consumes="private_flavor"),
    # Nova: a flavor the project cannot see is an "Invalid flavorRef" (400).
    Op("flavor", "boot-private", "POST", SERVERS, expect(OK, OK, FORBIDDEN, BAD_REQUEST, FORBIDDEN), headers=MICRO,
       body={"server": {"name": "{new}", "imageRef": "{boot_image}", "flavorRef": "{private_flavor}",
                        "networks": "none", "availability_zone": "{zone}"}}),
    Op("flavor-extra-specs", "list", "GET", V + "/flavors/{private_flavor}/os-extra_specs", OWN_READ, headers=MICRO),
    Op("flavor-extra-specs", "show", "GET", V + "/flavors/{private_flavor}/os-extra_specs/k", OWN_READ,
       headers=MICRO),
    Op("flavor-extra-specs", "create", "POST", V + "/flavors/{private_flavor}/os-extra_specs", ADMIN_ONLY,
       headers=MICRO, body={"extra_specs": {"k2": "v2"}}),
    Op("flavor-extra-specs", "update", "PUT", V + "/flavors/{private_flavor}/os-extra_specs/k", ADMIN_ONLY,
       headers=MICRO, body={"k": "v"}),
    Op("flavor-extra-specs", "delete", "DELETE", V + "/flavors/{private_flavor}/os-extra_specs/k", ADMIN_ONLY,
       headers=MICRO, consumes="private_flavor"),
    Op("flavor-access", "list", "GET", V + "/flavors/{private_flavor}/os-flavor-access", ADMIN_ONLY, headers=MICRO),
    Op("flavor-access", "add", "POST", V + "/flavors/{private_flavor}/action", ADMIN_ONLY, headers=MICRO,
       body={"addTenantAccess": {"tenant": "{project_b}"}}, consumes="private_flavor"),
    Op("flavor-access", "remove", "POST", V + "/flavors/{private_flavor}/action", ADMIN_ONLY, headers=MICRO,
       body={"removeTenantAccess": {"tenant": "{project_a}"}}, consumes="private_flavor"),
    # -- aggregates (admin only) -------------------------------------------------------------
    Op("aggregate", "list", "GET", V + "/os-aggregates", ADMIN_ONLY, headers=MICRO),
    Op("aggregate", "show", "GET", V + "/os-aggregates/{aggregate}", ADMIN_ONLY, headers=MICRO),
    Op("aggregate", "create", "POST", V + "/os-aggregates", ADMIN_ONLY, headers=MICRO,
       body={"aggregate": {"name": "{new}"}}),
    Op("aggregate", "update", "PUT", V + "/os-aggregates/{aggregate}", ADMIN_ONLY, headers=MICRO,
       body={"aggregate": {"name": "{new}"}}),
    Op("aggregate", "set-metadata", "POST", V + "/os-aggregates/{aggregate}/action", ADMIN_ONLY, headers=MICRO,
       body={"set_metadata": {"metadata": {"k": "v"}}}),
    Op("aggregate", "delete", "DELETE", V + "/os-aggregates/{aggregate}", ADMIN_ONLY, headers=MICRO,
       consumes="aggregate"),
    # -- quotas, limits, usage ---------------------------------------------------------------
    Op("compute-quota", "show", "GET", V + "/os-quota-sets/{project_a}", PROJECT_A_READ, headers=MICRO),
    Op("compute-quota", "detail", "GET", V + "/os-quota-sets/{project_a}/detail", PROJECT_A_READ, headers=MICRO),
    Op("compute-quota", "defaults", "GET", V + "/os-quota-sets/{project_a}/defaults", EVERYONE, headers=MICRO),
    Op("compute-quota", "update", "PUT", V + "/os-quota-sets/{project_a}", ADMIN_ONLY, headers=MICRO,
       body={"quota_set": {"instances": -1}}),
    Op("compute-quota", "delete", "DELETE", V + "/os-quota-sets/{project}", ADMIN_ONLY, headers=MICRO),
    Op("compute-quota-class", "show", "GET", V + "/os-quota-class-sets/default", ADMIN_ONLY, headers=MICRO),
    Op("compute-quota-class", "update", "PUT", V + "/os-quota-class-sets/default", ADMIN_ONLY, headers=MICRO,
       body={"quota_class_set": {"key_pairs": 100}}),
    Op("compute-limits", "show", "GET", V + "/limits", EVERYONE, headers=MICRO),
    Op("compute-limits", "show-other-project", "GET", V + "/limits?tenant_id={project_a}",
       expect(OK, OK, OK, FORBIDDEN, FORBIDDEN), headers=MICRO),
    Op("usage", "list", "GET", V + "/os-simple-tenant-usage", ADMIN_ONLY, headers=MICRO),
    Op("usage", "show", "GET", V + "/os-simple-tenant-usage/{project_a}", PROJECT_A_READ, headers=MICRO),
    Op("usage-audit-log", "list", "GET", V + "/os-instance_usage_audit_log", ADMIN_ONLY, headers=MICRO),
    # -- the proxies of Neutron and Glance (gone after 2.35), with the caller's own rights ----
    Op("proxy-security-group", "list", "GET", V + "/os-security-groups",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), headers=LEGACY, watch="{security_group}"),
    Op("proxy-security-group", "show", "GET", V + "/os-security-groups/{security_group}", OWN_READ, headers=LEGACY),
    Op("proxy-security-group", "create", "POST", V + "/os-security-groups", CREATE, headers=LEGACY,
       body={"security_group": {"name": "{new}", "description": "d"}}),
    Op("proxy-security-group", "update", "PUT", V + "/os-security-groups/{security_group}", PROXY_WRITE,
       headers=LEGACY, body={"security_group": {"name": "{new}", "description": "changed"}}),
    Op("proxy-security-group", "delete", "DELETE", V + "/os-security-groups/{security_group}", PROXY_WRITE,
       headers=LEGACY, consumes="security_group"),
    Op("proxy-security-group-rule", "create", "POST", V + "/os-security-group-rules", PROXY_WRITE, headers=LEGACY,
       body={"security_group_rule": {"parent_group_id": "{security_group}", "ip_protocol": "tcp", "from_port": 80,
                                     "to_port": 80, "cidr": "0.0.0.0/0"}}, consumes="security_group"),
    Op("proxy-security-group-rule", "delete", "DELETE", V + "/os-security-group-rules/{security_group_rule}",
       PROXY_WRITE, headers=LEGACY, consumes="security_group_rule"),
    Op("proxy-floating-ip", "list", "GET", V + "/os-floating-ips", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       headers=LEGACY, watch="{floatingip}"),
    Op("proxy-floating-ip", "show", "GET", V + "/os-floating-ips/{floatingip}", OWN_READ, headers=LEGACY),
    Op("proxy-floating-ip", "delete", "DELETE", V + "/os-floating-ips/{floatingip}", PROXY_WRITE, headers=LEGACY,
       consumes="floatingip"),
    # The Block Storage proxy: Nova's rule on the caller's own project, then Cinder as the
    # caller (the admin sees every project's volumes, as in Cinder).
    Op("proxy-volume", "list", "GET", V + "/os-volumes/detail", expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED),
       headers=LEGACY, watch="{volume}"),
    Op("proxy-volume", "show", "GET", V + "/os-volumes/{volume}", OWN_READ, headers=LEGACY),
    Op("proxy-volume", "create", "POST", V + "/os-volumes", CREATE, headers=LEGACY,
       body={"volume": {"size": 1, "display_name": "{new}"}}),
    Op("proxy-volume", "delete", "DELETE", V + "/os-volumes/{volume}", PROXY_WRITE, headers=LEGACY,
       consumes="volume"),
    Op("proxy-snapshot", "list", "GET", V + "/os-snapshots/detail",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), headers=LEGACY, watch="{snapshot}"),
    Op("proxy-snapshot", "show", "GET", V + "/os-snapshots/{snapshot}", OWN_READ, headers=LEGACY),
    Op("proxy-snapshot", "create", "POST", V + "/os-snapshots", PROXY_WRITE, headers=LEGACY,
       body={"snapshot": {"volume_id": "{volume}", "display_name": "{new}"}}),
    Op("proxy-snapshot", "delete", "DELETE", V + "/os-snapshots/{snapshot}", PROXY_WRITE, headers=LEGACY,
       consumes="snapshot"),
    # Assisted volume snapshots: a service user's (or the admin's) API; the volume's server
    # is found without regard to its project, as Nova does for Cinder.
    Op("assisted-snapshot", "create", "POST", V + "/os-assisted-volume-snapshots", ADMIN_ONLY, headers=MICRO,
       body={"snapshot": {"volume_id": "{attached_server.volume}", "create_info": {
           "snapshot_id": "{new}", "type": "qcow2", "new_file": "overlay"}}}),
    Op("assisted-snapshot", "delete", "DELETE",
       V + '/os-assisted-volume-snapshots/{new}?delete_info={{"volume_id":"{attached_server.volume}"}}', ADMIN_ONLY,
       headers=MICRO),
    # The image proxy has no policy of its own: Glance's, with the caller's token, decides.
    Op("proxy-image", "list", "GET", V + "/images", expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED), headers=LEGACY,
       watch="{image}"),
    Op("proxy-image", "show", "GET", V + "/images/{image}", OWN_READ, headers=LEGACY),
    Op("proxy-image", "set-metadata", "POST", V + "/images/{image}/metadata", OWN_WRITE, headers=LEGACY,
       body={"metadata": {"k": "v"}}),
    Op("proxy-image", "delete", "DELETE", V + "/images/{image}", OWN_WRITE, headers=LEGACY, consumes="image"),
    # -- hosts, hypervisors, services, zones, migrations (admin only) -----------------------
    Op("hypervisor", "list", "GET", V + "/os-hypervisors", ADMIN_ONLY, headers=MICRO),
    Op("hypervisor", "list-detail", "GET", V + "/os-hypervisors/detail", ADMIN_ONLY, headers=MICRO),
    Op("hypervisor", "show", "GET", V + "/os-hypervisors/{zone.hypervisor}", ADMIN_ONLY, headers=MICRO),
    Op("hypervisor", "statistics", "GET", V + "/os-hypervisors/statistics", ADMIN_ONLY, headers=MICRO),
    Op("hypervisor", "servers", "GET", V + "/os-hypervisors/{zone.host}/servers", ADMIN_ONLY,
       headers=LEGACY),
    Op("compute-service", "list", "GET", V + "/os-services", ADMIN_ONLY, headers=MICRO),
    Op("compute-service", "update", "PUT", V + "/os-services/{zone.service}", ADMIN_ONLY, headers=MICRO,
       body={"status": "enabled"}),
    Op("os-hosts", "list", "GET", V + "/os-hosts", ADMIN_ONLY, headers=LEGACY),
    Op("availability-zone", "list", "GET", V + "/os-availability-zone", EVERYONE, headers=MICRO),
    Op("availability-zone", "detail", "GET", V + "/os-availability-zone/detail", ADMIN_ONLY, headers=MICRO),
    Op("migration", "list", "GET", V + "/os-migrations", ADMIN_ONLY, headers=MICRO),
]
