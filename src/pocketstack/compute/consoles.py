"""Remote consoles: console URLs for servers, and what a console token lets the proxy reach.

As in Nova, the guest's host says where the guest's VNC server listens (an RPC call, the
port is QEMU's choice at each start) and a token is authorized for that address.  The
token is checked again when the noVNC proxy connects: still unexpired, the instance still
on that host, and its VNC server still on that port (Nova's ``validate_console_port``: a
guest that was restarted may have another port, and its old one may be another guest's).

Only VNC through noVNC is offered, as by a libvirt host without SPICE, serial or MKS
consoles.  A fake hypervisor's guests have no screen: their URL is well formed and carries
a fresh token, but none is stored, so the proxy refuses it (the websocket is closed before
it opens, HTTP 403) and ``os-console-auth-tokens`` does not know it (404).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pocketstack.common.errors import ApiError
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.console_tokens import ConnectInfo, ConsoleTokens, access_url, new_token

if TYPE_CHECKING:
    from pocketstack.common.config import Settings
    from pocketstack.compute.contract import InstanceRef
    from pocketstack.compute.models import Instance
    from pocketstack.compute.rpcapi import ComputeAPI

NOVNC = "novnc"


class Consoles:
    def __init__(self, tokens: ConsoleTokens, rpc: ComputeAPI, settings: Settings, find_instance):
        self.tokens = tokens
        self.rpc = rpc
        self.settings = settings
        self._find_instance = find_instance  # instance id -> InstanceRef | None

    def url(self, inst: Instance, protocol: str, kind: str) -> str:
        """A console URL of the server ``inst`` (400 for a console type not offered, 409
        while it has no running guest)."""
        if protocol != "vnc" or kind != NOVNC:
            raise errors.ConsoleTypeUnavailable(kind=kind)
        if not inst.host or inst.vm_state in (st.BUILDING, st.ERROR) or inst.task_state == st.DELETING:
            raise errors.InstanceNotReady(instance_id=inst.id, vm_state=inst.vm_state)
        base = self.settings.effective_novncproxy_base_url
        address = self.rpc.get_vnc_address(inst.host, inst.id)
        if address is None:  # a fake guest: a URL to print, no token behind it
            return access_url(base, NOVNC, new_token())
        host, port = address
        token = self.tokens.authorize(ConnectInfo(
            instance_uuid=inst.id, console_type=NOVNC, host=host, port=port, internal_access_path=None,
            compute_host=inst.host, access_url_base=base, expires=0))
        return access_url(base, NOVNC, token)

    def valid(self, token: str) -> ConnectInfo | None:
        """The authorization of ``token`` while it is unexpired and its instance is still on
        the host it was made for (the tokens of a deleted or moved instance are dropped)."""
        info = self.tokens.validate(token)
        if info is None:
            return None
        inst: InstanceRef | None = self._find_instance(info.instance_uuid)
        if inst is None or inst.host != info.compute_host or inst.task_state == st.DELETING:
            self.tokens.clean_instance(info.instance_uuid)
            return None
        return info

    def connect_info(self, token: str) -> ConnectInfo | None:
        """What the proxy may connect to for ``token``: :meth:`valid`, and the guest's host
        confirms its VNC server is still at that address."""
        info = self.valid(token)
        if info is None:
            return None
        try:
            now = self.rpc.get_vnc_address(info.compute_host, info.instance_uuid)
        except ApiError:  # the guest stopped, the host does not answer
            return None
        return info if now == (info.host, info.port) else None
