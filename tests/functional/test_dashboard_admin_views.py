"""The dashboard's operator views and the paging of its shorter lists, without a browser,
on the shared cloud: object storage's rings and dispersion (what swift-ring-builder and
swift-dispersion-report show) read through object storage's admin reports; instance HA's
history of a real host failure (fenced, its servers evacuated) read through the
instance-HA API; members refused both with the 403 page; and Next/Previous through
instances, snapshots, backups, ports, routers, security groups and the admin lists,
covering each list exactly and coming back page by page; and the overview's recent
instance actions."""

from __future__ import annotations

import re
import time

from test_dashboard import admin, member, project_of  # noqa: F401 - fixtures, used by name
from test_dashboard_horizon_pages import _available_volume
from test_ha import HA, MICRO, boot_on_first, instance_ha, settle, site  # noqa: F401 - site is a fixture

from compute_fixtures import flavor, image  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait

OBJ = "/object-store"


def test_object_storage_admin_reports_are_the_admins(api, admin_token, demo_token):
    ring = api.request("GET", f"{OBJ}/ring/object", admin_token)
    assert ring.status_code == 200, ring.text
    body = ring.json()["ring"]
    assert body["kind"] == "object" and body["current"] is True
    assert sum(d["partitions"] for d in body["devices"]) == body["partitions"] * body["replicas"]
    assert {d["zone"] for d in body["devices"]} and body["zones"] == len({d["zone"] for d in body["devices"]})
    assert api.request("GET", f"{OBJ}/ring/object", demo_token).status_code == 403
    assert api.request("GET", f"{OBJ}/dispersion", demo_token).status_code == 403
    missing = api.request("GET", f"{OBJ}/ring/nope", admin_token)
    assert missing.status_code == 404 and "There is no 'nope' ring" in missing.text
    for bad in ("0", "1001", "x"):
        refused = api.request("GET", f"{OBJ}/dispersion?sample={bad}", admin_token)
        assert refused.status_code == 400 and "sample must be a whole number" in refused.text


def test_rings_and_dispersion_pages(api, admin, member, admin_token):
    rings = admin.get("/admin/rings")
    assert rings.status_code == 200
    for kind in ("account", "container", "object"):
        expected = api.request("GET", f"{OBJ}/ring/{kind}", admin_token).json()["ring"]
        card = rings.text.split(f'data-ring="{kind}"')[1].split("</section>")[0]
        shown = re.findall(r'<tr data-device="([^"]+)">.*?<td data-partitions>(\d+)</td>', card, re.S)
        assert shown == [(d["device"], str(d["partitions"])) for d in expected["devices"]]
    # A container and an object of the admin's: every copy is where the rings say.
    account = f"/object-store/v1/AUTH_{project_of(api, admin_token)}"
    container = unique("disp")
    assert api.request("PUT", f"{account}/{container}", admin_token).status_code in (201, 202)
    assert api.request("PUT", f"{account}/{container}/o", admin_token, content=b"x").status_code == 201
    # The page shows the report the API gives (the worker's long-lived cloud may hold
    # other tests' objects with copies removed on purpose: the figures, not a clean bill).
    report = api.request("GET", f"{OBJ}/dispersion?sample=1000", admin_token).json()["dispersion"]
    page = admin.get("/admin/dispersion?sample=1000")
    assert page.status_code == 200
    for kind in ("container", "object"):
        card = page.text.split(f'data-dispersion="{kind}"')[1].split("</section>")[0]
        found = re.search(r"<dd data-found>(\d+) of (\d+)", card)
        expected = report[kind]
        assert expected["queried"] > 0 and (int(found.group(1)), int(found.group(2))) == (
            expected["copies_found"], expected["copies_expected"]), card
        missing = sorted(str(k) for k in expected["missing"] if int(k) > 0)
        assert sorted(re.findall(r'data-missing="(\d+)"', card)) == missing
    assert admin.get("/admin/dispersion?sample=nope").status_code == 400
    for path in ("/admin/rings", "/admin/dispersion"):
        refused = member.get(path)
        assert refused.status_code == 403 and "for administrators" in refused.text
    api.request("DELETE", f"{account}/{container}/o", admin_token)
    api.request("DELETE", f"{account}/{container}", admin_token)


