"""Network quota defaults come from the settings (Neutron's ``[quotas] quota_<resource>``):
a project without its own limits gets them, ``GET /quotas/{id}/default`` shows them, and
an admin's limit for a project still wins."""

from __future__ import annotations

import pytest

from pocketstack.common.config import load
from pocketstack.common.context import RequestContext
from pocketstack.common.errors import ApiError
from pocketstack.network import quota
from pocketstack.network.context import Env
from pocketstack.network.drivers.noop import NoopDriver
from pocketstack.network.manager import NetworkManager
from pocketstack.network.segments import SegmentConfig

from conftest import unique


def manager_with(cloud, **environ) -> NetworkManager:
    settings = load(environ={f"POCKETSTACK_{k.upper()}": v for k, v in environ.items()})
    return NetworkManager(Env(db=cloud.db, driver=NoopDriver(), segments=SegmentConfig.from_settings(settings),
                              quota_defaults=quota.defaults_from(settings)))


def test_defaults_are_neutrons_unless_set():
    assert quota.defaults_from(load(environ={})) == quota.DEFAULTS
    settings = load(environ={"POCKETSTACK_NETWORK_QUOTA_ROUTER": "100", "POCKETSTACK_NETWORK_QUOTA_FLOATINGIP": "-1"})
    assert quota.defaults_from(settings) == {**quota.DEFAULTS, "router": 100, "floatingip": -1}
    with pytest.raises(ValueError, match="network_quota_port"):
        quota.defaults_from(load(environ={"POCKETSTACK_NETWORK_QUOTA_PORT": "-2"}))


def test_a_project_gets_the_configured_router_limit(cloud):
    manager = manager_with(cloud, network_quota_router="2")
    project_id = unique("project")
    ctx = RequestContext(project_id=project_id, roles=["member"])
    for _ in range(2):
        manager.create(ctx, "routers", {"name": unique("r")})
    with pytest.raises(ApiError) as raised:
        manager.create(ctx, "routers", {"name": unique("r")})
    assert (raised.value.status, raised.value.error_type) == (409, "OverQuota")
    assert manager.quota_limits(project_id)["router"] == 2
    # The admin's own limit for the project wins over the setting.
    manager.set_quota(RequestContext(project_id=unique("admin"), roles=["admin"]), project_id, {"router": 3})
    manager.create(ctx, "routers", {"name": unique("r")})


def test_the_running_cloud_shows_its_defaults(api, demo_token, cloud):
    project_id = cloud.identity.validate_token(demo_token).project_id
    shown = api.request("GET", f"/network/v2.0/quotas/{project_id}/default", demo_token).json()["quota"]
    assert shown == cloud.service("network").manager.env.quota_defaults == quota.DEFAULTS
