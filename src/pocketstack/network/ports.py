"""Ports: MAC and fixed IP allocation, bindings, security groups, address pairs."""

from __future__ import annotations

import ipaddress
import uuid
from typing import cast

import sqlalchemy as sa

from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows
from pocketstack.common.db.inserts import insert_if_free
from pocketstack.network import (
    converters,
    dhcp_opts,
    errors,
    ipam,
    qos,
    quota,
    rbac,
    security_groups,
    store,
    trunks,
    views,
)
from pocketstack.network.context import Work
from pocketstack.network.models import FloatingIp, IpAllocation, Network, Port, Router, SecurityGroup, Subnet, Tag

UPDATABLE = {"name", "description", "admin_state_up", "device_id", "device_owner", "binding:host_id",
             "binding:vnic_type", "binding:profile", "fixed_ips", "allowed_address_pairs",
             "port_security_enabled", "security_groups", "mac_address", "extra_dhcp_opts", "qos_policy_id"}
_COLUMNS = {"binding:host_id": "binding_host_id", "binding:vnic_type": "binding_vnic_type",
            "binding:profile": "binding_profile"}
# Ports the network service owns itself: no security groups, not deletable via /ports.
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
ROUTER_OWNERS = (ROUTER_INTERFACE, ROUTER_GATEWAY, "network:floatingip")
# Neutron's ROUTER_INTERFACE_OWNERS: a port with one of these owners joins the router its
# device_id names.
ROUTER_INTERFACE_OWNERS = (ROUTER_INTERFACE, "network:ha_router_replicated_interface",
                           "network:router_interface_distributed")
MAC_ATTEMPTS = 16
# Neutron's portbindings.VNIC_TYPES.
VNIC_TYPES = ["normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder", "smart-nic", "vdpa",
              "accelerator-direct", "accelerator-direct-physical", "remote-managed"]


def _subnets(w: Work, network_id: str) -> list[Subnet]:
    return list(w.s.scalars(sa.select(Subnet).where(Subnet.network_id == network_id)
                            .order_by(Subnet.created_at, Subnet.id)))


def resolve_fixed_ips(network_id: str, subnets: list[Subnet], fixed_ips: list[dict]) -> list[dict]:
    """Turn API ``fixed_ips`` items into ``{"subnet": Subnet, "ip_address": str|None}``."""
    by_id = {s.id: s for s in subnets}
    result = []
    for item in fixed_ips:
        subnet_id, ip = item.get("subnet_id"), item.get("ip_address")
        if subnet_id:
            subnet = by_id.get(subnet_id)
            if subnet is None:
                raise errors.InvalidInput(error_message=f"Failed to create port on network {network_id}, because "
                                                         f"fixed_ips included invalid subnet {subnet_id}")
        elif ip:
            try:
                address = ipaddress.ip_address(ip)
            except ValueError:
                raise errors.InvalidIpForSubnet(ip_address=ip) from None
            subnet = next((s for s in subnets if address in ipaddress.ip_network(s.cidr)), None)
            if subnet is None:
                raise errors.InvalidIpForNetwork(ip_address=ip)
        else:
            raise errors.InvalidInput(error_message="fixed_ips items need a subnet_id or an ip_address")
        result.append({"subnet": subnet, "ip_address": ip})
    return result


def _check_pairs(pairs: list[dict]) -> list[dict]:
    result = []
    for pair in pairs:
        ip = pair.get("ip_address")
        try:
            ipaddress.ip_network(str(ip), strict=False)  # a string (schema); None is refused as "None"
        except (ValueError, TypeError):
            raise errors.InvalidInput(error_message=f"'{ip}' is not a valid IP address") from None
        item = {"ip_address": ip}
        if pair.get("mac_address"):
            item["mac_address"] = pair["mac_address"]
        result.append(item)
    return result


