"""Server lists at scale: addresses looked up in bulk, Nova's default page size, and keyset
paging that walks every server exactly once in the requested order."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, new_member, wait

NET = "/network/v2.0"


def create(api, token, kind: str, body: dict) -> dict:
    r = api.request("POST", f"{NET}/{kind}s", token, json={kind: body})
    assert r.status_code == 201, r.text
    return r.json()[kind]


def seed(cloud, project_id: str, count: int, **values) -> list[str]:
    """``count`` ACTIVE servers straight into the table (a list test needs many rows, not
    many builds); newest first is the order of the returned ids."""
    from pocketstack.compute.models import Instance

    base = dt.datetime(2020, 1, 1)
    rows = []
    for index in range(count):
        when = base + dt.timedelta(seconds=index // 3)  # ties on created_at: the id decides
        host = values.get("host", f"compute-{index % 2 + 1}")
        rows.append(dict(id=str(uuid.uuid4()), name=values.get("name", f"seed-{index % 7}"), project_id=project_id,
                         user_id="seed-user", reservation_id="r-seed", flavor_id="seed", image_ref="seed",
                         flavor={"id": "seed", "name": "seed", "vcpus": 1, "ram": 64, "disk": 1, "ephemeral": 0,
                                 "swap": 0, "extra_specs": {}},
                         image_properties={}, vm_state="active", task_state=None, power_state=1, guest={},
                         host=host if index % 5 else None, node=host, security_groups=["default"],
                         scheduler_hints={}, created_at=when, updated_at=when))
    with cloud.db.session() as s:
        s.execute(sa.insert(Instance), rows)
    return [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)]


def unseed(cloud, ids: list[str]) -> None:
    from pocketstack.compute.models import Instance

    with cloud.db.session() as s:
        s.execute(sa.delete(Instance).where(Instance.id.in_(ids)))


def walk(api, token, query: str, limit: int) -> list[dict]:
    """Every page of ``/servers?query`` by its ``next`` links."""
    servers, marker = [], None
    while True:
        r = call(api, "GET", f"/servers?{query}&limit={limit}" + (f"&marker={marker}" if marker else ""), token)
        assert r.status_code == 200, r.text
        page = r.json()
        servers += page["servers"]
        if "servers_links" not in page:
            return servers
        assert len(page["servers"]) == limit
        marker = page["servers"][-1]["id"]


def test_addresses_of_many_servers_in_one_lookup(cloud, api, admin_token):
    """The bulk lookup gives every server what asking for it alone gives, with fixed and
    floating addresses, in port creation order, and nothing for servers without ports."""
    manager = cloud.service("network").manager
    user = new_member(api, admin_token)
    token = user["token"]
    ctx = cloud.identity.validate_token(token)
    external = create(api, admin_token, "network", {"name": unique("pub"), "router:external": True})
    create(api, admin_token, "subnet", {"network_id": external["id"], "ip_version": 4, "cidr": "203.0.113.0/24"})
    first = create(api, token, "network", {"name": unique("n1")})
    first_subnet = create(api, token, "subnet", {"network_id": first["id"], "ip_version": 4, "cidr": "10.71.0.0/24"})
    second = create(api, token, "network", {"name": unique("n2")})
    create(api, token, "subnet", {"network_id": second["id"], "ip_version": 4, "cidr": "10.72.0.0/24"})
    router = create(api, token, "router", {"name": unique("r"), "external_gateway_info": {
        "network_id": external["id"]}})
    r = api.request("PUT", f"{NET}/routers/{router['id']}/add_router_interface", token,
                    json={"subnet_id": first_subnet["id"]})
    assert r.status_code == 200, r.text
    servers = [unique("vm") for _ in range(3)]
    two = manager.allocate_for_instance(ctx, servers[0], "compute-1", [{"network_id": first["id"]},
                                                                     {"network_id": second["id"]}])
    one = manager.allocate_for_instance(ctx, servers[1], "compute-1", [{"network_id": first["id"],
                                                                        "fixed_ip": "10.71.0.77"}])
    floating = create(api, token, "floatingip", {"floating_network_id": external["id"], "port_id": one[0]["id"]})

    bulk = manager.instances_addresses(servers)
    assert bulk == {s: manager.instances_addresses([s])[s] for s in servers}
    assert bulk == {s: manager.instance_addresses(s) for s in servers}
    assert bulk[servers[0]] == {
        first["name"]: [{"version": 4, "addr": two[0]["fixed_ips"][0]["ip_address"], "OS-EXT-IPS:type": "fixed",
                         "OS-EXT-IPS-MAC:mac_addr": two[0]["mac_address"]}],
        second["name"]: [{"version": 4, "addr": two[1]["fixed_ips"][0]["ip_address"], "OS-EXT-IPS:type": "fixed",
                          "OS-EXT-IPS-MAC:mac_addr": two[1]["mac_address"]}]}
    mac = one[0]["mac_address"]
    assert bulk[servers[1]] == {first["name"]: [
        {"version": 4, "addr": "10.71.0.77", "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": mac},
        {"version": 4, "addr": floating["floating_ip_address"], "OS-EXT-IPS:type": "floating",
         "OS-EXT-IPS-MAC:mac_addr": mac}]}
    assert bulk[servers[2]] == {} and manager.instances_addresses([]) == {}
    for server in servers:
        manager.deallocate_for_instance(server)


def test_list_reads_ports_in_constant_queries(cloud, api, admin_token, image, flavor):
    """``/servers/detail`` of 2 or 5 servers with ports asks the port table the same number
    of times (no per-server lookups), and shows what each server's own page shows."""
    user = new_member(api, admin_token)
    token = user["token"]
    net = create(api, token, "network", {"name": unique("ln")})
    create(api, token, "subnet", {"network_id": net["id"], "ip_version": 4, "cidr": "10.73.0.0/24"})
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        if "network_port" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    counts = []
    for total in (2, 5):
        while len(call(api, "GET", "/servers", token).json()["servers"]) < total:
            created = boot(api, token, image, flavor["id"], networks=[{"uuid": net["id"]}])["server"]["id"]
            assert wait(api, token, created)["status"] == "ACTIVE"
        statements.clear()
        sa.event.listen(cloud.db.engine, "before_cursor_execute", record)
        try:
            listed = call(api, "GET", "/servers/detail", token).json()["servers"]
        finally:
            sa.event.remove(cloud.db.engine, "before_cursor_execute", record)
        counts.append(len(statements))
        assert len(listed) == total
        for server in listed:
            assert server["addresses"][net["name"]][0]["addr"].startswith("10.73.0.")
            shown = call(api, "GET", f"/servers/{server['id']}", token).json()["server"]
            assert shown["addresses"] == server["addresses"]
    assert counts[0] == counts[1] and counts[0] <= 2
    for server in call(api, "GET", "/servers", token).json()["servers"]:
        assert call(api, "DELETE", f"/servers/{server['id']}", token).status_code == 204