def test_instance_ha_history_of_a_failed_host(api, admin, member, admin_token, site, image, flavor):
    _member, servers = boot_on_first(site, admin_token, image, flavor, 1)
    site.crash(site.failing)
    notification = settle(instance_ha(api), api, admin_token, site.nodes[0])
    uuid = notification["notification_uuid"]
    listed = admin.get("/admin/instance-ha")
    assert listed.status_code == 200
    row = listed.text.split(f'data-notification="{uuid}"')[1].split("</tr>")[0]
    assert site.failing in row and "COMPUTE_HOST" in row and "finished" in row
    detail = admin.get(f"/admin/instance-ha/{uuid}")
    assert detail.status_code == 200 and f"<dd data-host>{site.failing}</dd>" in detail.text
    for task in ("CheckHostAliveTask", "FenceHostTask", "EvacuateInstancesTask"):
        assert f'data-task="{task}"' in detail.text
    move = detail.text.split(f'data-vmove="{servers[0]}"')[1].split("</tr>")[0]
    assert site.spare in move and "succeeded" in move
    assert admin.get("/admin/instance-ha/not-a-notification").status_code in (400, 404)
    for path in ("/admin/instance-ha", f"/admin/instance-ha/{uuid}"):
        refused = member.get(path)
        assert refused.status_code == 403 and "for administrators" in refused.text
    everything = api.request("GET", f"{HA}/notifications", admin_token, headers=MICRO).json()["notifications"]
    _walk_both_ways(admin, "/admin/instance-ha", "data-notification", [n["notification_uuid"] for n in everything])
    # Two reports of a stopped process on the same host: the filters find them alone,
    # page after page, and the host's failure alone among the finished ones.
    reported = []
    for minute in (1, 2):
        body = {"notification": {"type": "PROCESS", "hostname": site.failing,
                                 "generated_time": f"2026-12-06T10:0{minute}:00Z",
                                 "payload": {"event": "STOPPED", "process_name": "nova-compute"}}}
        r = api.request("POST", f"{HA}/notifications", admin_token, headers=MICRO, json=body)
        assert r.status_code == 202, r.text
        reported.append(r.json()["notification"]["notification_uuid"])
    host = site.nodes[0].id
    _walk_both_ways(admin, "/admin/instance-ha", "data-notification", reported, limit=1,
                    query=f"source_host_uuid={host}&type=PROCESS")
    finished = admin.get(f"/admin/instance-ha?source_host_uuid={host}&status=finished")
    assert re.findall(r'\sdata-notification="([^"]*)"', finished.text) == [uuid]
    assert f'<option value="{host}" selected>{site.failing}</option>' in finished.text
    assert '<option value="finished" selected>finished</option>' in finished.text
    refused = admin.get("/admin/instance-ha?status=bogus")
    assert refused.status_code == 400 and "bogus" in refused.text