def _security_groups(w: Work, project_id: str, attrs: dict, port_security: bool, device_owner: str,
                     own_groups: bool = False) -> list[str]:
    """``own_groups``: the caller found ``security_groups`` among the port's project's own
    groups in this unit of work (a server's port), so they need no second look."""
    requested = attrs.get("security_groups")
    if not port_security or device_owner.startswith("network:"):
        if requested:
            raise errors.PortSecurityAndIPRequiredForSecurityGroups()
        return []
    if requested is None:
        return [security_groups.default_group(w, project_id).id]
    if own_groups:
        return list(_distinct(requested))
    for group_id in _distinct(requested):
        rbac.hold_access(w, store.fetch(w.s, SecurityGroup, w.ctx, group_id), project_id)
    return list(requested)


def _distinct(groups: list[str]) -> list[str]:
    """``security_groups`` is a ``type:uuid_list``: a group named twice is a 400."""
    twice = sorted({g for g in groups if groups.count(g) > 1})
    if twice:
        raise converters.invalid_attribute("security_groups", f"Duplicate items in the list: '{', '.join(twice)}'")
    return groups


def _check_router_device(w: Work, device_owner: str, device_id: str, project_id: str) -> None:
    """Neutron's ``_enforce_device_owner_not_router_intf_or_device_id``: only an admin may
    make a port an interface of another project's router (it would join that router)."""
    if device_owner not in ROUTER_INTERFACE_OWNERS or not device_id or w.ctx.is_admin:
        return
    router = w.s.get(Router, device_id)
    if router is not None and router.project_id != project_id:
        raise errors.DeviceIDNotOwnedByTenant(device_id=device_id)


def _insert_port(w: Work, values: dict, mac: str | None) -> str:
    """Insert the port row with a MAC unique on its network; random MACs retry on a clash."""
    table = cast(sa.Table, Port.__table__)
    for _ in range(MAC_ATTEMPTS):
        candidate = mac or ipam.generate_mac()
        # The new id is random: a clash can only be the MAC (one statement, no savepoint,
        # where the database can say so: insert_if_free).
        if insert_if_free(w.s, table, {**values, "mac_address": candidate}):
            return candidate
        if mac:
            raise errors.MacAddressInUse(net_id=values["network_id"], mac=mac)
    raise ConcurrentUpdate("no free MAC found; re-running")


def create(w: Work, attrs: dict, *, count_quota: bool = True, compute_created: bool = False,
           ip_versions: tuple[int, ...] = (4, 6), network: Network | None = None, own_groups: bool = False) -> Port:
    """``network``: the port's network as the caller just fetched it in this unit of work
    (for ``w.ctx``), so it is not read twice; ``own_groups``: its ``security_groups`` are
    the project's own, just looked up (:func:`_security_groups`)."""
    if network is None or network.id != attrs["network_id"]:
        network = store.fetch(w.s, Network, w.ctx, attrs["network_id"])
    # Ports the service owns (router gateways, floating IPs) pass project_id="".
    project_id = attrs["project_id"] if "project_id" in attrs else w.owner(attrs)
    rbac.hold_access(w, network, project_id)
    subnets = _subnets(w, network.id)
    requested = attrs.get("fixed_ips")
    requested = resolve_fixed_ips(network.id, subnets, requested) if requested is not None else None
    device_owner = attrs.get("device_owner") or ""
    _check_router_device(w, device_owner, attrs.get("device_id") or "", project_id)
    port_security = attrs.get("port_security_enabled", network.port_security_enabled)
    pairs = _check_pairs(attrs.get("allowed_address_pairs") or [])
    if pairs and not port_security:
        raise errors.AddressPairAndPortSecurityRequired()
    port_id = str(uuid.uuid4())
    if count_quota:
        quota.claim(w, project_id, "port", port_id)
    groups = _security_groups(w, project_id, attrs, port_security, device_owner, own_groups)
    mac = attrs.get("mac_address")
    if mac is not None:
        mac = _normalise_mac(mac)
    values = dict(id=port_id, project_id=project_id or "", network_id=network.id, name=attrs.get("name") or "",
                  description=attrs.get("description") or "", admin_state_up=attrs.get("admin_state_up", True),
                  device_id=attrs.get("device_id") or "", device_owner=device_owner,
                  binding_host_id=attrs.get("binding:host_id") or "",
                  binding_vnic_type=converters.one_of("binding:vnic_type", attrs.get("binding:vnic_type") or "normal",
                                                      VNIC_TYPES),
                  binding_profile=attrs.get("binding:profile") or {}, port_security_enabled=port_security,
                  allowed_address_pairs=pairs, security_groups=groups, compute_created=compute_created,
                  extra_dhcp_opts=dhcp_opts.merged([], dhcp_opts.check(attrs.get("extra_dhcp_opts"))),
                  bound_instance_id=attrs.get("device_id") if compute_created else None,
                  qos_policy_id=qos.binding(w, attrs.get("qos_policy_id")),
                  status="ACTIVE" if attrs.get("device_id") else "DOWN")
    mac = _insert_port(w, values, mac)
    addresses = ipam.allocate_for_port(w.s, subnets, port_id, mac, requested, ip_versions,
                                       router_port=device_owner.startswith("network:router"),
                                       device_owner=device_owner)
    port = w.s.get_one(Port, port_id)
    w.emit("port_updated", views.new_port(w.s, port, network, addresses))
    return port


