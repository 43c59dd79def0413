"""An in-process broker for the all-in-one cloud (``inproc://``).

It keeps the semantics of the RabbitMQ transport so that code tested against one behaves
the same on the other: queues outlive their consumers (a server that is stopped and
started again, or a new transport with the same URL, finds pending casts), messages
expire, unsettled deliveries go back to their queue when a subscription closes, a
queue's consumers take turns, fanout copies go to one queue per server, and everything
is still JSON on the way (so a non-serialisable argument fails here as it would there).

"Persisted" means "kept by this process": nothing survives the process.  Transports with
the same URL in one process share a broker, so services of the all-in-one talk to each
other however each of them obtained its transport.  ``inproc://name`` gives a separate
broker.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from pocketstack.common.rpc.transports.base import Delivery, OnDelivery, Subscription, Target, Transport


@dataclass
class _Message:
    body: bytes
    expires_at: float  # time.monotonic()


@dataclass(eq=False)
class _Consumer:
    on_delivery: OnDelivery
    prefetch: int
    queues: list[_Queue]
    unsettled: dict[int, tuple[_Queue, _Message]] = field(default_factory=dict)

    def has_credit(self) -> bool:
        return len(self.unsettled) < self.prefetch


@dataclass(eq=False)
class _Queue:
    messages: deque[_Message] = field(default_factory=deque)
    consumers: list[_Consumer] = field(default_factory=list)
    turn: int = 0


class ReplyRoute(Protocol):
    """Where the replies to one caller's calls go: its transport, or the bridge's
    connection to another process (:mod:`.local`)."""

    def _on_reply(self, msg_id: str | None, body: bytes) -> None: ...


class _Broker:
    def __init__(self) -> None:
        self.queues: dict[str, _Queue] = {}
        self.bindings: dict[str, set[str]] = {}  # fanout exchange -> queue names
        self.reply_routes: dict[str, ReplyRoute] = {}
        self._tags = itertools.count(1)

    def queue(self, name: str) -> _Queue:
        return self.queues.setdefault(name, _Queue())

    def publish(self, name: str, message: _Message) -> None:
        queue = self.queue(name)
        queue.messages.append(message)
        self.pump(queue)

    def pump(self, queue: _Queue) -> None:
        """Hand queued messages to consumers with credit, in turn; drop expired ones."""
        now = time.monotonic()
        while queue.messages:
            if queue.messages[0].expires_at <= now:
                queue.messages.popleft()
                continue
            consumer = self._next_consumer(queue)
            if consumer is None:
                return
            message = queue.messages.popleft()
            tag = next(self._tags)
            consumer.unsettled[tag] = (queue, message)
            consumer.on_delivery(_InprocDelivery(self, consumer, tag, message.body))

    @staticmethod
    def _next_consumer(queue: _Queue) -> _Consumer | None:
        for offset in range(len(queue.consumers)):
            index = (queue.turn + offset) % len(queue.consumers)
            if queue.consumers[index].has_credit():
                queue.turn = index + 1
                return queue.consumers[index]
        return None

    def settle(self, consumer: _Consumer, tag: int, *, requeue: bool) -> None:
        entry = consumer.unsettled.pop(tag, None)
        if entry is None:
            return
        queue, message = entry
        if requeue:
            queue.messages.appendleft(message)
            self.pump(queue)
        # The consumer has credit again: let each of its queues offer it work.
        for other in consumer.queues:
            self.pump(other)


_BROKERS: dict[str, _Broker] = {}


class _InprocDelivery(Delivery):
    def __init__(self, broker: _Broker, consumer: _Consumer, tag: int, body: bytes) -> None:
        self.body = body
        self._broker, self._consumer, self._tag = broker, consumer, tag

    async def ack(self) -> bool:
        self._broker.settle(self._consumer, self._tag, requeue=False)
        return True

    async def reject(self) -> None:
        self._broker.settle(self._consumer, self._tag, requeue=False)

    async def requeue(self) -> None:
        self._broker.settle(self._consumer, self._tag, requeue=True)


class _InprocSubscription(Subscription):
    def __init__(self, broker: _Broker, consumer: _Consumer) -> None:
        self._broker, self._consumer = broker, consumer

    async def cancel(self) -> None:
        for queue in self._consumer.queues:
            if self._consumer in queue.consumers:
                queue.consumers.remove(self._consumer)

    async def caller_alive(self, address: str) -> bool:
        return address in self._broker.reply_routes

    async def close(self) -> None:
        await self.cancel()
        # Like a closed AMQP channel: unsettled messages return to the head of their
        # queue, oldest first.
        for tag in sorted(self._consumer.unsettled, reverse=True):
            self._broker.settle(self._consumer, tag, requeue=True)


class InprocTransport(Transport):
    def __init__(self, name: str = "", *, queue_prefix: str = "pocketstack") -> None:
        super().__init__(queue_prefix)
        self._broker = _BROKERS.setdefault(name, _Broker())
        self._reply_address: str | None = None

    async def send(self, target: Target, body: bytes, *, msg_id: str, expires_at: float,
                   persistent: bool) -> None:
        deadline = time.monotonic() + (expires_at - time.time())
        if target.fanout:
            names = sorted(self._broker.bindings.get(self.fanout_exchange(target.topic), ()))
        else:
            names = [self.queue_name(target.topic, target.server)]
        for name in names:
            self._broker.publish(name, _Message(body, deadline))

    async def send_reply(self, address: str, body: bytes, *, msg_id: str, expires_at: float) -> None:
        transport = self._broker.reply_routes.get(address)
        if transport is not None:
            transport._on_reply(msg_id, body)

    async def subscribe(self, topic: str, server: str, on_delivery: OnDelivery, *,
                        prefetch: int) -> Subscription:
        fanout_queue = self.fanout_queue(topic, server)
        self._broker.bindings.setdefault(self.fanout_exchange(topic), set()).add(fanout_queue)
        queues = [self._broker.queue(name) for name in
                  (self.queue_name(topic), self.queue_name(topic, server), fanout_queue)]
        consumer = _Consumer(on_delivery, prefetch, queues)
        for queue in queues:
            queue.consumers.append(consumer)
        for queue in queues:
            self._broker.pump(queue)
        return _InprocSubscription(self._broker, consumer)

    async def reply_address(self) -> str:
        if self._reply_address is None:
            self._reply_address = f"{self.queue_prefix}.reply.{uuid.uuid4().hex}"
            self._broker.reply_routes[self._reply_address] = self
        return self._reply_address

    async def caller_alive(self, address: str) -> bool:
        return address in self._broker.reply_routes

    def add_reply_route(self, address: str, route: ReplyRoute) -> None:
        """Deliver replies sent to ``address`` to ``route`` (a caller in another process)."""
        self._broker.reply_routes[address] = route

    def remove_reply_route(self, address: str) -> None:
        self._broker.reply_routes.pop(address, None)

    def queue_depths(self) -> dict[str, int]:
        prefix = f"{self.queue_prefix}.rpc."
        # list(): read from a scrape thread while the loop may add queues.
        return {name[len(prefix):]: len(queue.messages) for name, queue in list(self._broker.queues.items())
                if name.startswith(prefix)}

    async def close(self) -> None:
        # Like an exclusive reply queue, the route dies with its owner.
        if self._reply_address is not None:
            self._broker.reply_routes.pop(self._reply_address, None)
            self._reply_address = None
