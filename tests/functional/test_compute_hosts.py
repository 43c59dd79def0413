"""The pre-2.43 ``os-hosts`` API and the pre-2.53 hypervisor search/servers routes."""

from __future__ import annotations

from test_compute_helpers import add_hosts, boot, call, make_flavor, make_image, retire, wait, wait_gone


def test_list_show_update_and_power_actions(api, admin_token, demo_token):
    hosts = call(api, "GET", "/os-hosts", admin_token, version="2.42").json()["hosts"]
    computes = [h for h in hosts if h["service"] == "compute"]
    assert len(computes) >= 2 and {"host_name": "controller", "service": "scheduler", "zone": "internal"} in hosts
    zone = computes[0]["zone"]
    in_zone = call(api, "GET", f"/os-hosts?zone={zone}", admin_token, version="2.42").json()["hosts"]
    assert computes[0] in in_zone and all(h["zone"] == zone for h in in_zone)
    assert call(api, "GET", "/os-hosts?zone=xxx", admin_token, version="2.42").json()["hosts"] == []
    assert call(api, "GET", "/os-hosts?zone=", admin_token, version="2.42").json()["hosts"] == hosts
    assert call(api, "GET", "/os-hosts", demo_token, version="2.42").status_code == 403
    assert call(api, "GET", "/os-hosts", admin_token, version="2.43").status_code == 404

    name = computes[0]["host_name"]
    resources = call(api, "GET", f"/os-hosts/{name}", admin_token, version="2.42").json()["host"]
    assert [r["resource"]["project"] for r in resources[:3]] == ["(total)", "(used_now)", "(used_max)"]
    assert resources[0]["resource"]["host"] == name and resources[0]["resource"]["cpu"] > 0
    assert call(api, "GET", "/os-hosts/nonexistent", admin_token, version="2.42").status_code == 404

    node, = add_hosts(api, "nova", [1])
    try:
        r = call(api, "PUT", f"/os-hosts/{node.host}", admin_token, version="2.42", json={"status": "disable"})
        assert r.status_code == 200 and r.json() == {"host": node.host, "status": "disabled"}
        for body in ({}, {"status": "invalid"}, {"maintenance_mode": "invalid"}):
            r = call(api, "PUT", f"/os-hosts/{node.host}", admin_token, version="2.42", json=body)
            assert r.status_code == 400, body
        r = call(api, "PUT", f"/os-hosts/{node.host}", admin_token, version="2.42",
                 json={"maintenance_mode": "enable"})
        assert r.status_code == 501
        assert call(api, "PUT", "/os-hosts/nonexistent", admin_token, version="2.42",
                    json={"status": "enable"}).status_code == 404
    finally:
        retire(api, [node])
    for action in ("startup", "shutdown", "reboot"):
        assert call(api, "GET", f"/os-hosts/{name}/{action}", admin_token, version="2.42").status_code == 501
        assert call(api, "GET", f"/os-hosts/nonexistent/{action}", admin_token, version="2.42").status_code == 404
        assert call(api, "GET", f"/os-hosts/{name}/{action}", demo_token, version="2.42").status_code == 403


def test_hypervisor_search_and_servers_before_2_53(api, admin_token, demo_token):
    node, = add_hosts(api, "searchzone", [2])
    try:
        server = boot(api, admin_token, make_image(api, admin_token), make_flavor(api, admin_token)["id"],
                      availability_zone="searchzone")["server"]
        wait(api, admin_token, server["id"])
        found = call(api, "GET", f"/os-hypervisors/{node.host}/search", admin_token, version="2.52").json()
        assert [h["hypervisor_hostname"] for h in found["hypervisors"]] == [node.host]
        listed = call(api, "GET", f"/os-hypervisors/{node.host}/servers", admin_token, version="2.52").json()
        assert [s["uuid"] for s in listed["hypervisors"][0]["servers"]] == [server["id"]]
        assert call(api, "GET", "/os-hypervisors/no-such-host/search", admin_token, version="2.52").status_code == 404
        assert call(api, "GET", f"/os-hypervisors/{node.host}/search", admin_token, version="2.53").status_code == 404
        assert call(api, "GET", f"/os-hypervisors/{node.host}/servers", demo_token, version="2.52").status_code == 403
        call(api, "DELETE", f"/servers/{server['id']}", admin_token)
        wait_gone(api, admin_token, server["id"])
    finally:
        retire(api, [node])


def test_extensions_list_what_is_served(api, demo_token):
    listed = call(api, "GET", "/extensions", demo_token).json()["extensions"]
    assert "Hosts" in [e["name"] for e in listed] and all(e["links"] == [] for e in listed)
    shown = call(api, "GET", "/extensions/os-consoles", demo_token).json()["extension"]
    assert shown["alias"] == "os-consoles" and shown["name"] == "Consoles"
    r = call(api, "GET", "/extensions/os-floating-ips", demo_token)
    assert r.status_code == 404 and "itemNotFound" in r.json()
