"""A failing build ends in ERROR with its own fault at once, even when a clean-up fails.

The build failure is real (a subnet with no free address); the clean-up failure is an
injected outage of the placement database (the audit met it as PostgreSQL connection
exhaustion: the release timed out and the server sat in BUILD until the 300 s sweep,
which then wrote a fault about an interrupted build instead of the real cause)."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from compute_fixtures import user  # noqa: F401 - fixtures
from conftest import unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait

NET = "/network/v2.0"


def full_network(api, token) -> str:
    """A network whose only address besides the gateway is already taken."""
    net = api.request("POST", f"{NET}/networks", token, json={"network": {"name": unique("net")}}).json()["network"]
    r = api.request("POST", f"{NET}/subnets", token, json={"subnet": {
        "network_id": net["id"], "ip_version": 4, "cidr": "10.95.0.0/30"}})
    assert r.status_code == 201, r.text
    assert api.request("POST", f"{NET}/ports", token, json={"port": {"network_id": net["id"]}}).status_code == 201
    return net["id"]


def test_failed_release_still_errors_the_build_at_once(api, admin_token, user, monkeypatch):
    token = user["token"]
    image, flavor = make_image(api, admin_token), make_flavor(api, admin_token)
    placement = api.cloud.service("compute").compute.placement
    released = []

    def outage(consumer_id):
        released.append(consumer_id)
        raise sa_exc.OperationalError("DELETE FROM placement_allocation", {}, Exception("connection refused"))

    monkeypatch.setattr(placement, "release", outage)
    server_id = boot(api, token, image, flavor["id"], networks=[{"uuid": full_network(api, token)}])["server"]["id"]
    server = wait(api, token, server_id, timeout=20)
    assert server["status"] == "ERROR"
    assert released == [server_id]
    assert "No more IP addresses available" in server["fault"]["message"], server["fault"]
    monkeypatch.undo()
    assert call(api, "DELETE", f"/servers/{server_id}", token).status_code == 204
