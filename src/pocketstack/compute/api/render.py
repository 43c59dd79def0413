"""Servers as Nova renders them, field by field and microversion by microversion."""

from __future__ import annotations

import hashlib

from pocketstack.common.api.app import ApiRequest
from pocketstack.compute import states as st
from pocketstack.compute.api.common import at_least, bookmark, is_admin, links


def host_id(project_id: str, host: str | None) -> str:
    """Nova's opaque per-project host identifier."""
    return hashlib.sha224((project_id + host).encode()).hexdigest() if host else ""


def _time(value) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def flavor(req: ApiRequest, inst) -> dict:
    f = inst.flavor
    if at_least(req, 2, 47):
        out = {"vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"], "ephemeral": f.get("ephemeral", 0),
               "swap": f.get("swap", 0), "original_name": f["name"]}
        if req.allowed("os_compute_api:os-flavor-extra-specs:index", {"project_id": inst.project_id}):
            out["extra_specs"] = dict(f.get("extra_specs") or {})
        return out
    return {"id": f["id"], "links": [{"rel": "bookmark", "href": bookmark(req, "flavors", f["id"])}]}


def server(req: ApiRequest, inst, metadata: dict, tags: list[str], addresses: dict | None = None) -> dict:
    admin = is_admin(req)
    out = {
        "id": inst.id, "name": inst.name, "status": st.status(inst.vm_state, inst.task_state),
        "tenant_id": inst.project_id, "user_id": inst.user_id, "metadata": metadata,
        "hostId": host_id(inst.project_id, inst.host),
        "image": "" if inst.boot_from_volume else {"id": inst.image_ref, "links": [
            {"rel": "bookmark", "href": bookmark(req, "images", inst.image_ref)}]},
        "flavor": flavor(req, inst), "created": _time(inst.created_at), "updated": _time(inst.updated_at),
        "addresses": addresses or {}, "accessIPv4": inst.access_ipv4, "accessIPv6": inst.access_ipv6,
        "links": links(req, "servers", inst.id), "OS-DCF:diskConfig": "MANUAL",
        "progress": 0 if inst.vm_state in (st.BUILDING, st.ACTIVE) else None,
        "OS-EXT-AZ:availability_zone": inst.availability_zone or "", "config_drive": inst.config_drive,
        "key_name": inst.key_name, "OS-SRV-USG:launched_at": inst.launched_at.isoformat() if inst.launched_at
        else None, "OS-SRV-USG:terminated_at": None,
        "OS-EXT-STS:task_state": inst.task_state, "OS-EXT-STS:vm_state": inst.vm_state,
        "OS-EXT-STS:power_state": inst.power_state, "os-extended-volumes:volumes_attached": [],
        "security_groups": [{"name": name} for name in inst.security_groups],
    }
    if out["progress"] is None:
        del out["progress"]
    if req.allowed("os_compute_api:os-extended-server-attributes", {"project_id": inst.project_id}):
        out.update({"OS-EXT-SRV-ATTR:host": inst.host, "OS-EXT-SRV-ATTR:hypervisor_hostname": inst.node,
                    "OS-EXT-SRV-ATTR:instance_name": "instance-" + inst.id[:8]})
        if at_least(req, 2, 3):
            out.update({"OS-EXT-SRV-ATTR:reservation_id": inst.reservation_id,
                        "OS-EXT-SRV-ATTR:launch_index": inst.launch_index,
                        "OS-EXT-SRV-ATTR:hostname": inst.hostname, "OS-EXT-SRV-ATTR:kernel_id": "",
                        "OS-EXT-SRV-ATTR:ramdisk_id": "", "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                        "OS-EXT-SRV-ATTR:user_data": inst.user_data})
    if at_least(req, 2, 9):
        out["locked"] = inst.locked
    if at_least(req, 2, 16) and admin:
        out["host_status"] = "UP" if inst.host else ""
    if at_least(req, 2, 19):
        out["description"] = inst.description
    if at_least(req, 2, 26):
        out["tags"] = tags
    if at_least(req, 2, 63):
        out["trusted_image_certificates"] = None
    if inst.fault and inst.vm_state in (st.ERROR, st.DELETED):
        out["fault"] = {"code": inst.fault["code"], "created": inst.fault["created"],
                        "message": inst.fault["message"]}
        if admin and inst.fault.get("details"):
            out["fault"]["details"] = inst.fault["details"]
    return out


def summary(req: ApiRequest, inst) -> dict:
    return {"id": inst.id, "name": inst.name, "links": links(req, "servers", inst.id)}
