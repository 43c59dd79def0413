"""pocketstack's state API (``/_pocketstack``: reset and snapshots) in the isolation
matrix: the cloud administrator's alone (``pocketstack:reset``, ``pocketstack:snapshots``:
``rule:admin_api``).  The suite's shared cloud records no bootstrap state, so the admin's
reset and restore are refused (409) rather than wiping the matrix's world; everything
else the admin does succeeds.
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import ADMIN_ONLY, BAD_REQUEST, CONFLICT, FORBIDDEN, LISTED, Op, Resource, expect

S = "/_pocketstack"
STRANGERS = (FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)


def make_snapshot(w) -> dict:
    name = unique("iso-snap")
    w.call("POST", f"{S}/snapshots", json={"snapshot": {"name": name}})
    return {"id": name}


RESOURCES = [Resource("cloud_snapshot", make_snapshot)]

OPS = [
    Op("cloud_snapshot", "list", "GET", f"{S}/snapshots", expect(LISTED, *STRANGERS), watch="{cloud_snapshot}"),
    Op("cloud_snapshot", "show", "GET", f"{S}/snapshots/{{cloud_snapshot}}", ADMIN_ONLY),
    Op("cloud_snapshot", "download", "GET", f"{S}/snapshots/{{cloud_snapshot}}/file", ADMIN_ONLY),
    Op("cloud_snapshot", "create", "POST", f"{S}/snapshots", ADMIN_ONLY, body={"snapshot": {"name": "{new}"}},
       everywhere=True),
    Op("cloud_snapshot", "upload", "PUT", f"{S}/snapshots/{{new}}/file", expect(BAD_REQUEST, *STRANGERS),
       content=b"not a state file"),
    Op("cloud_snapshot", "restore", "POST", f"{S}/snapshots/{{cloud_snapshot}}/restore", expect(CONFLICT, *STRANGERS),
       everywhere=True),
    Op("cloud_snapshot", "reset", "POST", f"{S}/reset", expect(CONFLICT, *STRANGERS), everywhere=True),
    Op("cloud_snapshot", "delete", "DELETE", f"{S}/snapshots/{{cloud_snapshot}}", ADMIN_ONLY,
       consumes="cloud_snapshot"),
]
