"""Instance HA (Masakari's API) in the isolation matrix: the whole API is the admin's
(``os_masakari_api:*`` are ``rule:admin_api`` in Masakari's policies too); the failures of
hosts are nobody else's business.
"""

from __future__ import annotations

from isolation.matrix import ADMIN_ONLY, Op, Resource

P = "/instance-ha/v1"
MICRO = {"OpenStack-API-Version": "instance-ha 1.3"}
# A compute service that stopped on a live host: recorded, ``ignored``, nothing recovered.
REPORT = {"notification": {"type": "PROCESS", "hostname": "compute-1", "generated_time": "2026-12-06T10:00:00Z",
                           "payload": {"event": "STOPPED", "process_name": "nova-compute"}}}


def make_notification(w) -> dict:
    body = w.call("POST", P + "/notifications", headers=MICRO, json=REPORT).json()["notification"]
    return {"id": body["notification_uuid"]}


RESOURCES = [Resource("ha_notification", make_notification)]


def op(resource: str, name: str, method: str, path: str, **kw) -> Op:
    return Op(resource, name, method, P + path, ADMIN_ONLY, headers=MICRO, **kw)


N = "/notifications/{ha_notification}"
OPS = [
    op("notification", "list", "GET", "/notifications", everywhere=True),
    op("notification", "show", "GET", N),
    op("notification", "create", "POST", "/notifications", body=REPORT, everywhere=True),
    op("vmove", "list", "GET", N + "/vmoves"),
]
