"""The RPC guarantees against a real RabbitMQ (127.0.0.1:5672, guest/guest).

Each test uses its own queue prefix and deletes the queues and exchanges it created.
Connection failures are produced two ways, neither of which restarts the shared broker:
``rabbitmqctl close_connection`` (the broker closes our connections, as on a broker
restart or a node failover) and a TCP proxy between us and the broker that the test
can cut and keep down (as on a network failure or a broker that is down for a while).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import subprocess
import time
import uuid
from contextlib import suppress

import aio_pika
import pytest

from pocketstack.common import rpc
from pocketstack.common.rpc.transports import amqp
from pocketstack.common.rpc.transports.amqp import AMQPTransport

from support import require_service

pytestmark = pytest.mark.timeout(60)

BROKER = ("127.0.0.1", 5672)
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@rpc.remote_exception(fields=["volume_id", "size"])
class VolumeTooSmall(Exception):
    pass


class Endpoint:
    def __init__(self) -> None:
        self.runs: list[tuple[str, object]] = []
        self.started = asyncio.Event()

    async def echo(self, value: object) -> object:
        return value

    def add(self, a: int, b: int) -> int:
        return a + b

    async def note(self, value: object) -> None:
        self.runs.append(("note", value))

    async def sleep(self, seconds: float, tag: object = None) -> object:
        self.runs.append(("sleep", tag))
        self.started.set()
        await asyncio.sleep(seconds)
        self.runs.append(("slept", tag))
        return tag

    async def extend(self, volume_id: str, size: int) -> None:
        exc = VolumeTooSmall(f"volume {volume_id} cannot shrink to {size}G")
        exc.volume_id, exc.size = volume_id, size
        raise exc

    async def explode(self) -> None:
        raise ZeroDivisionError("boom")

    def values(self, kind: str) -> list[object]:
        return [value for name, value in self.runs if name == kind]


async def wait_until(predicate, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


class Broker:
    """Builds transports, servers and clients under one prefix, and removes them after."""

    def __init__(self) -> None:
        self.prefix = f"pstest{uuid.uuid4().hex[:10]}"
        self.transports: list[AMQPTransport] = []
        self.servers: list[rpc.RPCServer] = []
        self.names: set[tuple[str, str | None]] = set()

    def transport(self, url: str = AMQP_URL) -> AMQPTransport:
        transport = AMQPTransport(url, queue_prefix=self.prefix, min_backoff=0.05, max_backoff=0.5)
        self.transports.append(transport)
        return transport

    async def serve(self, endpoint, *, topic="compute", server="host1", transport=None, **kwargs):
        self.names.add((topic, server))
        srv = rpc.RPCServer(transport or self.transport(), topic, [endpoint], server=server, **kwargs)
        await srv.start()
        self.servers.append(srv)
        return srv

    def client(self, transport, topic="compute", **kwargs) -> rpc.RPCClient:
        self.names.add((topic, None))
        return rpc.RPCClient(transport, topic, **kwargs)

    async def queue_depth(self, name: str) -> int:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(name, passive=True)
            return queue.declaration_result.message_count

    async def cleanup(self) -> None:
        for srv in self.servers:
            with suppress(Exception):
                await srv.stop(grace=1)
        for transport in self.transports:
            await transport.close()
        naming = self.transports[0] if self.transports else AMQPTransport(AMQP_URL, queue_prefix=self.prefix)
        topics = {topic for topic, _ in self.names}
        servers = {server for _, server in self.names if server}
        queues = {naming.queue_name(t) for t in topics}
        queues |= {naming.queue_name(t, s) for t in topics for s in servers}
        queues |= {naming.fanout_queue(t, s) for t in topics for s in servers}
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            for name in sorted(queues):
                await channel.queue_delete(name)
            for topic in topics:
                await channel.exchange_delete(naming.fanout_exchange(topic))


@pytest.fixture
async def broker():
    require_service("rabbitmq")
    broker = Broker()
    yield broker
    await broker.cleanup()


# -- delivery and expiry -----------------------------------------------------------------------

async def test_call_and_cast_round_trip(broker, caplog, monkeypatch):
    # Check whether each call's caller is alive on every call, not once a second.
    monkeypatch.setattr(amqp, "CALLER_SEEN_TTL", 0.0)
    endpoint = Endpoint()
    await broker.serve(endpoint, max_concurrency=4)
    client = broker.client(broker.transport(), timeout=10)

    with caplog.at_level(logging.INFO, logger="pocketstack.common.rpc"):
        assert await client.call("echo", value={"nested": [1, 2.5, "x", None, True]}) == {
            "nested": [1, 2.5, "x", None, True]}
        assert await client.call("add", a=40, b=2) == 42
        await client.cast("note", value="hello")
        await wait_until(lambda: endpoint.values("note") == ["hello"])
        # Several callers, concurrently: nothing in normal operation may cost a connection.
        others = [broker.client(broker.transport(), timeout=10) for _ in range(3)]
        results = await asyncio.gather(*(c.call("echo", value=i) for i in range(60) for c in others))
        assert sorted(results) == sorted(list(range(60)) * 3)
    assert "lost connection" not in caplog.text and "retrying" not in caplog.text


async def test_cast_to_a_stopped_consumer_is_delivered_when_it_starts(broker):
    client = broker.client(broker.transport())
    endpoint = Endpoint()
    server = await broker.serve(endpoint)
    await server.stop()

    await client.cast("note", value="to-topic")
    await client.prepare(server="host1").cast("note", value="to-server")
    await client.prepare(fanout=True).cast("note", value="to-fanout")
    await client.prepare(server="host2").cast("note", value="to-never-started")
    assert await broker.queue_depth(client.transport.queue_name("compute")) == 1

    # A restarted process: new transport, new connection, new server object.
    restarted = Endpoint()
    await broker.serve(restarted)
    await wait_until(lambda: len(restarted.runs) == 3)
    assert sorted(restarted.values("note")) == ["to-fanout", "to-server", "to-topic"]
    other = Endpoint()
    await broker.serve(other, server="host2")
    await wait_until(lambda: other.values("note") == ["to-never-started"])
    assert endpoint.runs == []


async def test_cast_with_short_ttl_to_a_stopped_consumer_is_dropped(broker):
    client = broker.client(broker.transport())
    server = await broker.serve(Endpoint())
    await server.stop()

    await client.prepare(ttl=0.3).cast("note", value="stale")
    queue = client.transport.queue_name("compute")
    assert await broker.queue_depth(queue) == 1
    await asyncio.sleep(0.6)
    assert await broker.queue_depth(queue) == 0  # the broker itself dropped it
    await client.cast("note", value="fresh")
    endpoint = Endpoint()
    await broker.serve(endpoint)
    await wait_until(lambda: endpoint.values("note") == ["fresh"])
    await client.prepare(timeout=5).call("echo", value="barrier")
    assert endpoint.values("note") == ["fresh"]


async def test_call_without_consumer_times_out(broker):
    client = broker.client(broker.transport(), topic="nobody", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(rpc.Timeout):
        await client.call("echo", value=1)
    assert time.monotonic() - started < 2


async def test_call_that_had_not_started_when_the_caller_gave_up_never_runs(broker):
    endpoint = Endpoint()
    await broker.serve(endpoint, max_concurrency=1)
    client = broker.client(broker.transport())

    slow = asyncio.create_task(client.prepare(timeout=10).call("sleep", seconds=1.0, tag="slow"))
    await endpoint.started.wait()
    with pytest.raises(rpc.Timeout):
        await client.prepare(timeout=0.3).call("sleep", seconds=0, tag="late")
    with pytest.raises(rpc.Timeout):  # running, but slower than its caller's patience
        await client.prepare(timeout=0.3).call("echo", value="also-late")
    assert await slow == "slow"
    assert await client.prepare(timeout=5).call("echo", value="barrier") == "barrier"
    assert endpoint.values("sleep") == ["slow"]


async def test_call_whose_caller_died_is_not_executed(broker, caplog):
    server = await broker.serve(Endpoint())
    await server.stop()
    caller = broker.transport()
    pending = asyncio.create_task(broker.client(caller, timeout=30).call("note", value="orphan"))
    await wait_until(lambda: caller._reply_queue is not None)
    await asyncio.sleep(0.2)  # published; waits in the queue
    pending.cancel()
    await caller.close()  # its exclusive reply queue goes with its connection

    endpoint = Endpoint()
    with caplog.at_level(logging.INFO, logger="pocketstack.common.rpc.server"):
        await broker.serve(endpoint)
        assert await broker.client(broker.transport(), timeout=5).call("echo", value="x") == "x"
        assert await broker.client(broker.transport(), timeout=5).call("echo", value="y") == "y"
    assert endpoint.values("note") == []
    assert "its caller is gone" in caplog.text


# -- errors ----------------------------------------------------------------------------------------

async def test_remote_exception_is_reraised_with_its_type_and_fields(broker):
    await broker.serve(Endpoint())
    client = broker.client(broker.transport(), timeout=10)
    with pytest.raises(VolumeTooSmall) as caught:
        await client.call("extend", volume_id="v-1", size=2)
    assert (caught.value.volume_id, caught.value.size) == ("v-1", 2)
    assert str(caught.value) == "volume v-1 cannot shrink to 2G"


async def test_other_exception_becomes_remote_error(broker):
    await broker.serve(Endpoint())
    client = broker.client(broker.transport(), timeout=10)
    with pytest.raises(rpc.RemoteError) as caught:
        await client.call("explode")
    assert (caught.value.exc_type, caught.value.message) == ("ZeroDivisionError", "boom")
    with pytest.raises(rpc.NoSuchMethod):
        await client.call("nope")


async def test_unknown_envelope_version_is_rejected_not_requeued(broker, caplog):
    endpoint = Endpoint()
    await broker.serve(endpoint)
    transport = broker.transport()
    body = json.dumps({"v": 99, "kind": "cast", "msg_id": "m", "method": "note", "args": {"value": 1},
                       "expires_at": time.time() + 60}).encode()
    with caplog.at_level(logging.ERROR, logger="pocketstack.common.rpc.server"):
        await transport.send(rpc.Target("compute"), body, msg_id="m", expires_at=time.time() + 60,
                             persistent=True)
        assert await broker.client(transport, timeout=5).call("echo", value="ok") == "ok"
    assert "unsupported envelope version 99" in caplog.text
    assert endpoint.runs == []
    assert await broker.queue_depth(transport.queue_name("compute")) == 0


# -- several servers ---------------------------------------------------------------------------------

async def test_fanout_reaches_all_and_topic_casts_reach_one(broker):
    endpoints = [Endpoint() for _ in range(3)]
    for i, endpoint in enumerate(endpoints):
        await broker.serve(endpoint, server=f"host{i}")
    client = broker.client(broker.transport())

    await client.prepare(fanout=True).cast("note", value="all")
    for i in range(9):
        await client.cast("note", value=i)
    await wait_until(lambda: sum(len(e.runs) for e in endpoints) == 12)
    await asyncio.sleep(0.1)
    assert all(e.values("note").count("all") == 1 for e in endpoints)
    topic_casts = [v for e in endpoints for v in e.values("note") if v != "all"]
    assert sorted(topic_casts) == list(range(9))


async def test_crashed_consumer_redelivers_only_work_it_had_not_started(broker):
    # Server A has two casts: one running (acknowledged) and one waiting for a slot
    # (not acknowledged).  A's process "crashes" (its connection drops without a
    # graceful stop): the waiting cast goes to B, the running one is not run again.
    first_transport = broker.transport()
    first = Endpoint()
    await broker.serve(first, max_concurrency=1, transport=first_transport)
    client = broker.client(broker.transport())
    await client.cast("sleep", seconds=1.0, tag="running")
    await first.started.wait()
    await client.cast("note", value="waiting")
    await asyncio.sleep(0.2)  # delivered to A (prefetch), which has no free slot
    assert first.values("note") == []

    await first_transport.close()
    second = Endpoint()
    await broker.serve(second, server="host2")
    await wait_until(lambda: second.values("note") == ["waiting"])
    await asyncio.sleep(1.0)  # A's running cast finishes; A could not ack "waiting", so skips it
    assert second.values("sleep") == [] and first.values("note") == []


async def test_graceful_stop_finishes_in_flight_work_and_hands_back_the_rest(broker):
    first = Endpoint()
    server = await broker.serve(first, max_concurrency=1)
    client = broker.client(broker.transport(), timeout=10)
    running = asyncio.create_task(client.call("sleep", seconds=0.5, tag="running"))
    await first.started.wait()
    for i in range(3):
        await client.cast("note", value=i)
    await asyncio.sleep(0.1)

    await server.stop()
    assert await running == "running"
    assert first.values("note") == []
    second = Endpoint()
    await broker.serve(second, server="host2")
    await wait_until(lambda: len(second.values("note")) == 3)
    assert sorted(second.values("note")) == [0, 1, 2]


# -- broker connection failures -------------------------------------------------------------------

def _rabbitmqctl(*args: str) -> str:
    result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=30)
    if result.returncode:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def close_connections_from_broker(prefix: str) -> int:
    """Have the broker close every connection of this test (as a broker restart would)."""
    listing = _rabbitmqctl("list_connections", "-q", "--no-table-headers", "pid", "client_properties")
    pids = [line.split("\t", 1)[0] for line in listing.splitlines() if f"pocketstack {prefix} pid" in line]
    for pid in pids:
        _rabbitmqctl("close_connection", pid, "pocketstack test: simulated broker failure")
    return len(pids)


@pytest.fixture
def rabbitmqctl():
    if shutil.which("rabbitmqctl") is None or os.geteuid() != 0:
        pytest.skip("needs rabbitmqctl as root to close connections from the broker side "
                    "(test_broker_outage_through_proxy covers reconnection without it)")
    try:
        _rabbitmqctl("list_connections", "-q", "pid")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"rabbitmqctl cannot reach the broker: {exc}")


async def test_connections_closed_by_the_broker_mid_stream(broker, rabbitmqctl, caplog):
    endpoint = Endpoint()
    await broker.serve(endpoint, server="host1")
    client = broker.client(broker.transport(), timeout=10)
    assert await client.call("echo", value="warm-up") == "warm-up"  # reply queue exists

    async def produce() -> None:
        for i in range(60):
            await client.cast("note", value=i)
            await asyncio.sleep(0.01)

    with caplog.at_level(logging.WARNING, logger="pocketstack.common.rpc"):
        producer = asyncio.create_task(produce())
        await wait_until(lambda: len(endpoint.runs) >= 15)
        assert close_connections_from_broker(broker.prefix) == 2
        in_flight = asyncio.create_task(client.prepare(timeout=3).call("echo", value="in-flight"))
        await producer
        await wait_until(lambda: len(endpoint.runs) >= 60 - caplog.text.count("acknowledgement unconfirmed"))
        with suppress(rpc.Timeout):  # delivered, or a Timeout: never a hang
            assert await in_flight == "in-flight"

    notes = endpoint.values("note")
    assert len(notes) == len(set(notes)), "a cast ran twice"
    lost = set(range(60)) - set(notes)
    # At most once: a cast is only lost if its ack could not be confirmed, and then the
    # server says so; casts that were merely in flight are redelivered.
    assert len(lost) <= caplog.text.count("acknowledgement unconfirmed")
    assert "lost connection to RabbitMQ" in caplog.text
    # Consumers are back: new calls and casts work on the new connections.
    assert await client.call("echo", value="after") == "after"


class TcpProxy:
    """A cuttable TCP hop to the broker."""

    def __init__(self) -> None:
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Refuse new connections and drop the open ones abruptly."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*BROKER)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_broker_outage_through_proxy(broker, caplog):
    proxy = TcpProxy()
    await proxy.start()
    try:
        endpoint = Endpoint()
        await broker.serve(endpoint, transport=broker.transport(proxy.url))
        client = broker.client(broker.transport(proxy.url), timeout=10)
        assert await client.call("echo", value="before") == "before"

        with caplog.at_level(logging.WARNING, logger="pocketstack.common.rpc"):
            await proxy.stop()
            # Casts made while the broker is unreachable wait for the reconnection (up
            # to the client's timeout) instead of being lost; a short call times out.
            casts = [asyncio.create_task(client.cast("note", value=i)) for i in range(5)]
            with pytest.raises(rpc.Timeout):
                await client.prepare(timeout=0.5).call("echo", value="during")
            assert not any(cast.done() for cast in casts)
            await asyncio.sleep(0.5)  # a few reconnection attempts fail meanwhile
            await proxy.start()
            await asyncio.gather(*casts)
            await wait_until(lambda: len(endpoint.values("note")) == 5)

        assert sorted(endpoint.values("note")) == list(range(5))
        assert "unavailable" in caplog.text  # the failed attempts were logged
        assert await client.call("echo", value="after") == "after"
    finally:
        await broker.cleanup()
        broker.servers.clear()
        broker.transports.clear()
        await proxy.stop()
