"""RPC between pocketstack services, with the guarantees documented in docs/rpc.md.

Usage::

    transport = rpc.get_transport(settings.transport_url)
    server = rpc.RPCServer(transport, rpc.Target("compute"), [ComputeEndpoint()], server=host)
    await server.start()

    client = rpc.RPCClient(transport, rpc.Target("compute"), timeout=30)
    await client.cast("reboot", instance_id=iid)                       # one server
    state = await client.prepare(server=host).call("get_state", instance_id=iid)
    await client.prepare(fanout=True).cast("refresh_cache")            # every server
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pocketstack.common.metrics import DISCARD, Metrics
from pocketstack.common.rpc.client import RPCClient
from pocketstack.common.rpc.exceptions import (
    EnvelopeError,
    NoSuchMethod,
    RemoteError,
    RPCError,
    Timeout,
    register_exception,
    remote_exception,
)
from pocketstack.common.rpc.server import RPCServer
from pocketstack.common.rpc.transports.base import Target, Transport

__all__ = [
    "EnvelopeError", "NoSuchMethod", "RPCClient", "RPCError", "RPCServer", "RemoteError", "Target",
    "Timeout", "Transport", "get_transport", "register_exception", "remote_exception",
]


def get_transport(url: str, *, queue_prefix: str = "pocketstack", metrics: Metrics = DISCARD) -> Transport:
    """The transport for ``url``: ``inproc://[name]``, ``amqp://user:pass@host:port/vhost`` or
    ``local:///path/to/socket`` (an API worker process of the all-in-one cloud); its
    clients and servers count messages in ``metrics``.

    Nothing connects here: an AMQP transport connects on first use and reconnects on its
    own, so services can be built before the broker is up.
    """
    transport: Transport
    scheme = urlsplit(url).scheme
    if scheme == "inproc":
        from pocketstack.common.rpc.transports.inproc import InprocTransport

        transport = InprocTransport(urlsplit(url).netloc, queue_prefix=queue_prefix)
    elif scheme in ("amqp", "amqps"):
        from pocketstack.common.rpc.transports.amqp import AMQPTransport

        transport = AMQPTransport(url, queue_prefix=queue_prefix)
    elif scheme == "local":
        from pocketstack.common.rpc.transports.local import LocalTransport

        transport = LocalTransport(urlsplit(url).path, queue_prefix=queue_prefix)
    else:
        raise ValueError(f"unsupported RPC transport URL {url!r} (use inproc:// or amqp://)")
    transport.metrics = metrics
    return transport
