"""What Horizon users reach for, in a real browser against a real ``pocketstack up``: an
instance's noVNC console in a frame (and Nova's refusal, as a message, for a server in
ERROR), editing an image's properties, a volume handed to another project's user by a
transfer (id and key shown once, accepted there), and Next/Previous through a long list.
Each test checks what the user sees and, through the APIs, that the cloud changed.

The browser, the cloud and the helpers are test_dashboard_browser's (module-scoped: this
module has its own cloud and browser).  Resources the pages do not create are made
through the APIs with the admin's token."""

from __future__ import annotations

import time

import httpx
import pytest
from test_dashboard_browser import _flash, _login, _submit, browser, cloud, shots  # noqa: F401 - fixtures

from cloudproc import ADMIN_PASSWORD

pytestmark = pytest.mark.timeout(180)
MEMBER, MEMBER_PASSWORD = "rhoda", "member-secret-2"
COMPUTE = {"OpenStack-API-Version": "compute 2.64"}


def _token(cloud, user: str, password: str, project: str) -> tuple[str, str]:
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}
    response = httpx.post(f"{cloud.url}/identity/v3/auth/tokens", json={"auth": auth})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"], response.json()["token"]["project"]["id"]


@pytest.fixture(scope="module")
def api(cloud):
    """An httpx client of the cloud's APIs with the admin's token, and the admin's project."""
    token, project_id = _token(cloud, "admin", ADMIN_PASSWORD, "admin")
    with httpx.Client(base_url=cloud.url, headers={"X-Auth-Token": token}, timeout=30) as client:
        client.project_id = project_id  # type: ignore[attr-defined]
        yield client


@pytest.fixture(scope="module")
def admin(browser, cloud):
    page = _login(browser, cloud, "admin", ADMIN_PASSWORD)
    yield page
    page.context.close()


def _until(check, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.5)
    return found


def _server(api, name: str = "console", networks: str | list = "none") -> dict:
    flavor = api.post("/compute/v2.1/flavors", headers=COMPUTE, json={"flavor": {
        "name": name, "vcpus": 1, "ram": 128, "disk": 1}}).json()["flavor"]
    image = api.post("/image/v2/images", json={"name": f"{name}-image", "disk_format": "qcow2",
                                               "container_format": "bare"}).json()
    api.put(f"/image/v2/images/{image['id']}/file", content=b"not really a disk",
            headers={"Content-Type": "application/octet-stream"}).raise_for_status()
    server = api.post("/compute/v2.1/servers", headers=COMPUTE, json={"server": {
        "name": f"{name}-vm", "imageRef": image["id"], "flavorRef": flavor["id"], "networks": networks}}).json()
    server_id = server["server"]["id"]
    _until(lambda: api.get(f"/compute/v2.1/servers/{server_id}").json()["server"]["status"] == "ACTIVE",
           "the server did not become ACTIVE")
    return server["server"]


def test_the_console_page_shows_novnc_and_its_log(admin, api, shots):
    server = _server(api)
    admin.goto(f"/dashboard/instances/{server['id']}")
    with admin.expect_navigation():
        admin.get_by_role("link", name="Console", exact=True).first.click()
    frame = admin.locator("iframe[data-console]")
    assert frame.is_visible()
    assert "/novnc/vnc_lite.html?path=novnc%2Fwebsockify%3Ftoken%3D" in frame.get_attribute("src")
    admin.screenshot(path=str(shots / "console.png"))
    with admin.expect_navigation():
        admin.get_by_role("link", name="Log", exact=True).click()
    assert admin.locator("pre.console").count() == 1
    # In ERROR, Nova gives no console: the page says why, in words.
    api.post(f"/compute/v2.1/servers/{server['id']}/action", headers=COMPUTE,
             json={"os-resetState": {"state": "error"}}).raise_for_status()
    admin.goto(f"/dashboard/instances/{server['id']}/console")
    assert "No console for this instance" in admin.text_content("[data-console-unavailable]")
    assert admin.locator("iframe").count() == 0


def test_a_floating_ip_allocated_and_associated_from_the_instance_page(admin, api, shots):
    net = "/network/v2.0"
    public = api.post(f"{net}/networks", json={"network": {"name": "public", "router:external": True}}).json()
    api.post(f"{net}/subnets", json={"subnet": {"network_id": public["network"]["id"], "ip_version": 4,
                                                "cidr": "203.0.113.0/24"}}).raise_for_status()
    private = api.post(f"{net}/networks", json={"network": {"name": "inside"}}).json()["network"]
    subnet = api.post(f"{net}/subnets", json={"subnet": {"network_id": private["id"], "ip_version": 4,
                                                         "cidr": "10.20.0.0/24"}}).json()["subnet"]
    router = api.post(f"{net}/routers", json={"router": {"name": "edge", "external_gateway_info": {
        "network_id": public["network"]["id"]}}}).json()["router"]
    api.put(f"{net}/routers/{router['id']}/add_router_interface", json={"subnet_id": subnet["id"]}).raise_for_status()
    server = _server(api, "floating", [{"uuid": private["id"]}])
    admin.goto(f"/dashboard/instances/{server['id']}")
    admin.select_option("#f-floatingip", label="A new one from public")
    _submit(admin, "Associate")
    assert "associated with 10.20.0." in _flash(admin)
    address = admin.get_attribute("tr[data-floating-ip]", "data-floating-ip")
    admin.screenshot(path=str(shots / "floating-ip.png"), full_page=True)
    found = api.get(f"{net}/floatingips", params={"floating_ip_address": address}).json()["floatingips"]
    assert found[0]["fixed_ip_address"].startswith("10.20.0.") and found[0]["port_id"]
    with admin.expect_navigation():
        admin.click(f'tr[data-floating-ip="{address}"] button:has-text("Disassociate")')
    assert "Floating IP disassociated." in _flash(admin)
    assert api.get(f"{net}/floatingips/{found[0]['id']}").json()["floatingip"]["port_id"] is None