def _normalise_mac(mac: str) -> str:
    parts = mac.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts):
        raise errors.InvalidInput(error_message=f"'{mac}' is not a valid MAC address")
    return ":".join(p.lower() for p in parts)


def replace_fixed_ips(w: Work, port: Port, fixed_ips: list[dict]) -> None:
    """Keep the addresses still requested, release the others, claim the new ones."""
    subnets = _subnets(w, port.network_id)
    wanted = resolve_fixed_ips(port.network_id, subnets, fixed_ips)
    current = list(w.s.scalars(sa.select(IpAllocation).where(IpAllocation.port_id == port.id)))
    keep, new = set(), []
    for item in wanted:
        match = next((a for a in current if a.subnet_id == item["subnet"].id and a.id not in keep and
                      (item["ip_address"] is None or
                       ipaddress.ip_address(a.ip_address) == ipaddress.ip_address(item["ip_address"]))), None)
        if match is not None:
            keep.add(match.id)
        else:
            new.append(item)
    gone = [a.id for a in current if a.id not in keep]
    if gone:
        w.s.execute(sa.delete(IpAllocation).where(IpAllocation.id.in_(gone)))
    if new:
        # The subnets the port keeps an address on are not offered again: a kept SLAAC
        # address would otherwise be derived a second time (a 409 on re-addressing a port
        # -- the DHCP port when a second IPv6 subnet is added).
        kept = {a.subnet_id for a in current if a.id in keep}
        ipam.allocate_for_port(w.s, [s for s in subnets if s.id not in kept], port.id, port.mac_address, new,
                               device_owner=port.device_owner)


def _check_device_change(w: Work, port: Port, attrs: dict) -> None:
    """The router-device check on update, on the owner and device the port will have,
    exactly when Neutron's ``_validate_port_for_update`` makes it."""
    owner = attrs.get("device_owner") or port.device_owner
    device_id = attrs.get("device_id") or port.device_id
    if (owner and attrs.get("device_id") != port.device_id) or "device_owner" in attrs:
        _check_router_device(w, owner, device_id, port.project_id)


