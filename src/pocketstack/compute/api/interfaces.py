"""``/servers/{server_id}/os-interface``: ports attached to a server (Nova's
attach-interfaces API), through the network service's contract in process
(``attach_interface`` / ``detach_interface``, see ``network/instances.py``); the
server's host plugs the port into the guest after the bind and unplugs it before the
release (RPC calls, as Nova's; a real guest hot-plugs its NIC, docs/guests.md).  Each
records Nova's instance action (``attach_interface``/``detach_interface``) with the
host's step as its event (``compute_attach_interface``/``compute_detach_interface``):
Tempest waits for a detach by that event's success."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api.common import (
    accepted,
    at_least,
    check_unlocked,
    get_instance,
    record_action,
    versioned_body,
)
from pocketstack.compute.api.schemas.interfaces import CREATE

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute
    from pocketstack.network.contract import NetworkContract

LOG = logging.getLogger(__name__)
_ATTACHABLE = (st.ACTIVE, st.PAUSED, st.STOPPED, st.SUSPENDED)


def render(req: ApiRequest, port: dict, tags: dict[str, str]) -> dict:
    """A port as an interface attachment; from 2.70 with its device tag (null untagged)."""
    out = {"port_id": port["id"], "net_id": port["network_id"], "mac_addr": port["mac_address"],
           "port_state": port["status"],
           "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in port["fixed_ips"]]}
    if at_least(req, 2, 70):
        out["tag"] = tags.get(port["id"])
    return out


def _as_compute_error(error: ApiError) -> ApiError:
    """A network error in Nova's terms: missing network/port 404, refused 403, in use/no
    address 409, else 400."""
    kind = {403: Forbidden, 404: NotFound, 409: Conflict}.get(error.status, BadRequest)
    return kind(error.message)


class InterfacesApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    def network(self) -> NetworkContract:
        manager = self.compute.network()
        if manager is None:
            raise errors.NetworkServiceUnavailable()
        return manager

    @route.get("/v2.1/servers/{server_id}/os-interface", policy="os_compute_api:os-attach-interfaces:list")
    def index(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"],
                            "os_compute_api:os-attach-interfaces:list")
        tags = self.compute.port_tags.for_instance(inst.id)
        return {"interfaceAttachments": [render(req, p, tags) for p in self.network().list_instance_ports(inst.id)]}

    @route.get("/v2.1/servers/{server_id}/os-interface/{port_id}", policy="os_compute_api:os-attach-interfaces:show")
    def show(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"],
                            "os_compute_api:os-attach-interfaces:show")
        port_id = req.path_params["port_id"]
        for port in self.network().list_instance_ports(inst.id):
            if port["id"] == port_id:
                return {"interfaceAttachment": render(req, port, self.compute.port_tags.for_instance(inst.id))}
        raise errors.InterfaceNotFound(instance_id=inst.id, port_id=port_id)

    # The server is found (404) and authorized (403) before the body is checked (400).
    @route.post("/v2.1/servers/{server_id}/os-interface", policy="os_compute_api:os-attach-interfaces:create")
    def attach(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"],
                            "os_compute_api:os-attach-interfaces:create")
        spec = versioned_body(req, CREATE).get("interfaceAttachment") or {}
        check_unlocked(req, inst)
        if inst.vm_state not in _ATTACHABLE or inst.task_state is not None:
            attribute, state = ("task_state", inst.task_state) if inst.task_state else ("vm_state", inst.vm_state)
            raise errors.InstanceInvalidState(action="attach_interface", instance_id=inst.id, attribute=attribute,
                                              state=state)
        net_id, port_id = spec.get("net_id"), spec.get("port_id")
        if net_id and port_id:
            raise errors.InterfaceNetAndPort()
        fixed_ips = spec.get("fixed_ips") or []
        if fixed_ips and not net_id:
            raise errors.InterfaceFixedIpWithoutNet()
        if not net_id and not port_id:  # Nova would pick the only network available; we ask
            raise errors.InterfaceTargetMissing()
        manager = self.network()
        try:
            port = manager.attach_interface(req.caller, inst.id, inst.host or "", network_id=net_id,
                                            port_id=port_id, fixed_ip=fixed_ips[0]["ip_address"] if fixed_ips
                                            else None, project_id=inst.project_id)
        except ApiError as error:
            raise _as_compute_error(error) from None
        try:
            gone = self.compute.instances.get(inst.id).task_state == st.DELETING
        except NotFound:
            gone = True
        if gone:  # deleted meanwhile: its delete may have released the ports before this one
            manager.detach_interface(req.caller, inst.id, port["id"])
            raise errors.InstanceNotFound(instance_id=inst.id)
        action_id = record_action(self.compute, req, inst, "attach_interface")
        with self.compute.actions.event(action_id, "compute_attach_interface", inst.host):
            if inst.host:
                try:  # the host plugs it into the guest (a running one hot-plugs it)
                    self.compute.rpc.attach_interface(inst.host, inst.id, port["id"])
                except Exception:
                    LOG.exception("plugging port %s into %s failed", port["id"], inst.id)
                    manager.detach_interface(req.caller, inst.id, port["id"])
                    raise errors.InterfaceAttachFailed(instance_uuid=inst.id) from None
        tag = spec.get("tag")
        if tag:
            self.compute.port_tags.add(inst.id, port["id"], tag)
        return {"interfaceAttachment": render(req, port, {port["id"]: tag} if tag else {})}

    @route.delete("/v2.1/servers/{server_id}/os-interface/{port_id}",
                  policy="os_compute_api:os-attach-interfaces:delete")
    def detach(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"],
                            "os_compute_api:os-attach-interfaces:delete")
        check_unlocked(req, inst)
        port_id = req.path_params["port_id"]
        if not any(p["id"] == port_id for p in self.network().list_instance_ports(inst.id)):
            raise errors.InterfaceNotFound(instance_id=inst.id, port_id=port_id)
        action_id = record_action(self.compute, req, inst, "detach_interface")
        with self.compute.actions.event(action_id, "compute_detach_interface", inst.host):
            if inst.host:
                self.compute.rpc.detach_interface(inst.host, inst.id, port_id)  # out of the guest first
            try:
                self.network().detach_interface(req.caller, inst.id, port_id)
            except NotFound:
                raise errors.InterfaceNotFound(instance_id=inst.id, port_id=port_id) from None
        self.compute.port_tags.forget(inst.id, port_id)
        return accepted()
