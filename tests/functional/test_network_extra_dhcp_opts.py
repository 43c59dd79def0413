"""Per-port DHCP options (Neutron's extra_dhcp_opt extension): stored and shown as
``{opt_name, opt_value, ip_version}``, validated with Neutron's key specs, merged by
name and IP version on update (a null value removes one), and handed to the datapath
with the port (its dnsmasq serves them to that port only: ``dnsmasq_config``)."""

from __future__ import annotations

import pytest

from test_network_api import call, create, private


@pytest.fixture(scope="module")
def network(api, demo_token):
    net, _ = private(api, demo_token, "10.96.1.0/24")
    return net


def _port(api, token, network, opts, status=201):
    return create(api, token, "port", {"network_id": network["id"], "extra_dhcp_opts": opts}, status=status)


def test_options_are_stored_and_shown(api, demo_token, network):
    port = _port(api, demo_token, network, [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
        {"opt_name": "tftp-server", "opt_value": "10.96.1.5", "ip_version": "4"},
        {"opt_name": "dns-server", "opt_value": "[2001:db8::1]", "ip_version": 6},
        {"opt_name": "ntp-server", "opt_value": None},  # nothing to store
        {"opt_name": "router", "opt_value": ""},  # blank-able: no default route
    ])
    expected = [{"opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4},
                {"opt_name": "tftp-server", "opt_value": "10.96.1.5", "ip_version": 4},
                {"opt_name": "dns-server", "opt_value": "[2001:db8::1]", "ip_version": 6},
                {"opt_name": "router", "opt_value": "", "ip_version": 4}]
    assert port["extra_dhcp_opts"] == expected
    shown = call(api, "GET", f"/ports/{port['id']}", demo_token, status=200).json()["port"]
    assert shown["extra_dhcp_opts"] == expected
    plain = create(api, demo_token, "port", {"network_id": network["id"]})
    assert plain["extra_dhcp_opts"] == []


def test_update_merges_by_name_and_ip_version(api, demo_token, network):
    port = _port(api, demo_token, network, [{"opt_name": "bootfile-name", "opt_value": "a.0"},
                                            {"opt_name": "bootfile-name", "opt_value": "b.0", "ip_version": 6},
                                            {"opt_name": "tftp-server", "opt_value": "10.96.1.5"}])
    updated = call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"extra_dhcp_opts": [
        {"opt_name": "bootfile-name", "opt_value": "c.0"},          # replaced (IPv4 only)
        {"opt_name": "tftp-server", "opt_value": None},              # removed
        {"opt_name": "server-ip-address", "opt_value": "10.96.1.6"},  # added
    ]}}, status=200).json()["port"]
    assert sorted(updated["extra_dhcp_opts"], key=lambda o: (o["opt_name"], o["ip_version"])) == [
        {"opt_name": "bootfile-name", "opt_value": "c.0", "ip_version": 4},
        {"opt_name": "bootfile-name", "opt_value": "b.0", "ip_version": 6},
        {"opt_name": "server-ip-address", "opt_value": "10.96.1.6", "ip_version": 4}]
    assert updated["revision_number"] > port["revision_number"]
    # Neither null nor an empty list changes anything (Neutron only merges what is given).
    for value in (None, []):
        same = call(api, "PUT", f"/ports/{port['id']}", demo_token, {"port": {"extra_dhcp_opts": value}},
                    status=200).json()["port"]
        assert same["extra_dhcp_opts"] == updated["extra_dhcp_opts"]


@pytest.mark.parametrize("opts, message", [
    ([{"opt_name": "bootfile-name"}], "No valid key specs matched for: {'opt_name': 'bootfile-name'}"),
    ([{"opt_name": "", "opt_value": "x"}], "No valid key specs matched for: {'opt_name': '', 'opt_value': 'x'}"),
    ([{"opt_name": "a", "opt_value": ""}], "No valid key specs matched for: {'opt_name': 'a', 'opt_value': ''}"),
    ([{"opt_name": "a", "opt_value": "x", "ip_version": 5}],
     "No valid key specs matched for: {'opt_name': 'a', 'opt_value': 'x', 'ip_version': 5}"),
    ([{"opt_name": "a", "opt_value": "x\ny"}],
     "No valid key specs matched for: {'opt_name': 'a', 'opt_value': 'x\\ny'}"),
    ([{"opt_name": "a" * 65, "opt_value": "x"}], None),
    ([{"opt_name": "a", "opt_value": "x", "extra": 1}], None),
    ([{"opt_name": "a", "opt_value": "x"}, {"opt_name": "a", "opt_value": "x"}],
     "Duplicate items in the list: '{'opt_name': 'a', 'opt_value': 'x'}'"),
    ("bootfile-name", None),
    (["bootfile-name"], None),
])
def test_invalid_options_are_refused_as_neutron_refuses_them(api, demo_token, network, opts, message):
    error = _port(api, demo_token, network, opts, status=400)
    assert error["type"] in ("InvalidInput", "HTTPBadRequest"), error
    if message:
        assert error == {"type": "InvalidInput", "message": f"Invalid input for operation: {message}.", "detail": ""}


def test_the_extension_is_listed(api, demo_token):
    extension = call(api, "GET", "/extensions/extra_dhcp_opt", demo_token, status=200).json()["extension"]
    assert extension["name"] == "Neutron Extra DHCP options"