def update(w: Work, port_id: str, attrs: dict, revision: int | None = None) -> Port:
    port = store.fetch(w.s, Port, w.ctx, port_id)
    store.check_updatable(attrs, UPDATABLE)
    _check_device_change(w, port, attrs)
    values = {_COLUMNS.get(k, k): v for k, v in attrs.items() if k not in ("fixed_ips", "security_groups")}
    if "binding:vnic_type" in attrs:
        converters.one_of("binding:vnic_type", attrs["binding:vnic_type"], VNIC_TYPES)
    if "binding:profile" in attrs and attrs["binding:profile"] is None:
        values["binding_profile"] = {}  # as ML2 takes a null profile
    if "binding:host_id" in attrs and attrs["binding:host_id"] is None:
        del values["binding_host_id"]  # a null host is "not given" to ML2: the binding stays
    if "mac_address" in attrs:
        values["mac_address"] = _normalise_mac(attrs["mac_address"])
    port_security = attrs.get("port_security_enabled", port.port_security_enabled)
    if "allowed_address_pairs" in attrs:
        values["allowed_address_pairs"] = _check_pairs(attrs["allowed_address_pairs"] or [])
    if not port_security and (values.get("allowed_address_pairs", port.allowed_address_pairs)):
        raise errors.AddressPairAndPortSecurityRequired()
    if "security_groups" in attrs or "port_security_enabled" in attrs:
        groups = attrs.get("security_groups", port.security_groups)
        if not port_security and groups:
            # Turning port security off keeps the groups: the caller must drop them too.
            raise errors.PortSecurityAndIPRequiredForSecurityGroups() if "security_groups" in attrs \
                else errors.PortSecurityPortHasSecurityGroup()
        for group_id in _distinct(groups or []):
            rbac.hold_access(w, store.fetch(w.s, SecurityGroup, w.ctx, group_id), port.project_id)
        values["security_groups"] = list(groups or [])
    if "extra_dhcp_opts" in attrs:
        values["extra_dhcp_opts"] = dhcp_opts.merged(port.extra_dhcp_opts, dhcp_opts.check(attrs["extra_dhcp_opts"]))
    if "qos_policy_id" in attrs:
        values["qos_policy_id"] = qos.rebinding(w, port.qos_policy_id, attrs["qos_policy_id"])
    if "device_id" in attrs:
        values["status"] = "ACTIVE" if attrs["device_id"] else "DOWN"
    elif values.get("binding_host_id") and port.device_id:
        values["status"] = "ACTIVE"  # bound again (a server's port after its host was fenced)
    if "fixed_ips" in attrs:
        replace_fixed_ips(w, port, attrs["fixed_ips"] or [])
    store.update_row(w.s, port, values, revision)
    w.emit("port_updated", views.render_one(w.s, port))
    if "binding_host_id" in values or "status" in values:
        trunks.follow_parent(w, port)
    return port


def delete(w: Work, port_id: str) -> None:
    """Delete a port; ports a router or floating IP owns only go with their owner."""
    port = store.fetch(w.s, Port, w.ctx, port_id)
    if port.device_owner in ROUTER_OWNERS:
        raise errors.L3PortInUse(port_id=port.id, device_owner=port.device_owner)
    remove(w, port)


def remove(w: Work, port: Port) -> None:
    """Delete ``port`` (already authorised), its addresses and floating IP associations;
    a port in a trunk stays (409)."""
    trunks.check_port_deletable(w.s, port.id)
    rendered = views.render_one(w.s, port)
    for fip in w.s.scalars(sa.select(FloatingIp).where(FloatingIp.port_id == port.id)):
        store.update_row(w.s, fip, {"port_id": None, "fixed_ip_address": None, "router_id": None, "status": "DOWN"})
        w.emit("floatingip_updated", views.render_one(w.s, fip))
    w.s.execute(sa.delete(IpAllocation).where(IpAllocation.port_id == port.id))
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == port.id))
    quota.release(w.s, [port.id])
    deleted = changed_rows(w.s, sa.delete(Port).where(Port.id == port.id,
                                                      Port.revision_number == port.revision_number))
    if deleted != 1:
        raise ConcurrentUpdate(f"port {port.id} changed while being deleted")
    w.emit("port_deleted", rendered)