def test_default_page_is_nova_max_limit(cloud, api, admin_token):
    """Without ``limit`` a page holds at most 1000 servers and a full page links to the
    next; a larger ``limit`` is cut to 1000 too."""
    user = new_member(api, admin_token)
    token = user["token"]
    ids = seed(cloud, user["project"]["id"], 1003)
    try:
        page = call(api, "GET", "/servers", token).json()
        assert [s["id"] for s in page["servers"]] == ids[:1000]
        assert f"marker={ids[999]}" in page["servers_links"][0]["href"]
        rest = call(api, "GET", f"/servers?marker={ids[999]}", token).json()
        assert [s["id"] for s in rest["servers"]] == ids[1000:] and "servers_links" not in rest
        big = call(api, "GET", "/servers/detail?limit=5000", token).json()
        assert len(big["servers"]) == 1000 and "servers_links" in big
        assert call(api, "GET", "/servers?limit=0", token).json()["servers"] == []
    finally:
        unseed(cloud, ids)


@pytest.mark.parametrize("query", ["", "sort_key=display_name&sort_dir=asc", "sort_key=display_name&sort_key=uuid",
                                   "sort_key=launch_index&sort_dir=asc&sort_key=created_at&sort_dir=asc",
                                   "sort_key=host&sort_dir=asc", "sort_key=host&sort_dir=desc",
                                   "name=seed-[0-3]", "name=seed-[0-3]&sort_key=display_name"])
def test_pages_walk_every_server_once_in_order(cloud, api, admin_token, query):
    """Paging by marker (keyset in SQL, or for the name regex and nullable sort keys a
    scan of the ordered ids) yields exactly the unpaged list, in the same order."""
    user = new_member(api, admin_token)
    token = user["token"]
    project = user["project"]["id"]
    ids = seed(cloud, project, 40)
    try:
        admin_query = f"all_tenants=1&project_id={project}&{query}"
        whole = call(api, "GET", f"/servers?{admin_query}", admin_token).json()["servers"]
        expected = len(ids) if "name=" not in query else sum(1 for i in range(40) if i % 7 <= 3)
        assert len(whole) == expected
        for limit in (1, 7, 40):
            assert walk(api, admin_token, admin_query, limit) == whole
        if "host" not in query:  # sorting by host is for admins
            assert walk(api, token, query, 9) == whole
        if not query:
            assert [s["id"] for s in whole] == ids
    finally:
        unseed(cloud, ids)


def test_bad_markers_are_400(cloud, api, admin_token):
    mine, other = new_member(api, admin_token), new_member(api, admin_token)
    theirs = seed(cloud, other["project"]["id"], 2)
    try:
        for query in ("", "name=seed", "sort_key=host"):
            for marker in (theirs[0], "nope"):
                r = call(api, "GET", f"/servers?{query}&marker={marker}", mine["token"])
                if query == "sort_key=host":
                    assert r.status_code == 403
                    continue
                assert r.status_code == 400, r.text
                assert r.json()["badRequest"]["message"] == f"marker [{marker}] not found"
    finally:
        unseed(cloud, theirs)
