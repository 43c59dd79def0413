"""Remote consoles: ``POST /servers/{id}/remote-consoles`` (2.6), the older
``os-getVNCConsole`` action, and the admin's ``GET /os-console-auth-tokens/{token}``.

The URLs point at the noVNC page this cloud serves (:mod:`pocketstack.compute.console_proxy`)
with a token for the server's VNC display; :mod:`pocketstack.compute.consoles` says what a
fake hypervisor's server gets instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute.api.common import get_instance
from pocketstack.compute.api.schemas.consoles import LEGACY, REMOTE, REMOTE_V299

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

__all__ = ["LEGACY", "LEGACY_ACTIONS", "ConsoleAuthTokensApi", "ConsolesApi", "console_url"]

# The pre-2.6 actions: os-getVNCConsole and friends, by the protocol they ask for.
LEGACY_ACTIONS = {"os-getVNCConsole": "vnc", "os-getSPICEConsole": "spice", "os-getRDPConsole": "rdp",
                  "os-getSerialConsole": "serial"}


def console_url(compute: Compute, req: ApiRequest, protocol: str, kind: str) -> str:
    """A console URL of the request's server (400 for a console type not offered, 409
    while it has no running guest)."""
    inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:os-remote-consoles")
    return compute.consoles.url(inst, protocol, kind)


class ConsolesApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    # Before 2.6 a 400 pointing at the action (not the 404 of a missing route), as ever here.
    @route.post("/v2.1/servers/{server_id}/remote-consoles", policy="os_compute_api:os-remote-consoles",
                body={"2.1": REMOTE, "2.99": REMOTE_V299})
    def create(self, req: ApiRequest):
        if not req.at_least(2, 6):
            raise errors.RemoteConsolesNeed26()
        data = req.data["remote_console"]
        return {"remote_console": {"protocol": data["protocol"], "type": data["type"],
                                   "url": console_url(self.compute, req, data["protocol"], data["type"])}}


class ConsoleAuthTokensApi:
    """What a console token grants, for the admin (Nova's console_auth_tokens.py): 400
    before microversion 2.31 (only the removed rdp-html5 consoles had it), 404 for a
    token that is unknown, expired or whose server is gone from its host."""

    def __init__(self, compute: Compute):
        self.compute = compute

    # From 2.99 no query parameter is accepted; its ``tls_port`` is a spice-direct console's only.
    @route.get("/v2.1/os-console-auth-tokens/{token}", policy="os_compute_api:os-console-auth-tokens",
               query={"2.99": ()})
    def show(self, req: ApiRequest):
        if not req.at_least(2, 31):
            raise errors.ConsoleAuthTokensNeed231()
        req.authorize("os_compute_api:os-console-auth-tokens")
        info = self.compute.consoles.valid(req.path_params["token"])
        if info is None:
            raise errors.ConsoleTokenNotFound()
        return {"console": {"instance_uuid": info.instance_uuid, "host": info.host, "port": info.port,
                            "internal_access_path": info.internal_access_path}}
