"""Instance HA (Masakari's API) in the isolation matrix: the whole API is the admin's
(``os_masakari_api:*`` are ``rule:admin_api`` in Masakari's policies too); the failures of
hosts, the failover segments and their hosts are nobody else's business.  Each segment
host is a fresh fake compute host of its own (a compute host is in one segment at most),
disabled when the matrix is done; neither reserved nor on maintenance, so nothing else
changes for it.
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import ADMIN_ONLY, Op, Resource

P = "/instance-ha/v1"
MICRO = {"OpenStack-API-Version": "instance-ha 1.3"}
# A compute service that stopped on a live host: recorded, ``ignored``, nothing recovered.
REPORT = {"notification": {"type": "PROCESS", "hostname": "compute-1", "generated_time": "2026-12-06T10:00:00Z",
                           "payload": {"event": "STOPPED", "process_name": "nova-compute"}}}


def make_notification(w) -> dict:
    body = w.call("POST", P + "/notifications", headers=MICRO, json=REPORT).json()["notification"]
    return {"id": body["notification_uuid"]}


def make_segment(w) -> dict:
    body = w.call("POST", P + "/segments", headers=MICRO, json={"segment": {
        "name": unique("iso-seg"), "recovery_method": "auto", "service_type": "COMPUTE"}}).json()["segment"]
    w.on_close(lambda: w.api.request("DELETE", f"{P}/segments/{body['uuid']}", w.token("admin"), headers=MICRO))
    return {"id": body["uuid"]}


def make_compute_host(w) -> dict:
    """A fake compute host in no segment (its name is the id)."""
    hosts = w.api.cloud.service("compute").compute.hosts
    node = hosts.add_fake_host(unique("iso-ha-host"), 1, 1024, 10, availability_zone=unique("iso-ha-zone"))
    w.on_close(lambda: hosts.update_service(node.service_id, disabled=True, disabled_reason="matrix done"))
    return {"id": node.host}


def make_segment_host(w) -> dict:
    segment = make_segment(w)["id"]
    body = w.call("POST", f"{P}/segments/{segment}/hosts", headers=MICRO, json={"host": {
        "name": make_compute_host(w)["id"], "type": "COMPUTE", "control_attributes": "SSH"}}).json()["host"]
    return {"id": body["uuid"], "segment": segment}


RESOURCES = [Resource("ha_notification", make_notification), Resource("ha_segment", make_segment),
             Resource("ha_segment_host", make_segment_host), Resource("ha_compute_host", make_compute_host)]


def op(resource: str, name: str, method: str, path: str, **kw) -> Op:
    return Op(resource, name, method, P + path, ADMIN_ONLY, headers=MICRO, **kw)


N = "/notifications/{ha_notification}"
S = "/segments/{ha_segment}"
H = "/segments/{ha_segment_host.segment}/hosts/{ha_segment_host}"
OPS = [
    op("notification", "list", "GET", "/notifications", everywhere=True),
    op("notification", "show", "GET", N),
    op("notification", "create", "POST", "/notifications", body=REPORT, everywhere=True),
    op("vmove", "list", "GET", N + "/vmoves"),
    op("segment", "list", "GET", "/segments", everywhere=True),
    op("segment", "show", "GET", S),
    op("segment", "create", "POST", "/segments", body={"segment": {
        "name": "{new}", "recovery_method": "auto", "service_type": "COMPUTE"}}),
    op("segment", "update", "PUT", S, body={"segment": {"description": "{new}"}}),
    op("segment", "delete", "DELETE", S, consumes="ha_segment", everywhere=True),
    op("segment_host", "list", "GET", H.rsplit("/", 1)[0]),
    op("segment_host", "create", "POST", S + "/hosts", consumes="ha_compute_host", body={"host": {
        "name": "{ha_compute_host}", "type": "COMPUTE", "control_attributes": "SSH"}}),
    op("segment_host", "show", "GET", H),
    op("segment_host", "update", "PUT", H, body={"host": {"control_attributes": "{new}"}}),
    op("segment_host", "delete", "DELETE", H, consumes="ha_segment_host"),
]
