"""RabbitMQ transport (``amqp://user:pass@host:port/vhost``), built on aio-pika.

How the transport contract maps onto AMQP:

* Requests go to durable queues (declared by clients too, so a cast to a server that
  has never run waits for it), casts as persistent messages, each with a per-message
  ``expiration`` so that the broker drops it when its TTL is over.  Publisher confirms
  make :meth:`AMQPTransport.send` return only once the broker has the message; direct
  publishes are ``mandatory``, so a queue deleted behind our back is declared again.
* Each transport (caller) owns one exclusive, auto-delete reply queue; replies carry the
  request's ``msg_id`` as ``correlation_id``.
* Servers consume with manual acks and a channel-wide prefetch.  An ack is followed by
  a synchronous method (``basic.qos``) on the same channel; AMQP processes a channel's
  methods in order, so its answer proves the broker processed the ack.

Reconnection is ours rather than aio-pika's ``connect_robust``, which retries at a fixed
interval and restores channels and consumers behind our back, while RPC needs to know
exactly when deliveries from a dead channel become invalid.  A supervisor task connects
with exponential backoff and jitter, then (re)creates the publisher channel, the reply
consumer and every subscription.  Publishes interrupted by a failure are retried with
the same ``msg_id`` until their deadline (servers drop the duplicates that a lost
confirmation can cause); deliveries of a dead channel can no longer be acknowledged,
so the server does not run them and the broker redelivers them.

Every broker operation is raced against the loss of its connection (:meth:`_Link.guard`):
aiormq can leave an operation that was queued on a connection as it died waiting
forever, which would stall a publisher or a server slot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange, AbstractIncomingMessage
from aiormq.exceptions import (
    AMQPError,
    AuthenticationError,
    ChannelAccessRefused,
    ChannelLockedResource,
    ChannelNotFoundEntity,
    ChannelPreconditionFailed,
    PublishError,
)
from yarl import URL

from pocketstack.common.rpc.exceptions import Timeout
from pocketstack.common.rpc.transports.base import Delivery, OnDelivery, Subscription, Target, Transport

LOG = logging.getLogger(__name__)
T = TypeVar("T")

CONNECT_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
CALLER_SEEN_TTL = 1.0
PROBE = "pocketstack.probe"  # message type of "is this caller alive?" pings
# A fanout queue belongs to one server; if that server is gone for a day, so is its queue.
FANOUT_QUEUE_ARGS: dict[str, Any] = {"x-expires": 24 * 3600 * 1000}
# Failures worth retrying on a new connection.
RETRYABLE = (AMQPError, ConnectionError, OSError, RuntimeError, asyncio.TimeoutError)
# Failures a new connection would not fix (mismatched declarations, permissions).
FATAL = (AuthenticationError, ChannelAccessRefused, ChannelPreconditionFailed, ChannelNotFoundEntity)


class _Link:
    """One live connection and what belongs to it."""

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self.lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: self.lost.set())
        self.publisher: AbstractChannel | None = None
        self.declared: dict[str, AbstractExchange] = {}

    def watch(self, channel: AbstractChannel) -> None:
        """A channel closing on its own means this connection can no longer be trusted."""
        channel.close_callbacks.add(lambda *_: self.lost.set())

    async def guard(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` unless the connection is lost first (ConnectionError then).

        The operation runs as its own task, shielded from our caller's cancellation
        because cancelling an aiormq RPC closes its channel.  Once the connection is
        lost, aiormq normally fails the operation itself; it is cancelled only if it is
        still stuck ``CLOSE_TIMEOUT`` later.
        """
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(awaitable)
        watcher = asyncio.ensure_future(self.lost.wait())
        watcher.add_done_callback(lambda w: w.cancelled() or loop.call_later(CLOSE_TIMEOUT, task.cancel))
        task.add_done_callback(lambda done: (watcher.cancel(), done.cancelled() or done.exception()))
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise ConnectionError("connection to RabbitMQ lost")


