"""The network_* settings drive what the network logic does: a network manager built
from custom settings, on the shared test database, allocates tenant segments from the
configured VLAN range and gives networks the configured MTU."""

from __future__ import annotations

import pytest

from pocketstack.common.config import load
from pocketstack.common.context import RequestContext
from pocketstack.common.errors import ApiError
from pocketstack.network.context import Env
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.manager import NetworkManager
from pocketstack.network.segments import SegmentConfig

from conftest import unique


@pytest.fixture
def physnet():
    return unique("physnet")


def manager_with(cloud, **environ) -> NetworkManager:
    settings = load(environ={f"POCKETSTACK_{k.upper()}": v for k, v in environ.items()})
    return NetworkManager(Env(db=cloud.db, driver=NoopDriver(), segments=SegmentConfig.from_settings(settings)))


def test_tenant_networks_come_from_the_configured_vlan_range(cloud, physnet):
    manager = manager_with(cloud, network_vlan_ranges=f"{physnet}:10:11", network_tenant_network_type="vlan",
                           network_physnet_mtu="9000")
    ctx = RequestContext(project_id=unique("project"), roles=["member"])
    nets = [manager.create(ctx, "networks", {"name": unique("n")}) for _ in range(2)]
    assert sorted(n["provider:segmentation_id"] for n in nets) == [10, 11]
    assert {(n["provider:network_type"], n["provider:physical_network"], n["mtu"]) for n in nets} == {
        ("vlan", physnet, 9000)}
    with pytest.raises(ApiError) as raised:
        manager.create(ctx, "networks", {"name": unique("n")})
    assert (raised.value.status, raised.value.error_type) == (503, "NoNetworkAvailable")
    # Deleting a network frees its VLAN for the next one.
    manager.delete(ctx, "networks", nets[0]["id"])
    again = manager.create(ctx, "networks", {"name": unique("n")})
    assert again["provider:segmentation_id"] == nets[0]["provider:segmentation_id"]


def test_flat_networks_only_on_configured_physnets(cloud, physnet):
    manager = manager_with(cloud, network_flat_networks=physnet)
    admin = RequestContext(project_id=unique("project"), roles=["admin", "member", "reader"])
    net = manager.create(admin, "networks", {"name": unique("n"), "provider:network_type": "flat",
                                             "provider:physical_network": physnet})
    assert (net["provider:network_type"], net["mtu"]) == ("flat", 1500)
    with pytest.raises(ApiError) as raised:
        manager.create(admin, "networks", {"name": unique("n"), "provider:network_type": "flat",
                                           "provider:physical_network": "public"})
    assert raised.value.status == 400 and "unknown for flat provider network" in str(raised.value)
