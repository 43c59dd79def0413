"""The caller side: ``await client.call(...)`` and ``await client.cast(...)``.

Keyword arguments of :meth:`RPCClient.call` and :meth:`RPCClient.cast` belong entirely to
the remote method, so per-message options (timeout, TTL, server, fanout) are set with
:meth:`RPCClient.prepare`, as in oslo.messaging, and can never clash with an argument name.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from typing import Any

from pocketstack.common.rpc import envelope, exceptions
from pocketstack.common.rpc.envelope import Request
from pocketstack.common.rpc.exceptions import EnvelopeError, Timeout
from pocketstack.common.rpc.transports.base import Target, Transport

LOG = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
DEFAULT_TTL = 3600.0


class RPCClient:
    """Send requests to ``target``.

    ``timeout`` bounds a call (until its reply) and a cast's hand-over to the transport;
    ``ttl`` is how long a cast may wait in a queue for a server before it is dropped.
    """

    def __init__(self, transport: Transport, target: Target | str, *, timeout: float = DEFAULT_TIMEOUT,
                 ttl: float = DEFAULT_TTL) -> None:
        if timeout <= 0 or ttl <= 0:
            raise ValueError("timeout and ttl must be positive")
        self.transport = transport
        self.target = Target(target) if isinstance(target, str) else target
        self.timeout = timeout
        self.ttl = ttl

    def prepare(self, *, server: str | None = None, fanout: bool | None = None,
                timeout: float | None = None, ttl: float | None = None) -> RPCClient:
        """A copy of this client with some options changed (``server``/``fanout`` retarget it)."""
        target = self.target
        if server is not None or fanout is not None:
            target = dataclasses.replace(target, server=server, fanout=bool(fanout))
        return RPCClient(self.transport, target, timeout=self.timeout if timeout is None else timeout,
                         ttl=self.ttl if ttl is None else ttl)

    async def call(self, method: str, /, **kwargs: Any) -> Any:
        """Run ``method`` on one server and return its result.

        Raises :class:`Timeout` when no reply arrives within ``timeout``; the server will
        not start the method after that.  An exception raised remotely is re-raised here:
        as its own class if allow-listed, else as :class:`RemoteError`.
        """
        if self.target.fanout:
            raise ValueError("a call cannot be fanout: there would be several replies")
        msg_id = uuid.uuid4().hex
        expires_at = time.time() + self.timeout
        waiter = self.transport.expect_reply(msg_id)
        sent = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                reply_to = await self.transport.reply_address()
                body = envelope.encode_request(
                    Request("call", msg_id, method, kwargs, expires_at, reply_to))
                await self.transport.send(self.target, body, msg_id=msg_id, expires_at=expires_at,
                                          persistent=False)
                reply_body = await waiter
        except TimeoutError:
            self.transport.metrics.rpc_call(self.target.topic, time.perf_counter() - sent, timed_out=True)
            raise Timeout(f"no reply from {self.target} to {method!r} within {self.timeout}s") from None
        finally:
            self.transport.discard_reply(msg_id)
        self.transport.metrics.rpc_call(self.target.topic, time.perf_counter() - sent, timed_out=False)
        try:
            reply = envelope.decode_reply(reply_body)
        except EnvelopeError as exc:
            LOG.error("undecodable reply from %s to %r: %s", self.target, method, exc)
            raise
        if reply.error is not None:
            raise exceptions.from_wire(reply.error, f"{self.target.topic}.{method}")
        return reply.result

    async def cast(self, method: str, /, **kwargs: Any) -> None:
        """Queue ``method`` for one server (every server if fanout); no result.

        Returns once the transport persisted the request.  Raises :class:`Timeout` if it
        could not within ``min(timeout, ttl)``; the cast may then still run once, if the
        broker took it but its confirmation was lost.
        """
        msg_id = uuid.uuid4().hex
        expires_at = time.time() + self.ttl
        body = envelope.encode_request(Request("cast", msg_id, method, kwargs, expires_at))
        limit = min(self.timeout, self.ttl)
        self.transport.metrics.rpc_cast(self.target.topic)
        try:
            async with asyncio.timeout(limit):
                await self.transport.send(self.target, body, msg_id=msg_id, expires_at=expires_at,
                                          persistent=True)
        except TimeoutError:
            self.transport.metrics.rpc_cast_timeout(self.target.topic)
            raise Timeout(f"transport did not accept cast of {method!r} to {self.target} within {limit}s") from None
