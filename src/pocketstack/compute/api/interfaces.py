"""``/servers/{server_id}/os-interface``: ports attached to a server (Nova's
attach-interfaces API), through the network service's manager in process
(``attach_interface`` / ``detach_interface``, see ``network/instances.py``)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from pocketstack.compute import states as st
from pocketstack.compute.api.common import accepted, body, check_unlocked, get_instance

POLICIES = {
    "os_compute_api:os-attach-interfaces:list": "rule:project_reader_or_admin",
    "os_compute_api:os-attach-interfaces:show": "rule:project_reader_or_admin",
    "os_compute_api:os-attach-interfaces:create": "rule:project_member_or_admin",
    "os_compute_api:os-attach-interfaces:delete": "rule:project_member_or_admin",
}
CREATE = {"type": "object", "properties": {"interfaceAttachment": {
    "type": "object", "additionalProperties": False, "properties": {
        "net_id": {"type": "string", "minLength": 1}, "port_id": {"type": "string", "minLength": 1},
        "fixed_ips": {"type": "array", "maxItems": 1, "items": {
            "type": "object", "required": ["ip_address"], "additionalProperties": False,
            "properties": {"ip_address": {"type": "string"}}}},
        "tag": {"type": "string"}}}}, "additionalProperties": False}
_ATTACHABLE = (st.ACTIVE, st.PAUSED, st.STOPPED, st.SUSPENDED)


def render(port: dict) -> dict:
    return {"port_id": port["id"], "net_id": port["network_id"], "mac_addr": port["mac_address"],
            "port_state": port["status"],
            "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]} for f in port["fixed_ips"]]}


def _as_compute_error(error: ApiError) -> ApiError:
    """A network error in Nova's terms: missing network/port 404, refused 403, in use/no
    address 409, else 400."""
    kind = {403: Forbidden, 404: NotFound, 409: Conflict}.get(error.status, BadRequest)
    return kind(error.message)


def register(router: Router, compute) -> None:
    compute.cloud.enforcer.register_defaults(POLICIES)

    def network():
        manager = compute.network()
        if manager is None:
            raise BadRequest("The network service is not available.")
        return manager

    @router.get("/v2.1/servers/{server_id}/os-interface")
    def list_interfaces(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-attach-interfaces:list")
        return {"interfaceAttachments": [render(p) for p in network().list_instance_ports(inst.id)]}

    @router.get("/v2.1/servers/{server_id}/os-interface/{port_id}")
    def show_interface(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-attach-interfaces:show")
        port_id = req.path_params["port_id"]
        for port in network().list_instance_ports(inst.id):
            if port["id"] == port_id:
                return {"interfaceAttachment": render(port)}
        raise NotFound(f"Instance {inst.id} does not have an interface with port {port_id}.")

    @router.post("/v2.1/servers/{server_id}/os-interface")
    def attach_interface(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-attach-interfaces:create")
        spec = body(req, CREATE).get("interfaceAttachment") or {}
        check_unlocked(req, inst)
        if inst.vm_state not in _ATTACHABLE or inst.task_state is not None:
            raise Conflict(f"Cannot 'attach_interface' instance {inst.id} while it is in "
                           f"{'task_state ' + inst.task_state if inst.task_state else 'vm_state ' + inst.vm_state}")
        net_id, port_id = spec.get("net_id"), spec.get("port_id")
        if net_id and port_id:
            raise BadRequest("Must not input both network_id and port_id")
        fixed_ips = spec.get("fixed_ips") or []
        if fixed_ips and not net_id:
            raise BadRequest("Must input network_id when request IP address")
        if not net_id and not port_id:  # Nova would pick the only network available; we ask
            raise BadRequest("A net_id or a port_id is required.")
        manager = network()
        try:
            port = manager.attach_interface(req.context, inst.id, inst.host or "", network_id=net_id,
                                            port_id=port_id, fixed_ip=fixed_ips[0]["ip_address"] if fixed_ips
                                            else None, project_id=inst.project_id)
        except ApiError as error:
            raise _as_compute_error(error) from None
        try:
            gone = compute.instances.get(inst.id).task_state == st.DELETING
        except NotFound:
            gone = True
        if gone:  # deleted meanwhile: its delete may have released the ports before this one
            manager.detach_interface(req.context, inst.id, port["id"])
            raise NotFound(f"Instance {inst.id} could not be found.")
        return {"interfaceAttachment": render(port)}

    @router.delete("/v2.1/servers/{server_id}/os-interface/{port_id}")
    def detach_interface(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-attach-interfaces:delete")
        check_unlocked(req, inst)
        port_id = req.path_params["port_id"]
        try:
            network().detach_interface(req.context, inst.id, port_id)
        except NotFound:
            raise NotFound(f"Instance {inst.id} does not have an interface with port {port_id}.") from None
        return accepted()
