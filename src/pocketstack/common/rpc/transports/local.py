"""The all-in-one cloud's broker shared with its other API processes (``local://``).

``pocketstack up --api-workers N`` serves the APIs from N processes.  The first one (the
primary) runs every worker (scheduler, compute hosts, volume worker, network agent) on
its in-process broker (:mod:`.inproc`); the others only serve HTTP, so all they need of
RPC is to send requests to those workers and receive the replies to their calls.
:class:`BrokerBridge` lets them: it listens on a Unix socket in the data directory and
hands each frame to the primary's own in-process broker, so a cast from any process
lands in the same queues, with the same expiry and delivery rules, as one made in the
primary.  :class:`LocalTransport` is the other processes' side of it.

The guarantees stay those of ``inproc://`` (docs/rpc.md): a send returns once the
primary's broker holds the message; nothing survives the primary, which is the cloud.
A caller's reply route lives as long as its connection, so a worker whose caller died
(``caller_alive``) drops the call rather than run it for nobody.

The primary's broker may be replaced while it runs (a live reset starts the cloud's
workers again on a fresh one, :mod:`pocketstack.testing.keeper`): the bridge always
hands frames to the current one, and :meth:`BrokerBridge.follow_broker` moves the
connected processes' reply routes to it.  The same connection carries the few requests
only the primary can serve (``primary`` frames, :meth:`LocalTransport.ask_primary`):
a live reset asked of whichever process took the HTTP request.

Frames are msgpack maps preceded by a 4-byte big-endian length.  Requests carry an
``id`` the bridge answers with (``ok`` or ``error``); replies to calls come unasked
(``reply``).  The socket is the data directory's, created with mode 0600: only the
cloud's own user can reach the broker, as only it can reach the database file.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgpack

from pocketstack.common.errors import ApiError
from pocketstack.common.rpc.transports.base import OnDelivery, Subscription, Target, Transport
from pocketstack.common.rpc.transports.inproc import InprocTransport

LOG = logging.getLogger(__name__)

_HEADER = struct.Struct("!I")
MAX_FRAME = 64 * 1024 * 1024  # RPC bodies are small; a bigger length is a broken peer

# What the primary serves its API worker processes besides the broker: by name, a
# coroutine function of keyword arguments returning a msgpack-able value.
PrimaryOps = dict[str, Callable[..., Awaitable[Any]]]


async def _read_frame(reader: asyncio.StreamReader) -> dict[str, Any]:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    if size > MAX_FRAME:
        raise ConnectionError(f"RPC bridge frame of {size} bytes refused")
    frame = msgpack.unpackb(await reader.readexactly(size), raw=False)
    if not isinstance(frame, dict):
        raise ConnectionError("RPC bridge frame is not a map")
    return frame


def _frame(message: dict[str, Any]) -> bytes:
    data: bytes = msgpack.packb(message, use_bin_type=True)
    return _HEADER.pack(len(data)) + data


class _Connection:
    """One API process connected to the bridge: its requests, and the route of the
    replies to its calls."""

    def __init__(self, bridge: BrokerBridge, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.bridge, self.reader, self.writer = bridge, reader, writer
        self.reply_address: str | None = None

    def _on_reply(self, msg_id: str | None, body: bytes) -> None:
        """Called by the broker (as a reply route) when a worker answers one of our calls."""
        if not self.writer.is_closing():
            self.writer.write(_frame({"op": "reply", "msg_id": msg_id, "body": body}))

    async def serve(self) -> None:
        try:
            while True:
                frame = await _read_frame(self.reader)
                try:
                    result = await self._handle(frame)
                    answer: dict[str, Any] = {"op": "ok", "id": frame.get("id"), "result": result}
                except ApiError as exc:  # a primary operation refused: the asking process answers it
                    answer = {"op": "error", "id": frame.get("id"), "message": exc.message, "status": exc.status}
                except Exception as exc:  # noqa: BLE001 - the caller gets it, the bridge goes on
                    answer = {"op": "error", "id": frame.get("id"), "message": f"{type(exc).__name__}: {exc}"}
                self.writer.write(_frame(answer))
                await self.writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, msgpack.UnpackException) as exc:
            if not isinstance(exc, asyncio.IncompleteReadError):
                LOG.warning("RPC bridge: dropping a connection: %s", exc)
        finally:
            self.close()

    async def _handle(self, frame: dict[str, Any]) -> Any:
        transport, op = self.bridge.transport, frame.get("op")
        if op == "send":
            topic, server, fanout = frame["target"]
            await transport.send(Target(topic, server, fanout), frame["body"], msg_id=frame["msg_id"],
                                 expires_at=frame["expires_at"], persistent=frame["persistent"])
            return None
        if op == "send_reply":
            await transport.send_reply(frame["address"], frame["body"], msg_id=frame["msg_id"],
                                       expires_at=frame["expires_at"])
            return None
        if op == "reply_address":
            if self.reply_address is None:
                self.reply_address = f"{transport.queue_prefix}.reply.{uuid.uuid4().hex}"
                transport.add_reply_route(self.reply_address, self)
            return self.reply_address
        if op == "caller_alive":
            return await transport.caller_alive(frame["address"])
        if op == "primary":
            handler = self.bridge.primary_ops.get(frame["operation"])
            if handler is None:
                raise ValueError(f"the primary serves no operation {frame['operation']!r}")
            return await handler(**frame["args"])
        raise ValueError(f"unknown RPC bridge operation {op!r}")

    def close(self) -> None:
        if self.reply_address is not None:
            self.bridge.transport.remove_reply_route(self.reply_address)
            self.reply_address = None
        self.writer.close()


class BrokerBridge:
    """Serves the primary's in-process broker to its API worker processes.  ``broker``
    gives the primary's current in-process transport; ``primary_ops`` what else they may
    ask of the primary."""

    def __init__(self, broker: Callable[[], InprocTransport], path: Path, primary_ops: PrimaryOps | None = None):
        self._broker, self.path = broker, path
        self.primary_ops: PrimaryOps = primary_ops or {}
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[_Connection] = set()

    @property
    def transport(self) -> InprocTransport:
        return self._broker()

    def follow_broker(self) -> None:
        """The primary's broker was replaced: route the replies to the connected
        processes' calls through the new one (calls in flight on the old one are lost
        with it, and time out)."""
        for connection in self._connections:
            if connection.reply_address is not None:
                self.transport.add_reply_route(connection.reply_address, connection)

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._accept, path=str(self.path))
        finally:
            os.umask(old_umask)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(self, reader, writer)
        self._connections.add(connection)
        try:
            await connection.serve()
        finally:
            self._connections.discard(connection)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._connections):
                connection.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class LocalTransport(Transport):
    """An API worker process's RPC: every request goes to the primary's broker."""

    RECONNECT_DELAY = 0.05

    def __init__(self, path: str, *, queue_prefix: str = "pocketstack") -> None:
        super().__init__(queue_prefix)
        self.path = path
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()
        self._reply_address: str | None = None

    async def _connected(self) -> asyncio.StreamWriter:
        """The connection to the bridge, (re)made on demand; waits while the primary is
        still starting (the caller's timeout bounds the wait)."""
        async with self._connecting:
            while self._writer is None or self._writer.is_closing():
                try:
                    reader, writer = await asyncio.open_unix_connection(self.path)
                except (FileNotFoundError, ConnectionRefusedError):
                    await asyncio.sleep(self.RECONNECT_DELAY)
                    continue
                self._writer, self._reply_address = writer, None
                self._reader_task = asyncio.create_task(self._read(reader, writer), name="rpc bridge reader")
            return self._writer

    async def _read(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                frame = await _read_frame(reader)
                if frame.get("op") == "reply":
                    self._on_reply(frame.get("msg_id"), frame["body"])
                    continue
                future = self._pending.pop(int(frame.get("id") or 0), None)
                if future is None or future.done():
                    continue
                if frame.get("op") == "ok":
                    future.set_result(frame.get("result"))
                elif frame.get("status") is not None:
                    future.set_exception(ApiError(str(frame.get("message")), status=int(frame["status"])))
                else:
                    future.set_exception(ConnectionError(f"RPC bridge: {frame.get('message')}"))
        except (asyncio.IncompleteReadError, ConnectionError, msgpack.UnpackException) as exc:
            LOG.warning("lost the RPC bridge to the primary process: %s", exc)
        finally:
            writer.close()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("RPC bridge connection lost"))
            self._pending.clear()

    async def _request(self, op: str, **fields: Any) -> Any:
        """Send one request; a lost connection is retried (the caller's timeout bounds it),
        so a send returns only once the primary's broker holds the message.  An operation
        the primary refused raises its :class:`ApiError`."""
        while True:
            writer = await self._connected()
            request_id = next(self._ids)
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = future
            try:
                writer.write(_frame({"op": op, "id": request_id, **fields}))
                await writer.drain()
                return await future
            except ConnectionError:
                if op in ("reply_address", "primary"):
                    raise
                await asyncio.sleep(self.RECONNECT_DELAY)
            finally:
                self._pending.pop(request_id, None)

    async def send(self, target: Target, body: bytes, *, msg_id: str, expires_at: float,
                   persistent: bool) -> None:
        if expires_at <= time.time():
            return
        await self._request("send", target=[target.topic, target.server, target.fanout], body=body,
                            msg_id=msg_id, expires_at=expires_at, persistent=persistent)

    async def send_reply(self, address: str, body: bytes, *, msg_id: str, expires_at: float) -> None:
        await self._request("send_reply", address=address, body=body, msg_id=msg_id, expires_at=expires_at)

    async def subscribe(self, topic: str, server: str, on_delivery: OnDelivery, *,
                        prefetch: int) -> Subscription:
        raise NotImplementedError("an API worker process (local://) only sends: the workers run in the primary")

    async def reply_address(self) -> str:
        await self._connected()
        if self._reply_address is None:
            self._reply_address = await self._request("reply_address")
        return self._reply_address

    async def caller_alive(self, address: str) -> bool:
        return bool(await self._request("caller_alive", address=address))

    async def ask_primary(self, operation: str, /, **args: Any) -> Any:
        """Have the primary process run ``operation`` (one of the bridge's ``primary_ops``)
        and answer its result."""
        try:
            return await self._request("primary", operation=operation, args=args)
        except ConnectionError as exc:  # not retried: the operation may have run
            raise ApiError(f"The primary process of this cloud did not do it: {exc}", status=503) from None

    async def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
            self._reader_task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