def _walk_both_ways(browser, path: str, attribute: str, expected: list[str], limit: int | None = None,
                    query: str = "") -> None:
    """Next from the first page to the last covers ``expected`` exactly, ``limit`` a page
    (by default at least 2 and about 20 pages: the worker's long-lived cloud holds every
    earlier test's projects and users); Previous from the last comes back through the same
    pages (the list's ``query`` kept throughout)."""
    limit = limit or max(2, -(-len(expected) // 20))
    def shown(text: str) -> list[str]:
        return re.findall(rf'\s{attribute}="([^"]*)"', text)

    def link(text: str, rel: str) -> str | None:
        found = re.search(rf'<a rel="{rel}" href="/dashboard([^"]+)"', text)
        return found.group(1).replace("&amp;", "&") if found else None

    pages, url, text = [], f"{path}?limit={limit}" + (f"&{query}" if query else ""), ""
    while url:
        text = browser.get(url).text
        pages.append(shown(text))
        url = link(text, "next")
        assert url is None or query in url, url
        assert len(pages) <= len(expected) + 1
    assert all(1 <= len(p) <= limit for p in pages), (path, pages)
    assert sorted(n for p in pages for n in p) == sorted(expected), path
    back = pages[:-1]
    while back:
        url = link(text, "prev")
        assert url is not None and query in url, (path, back, url)
        text = browser.get(url).text
        assert shown(text) == back.pop(), path
    assert link(text, "prev") is None


def _wait_status(api, token: str, path: str, key: str, status: str = "available") -> None:
    deadline = time.monotonic() + 30
    while api.request("GET", path, token).json()[key]["status"] != status:
        assert time.monotonic() < deadline, f"{path} did not become {status}"
        time.sleep(0.05)


def test_short_lists_page_with_next_and_previous(api, admin, admin_token):
    project = project_of(api, admin_token)
    volumes = f"/volume/v3/{project}"
    volume = _available_volume(api, admin_token, project)
    snapshots = []
    for _ in range(3):
        snapshot = api.request("POST", f"{volumes}/snapshots", admin_token, json={
            "snapshot": {"volume_id": volume["id"], "name": unique("snap")}}).json()["snapshot"]
        _wait_status(api, admin_token, f"{volumes}/snapshots/{snapshot['id']}", "snapshot")
        snapshots.append(snapshot["id"])
    backups = []
    for _ in range(3):
        backup = api.request("POST", f"{volumes}/backups", admin_token, json={
            "backup": {"volume_id": volume["id"], "name": unique("bak")}}).json()["backup"]
        _wait_status(api, admin_token, f"{volumes}/backups/{backup['id']}", "backup")
        backups.append(backup["id"])
    net = "/network/v2.0"
    network = api.request("POST", f"{net}/networks", admin_token,
                          json={"network": {"name": unique("pnet")}}).json()["network"]
    ports = [api.request("POST", f"{net}/ports", admin_token, json={"port": {"network_id": network["id"]}})
             .json()["port"]["id"] for _ in range(3)]
    routers = [api.request("POST", f"{net}/routers", admin_token, json={"router": {"name": unique("prt")}})
               .json()["router"]["id"] for _ in range(3)]
    groups = [api.request("POST", f"{net}/security-groups", admin_token,
                          json={"security_group": {"name": unique("psg")}}).json()["security_group"]["id"]
              for _ in range(3)]
    image_id, flavor_id = make_image(api, admin_token), make_flavor(api, admin_token)["id"]
    servers = [boot(api, admin_token, image_id, flavor_id)["server"]["id"] for _ in range(3)]
    for server_id in servers:
        wait(api, admin_token, server_id)

    def names(path: str, key: str, **params) -> list[str]:
        return [i["name"] for i in api.request("GET", path, admin_token, params=params).json()[key]]

    for path, attribute, expected in (
            ("/snapshots", "data-snapshot", names(f"{volumes}/snapshots", "snapshots")),
            ("/backups", "data-backup", names(f"{volumes}/backups", "backups")),
            (f"/networks/{network['id']}", "data-port", ports),
            ("/routers", "data-router", names(f"{net}/routers", "routers")),
            ("/security-groups", "data-group", names(f"{net}/security-groups", "security_groups",
                                                     project_id=project)),
            ("/instances", "data-server", names("/compute/v2.1/servers", "servers")),
            ("/admin/projects", "data-project", names("/identity/v3/projects", "projects")),
            ("/admin/users", "data-user", names("/identity/v3/users", "users"))):
        _walk_both_ways(admin, path, attribute, expected)

    for server_id in servers:
        api.request("DELETE", f"/compute/v2.1/servers/{server_id}", admin_token)
    for resource, ids in (("routers", routers), ("security-groups", groups), ("ports", ports)):
        for item in ids:
            api.request("DELETE", f"{net}/{resource}/{item}", admin_token)
    api.request("DELETE", f"{net}/networks/{network['id']}", admin_token)
    for backup_id in backups:
        api.request("DELETE", f"{volumes}/backups/{backup_id}", admin_token)
    api.request("DELETE", f"{volumes}/volumes/{volume['id']}?cascade=true", admin_token)


def test_the_overview_shows_recent_instance_actions(api, admin, member, admin_token, image, flavor):
    server = boot(api, admin_token, image, flavor["id"])["server"]
    wait(api, admin_token, server["id"], until=("ACTIVE",))
    assert call(api, "POST", f"/servers/{server['id']}/action", admin_token, json={"os-stop": None}).status_code \
        == 202
    wait(api, admin_token, server["id"], until=("SHUTOFF",))
    page = admin.get("/overview").text
    rows = re.findall(r'<tr data-action="([^"]+)"><td>[^<]*</td><td><a href="/dashboard/instances/([^"]+)">'
                      r'[^<]*</a></td><td>[^<]*</td><td>([^<]*)</td>', page)
    mine = [(action, who) for action, server_id, who in rows if server_id == server["id"]]
    assert mine == [("stop", "you (admin)"), ("create", "you (admin)")], rows
    # Another project's overview shows none of it.
    assert server["id"] not in member.get("/overview").text
    api.request("DELETE", f"/compute/v2.1/servers/{server['id']}", admin_token)
