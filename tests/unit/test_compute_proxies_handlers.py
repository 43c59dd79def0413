"""The proxies of other services (security groups, floating IPs, networks, images),
usage, migrations and external events without a cloud: their parsing, and what the
handlers answer before any other service is reached."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from compute_api_support import MEMBER, READER, call, caller, spec

from pocketstack.common.api.microversions import Version
from pocketstack.common.errors import ApiError, Forbidden, NotFound
from pocketstack.compute import errors
from pocketstack.compute.api import (
    external_events,
    floating_ips,
    images,
    migrations,
    networks,
    security_groups,
    usage,
)
from pocketstack.compute.contract import InstanceRef
from pocketstack.compute.manager import event_code

GROUP = "6f1c0a4e-8c55-4f39-9a36-4cf0c3a1f2b7"
NO_NETWORK = SimpleNamespace(cloud=SimpleNamespace(network=None))


# -- security groups ------------------------------------------------------------------------
def test_rule_attributes():
    assert security_groups._rule_attrs({"parent_group_id": GROUP, "ip_protocol": "TCP", "from_port": "22",
                                        "to_port": 22, "cidr": "10.0.0.1/8"}) == {
        "security_group_id": GROUP, "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
        "port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "10.0.0.1/8"}
    icmp = security_groups._rule_attrs({"parent_group_id": GROUP, "ip_protocol": "icmp", "from_port": -1,
                                        "to_port": -1, "cidr": "::/0"})
    assert (icmp["port_range_min"], icmp["port_range_max"], icmp["ethertype"]) == (None, None, "IPv6")
    remote = security_groups._rule_attrs({"parent_group_id": GROUP, "group_id": GROUP})
    assert remote["remote_group_id"] == GROUP and "remote_ip_prefix" not in remote


@pytest.mark.parametrize("rule,message", [
    ({"ip_protocol": "gre"}, "Invalid IP protocol gre."),
    ({"ip_protocol": "tcp", "from_port": 0, "to_port": 5},
     "Invalid port range 0:5. Valid TCP ports should be between 1-65535"),
    ({"ip_protocol": "icmp", "from_port": 300, "to_port": 0},
     "Invalid port range 300:0. ICMP type and code must be between -1 and 255."),
    ({"ip_protocol": "udp", "from_port": "x", "to_port": 1}, "Invalid from_port: 'x' is not an integer."),
    ({"from_port": 80}, "Ports can only be given with ip_protocol tcp, udp or icmp."),
    ({"cidr": "10.0.0.0/99"}, "Invalid cidr 10.0.0.0/99."),
    ({"parent_group_id": "7"}, "Security group id should be uuid"),
])
def test_rule_refusals(rule, message):
    with pytest.raises(ApiError) as raised:
        security_groups._rule_attrs({"parent_group_id": GROUP, **rule})
    assert (raised.value.status, raised.value.message) == (400, message)


def test_group_attributes_keep_spaces_but_refuse_blank():
    assert security_groups.group_attributes({"name": " web ", "description": "d"}) == {
        "name": " web ", "description": "d"}
    with pytest.raises(errors.InvalidSecurityGroupProperty, match="Security group description cannot be empty."):
        security_groups.group_attributes({"name": "web", "description": "  "})
    with pytest.raises(errors.InvalidSecurityGroupProperty, match="is not a string or unicode"):
        security_groups.group_attributes({"description": "d"})


def test_render_rule_defaults_ports_and_drops_rules_of_deleted_groups():
    rule = {"id": "r", "security_group_id": GROUP, "protocol": "tcp", "port_range_min": None,
            "port_range_max": None, "remote_group_id": None, "remote_ip_prefix": None}
    assert security_groups.render_rule(rule, {}, None) == {
        "id": "r", "parent_group_id": GROUP, "ip_protocol": "tcp", "from_port": 1, "to_port": 65535,
        "group": {}, "ip_range": {"cidr": "0.0.0.0/0"}}

    def gone(group_id):
        raise NotFound("gone")
    assert security_groups.render_rule({**rule, "remote_group_id": "x"}, {}, gone) is None


def test_security_groups_policy_first_then_the_microversion():
    api = security_groups.SecurityGroupsApi(NO_NETWORK)
    with pytest.raises(Forbidden):  # a reader may not create, even at 2.36
        call(api, "POST", "/v2.1/os-security-groups", caller(*READER), version="2.36", body={})
    with pytest.raises(NotFound, match="The resource could not be found."):
        call(api, "GET", "/v2.1/os-security-groups", caller(*READER), version="2.36")
    with pytest.raises(errors.SecurityGroupsProxyNeedsNetwork):
        call(api, "GET", "/v2.1/os-security-groups", caller(*READER))


# -- floating IPs and networks ----------------------------------------------------------------
def test_pool_for():
    ext = [{"id": "n1", "name": "public"}, {"id": "n2", "name": "public"}, {"id": "n3", "name": "other"}]
    assert floating_ips.pool_for(ext, "other")["id"] == "n3"
    assert floating_ips.pool_for(ext, "n1")["id"] == "n1"
    assert floating_ips.pool_for(ext[2:], None)["id"] == "n3"
    with pytest.raises(errors.FloatingIpPoolAmbiguous, match="Multiple floating IP pools matches found for name"):
        floating_ips.pool_for(ext, "public")
    with pytest.raises(errors.FloatingIpPoolNotFound):
        floating_ips.pool_for(ext, None)
    with pytest.raises(errors.FloatingIpPoolNotFound):
        floating_ips.pool_for(ext, "nope")


def test_ip_addresses_are_canonical():
    assert floating_ips._ip("0:0::1", "address") == "::1"
    with pytest.raises(errors.InvalidIpAddress, match="'10.0.0' is not a 'ip-address'"):
        floating_ips._ip("10.0.0", "address")


def test_floating_ips_and_networks_without_a_network_service():
    with pytest.raises(Forbidden):
        call(floating_ips.FloatingIpsApi(NO_NETWORK), "DELETE", "/v2.1/os-floating-ips/{fip_id}",
             caller("other"), params={"fip_id": GROUP})
    with pytest.raises(NotFound, match="The resource could not be found."):
        call(floating_ips.FloatingIpsApi(NO_NETWORK), "GET", "/v2.1/os-floating-ips", caller(*READER))
    with pytest.raises(NotFound, match="The resource could not be found."):
        call(networks.NetworksApi(NO_NETWORK), "GET", "/v2.1/os-tenant-networks", caller(*READER))


def test_network_shapes():
    net = {"id": "n1", "name": "private", "project_id": "p1", "mtu": 1450}
    assert networks.first_cidrs([{"network_id": "n1", "cidr": "10.0.0.0/24"},
                                 {"network_id": "n1", "cidr": "fd00::/64"}]) == {"n1": "10.0.0.0/24"}
    assert networks.short(net, None) == {"id": "n1", "label": "private", "cidr": None}
    full = networks.full(net, "10.0.0.0/24")
    assert full["mtu"] == 1450 and full["bridge"] is None and full["deleted"] is False


# -- images -----------------------------------------------------------------------------------
def test_glance_query():
    assert images.glance_query({}, None) == [("limit", "1000")]
    query = images.glance_query({"status": "saving", "server": "http://x/servers/s1/", "type": "snapshot",
                                 "changes-since": "2026-01-01T00:00:00Z", "name": "n", "marker": "m"}, 5)
    assert query == [("limit", "5"), ("marker", "m"), ("name", "n"), ("status", "in:queued,saving"),
                     ("instance_uuid", "s1"), ("image_type", "snapshot"), ("updated_at", "gte:2026-01-01T00:00:00Z")]
    with pytest.raises(errors.InvalidImageStatus, match="Invalid image status bogus."):
        images.glance_query({"status": "bogus"}, None)


def test_image_proxy_is_gone_from_2_36():
    api = images.ImagesApi(None, None)
    for method, path in (("GET", "/v2.1/images"), ("DELETE", "/v2.1/images/{image_id}"),
                         ("PUT", "/v2.1/images/{image_id}/metadata/{key}")):
        route = spec(api, method, path)
        assert route.serves(Version(2, 35)) and not route.serves(Version(2, 36))
    assert spec(api, "DELETE", "/v2.1/images/{image_id}").policy == "delete_image"


# -- usage, migrations, external events -------------------------------------------------------
NOW = dt.datetime(2026, 3, 10, 12, 0, 0)


def test_usage_period_and_hours():
    assert usage.period(None, None, NOW) == (NOW, NOW)
    start, end = usage.period("2026-03-10T10:00:00", "2026-03-10 11:00:00.5", NOW)
    assert start == dt.datetime(2026, 3, 10, 10) and end.microsecond == 500000
    with pytest.raises(errors.UsageStartAfterEnd):
        usage.period("2026-03-10T11:00:00", "2026-03-10T10:00:00", NOW)
    with pytest.raises(errors.InvalidUsageTime, match="Invalid start time. yesterday is not in the format"):
        usage.period("yesterday", None, NOW)
    server = SimpleNamespace(id="s1", name="vm", project_id="p1", vm_state="active", created_at=NOW,
                             launched_at=dt.datetime(2026, 3, 10, 9), flavor={"name": "f", "vcpus": 2, "ram": 512,
                                                                               "disk": 1, "ephemeral": 1})
    one = usage.usage("p1", dt.datetime(2026, 3, 10, 10), NOW, [server], NOW)
    assert one["total_hours"] == 2.0 and one["total_vcpus_usage"] == 4.0 and one["total_local_gb_usage"] == 4.0
    assert one["server_usages"][0]["uptime"] == 3 * 3600


def test_audit_log():
    assert usage.audit_timestamp("2026-03-10 12:00:00") == NOW
    assert usage.audit_timestamp("2026-03-10") is None
    log = usage.audit_log(["h1"], NOW)
    assert (log["period_beginning"], log["period_ending"]) == ("2026-02-01 00:00:00", "2026-03-01 00:00:00")
    assert log["overall_status"] == "0 of 1 hosts done. 0 errors." and log["hosts_not_run"] == ["h1"]


def test_migration_paging():
    found = [SimpleNamespace(uuid=u) for u in ("a", "b", "c")]
    assert [m.uuid for m in migrations.page(found, "a", None)] == ["b", "c"]
    assert [m.uuid for m in migrations.page(found, None, 2)] == ["a", "b"]
    with pytest.raises(errors.MarkerNotFound, match="Marker z could not be found."):
        migrations.page(found, "z", None)


def test_external_event_outcomes():
    """The API answers each event with the code the compute contract's decision gives."""
    def ref(instance_id, host):
        return InstanceRef(id=instance_id, project_id="p", user_id="u", host=host, vm_state="active",
                           task_state=None)
    servers = {"s1": ref("s1", "h1"), "s2": ref("s2", None)}
    delivered = []

    def deliver(server_uuid, name):
        delivered.append(name)
        return event_code(servers.get(server_uuid))
    assert external_events.outcome({"name": "network-changed", "server_uuid": "s1"}, deliver, False) == {
        "name": "network-changed", "server_uuid": "s1", "status": "completed", "code": 200}
    assert external_events.outcome({"name": "network-changed", "server_uuid": "s2"}, deliver, False) == {
        "name": "network-changed", "server_uuid": "s2", "status": "failed", "code": 422}
    assert external_events.outcome({"name": "network-changed", "server_uuid": "s9"}, deliver, False) == {
        "name": "network-changed", "server_uuid": "s9", "status": "failed", "code": 404}
    extended = {"name": "volume-extended", "server_uuid": "s1"}
    delivered.clear()
    assert external_events.outcome(extended, deliver, False) == {**extended, "status": "failed", "code": 400}
    assert delivered == []  # refused before 2.51 without being delivered
    assert external_events.outcome({**extended, "tag": "v1"}, deliver, True)["code"] == 200
    assert delivered == ["volume-extended"]
    # Nova's TAG_REQUIRED: an event about a volume or the power needs its tag (400), for a
    # server that exists (404 first).
    assert external_events.outcome(extended, deliver, True) == {**extended, "status": "failed", "code": 400}
    missing = {"name": "power-update", "server_uuid": "s9"}
    assert external_events.outcome(missing, deliver, True)["code"] == 404


