"""The ports of instances: the part of :class:`~pocketstack.network.contract.NetworkContract`
compute calls as Nova calls its ``network_api`` (see the contract for what each method
promises).  :class:`~pocketstack.network.manager.NetworkManager` inherits it."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import ConcurrentUpdate
from pocketstack.common.db.inserts import try_insert
from pocketstack.network import (
    access,
    errors,
    networks,
    ports,
    routers,
    security_groups,
    store,
    subnets,
    trunks,
    views,
)
from pocketstack.network.context import Env, Work, read, transact
from pocketstack.network.contract import Addresses, RequestedNetworks, Resource, Resources
from pocketstack.network.models import AutoTopology, FloatingIp, Network, Port, SecurityGroup, Subnet, SubnetPool

DEVICE_OWNER = "compute:nova"
AUTO_CIDR = "10.0.0.0/24"


class InstanceNetworking:
    env: Env

    def allocate_for_instance(self, context: RequestContext, instance_id: str, host: str,
                              requested_networks: RequestedNetworks,
                              security_groups: Sequence[str] | None = None) -> Resources:
        if requested_networks in ("none", None) or requested_networks == []:
            return []
        if requested_networks == "auto":
            requests = [{"network_id": self.auto_allocated_network(context)}]
        else:
            requests = list(cast("list[dict[str, Any]]", requested_networks))
        done: Resources = []
        try:
            for request in requests:
                done.append(self._attach(context, instance_id, host, dict(request, security_groups=security_groups),
                                         context.project_id))
        except BaseException:
            for port in reversed(done):
                self._release(port["id"])
            raise
        return done

    def deallocate_for_instance(self, instance_id: str, context: RequestContext | None = None) -> None:
        for port in self.list_instance_ports(instance_id):
            self._release(port["id"])

    def list_instance_ports(self, instance_id: str) -> Resources:
        def work(w: Work):
            rows = w.s.scalars(sa.select(Port).where(*_bound_to([instance_id])).order_by(Port.created_at, Port.id))
            return views.render(w.s, list(rows))
        return read(self.env, RequestContext.admin(), work)

    def security_group_names(self, group_ids: Sequence[str]) -> dict[str, str]:
        if not group_ids:
            return {}
        return read(self.env, RequestContext.admin(), lambda w: {group_id: name for group_id, name in w.s.execute(
            sa.select(SecurityGroup.id, SecurityGroup.name).where(SecurityGroup.id.in_(list(group_ids))))})

    def instance_addresses(self, instance_id: str) -> Addresses:
        return self.instances_addresses([instance_id])[instance_id]

    def instances_addresses(self, instance_ids: Sequence[str]) -> dict[str, Addresses]:
        """The ``addresses`` of many servers in four queries, whatever their number, so a
        server list never looks ports up server by server."""
        return read(self.env, RequestContext.admin(), lambda w: _addresses(w.s, instance_ids))

    def attach_interface(self, context: RequestContext, instance_id: str, host: str, network_id: str | None = None,
                         port_id: str | None = None, fixed_ip: str | None = None,
                         project_id: str | None = None) -> Resource:
        if not network_id and not port_id:
            raise errors.NetworkOrPortRequired()
        return self._attach(context, instance_id, host,
                            {"network_id": network_id, "port_id": port_id, "fixed_ip": fixed_ip},
                            project_id or context.project_id)

    def detach_interface(self, context: RequestContext, instance_id: str, port_id: str) -> None:
        if not any(p["id"] == port_id for p in self.list_instance_ports(instance_id)):
            raise errors.PortNotFound(id=port_id)
        self._release(port_id)

    def auto_allocated_network(self, context: RequestContext) -> str:
        """The project's network for ``auto``: its own (with a subnet), else a new topology.

        Shared networks are not picked: which one would be a guess, and Neutron's
        ``auto_allocated_topology`` gives each project its own."""
        return transact(self.env, context, _auto_network)

    # -- helpers -------------------------------------------------------------------------------
    def _attach(self, context: RequestContext, instance_id: str, host: str, request: dict,
                project_id: str | None) -> dict:
        binding = {"device_id": instance_id, "device_owner": DEVICE_OWNER, "binding:host_id": host}
        if request.get("port_id"):
            return transact(self.env, context,
                            lambda w: _rendered(w, _bind(w, request["port_id"], binding, project_id)))
        return transact(self.env, context,
                        lambda w: _rendered(w, _create_port(w, request, binding, project_id)))

    def _release(self, port_id: str) -> None:
        transact(self.env, RequestContext.admin(), lambda w: _unbind_or_delete(w, port_id))


def _rendered(w: Work, port: Port) -> dict:
    """The port as the API shows it: the rendering its ``port_updated`` event carries (made
    last in the same transaction), copied, rather than a second rendering (two more queries
    per port of a boot)."""
    for event, payload in reversed(w.events):
        if event == "port_updated" and isinstance(payload, dict) and payload.get("id") == port.id:
            return copy.deepcopy(payload)
    return views.render_one(w.s, port)


def _addresses(session, instance_ids: Sequence[str]) -> dict[str, Addresses]:
    result: dict[str, Addresses] = {i: {} for i in instance_ids}
    if not instance_ids:
        return result
    rows = session.execute(sa.select(Port.id, Port.device_id, Port.network_id, Port.mac_address)
                           .where(*_bound_to(instance_ids)).order_by(Port.created_at, Port.id)).all()
    port_ids = [row.id for row in rows]
    fixed_ips = views.fixed_ips_of(session, port_ids)
    names = dict(session.execute(sa.select(Network.id, Network.name)
                                 .where(Network.id.in_({row.network_id for row in rows}))).all())
    floating = {(port_id, fixed): address for port_id, fixed, address in session.execute(
        sa.select(FloatingIp.port_id, FloatingIp.fixed_ip_address, FloatingIp.floating_ip_address)
        .where(FloatingIp.port_id.in_(port_ids)))}
    for row in rows:
        entries = result[row.device_id].setdefault(names.get(row.network_id, row.network_id), [])
        for fixed in fixed_ips.get(row.id, []):
            ip = fixed["ip_address"]
            entries.append(_address(ip, "fixed", row.mac_address))
            if (row.id, ip) in floating:
                entries.append(_address(floating[(row.id, ip)], "floating", row.mac_address))
    return result


def _address(ip: str, kind: str, mac: str) -> dict:
    return {"version": ipaddress.ip_address(ip).version, "addr": ip, "OS-EXT-IPS:type": kind,
            "OS-EXT-IPS-MAC:mac_addr": mac}


def _bound_to(instance_ids: Sequence[str]) -> tuple:
    """The ports bound to these instances that still name them (one re-pointed elsewhere
    through the API has left the server, as it leaves Nova's cache on refresh)."""
    return Port.bound_instance_id.in_(instance_ids), Port.device_id == Port.bound_instance_id


def _check_network_use(w: Work, network: Network, project_id: str | None, fixed_ip: bool) -> None:
    """What Nova and Neutron refuse a port for a non-admin's instance: another project's
    external network unless shared, and a chosen address on a network not its own."""
    if w.ctx.is_admin or network.project_id == project_id:
        return
    if network.external and not access.is_shared_with(w.s, network.id, project_id):
        raise errors.ExternalNetworkAttachForbidden(network_uuid=network.id)
    if fixed_ip:
        raise errors.PolicyNotAuthorized(action="create_port:fixed_ips:ip_address")


def _create_port(w: Work, request: dict, binding: dict, project_id: str | None) -> Port:
    network = store.fetch(w.s, Network, w.ctx, request["network_id"] or "")
    _check_network_use(w, network, project_id, bool(request.get("fixed_ip")))
    fixed = [{"ip_address": request["fixed_ip"]}] if request.get("fixed_ip") else None
    attrs = {"network_id": network.id, "fixed_ips": fixed, "project_id": project_id, **binding}
    own = bool(request.get("security_groups") and network.port_security_enabled)
    if own:  # the project's own groups, found by _group_ids: ports.create need not fetch them again
        attrs["security_groups"] = _group_ids(w, project_id, request["security_groups"])
    return ports.create(w, attrs, compute_created=True, network=network, own_groups=own)


def _group_ids(w: Work, project_id: str | None, names: Sequence[str]) -> list[str]:
    """The project's groups a server asked for, by name or id, as Nova resolves them for
    the ports it creates (``default``: the project's default group)."""
    ids = []
    for name in names:
        if name == "default":
            ids.append(security_groups.default_group_id(w, project_id or ""))
            continue
        found = list(w.s.scalars(sa.select(SecurityGroup.id).where(
            SecurityGroup.project_id == project_id, sa.or_(SecurityGroup.id == name, SecurityGroup.name == name))))
        if len(found) != 1:
            raise errors.SecurityGroupNotFound(id=name)
        ids.append(found[0])
    return list(dict.fromkeys(ids))


def _bind(w: Work, port_id: str, binding: dict, project_id: str | None) -> Port:
    port = store.fetch(w.s, Port, w.ctx, port_id)
    if port.project_id != project_id:
        raise errors.PortNotUsable(port_id=port.id, instance=binding["device_id"])
    if port.device_id and port.device_id != binding["device_id"]:
        raise errors.PortInUse(port_id=port.id, net_id=port.network_id, device_id=port.device_id)
    store.update_row(w.s, port, {"device_id": binding["device_id"], "device_owner": binding["device_owner"],
                                 "binding_host_id": binding["binding:host_id"], "status": "ACTIVE",
                                 "bound_instance_id": binding["device_id"]})
    w.emit("port_updated", views.render_one(w.s, port))
    trunks.follow_parent(w, port)
    return port


def _unbind_or_delete(w: Work, port_id: str) -> None:
    port = w.s.get(Port, port_id)
    if port is None:
        return
    if port.compute_created:
        ports.remove(w, port)
        return
    store.update_row(w.s, port, {"device_id": "", "device_owner": "", "binding_host_id": "", "status": "DOWN",
                                 "bound_instance_id": None})
    w.emit("port_updated", views.render_one(w.s, port))
    trunks.follow_parent(w, port)


def _auto_network(w: Work) -> str:
    project_id = w.owner({})
    topology = w.s.get(AutoTopology, project_id)
    if topology is not None:
        return topology.network_id
    own = w.s.scalar(sa.select(Network.id).where(
        Network.project_id == project_id, Network.external.is_(False),
        Network.id.in_(sa.select(Subnet.network_id))).order_by(Network.created_at).limit(1))
    return own or _create_topology(w, project_id)


def _create_topology(w: Work, project_id: str) -> str:
    """Network + subnet (+ router to the default external network), claimed by project.

    The claim row (primary key ``project_id``) is inserted right after the network, so a
    racing request for the same project waits on it, loses, and re-runs to find ours.
    """
    network = networks.create(w, {"name": "auto_allocated_network"})
    claimed = try_insert(w.s, lambda: w.s.execute(sa.insert(AutoTopology).values(
        project_id=project_id, network_id=network.id)))
    if not claimed:
        raise ConcurrentUpdate("auto-allocated topology created concurrently")
    pool = w.s.scalar(sa.select(SubnetPool.id).where(SubnetPool.is_default.is_(True), SubnetPool.ip_version == 4,
                                                     store.visible_clause(SubnetPool, w.ctx)).limit(1))
    subnet_attrs = {"network_id": network.id, "ip_version": 4, "name": "auto_allocated_subnet"}
    subnet_attrs.update({"subnetpool_id": pool} if pool else {"cidr": AUTO_CIDR})
    subnet = subnets.create(w, subnet_attrs)
    external = w.s.scalar(sa.select(Network.id).where(Network.external.is_(True))
                          .order_by(Network.is_default.desc(), Network.created_at).limit(1))
    if external:
        router = routers.create(w, {"name": "auto_allocated_router",
                                    "external_gateway_info": {"network_id": external}})
        routers.add_interface(w, router.id, {"subnet_id": subnet.id})
        w.s.execute(sa.update(AutoTopology).where(AutoTopology.project_id == project_id)
                    .values(router_id=router.id))
    return network.id
