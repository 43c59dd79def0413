"""The dashboard pages Horizon users reach for, without a browser, on the shared cloud:
an instance's noVNC console (framed, its origin allowed by the page's policy) and the
message when Nova has none to give; editing an image's properties (the cloud really
changes, Glance's refusals become messages); a volume transferred to another project
(key shown once, wrong key refused, accepted, pending transfer deleted); and Next /
Previous through images, volumes and networks, a page at a time."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

from test_dashboard import admin, member, project_of  # noqa: F401 - fixtures, used by name

from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait


def test_the_console_page_frames_novnc_from_the_compute_api(api, admin, admin_token):
    server = boot(api, admin_token, make_image(api, admin_token), make_flavor(api, admin_token)["id"])["server"]
    wait(api, admin_token, server["id"], until=("ACTIVE",))
    page = admin.get(f"/instances/{server['id']}/console")
    assert page.status_code == 200
    src = re.search(r'<iframe class="vnc" src="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert src.startswith("http://127.0.0.1:8780/novnc/vnc_lite.html?path=novnc%2Fwebsockify%3Ftoken%3D")
    assert "frame-src 'self' http://127.0.0.1:8780" in page.headers["content-security-policy"]
    log = admin.get(f"/instances/{server['id']}/log")
    assert log.status_code == 200 and '<pre class="console">' in log.text
    api.request("DELETE", f"/compute/v2.1/servers/{server['id']}", admin_token)


def test_a_server_without_a_console_is_a_message(api, admin, admin_token):
    # A server in ERROR: Nova refuses a console (409), the page says so.
    server = boot(api, admin_token, make_image(api, admin_token), make_flavor(api, admin_token)["id"])["server"]
    wait(api, admin_token, server["id"], until=("ACTIVE",))
    assert call(api, "POST", f"/servers/{server['id']}/action", admin_token,
                json={"os-resetState": {"state": "error"}}).status_code == 202
    page = admin.get(f"/instances/{server['id']}/console")
    assert page.status_code == 200 and "data-console-unavailable" in page.text
    assert "<iframe" not in page.text and "Traceback" not in page.text
    api.request("DELETE", f"/compute/v2.1/servers/{server['id']}", admin_token)


def test_image_properties_are_edited_through_a_json_patch(api, admin, member, admin_token):
    image_id = make_image(api, admin_token, visibility="private", color="red", shade="dark")
    admin.get(f"/images/{image_id}")
    form = {"name": "renamed", "visibility": "shared", "protected": "on", "min_disk": "2", "min_ram": "64",
            "property.color": "blue", "remove": "shade", "new_key": "os_distro", "new_value": "debian"}
    assert admin.post(f"/images/{image_id}/edit", form).status_code == 303
    assert "Image updated." in admin.get(f"/images/{image_id}").text
    image = api.request("GET", f"/image/v2/images/{image_id}", admin_token).json()
    assert (image["name"], image["visibility"], image["protected"], image["min_disk"], image["min_ram"]) == \
        ("renamed", "shared", True, 2, 64)
    assert image["color"] == "blue" and image["os_distro"] == "debian" and "shade" not in image
    # What the dashboard checks itself, and what Glance refuses, come back in words.
    bad = {**form, "min_disk": "two", "back": f"/dashboard/images/{image_id}"}
    assert admin.post(f"/images/{image_id}/edit", bad).status_code == 303
    assert "The minimum disk must be a whole number" in admin.get(f"/images/{image_id}").text
    refused = member.post(f"/images/{image_id}/edit", {"name": "stolen", "back": "/dashboard/images"})
    assert refused.status_code == 303 and 'class="flash error"' in member.get("/images").text
    assert api.request("GET", f"/image/v2/images/{image_id}", admin_token).json()["name"] == "renamed"
    assert admin.post(f"/images/{image_id}/edit", {"name": "renamed", "min_disk": "2", "min_ram": "64"}) \
        .status_code == 303
    assert api.request("DELETE", f"/image/v2/images/{image_id}", admin_token).status_code == 204


def _available_volume(api, token: str, project_id: str) -> dict:
    volumes = f"/volume/v3/{project_id}/volumes"
    volume = api.request("POST", volumes, token, json={"volume": {"name": unique("vol"), "size": 1}}).json()["volume"]
    deadline = time.monotonic() + 30
    while api.request("GET", f"{volumes}/{volume['id']}", token).json()["volume"]["status"] != "available":
        assert time.monotonic() < deadline, "the volume did not become available"
        time.sleep(0.05)
    return volume


def test_a_volume_is_transferred_to_another_project(api, admin, member, admin_token, demo_token):
    admin_project, demo_project = project_of(api, admin_token), project_of(api, demo_token)
    volume = _available_volume(api, admin_token, admin_project)
    admin.get(f"/volumes/{volume['id']}")
    created = admin.post(f"/volumes/{volume['id']}/transfer", {"transfer_name": "to demo"})
    assert created.status_code == 200
    transfer_id = re.search(r"<code data-transfer-id>([^<]+)</code>", created.text).group(1)
    auth_key = re.search(r"<code data-auth-key>([^<]+)</code>", created.text).group(1)
    listed = admin.get("/volumes/transfers").text
    assert f'data-transfer="{transfer_id}"' in listed and auth_key not in listed  # the key is shown once
    member.get("/volumes/transfers")
    wrong = member.post("/volumes/transfers", {"action": "accept", "transfer_id": transfer_id, "auth_key": "nope",
                                               "back": "/dashboard/volumes/transfers"})
    assert wrong.status_code == 303 and 'class="flash error"' in member.get("/volumes/transfers").text
    accepted = member.post("/volumes/transfers", {"action": "accept", "transfer_id": transfer_id,
                                                  "auth_key": auth_key})
    assert accepted.headers["location"] == f"/dashboard/volumes/{volume['id']}"
    moved = api.request("GET", f"/volume/v3/{demo_project}/volumes/{volume['id']}", demo_token)
    assert moved.status_code == 200 and moved.json()["volume"]["status"] == "available"
    # A pending transfer can be deleted (the volume stays where it is).
    second = _available_volume(api, admin_token, admin_project)
    page = admin.post(f"/volumes/{second['id']}/transfer", {}).text
    pending = re.search(r"<code data-transfer-id>([^<]+)</code>", page).group(1)
    assert admin.post("/volumes/transfers", {"action": "delete", "transfer_id": pending}).status_code == 303
    gone = api.request("GET", f"/volume/v3/{admin_project}/os-volume-transfer/{pending}", admin_token)
    assert gone.status_code == 404
    for project, token, vid in ((demo_project, demo_token, volume["id"]), (admin_project, admin_token, second["id"])):
        api.request("DELETE", f"/volume/v3/{project}/volumes/{vid}", token)


def _walk(browser, path: str, attribute: str) -> list[list[str]]:
    """Every page of a list, two items a page, following Next to the end."""
    pages, url = [], f"{path}?limit=2"
    while url:
        text = browser.get(url).text
        pages.append(re.findall(rf'<tr {attribute}="([^"]*)"', text))
        found = re.search(r'<a rel="next" href="/dashboard([^"]+)"', text)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert len(pages) < 100
    return pages


def test_long_lists_page_with_next_and_previous(api, admin, admin_token):
    project_id = project_of(api, admin_token)
    images = [make_image(api, admin_token, visibility="private") for _ in range(3)]
    volumes = [_available_volume(api, admin_token, project_id)["id"] for _ in range(3)]
    networks = [api.request("POST", "/network/v2.0/networks", admin_token,
                            json={"network": {"name": unique("pnet")}}).json()["network"]["id"] for _ in range(3)]
    everything = {
        "/images": api.request("GET", "/image/v2/images?limit=1000", admin_token).json()["images"],
        "/volumes": api.request("GET", f"/volume/v3/{project_id}/volumes/detail", admin_token).json()["volumes"],
        "/networks": api.request("GET", "/network/v2.0/networks", admin_token).json()["networks"],
    }
    for path, attribute in (("/images", "data-image"), ("/volumes", "data-volume"), ("/networks", "data-network")):
        pages = _walk(admin, path, attribute)
        assert len(pages) >= 2 and all(1 <= len(p) <= 2 for p in pages), (path, pages)
        assert sorted(n for p in pages for n in p) == sorted(i["name"] or "" for i in everything[path]), path
        # Previous from the second page shows the first again.
        second = admin.get(f"{path}?limit=2").text
        next_url = re.search(r'<a rel="next" href="/dashboard([^"]+)"', second).group(1).replace("&amp;", "&")
        back = re.search(r'<a rel="prev" href="/dashboard([^"]+)"', admin.get(next_url).text).group(1)
        assert re.findall(rf'<tr {attribute}="([^"]*)"', admin.get(back.replace("&amp;", "&")).text) == pages[0]
        assert 'rel="prev"' not in second
    for image_id in images:
        api.request("DELETE", f"/image/v2/images/{image_id}", admin_token)
    for volume_id in volumes:
        api.request("DELETE", f"/volume/v3/{project_id}/volumes/{volume_id}", admin_token)
    for network_id in networks:
        api.request("DELETE", f"/network/v2.0/networks/{quote(network_id)}", admin_token)
