"""The server side: consume a topic and dispatch requests to endpoint methods.

For each delivery, in this order (see docs/rpc.md for why):

1. decode the envelope; an undecodable one is rejected and logged;
2. wait for one of ``max_concurrency`` slots (the transport's prefetch bounds how many
   deliveries wait here; they stay unacknowledged, so a crash hands them to another
   server);
3. drop the request if it has expired: a cast past its TTL, or a call whose caller has
   given up, is never executed late;
4. drop it if this server already started a request with the same ``msg_id`` (a copy a
   publisher re-sent after losing its confirmation);
5. acknowledge it and wait for the transport to confirm the ack, and only then
6. run the method, and for a call send the reply (result or error).

Acknowledging *before* running is what makes execution at most once: once the method
starts, no crash or reconnection can make the broker hand the request to someone else.
The price is that a request whose server dies mid-way is lost rather than retried.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from pocketstack.common.rpc import envelope, exceptions
from pocketstack.common.rpc.envelope import Reply, Request
from pocketstack.common.rpc.exceptions import EnvelopeError, NoSuchMethod
from pocketstack.common.rpc.transports.base import Delivery, Subscription, Target, Transport

LOG = logging.getLogger(__name__)

# How long a started msg_id is remembered to drop re-sent copies.  Copies are published
# back to back, so they reach a server within moments of each other.
DEDUP_WINDOW = 600.0
DEDUP_MAX = 100_000


def _public_methods(endpoints: Iterable[object]) -> dict[str, Callable[..., Any]]:
    """Map method name -> bound method; the first endpoint defining a name wins.

    Only functions defined on the endpoint's class count, so data attributes, properties
    and names starting with ``_`` can never be called remotely.
    """
    methods: dict[str, Callable[..., Any]] = {}
    for endpoint in endpoints:
        for name in dir(type(endpoint)):
            if name.startswith("_") or name in methods:
                continue
            raw = inspect.getattr_static(endpoint, name)
            if isinstance(raw, (staticmethod, classmethod)) or inspect.isfunction(raw):
                methods[name] = getattr(endpoint, name)
    return methods


class RPCServer:
    """Serve ``endpoints``' public methods on ``target``'s topic.

    The server consumes three queues: the topic's (shared with the other servers of the
    topic), its own ``topic`` + ``server`` queue and its copy of the topic's fanout casts.
    Coroutine methods run on the event loop; plain functions run in a worker thread.
    """

    def __init__(self, transport: Transport, target: Target | str, endpoints: Iterable[object], *,
                 server: str | None = None, max_concurrency: int = 16) -> None:
        target = Target(target) if isinstance(target, str) else target
        if target.fanout:
            raise ValueError("a server's target cannot be fanout; every server receives fanout casts")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.transport = transport
        self.topic = target.topic
        self.server = server or target.server or socket.gethostname()
        Target(self.topic, self.server)  # validates the server name
        self.max_concurrency = max_concurrency
        self._methods = _public_methods(endpoints)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._started: OrderedDict[str, float] = OrderedDict()
        self._subscription: Subscription | None = None
        self._stopping = False

    @property
    def methods(self) -> list[str]:
        return sorted(self._methods)

    @property
    def serving(self) -> bool:
        """Consuming its queues (started and not stopped)."""
        return self._subscription is not None

    async def start(self) -> None:
        """Start consuming; returns once the subscription is active."""
        if self._subscription is not None:
            raise RuntimeError("server already started")
        self._stopping = False
        self._subscription = await self.transport.subscribe(
            self.topic, self.server, self._on_delivery, prefetch=self.max_concurrency)
        LOG.info("RPC server %s.%s serving %s", self.topic, self.server, ", ".join(self.methods))

    async def stop(self, grace: float | None = None) -> None:
        """Stop consuming and finish in-flight requests.

        Requests not started yet go back to the queue for another server.  After
        ``grace`` seconds (``None``: wait as long as it takes) running methods are
        cancelled; a cancelled cast is lost (it was acknowledged when it started).
        """
        if self._subscription is None:
            return
        subscription, self._subscription = self._subscription, None
        self._stopping = True
        await subscription.cancel()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                LOG.warning("RPC server %s.%s cancelled %d request(s) still running after %ss",
                            self.topic, self.server, len(pending), grace)
                await asyncio.wait(pending)
        await subscription.close()

    async def __aenter__(self) -> RPCServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _on_delivery(self, delivery: Delivery) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            LOG.error("RPC server %s.%s failed handling a message", self.topic, self.server,
                      exc_info=task.exception())

    async def _handle(self, delivery: Delivery) -> None:
        try:
            request = envelope.decode_request(delivery.body)
        except EnvelopeError as exc:
            LOG.error("RPC server %s.%s rejected a message: %s", self.topic, self.server, exc)
            await delivery.reject()
            return
        async with self._slots:
            if self._stopping:
                await delivery.requeue()
                return
            if request.remaining() <= 0:
                LOG.info("dropping expired %s %s of %r (%.3fs late)", request.kind, request.msg_id,
                         request.method, -request.remaining())
                await delivery.reject()
                return
            if request.kind == "call" and not await self.transport.caller_alive(request.reply_to or ""):
                LOG.info("dropping call %s of %r: its caller is gone", request.msg_id, request.method)
                await delivery.reject()
                return
            if not self._claim(request.msg_id):
                LOG.warning("dropping duplicate %s %s of %r", request.kind, request.msg_id, request.method)
                await delivery.reject()
                return
            if not await delivery.ack():
                # The broker may or may not have taken the ack; running now could run the
                # request twice, so leave it to a redelivery (to this or another server).
                self._started.pop(request.msg_id, None)
                LOG.warning("not running %s %s of %r: acknowledgement unconfirmed (connection lost)",
                            request.kind, request.msg_id, request.method)
                return
            reply = await self._invoke(request)
        if request.kind == "call":
            await self._send_reply(request, reply)

    def _claim(self, msg_id: str) -> bool:
        now = time.monotonic()
        while self._started and (len(self._started) >= DEDUP_MAX
                                 or next(iter(self._started.values())) < now - DEDUP_WINDOW):
            self._started.popitem(last=False)
        if msg_id in self._started:
            return False
        self._started[msg_id] = now
        return True

    async def _invoke(self, request: Request) -> Reply:
        method = self._methods.get(request.method)
        try:
            if method is None:
                raise NoSuchMethod(request.method)
            if inspect.iscoroutinefunction(method):
                result = await method(**request.args)
            else:
                result = await asyncio.to_thread(method, **request.args)
            self.transport.metrics.rpc_served(self.topic, request.kind, ok=True)
            return Reply(request.msg_id, result=result)
        except Exception as exc:
            self.transport.metrics.rpc_served(self.topic, request.kind, ok=False)
            if request.kind == "cast":  # nobody else will ever see it
                LOG.exception("cast %s of %r failed", request.msg_id, request.method)
            else:
                LOG.debug("call %s of %r raised %r", request.msg_id, request.method, exc)
            return Reply(request.msg_id, error=exceptions.to_wire(exc))

    async def _send_reply(self, request: Request, reply: Reply) -> None:
        if request.remaining() <= 0:
            LOG.info("caller of %s %r gave up before it finished; reply dropped", request.msg_id, request.method)
            return
        try:
            body = envelope.encode_reply(reply)
        except (TypeError, ValueError) as exc:
            error = TypeError(f"reply of {request.method!r} is not JSON-serialisable: {exc}")
            body = envelope.encode_reply(Reply(request.msg_id, error=exceptions.to_wire(error)))
        assert request.reply_to is not None  # decode_request guarantees it for calls
        try:
            async with asyncio.timeout(request.remaining()):
                await self.transport.send_reply(request.reply_to, body, msg_id=request.msg_id,
                                                expires_at=request.expires_at)
        except TimeoutError:
            LOG.warning("reply to %s %r not sent before its caller's deadline", request.msg_id, request.method)
