"""The datapath driver of a scaled-out API process: hand every change to the agents.

Each change becomes a fanout cast on the ``network-agent`` topic, so every
``pocketstack network-agent`` process receives it and applies it with its own driver
(a Linux datapath among several hosts keeps what concerns its host: its bound ports,
the routers and DHCP networks scheduled to it; :mod:`.vxlan`).  Changes are "this is the state now" messages and an
agent replays the full state when it starts, so an agent that was down catches up —
which is also why a change that cannot be handed over is logged rather than failing a
request whose change is already committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging

from pocketstack.common import rpc
from pocketstack.common.rpc.bridge import submit
from pocketstack.network.drivers.base import EVENTS, DatapathDriver

LOG = logging.getLogger(__name__)
TOPIC = "network-agent"


class AgentNotifier(DatapathDriver):
    name = "rpc"

    def __init__(self):
        self._client: rpc.RPCClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task] = set()

    def attach(self, loop: asyncio.AbstractEventLoop, transport: rpc.Transport) -> None:
        """Send on ``transport`` from ``loop`` (the service's, once it started)."""
        self._loop = loop
        self._client = rpc.RPCClient(transport, rpc.Target(TOPIC)).prepare(fanout=True)

    def _send(self, event: str, payload: dict) -> None:
        if self._client is None or self._loop is None:
            LOG.warning("datapath %s dropped: RPC not started yet (agents resync on start)", event)
            return
        try:
            submit(self._loop, self._client.cast("apply", event=event, payload=_wire(payload)), self._tasks)
        except Exception:  # noqa: BLE001 - committed already; agents resync on start
            LOG.exception("could not hand datapath %s of %s to the agents", event, payload.get("id"))


def _wire(payload: dict) -> dict:
    """The payload as JSON carries it: timestamps as the API renders them."""
    def timestamp(value):
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%dT%H:%M:%SZ")
        raise TypeError(f"{type(value).__name__} cannot travel to a network agent")
    return json.loads(json.dumps(payload, default=timestamp))


def _sender(event: str):
    def method(self: AgentNotifier, payload: dict) -> None:
        self._send(event, payload)
    method.__name__ = event
    return method


for _event in EVENTS:
    setattr(AgentNotifier, _event, _sender(_event))
