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

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import BadRequest, Conflict
from pocketstack.compute import states as st
from pocketstack.compute.api.common import at_least, get_instance

FAKE_NOVNC_BASE = "http://127.0.0.1:6080/vnc_auto.html"
REMOTE = {"type": "object", "required": ["remote_console"], "additionalProperties": False, "properties": {
    "remote_console": {"type": "object", "required": ["protocol", "type"], "additionalProperties": False,
                       "properties": {"protocol": {"type": "string", "enum": ["vnc", "spice", "rdp", "serial",
                                                                              "mks"]},
                                      "type": {"type": "string", "enum": ["novnc", "xvpvnc", "spice-html5",
                                                                          "rdp-html5", "serial", "webmks"]}}}}}
# The pre-2.6 actions: os-getVNCConsole and friends, by the protocol they ask for.
LEGACY_ACTIONS = {"os-getVNCConsole": "vnc", "os-getSPICEConsole": "spice", "os-getRDPConsole": "rdp",
                  "os-getSerialConsole": "serial"}
LEGACY = {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}


def console_url(compute, req: ApiRequest, protocol: str, kind: str) -> str:
    """The fake console URL of the request's server (400 for a console type not offered)."""
    inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-remote-consoles")
    if protocol != "vnc" or kind != "novnc":
        raise BadRequest(f"Unavailable console type {kind}.")
    if not inst.host or inst.vm_state in (st.BUILDING, st.ERROR):
        raise Conflict(f"Instance {inst.id} is not ready: it is in vm_state {inst.vm_state}")
    return f"{FAKE_NOVNC_BASE}?path=%3Ftoken%3D{secrets.token_hex(16)}"


def register(router: Router, compute) -> None:
    @router.post("/v2.1/servers/{server_id}/remote-consoles")
    def remote_console(req: ApiRequest):
        if not at_least(req, 2, 6):
            raise BadRequest("Remote consoles need microversion 2.6; use the os-getVNCConsole action.")
        data = validate(req.json(), REMOTE)["remote_console"]
        return {"remote_console": {"protocol": data["protocol"], "type": data["type"],
                                   "url": console_url(compute, req, data["protocol"], data["type"])}}