class AMQPTransport(Transport):
    def __init__(self, url: str, *, queue_prefix: str = "pocketstack", min_backoff: float = 0.1,
                 max_backoff: float = 5.0) -> None:
        super().__init__(queue_prefix)
        parsed = URL(url)
        # Named so that operators (and tests) can find the connection in `rabbitmqctl`.
        self._url = parsed if "name" in parsed.query else parsed.update_query(
            name=f"pocketstack {queue_prefix} pid {os.getpid()}")
        self._safe_url = str(parsed.with_password("***")) if parsed.password else url
        self._min_backoff, self._max_backoff = min_backoff, max_backoff
        self._link: _Link | None = None
        self._connected = asyncio.Event()
        self._lock = asyncio.Lock()  # serialises attaching consumers and reconnecting
        self._subscriptions: list[_AMQPSubscription] = []
        self._reply_queue: str | None = None
        self._callers_seen: dict[str, float] = {}  # reply queue -> when last seen alive
        self._supervisor: asyncio.Task[None] | None = None
        self._closed = False

    # -- connection management ------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._link is not None and self._connected.is_set()

    def connect(self) -> None:
        if self._supervisor is None and not self._closed:
            self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def _wait_connected(self) -> _Link:
        if self._closed:
            raise RuntimeError("RPC transport is closed")
        self.connect()
        while True:
            await self._connected.wait()
            if self._link is not None:
                return self._link

    def _backoff(self, attempt: int) -> float:
        return float(random.uniform(0.5, 1.0) * min(self._max_backoff, self._min_backoff * 2 ** attempt))

    async def _supervise(self) -> None:
        """Keep one connection up, with everything attached to it, until closed."""
        attempt = 0
        while not self._closed:
            link: _Link | None = None
            try:
                link = _Link(await aio_pika.connect(self._url, timeout=CONNECT_TIMEOUT))
                await link.guard(self._attach_all(link))
            except RETRYABLE as exc:
                delay = self._backoff(attempt)
                attempt += 1
                LOG.warning("RabbitMQ at %s unavailable (%s: %s); retrying in %.2fs",
                            self._safe_url, type(exc).__name__, exc, delay)
                if link is not None:
                    await _close_quietly(link.connection)
                await asyncio.sleep(delay)
                continue
            if attempt:
                LOG.info("reconnected to RabbitMQ at %s", self._safe_url)
            attempt = 0
            await link.lost.wait()
            self._connected.clear()
            self._link = None
            LOG.warning("lost connection to RabbitMQ at %s; reconnecting", self._safe_url)
            await _close_quietly(link.connection)

    async def _attach_all(self, link: _Link) -> None:
        async with self._lock:
            link.publisher = await link.connection.channel(publisher_confirms=True, on_return_raises=True)
            link.watch(link.publisher)
            if self._reply_queue is not None:
                await self._consume_replies(link)
            for subscription in list(self._subscriptions):
                await subscription.attach(link)
            if link.lost.is_set():  # died meanwhile; never hand out a dead link
                raise ConnectionError("connection to RabbitMQ lost while setting it up")
            self._link = link
            self._connected.set()

    async def _on_current_connection(self, attach: Callable[[_Link], Awaitable[T]]) -> T:
        """Run ``attach`` on the live connection, waiting for one and retrying on failures."""
        attempt = 0
        while True:
            await self._wait_connected()
            async with self._lock:
                link = self._link
                if link is not None:
                    try:
                        return await link.guard(attach(link))
                    except FATAL:
                        raise
                    except RETRYABLE as exc:
                        LOG.info("retrying on a new connection after %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(self._backoff(attempt))
            attempt += 1

    async def close(self) -> None:
        self._closed = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with suppress(asyncio.CancelledError):
                await self._supervisor
        if self._link is not None:
            await _close_quietly(self._link.connection)
        self._connected.clear()
        self._link = None

    # -- publishing ---------------------------------------------------------------------
    async def send(self, target: Target, body: bytes, *, msg_id: str, expires_at: float,
                   persistent: bool) -> None:
        if target.fanout:
            exchange, routing_key = self.fanout_exchange(target.topic), ""
        else:
            exchange, routing_key = "", self.queue_name(target.topic, target.server)
        await self._publish(exchange, routing_key, body, msg_id=msg_id, expires_at=expires_at,
                            persistent=persistent)

    async def send_reply(self, address: str, body: bytes, *, msg_id: str, expires_at: float) -> None:
        # Not mandatory: if the caller is gone, so is its queue, and the reply is moot.
        await self._publish("", address, body, msg_id=msg_id, expires_at=expires_at, persistent=False,
                            correlation_id=msg_id, declare=False)

    async def _publish(self, exchange: str, routing_key: str, body: bytes, *, msg_id: str,
                       expires_at: float, persistent: bool, correlation_id: str | None = None,
                       declare: bool = True) -> None:
        """Publish until the broker confirms; retry on failures until ``expires_at``."""
        attempt = 0
        while True:
            remaining = expires_at - time.time()
            if remaining <= 0:
                raise Timeout(f"message {msg_id} expired before RabbitMQ accepted it")
            link = await self._wait_connected()
            message = aio_pika.Message(
                body, content_type="application/json", message_id=msg_id, correlation_id=correlation_id,
                expiration=max(remaining, 0.001),
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT if persistent else aio_pika.DeliveryMode.NOT_PERSISTENT)
            try:
                await link.guard(self._publish_once(link, exchange, routing_key, message, declare=declare))
                return
            except FATAL:
                raise
            except RETRYABLE as exc:
                delay = self._backoff(attempt)
                attempt += 1
                LOG.info("publish of %s failed (%s: %s); retrying in %.2fs", msg_id, type(exc).__name__, exc, delay)
                await asyncio.sleep(delay)

    @staticmethod
    async def _publish_once(link: _Link, exchange_name: str, routing_key: str, message: aio_pika.Message,
                            *, declare: bool) -> None:
        channel = link.publisher
        assert channel is not None
        key = exchange_name or routing_key
        if declare and key not in link.declared:
            if exchange_name:
                link.declared[key] = await channel.declare_exchange(
                    exchange_name, aio_pika.ExchangeType.FANOUT, durable=True)
            else:
                await channel.declare_queue(routing_key, durable=True)
                link.declared[key] = channel.default_exchange
        exchange = link.declared[exchange_name] if exchange_name else channel.default_exchange
        try:
            await exchange.publish(message, routing_key, mandatory=declare and not exchange_name)
        except PublishError:
            link.declared.pop(key, None)  # returned: the queue was deleted; declare it again
            raise

    # -- consuming ----------------------------------------------------------------------
    async def subscribe(self, topic: str, server: str, on_delivery: OnDelivery, *,
                        prefetch: int) -> Subscription:
        subscription = _AMQPSubscription(self, topic, server, on_delivery, prefetch)

        async def attach(link: _Link) -> _AMQPSubscription:
            await subscription.attach(link)
            self._subscriptions.append(subscription)
            return subscription

        return await self._on_current_connection(attach)

    async def reply_address(self) -> str:
        if self._reply_queue is not None:
            return self._reply_queue

        async def attach(link: _Link) -> str:
            if self._reply_queue is None:
                self._reply_queue = f"{self.queue_prefix}.reply.{uuid.uuid4().hex}"
                await self._consume_replies(link)
            return self._reply_queue

        return await self._on_current_connection(attach)

    async def caller_alive(self, address: str) -> bool:
        # A caller's reply queue is exclusive to its connection, so the broker deletes it
        # when the caller dies.  An empty ``mandatory`` message tells whether the queue
        # still exists: the broker returns it if not.  (A passive queue.declare would
        # close the channel every time: another connection's exclusive queue answers
        # RESOURCE_LOCKED.)  A caller seen alive is trusted for CALLER_SEEN_TTL, so this
        # costs one round trip per caller and second rather than per call.
        now = time.monotonic()
        if now - self._callers_seen.get(address, -CALLER_SEEN_TTL) < CALLER_SEEN_TTL:
            return True
        link = await self._wait_connected()
        assert link.publisher is not None
        probe = aio_pika.Message(b"", type=PROBE, expiration=0.001)
        try:
            await link.guard(link.publisher.default_exchange.publish(probe, address, mandatory=True))
        except PublishError:
            return False
        except RETRYABLE:
            return True
        if len(self._callers_seen) > 1000:
            self._callers_seen = {a: t for a, t in self._callers_seen.items() if now - t < CALLER_SEEN_TTL}
        self._callers_seen[address] = now
        return True

    async def _consume_replies(self, link: _Link) -> None:
        assert self._reply_queue is not None
        channel = await link.connection.channel(publisher_confirms=False)
        try:
            queue = await channel.declare_queue(self._reply_queue, exclusive=True, auto_delete=True)
        except ChannelLockedResource:
            # The broker has not noticed yet that our previous connection died and still
            # holds its exclusive queue: use a new one (replies sent to the old are lost).
            self._reply_queue = f"{self.queue_prefix}.reply.{uuid.uuid4().hex}"
            channel = await link.connection.channel(publisher_confirms=False)
            queue = await channel.declare_queue(self._reply_queue, exclusive=True, auto_delete=True)
        link.watch(channel)

        async def on_reply(message: AbstractIncomingMessage) -> None:
            if message.type != PROBE:
                self._on_reply(message.correlation_id, message.body)

        await queue.consume(on_reply, no_ack=True)


class _AckBarrier:
    """Confirms acks on one consumer channel, many at a time.

    AMQP has no reply to ``basic.ack``, but a channel's methods are processed in order:
    once a synchronous method sent after an ack is answered, the broker has processed
    the ack.  Acks that arrive while such a round trip is under way share the next one,
    so confirming costs one round trip per batch rather than per message.
    """

    def __init__(self, channel: AbstractChannel, prefetch: int) -> None:
        self._channel, self._prefetch = channel, prefetch
        self._next: asyncio.Future[None] | None = None  # the round trip not yet started
        self._task: asyncio.Task[None] | None = None

    async def after(self, ack: Awaitable[None]) -> None:
        await ack
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            if self._task is None or self._task.done():
                self._task = asyncio.get_running_loop().create_task(self._round_trips())
        await asyncio.shield(self._next)

    async def _round_trips(self) -> None:
        while self._next is not None:
            batch, self._next = self._next, None
            try:
                await self._channel.set_qos(prefetch_count=self._prefetch, global_=True)
            except asyncio.CancelledError:
                batch.cancel()
                raise
            except Exception as exc:
                batch.set_exception(exc)
                batch.exception()  # retrieved here too: its waiters may be gone
            else:
                batch.set_result(None)


class _AMQPDelivery(Delivery):
    def __init__(self, message: AbstractIncomingMessage, link: _Link, barrier: _AckBarrier) -> None:
        self.body = message.body
        self._message, self._link, self._barrier = message, link, barrier

    async def ack(self) -> bool:
        try:
            await self._link.guard(self._barrier.after(self._message.ack()))
            return True
        except RETRYABLE:
            return False

    async def reject(self) -> None:
        with suppress(*RETRYABLE):
            await self._link.guard(self._message.reject(requeue=False))

    async def requeue(self) -> None:
        # If the channel is dead the broker has already requeued the message.
        with suppress(*RETRYABLE):
            await self._link.guard(self._message.reject(requeue=True))


class _AMQPSubscription(Subscription):
    def __init__(self, transport: AMQPTransport, topic: str, server: str, on_delivery: OnDelivery,
                 prefetch: int) -> None:
        self._transport, self._on_delivery, self._prefetch = transport, on_delivery, prefetch
        self._topic, self._server = topic, server
        self._link: _Link | None = None
        self._channel: AbstractChannel | None = None
        self._consumers: list[tuple[Any, str]] = []
        self._closing = False

    async def attach(self, link: _Link) -> None:
        """Declare the queues and start consuming them on a new channel of ``link``."""
        if self._closing:
            return
        transport = self._transport
        channel = await link.connection.channel(publisher_confirms=False)
        try:
            # Channel-wide (RabbitMQ's "global") so the three consumers share one limit.
            await channel.set_qos(prefetch_count=self._prefetch, global_=True)
            fanout = await channel.declare_exchange(
                transport.fanout_exchange(self._topic), aio_pika.ExchangeType.FANOUT, durable=True)
            queues = [await channel.declare_queue(transport.queue_name(self._topic), durable=True),
                      await channel.declare_queue(transport.queue_name(self._topic, self._server), durable=True),
                      await channel.declare_queue(transport.fanout_queue(self._topic, self._server),
                                                  durable=True, arguments=FANOUT_QUEUE_ARGS)]
            await queues[2].bind(fanout)

            barrier = _AckBarrier(channel, self._prefetch)

            async def on_message(message: AbstractIncomingMessage) -> None:
                self._on_delivery(_AMQPDelivery(message, link, barrier))

            consumers = [(queue, await queue.consume(on_message)) for queue in queues]
        except BaseException:
            await _close_quietly(channel)
            raise
        # Only now: a channel error during set-up (say, a queue declared with other
        # arguments) must fail this subscription, not make the transport reconnect.
        channel.close_callbacks.add(lambda *_: None if self._closing else link.lost.set())
        self._link, self._channel, self._consumers = link, channel, consumers

    async def cancel(self) -> None:
        # Under the transport's lock so that a reconnection cannot re-attach us meanwhile.
        async with self._transport._lock:
            self._closing = True
            if self in self._transport._subscriptions:
                self._transport._subscriptions.remove(self)
            link, consumers, self._consumers = self._link, self._consumers, []
            if link is not None:
                for queue, tag in consumers:
                    with suppress(*RETRYABLE):
                        await link.guard(queue.cancel(tag))

    async def close(self) -> None:
        await self.cancel()
        if self._channel is not None:
            # Closing the channel hands every unacknowledged delivery back to its queue.
            await _close_quietly(self._channel)
            self._channel = None


async def _close_quietly(closable: AbstractConnection | AbstractChannel) -> None:
    with suppress(*RETRYABLE, asyncio.CancelledError):
        async with asyncio.timeout(CLOSE_TIMEOUT):
            await closable.close()