def test_external_events_are_for_services_and_admins():
    with pytest.raises(Forbidden):
        call(external_events.ExternalEventsApi(None), "POST", "/v2.1/os-server-external-events", caller(*MEMBER),
             body={"events": []})


def test_every_rule_the_routes_declare_is_documented():
    """The families' routes declare only rules compute/policies.py documents (the image
    proxy's are Glance's own, which the image service registers)."""
    from pocketstack.common.api.routes import Router
    from pocketstack.compute.api import aggregates, flavors, hosts, keypairs, os_hosts, quotas, server_groups
    from pocketstack.compute.policies import RULES

    documented = {rule.name: rule for rule in RULES}
    apis = [flavors.FlavorsApi(None), flavors.FlavorExtraSpecsApi(None), flavors.FlavorAccessApi(None),
            keypairs.KeyPairsApi(None), quotas.QuotaSetsApi(None), quotas.QuotaClassSetsApi(None),
            quotas.LimitsApi(None), hosts.ServicesApi(None), hosts.HypervisorsApi(None, None, None),
            hosts.AvailabilityZonesApi(None), os_hosts.HostsApi(None, None, None), aggregates.AggregatesApi(None),
            server_groups.ServerGroupsApi(None), security_groups.SecurityGroupsApi(None),
            floating_ips.FloatingIpsApi(None), networks.NetworksApi(None), usage.UsageApi(None),
            usage.AuditLogApi(None), migrations.MigrationsApi(None), external_events.ExternalEventsApi(None)]
    routes = Router().include(*apis).routes
    # Only the flavor listings and shows have no rule (Nova has none for them).
    assert sorted(r.path for r in routes if not r.policy) == ["/v2.1/flavors", "/v2.1/flavors/detail",
                                                            "/v2.1/flavors/{flavor_id}"]
    routes = [r for r in routes if r.policy]
    assert not [r.policy for r in routes if not documented.get(r.policy) or not documented[r.policy].description]
    image_rules = {r.policy for r in Router().include(images.ImagesApi(None, None)).routes if r.policy}
    assert image_rules == {"modify_image", "delete_image"}
