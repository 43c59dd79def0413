"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6) and the older
``os-getVNCConsole`` action.

The fake hypervisor has no graphical console and no noVNC proxy runs here: the URL
answered is a *fake* noVNC-style URL (a fresh token, nothing listens on it), so that
clients which only ask for and print a console URL work.  Only VNC (``novnc``) is
offered, as by a libvirt host without SPICE, RDP, serial or MKS consoles; asking for
another is 400, as Nova answers for a console type the host does not provide.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api.common import get_instance
from pocketstack.compute.api.schemas.consoles import LEGACY, REMOTE

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

__all__ = ["LEGACY", "LEGACY_ACTIONS", "ConsolesApi", "console_url"]

FAKE_NOVNC_BASE = "http://127.0.0.1:6080/vnc_auto.html"
# The pre-2.6 actions: os-getVNCConsole and friends, by the protocol they ask for.
LEGACY_ACTIONS = {"os-getVNCConsole": "vnc", "os-getSPICEConsole": "spice", "os-getRDPConsole": "rdp",
                  "os-getSerialConsole": "serial"}


def console_url(compute: Compute, req: ApiRequest, protocol: str, kind: str) -> str:
    """The fake console URL of the request's server (400 for a console type not offered)."""
    inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-remote-consoles")
    if protocol != "vnc" or kind != "novnc":
        raise errors.ConsoleTypeUnavailable(kind=kind)
    if not inst.host or inst.vm_state in (st.BUILDING, st.ERROR):
        raise errors.InstanceNotReady(instance_id=inst.id, vm_state=inst.vm_state)
    return f"{FAKE_NOVNC_BASE}?path=%3Ftoken%3D{secrets.token_hex(16)}"


class ConsolesApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    # Before 2.6 a 400 pointing at the action (not the 404 of a missing route), as ever here.
    @route.post("/v2.1/servers/{server_id}/remote-consoles", policy="os_compute_api:os-remote-consoles",
                body=REMOTE)
    def create(self, req: ApiRequest):
        if not req.at_least(2, 6):
            raise errors.RemoteConsolesNeed26()
        data = req.data["remote_console"]
        return {"remote_console": {"protocol": data["protocol"], "type": data["type"],
                                   "url": console_url(self.compute, req, data["protocol"], data["type"])}}
