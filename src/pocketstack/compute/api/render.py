"""Servers as Nova renders them, field by field and microversion by microversion."""

from __future__ import annotations

import functools
import hashlib

from pocketstack.common.api.request import ApiRequest
from pocketstack.compute import disk_config
from pocketstack.compute import states as st
from pocketstack.compute.api.common import at_least, bookmark, is_admin, links, version


@functools.lru_cache(maxsize=4096)
def host_id(project_id: str, host: str | None) -> str:
    """Nova's opaque per-project host identifier (remembered: a list hashes the same few
    project/host pairs for every server)."""
    return hashlib.sha224((project_id + host).encode()).hexdigest() if host else ""


def _time(value) -> str | None:
    """``2024-05-01T12:00:00Z`` (stored times are naive UTC); ``isoformat`` is several
    times faster than ``strftime``, which a list of a thousand servers calls 2000 times."""
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _allowed(req: ApiRequest, rule: str, project_id: str) -> bool:
    """``req.allowed(rule, {"project_id": ...})``, asked once per project and request: a
    list of a thousand servers of one project asks the same question a thousand times."""
    answers = req.attributes.setdefault("compute_render_policy", {})
    if (rule, project_id) not in answers:
        answers[rule, project_id] = req.allowed(rule, {"project_id": project_id})
    return answers[rule, project_id]


def flavor(req: ApiRequest, inst) -> dict:
    f = inst.flavor
    if at_least(req, 2, 47):
        out = {"vcpus": f["vcpus"], "ram": f["ram"], "disk": f["disk"], "ephemeral": f.get("ephemeral", 0),
               "swap": f.get("swap", 0), "original_name": f["name"]}
        if _allowed(req, "os_compute_api:os-flavor-extra-specs:index", inst.project_id):
            out["extra_specs"] = dict(f.get("extra_specs") or {})
        return out
    return {"id": f["id"], "links": [{"rel": "bookmark", "href": bookmark(req, "flavors", f["id"])}]}


def volumes_attached(req: ApiRequest, mappings: list) -> list[dict]:
    """``os-extended-volumes:volumes_attached``: ids, and from 2.3 on delete_on_termination."""
    if at_least(req, 2, 3):
        return [{"id": b.volume_id, "delete_on_termination": b.delete_on_termination} for b in mappings]
    return [{"id": b.volume_id} for b in mappings]


