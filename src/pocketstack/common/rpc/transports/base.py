"""What a transport must provide, and the parts every transport shares.

A transport moves opaque bytes; envelopes, dispatch and error mapping live above it in
the client and server.  The contract each transport implements:

* :meth:`Transport.send` returns only once the message is *persisted* by the transport
  (for RabbitMQ: the publisher confirm arrived) and keeps retrying through connection
  failures until then; the caller bounds it with a timeout.
* A subscriber receives :class:`Delivery` objects.  A delivery stays owned by the
  transport until it is settled: if the subscriber goes away first, it is redelivered
  to another consumer.  :meth:`Delivery.ack` returns ``True`` only once the transport has
  *confirmed* it forgot the message, which is what lets the server run a cast at most once.
* Replies are correlated by message id to futures the client waits on
  (:meth:`Transport.expect_reply`); replies nobody waits for are dropped.

Names on the broker all start with ``queue_prefix`` so that deployments (and test runs)
sharing one broker cannot see each other's messages:

====================================  ============================================
``{prefix}.rpc.{topic}``              topic queue, competing consumers
``{prefix}.rpc.{topic}.server.{s}``   queue of one server
``{prefix}.rpc.{topic}.fanout``       fanout exchange of a topic
``{prefix}.rpc.{topic}.fanout.{s}``   one server's copy of the fanout casts
``{prefix}.reply.{id}``               reply queue of one transport (caller)
====================================  ============================================
"""

from __future__ import annotations

import abc
import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from pocketstack.common.metrics import DISCARD, Metrics

LOG = logging.getLogger(__name__)

# Topics cannot contain dots so that the names above can never collide.
_TOPIC = re.compile(r"^[A-Za-z0-9_-]+$")
_SERVER = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Target:
    """Where a message goes, as in oslo.messaging.

    ``Target(topic)`` reaches one of the servers of the topic, ``Target(topic, server=s)``
    exactly server ``s``, ``Target(topic, fanout=True)`` every server of the topic.
    """

    topic: str
    server: str | None = None
    fanout: bool = False

    def __post_init__(self) -> None:
        if not _TOPIC.match(self.topic):
            raise ValueError(f"invalid RPC topic {self.topic!r} (letters, digits, '_' and '-' only)")
        if self.server is not None and not _SERVER.match(self.server):
            raise ValueError(f"invalid RPC server name {self.server!r}")
        if self.server is not None and self.fanout:
            raise ValueError("a target is either for one server or fanout, not both")

    def __str__(self) -> str:
        if self.fanout:
            return f"{self.topic}(fanout)"
        return f"{self.topic}.{self.server}" if self.server else self.topic


class Delivery(abc.ABC):
    """One received message, owned by the transport until settled exactly once."""

    body: bytes

    @abc.abstractmethod
    async def ack(self) -> bool:
        """Remove the message for good; ``True`` only when the transport confirmed it.

        ``False`` means the connection failed before confirmation: the message may be
        redelivered, so the caller must not act on it.
        """

    @abc.abstractmethod
    async def reject(self) -> None:
        """Drop the message (undecodable, expired or duplicate)."""

    @abc.abstractmethod
    async def requeue(self) -> None:
        """Give the message back so that another consumer can take it."""


OnDelivery = Callable[[Delivery], None]


class Subscription(abc.ABC):
    """A server's consumption of its topic, server and fanout queues."""

    @abc.abstractmethod
    async def cancel(self) -> None:
        """Stop receiving new deliveries; those already received stay valid."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the subscription; unsettled deliveries go back to their queue."""


class Transport(abc.ABC):
    """A connection to a message broker (real or in-process)."""

    def __init__(self, queue_prefix: str) -> None:
        if not queue_prefix or not _SERVER.match(queue_prefix):
            raise ValueError(f"invalid queue prefix {queue_prefix!r}")
        self.queue_prefix = queue_prefix
        self._waiters: dict[str, asyncio.Future[bytes]] = {}
        # Where the clients and servers on this transport count messages (the cloud's).
        self.metrics: Metrics = DISCARD

    # -- what operators may ask (readiness, metrics) ----------------------------------------
    @property
    def connected(self) -> bool:
        """Whether messages can be sent now (an in-process broker always can)."""
        return True

    def connect(self) -> None:
        """Start connecting in the background, so :attr:`connected` tells early (no-op
        where there is nothing to connect to).  Needs a running event loop."""
        return None

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each of this deployment's queues, by queue name without the
        prefix, where the transport can tell cheaply (empty where it cannot)."""
        return {}

    @property
    def calls_waiting(self) -> int:
        """Calls of this process waiting for their reply."""
        return len(self._waiters)

    # -- naming ------------------------------------------------------------------------
    def queue_name(self, topic: str, server: str | None = None) -> str:
        base = f"{self.queue_prefix}.rpc.{topic}"
        return f"{base}.server.{server}" if server else base

    def fanout_exchange(self, topic: str) -> str:
        return f"{self.queue_prefix}.rpc.{topic}.fanout"

    def fanout_queue(self, topic: str, server: str) -> str:
        return f"{self.fanout_exchange(topic)}.{server}"

    # -- what each transport implements ---------------------------------------------------
    @abc.abstractmethod
    async def send(self, target: Target, body: bytes, *, msg_id: str, expires_at: float,
                   persistent: bool) -> None:
        """Persist one request for ``target``, dropped by the transport at ``expires_at``."""

    @abc.abstractmethod
    async def send_reply(self, address: str, body: bytes, *, msg_id: str, expires_at: float) -> None:
        """Send a reply to the caller listening on ``address``."""

    @abc.abstractmethod
    async def subscribe(self, topic: str, server: str, on_delivery: OnDelivery, *,
                        prefetch: int) -> Subscription:
        """Consume ``topic``'s queue, ``server``'s own queue and its fanout queue.

        Returns once consuming; at most ``prefetch`` deliveries are unsettled at a time.
        """

    @abc.abstractmethod
    async def reply_address(self) -> str:
        """The address replies to this process go to (created on first use)."""

    @abc.abstractmethod
    async def caller_alive(self, address: str) -> bool:
        """Whether the caller listening on reply ``address`` still exists.

        ``True`` when that cannot be known (the caller's deadline then decides).
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the transport; pending calls fail with :class:`Timeout` at their deadline."""

    # -- reply correlation, shared by all transports --------------------------------------
    def expect_reply(self, msg_id: str) -> asyncio.Future[bytes]:
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiters[msg_id] = future
        return future

    def discard_reply(self, msg_id: str) -> None:
        self._waiters.pop(msg_id, None)

    def _on_reply(self, msg_id: str | None, body: bytes) -> None:
        future = self._waiters.pop(msg_id, None) if msg_id else None
        if future is None or future.done():
            LOG.debug("dropping reply %s: its caller is no longer waiting", msg_id)
            return
        future.set_result(body)