def test_editing_an_image_changes_it_in_glance(admin, api, shots):
    image = api.post("/image/v2/images", json={"name": "editable", "disk_format": "raw",
                                               "container_format": "bare", "shade": "dark"}).json()
    admin.goto(f"/dashboard/images/{image['id']}")
    admin.fill("#f-name", "edited")
    admin.check("input[name=protected]")
    admin.fill("#f-min_disk", "4")
    admin.check('tr[data-property="shade"] input[name=remove]')
    admin.fill("#f-new_key", "os_distro")
    admin.fill("#f-new_value", "debian")
    _submit(admin, "Save")
    assert "Image updated." in _flash(admin)
    assert admin.locator('tr[data-property="os_distro"]').count() == 1
    admin.screenshot(path=str(shots / "image.png"), full_page=True)
    found = api.get(f"/image/v2/images/{image['id']}").json()
    assert (found["name"], found["protected"], found["min_disk"], found.get("os_distro")) == \
        ("edited", True, 4, "debian")
    assert "shade" not in found
    # Protected: Glance refuses the delete, and the page says so.
    admin.goto("/dashboard/images")
    with admin.expect_navigation():
        admin.click('tr[data-image="edited"] button:has-text("Delete")')
    assert "error" in (admin.get_attribute(".flash", "class") or "")
    assert api.get(f"/image/v2/images/{image['id']}").status_code == 200


def _member(api) -> str:
    project = api.post("/identity/v3/projects", json={"project": {"name": "receiver"}}).json()["project"]
    user = api.post("/identity/v3/users", json={"user": {"name": MEMBER, "password": MEMBER_PASSWORD}}).json()["user"]
    role = api.get("/identity/v3/roles", params={"name": "member"}).json()["roles"][0]["id"]
    api.put(f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role}").raise_for_status()
    return project["id"]


def test_a_volume_changes_hands_by_a_transfer(browser, cloud, admin, api, shots):
    receiver = _member(api)
    volumes = f"/volume/v3/{api.project_id}/volumes"
    volume = api.post(volumes, json={"volume": {"name": "gift", "size": 1}}).json()["volume"]
    _until(lambda: api.get(f"{volumes}/{volume['id']}").json()["volume"]["status"] == "available",
           "the volume did not become available")
    admin.goto(f"/dashboard/volumes/{volume['id']}")
    admin.fill("#f-transfer_name", "for rhoda")
    _submit(admin, "Create transfer")
    transfer_id = admin.text_content("[data-transfer-id]")
    auth_key = admin.text_content("[data-auth-key]")
    admin.screenshot(path=str(shots / "transfer.png"))
    member = _login(browser, cloud, MEMBER, MEMBER_PASSWORD)
    member.goto("/dashboard/volumes/transfers")
    member.fill("#f-transfer_id", transfer_id)
    member.fill("#f-auth_key", auth_key)
    _submit(member, "Accept")
    assert "Transfer accepted" in _flash(member)
    assert member.url.endswith(f"/dashboard/volumes/{volume['id']}")
    member.context.close()
    moved = api.get(f"/volume/v3/{receiver}/volumes/{volume['id']}")  # the admin sees every project's
    assert moved.status_code == 200
    assert moved.json()["volume"]["os-vol-tenant-attr:tenant_id"] == receiver
    admin.goto("/dashboard/volumes/transfers")
    assert admin.locator(f'tr[data-transfer="{transfer_id}"]').count() == 0


def test_next_and_previous_through_the_networks(admin, api):
    for n in range(5):
        api.post("/network/v2.0/networks", json={"network": {"name": f"paged-{n}"}}).raise_for_status()
    admin.goto("/dashboard/networks?limit=2")
    first = admin.locator("tr[data-network]").all_text_contents()
    assert len(first) == 2 and admin.locator("a[rel=prev]").count() == 0
    seen = list(first)
    while admin.locator("a[rel=next]").count():
        with admin.expect_navigation():
            admin.click("a[rel=next]")
        seen += admin.locator("tr[data-network]").all_text_contents()
    listed = api.get("/network/v2.0/networks").json()["networks"]
    assert len(seen) == len(listed) >= 5
    admin.goto("/dashboard/networks?limit=2")
    with admin.expect_navigation():
        admin.click("a[rel=next]")
    with admin.expect_navigation():
        admin.click("a[rel=prev]")
    assert admin.locator("tr[data-network]").all_text_contents() == first