def server(req: ApiRequest, inst, metadata: dict, tags: list[str], addresses: dict | None = None,
           volumes: list | None = None, host_statuses: dict[str, str] | None = None) -> dict:
    admin = is_admin(req)
    v = version(req)  # compared below, once per field: lists render a thousand servers
    terminated = getattr(inst, "deleted_at", None)  # a deleted server's (from the archive)
    out = {
        "id": inst.id, "name": inst.name, "status": st.status(inst.vm_state, inst.task_state),
        "tenant_id": inst.project_id, "user_id": inst.user_id, "metadata": metadata,
        "hostId": host_id(inst.project_id, inst.host),
        "image": "" if not inst.image_ref else {"id": inst.image_ref, "links": [
            {"rel": "bookmark", "href": bookmark(req, "images", inst.image_ref)}]},
        "flavor": flavor(req, inst), "created": _time(inst.created_at), "updated": _time(inst.updated_at),
        "addresses": addresses or {}, "accessIPv4": inst.access_ipv4, "accessIPv6": inst.access_ipv6,
        "links": links(req, "servers", inst.id), "OS-DCF:diskConfig": disk_config.to_api(inst.auto_disk_config),
        "progress": 0 if inst.vm_state in (st.BUILDING, st.ACTIVE) else None,
        "OS-EXT-AZ:availability_zone": inst.availability_zone or "", "config_drive": inst.config_drive,
        "key_name": inst.key_name, "OS-SRV-USG:launched_at": inst.launched_at.isoformat() if inst.launched_at
        else None, "OS-SRV-USG:terminated_at": terminated.isoformat() if terminated else None,
        "OS-EXT-STS:task_state": inst.task_state, "OS-EXT-STS:vm_state": inst.vm_state,
        "OS-EXT-STS:power_state": inst.power_state,
        "os-extended-volumes:volumes_attached": volumes_attached(req, volumes or []),
    }
    if out["progress"] is None:
        del out["progress"]
    if inst.security_groups:  # Nova leaves the key out when the server has no group
        out["security_groups"] = [{"name": name} for name in inst.security_groups]
    if _allowed(req, "os_compute_api:os-extended-server-attributes", inst.project_id):
        out.update({"OS-EXT-SRV-ATTR:host": inst.host, "OS-EXT-SRV-ATTR:hypervisor_hostname": inst.node,
                    "OS-EXT-SRV-ATTR:instance_name": "instance-" + inst.id[:8]})
        if v >= (2, 3):
            out.update({"OS-EXT-SRV-ATTR:reservation_id": inst.reservation_id,
                        "OS-EXT-SRV-ATTR:launch_index": inst.launch_index,
                        "OS-EXT-SRV-ATTR:hostname": inst.hostname, "OS-EXT-SRV-ATTR:kernel_id": "",
                        "OS-EXT-SRV-ATTR:ramdisk_id": "", "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                        "OS-EXT-SRV-ATTR:user_data": inst.user_data})
    elif v >= (2, 90):  # everyone sees the guest's hostname from 2.90
        out["OS-EXT-SRV-ATTR:hostname"] = inst.hostname
    if v >= (2, 9):
        out["locked"] = inst.locked
    if v >= (2, 16) and _allowed(req, "os_compute_api:servers:show:host_status", inst.project_id):
        out["host_status"] = (host_statuses or {}).get(inst.host, "") if inst.host else ""
    if v >= (2, 19):
        out["description"] = inst.description
    if v >= (2, 26):
        out["tags"] = tags
    if v >= (2, 63):
        out["trusted_image_certificates"] = None
    if v >= (2, 73):
        out["locked_reason"] = inst.locked_reason
    if v >= (2, 96):  # the zone the request spec holds the server to (asked at boot or unshelve)
        out["pinned_availability_zone"] = inst.requested_az
    if inst.fault and inst.vm_state in (st.ERROR, st.DELETED):
        out["fault"] = {"code": inst.fault["code"], "created": inst.fault["created"],
                        "message": inst.fault["message"]}
        if admin and inst.fault.get("details"):
            out["fault"]["details"] = inst.fault["details"]
    return out


def summary(req: ApiRequest, inst) -> dict:
    return {"id": inst.id, "name": inst.name, "links": links(req, "servers", inst.id)}


# What Nova's view builder leaves out of the rebuild and update responses (its show_AZ,
# show_extended_status, show_srv_usg, show_extended_attr, show_keypair, show_config_drive,
# show_sec_grp, show_extended_volumes and show_host_status flags are off there).
_NOT_IN_CHANGE_PREFIXES = ("OS-EXT-AZ:", "OS-EXT-STS:", "OS-SRV-USG:", "OS-EXT-SRV-ATTR:", "os-extended-volumes:")
_NOT_IN_CHANGE = ("key_name", "config_drive", "security_groups", "host_status")


def changed(out: dict) -> dict:
    """A rendered server trimmed to what the rebuild and update responses carry (their
    addresses have no ``OS-EXT-IPS`` extensions either)."""
    trimmed = {k: v for k, v in out.items() if not k.startswith(_NOT_IN_CHANGE_PREFIXES) and k not in _NOT_IN_CHANGE}
    trimmed["addresses"] = {net: [{k: v for k, v in a.items() if not k.startswith("OS-EXT-IPS")} for a in addrs]
                            for net, addrs in (out.get("addresses") or {}).items()}
    return trimmed
