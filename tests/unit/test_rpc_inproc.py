"""The RPC guarantees (docs/rpc.md), exercised on the in-process transport."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid

import pytest

from pocketstack.common import rpc
from pocketstack.common.rpc import envelope
from pocketstack.common.rpc.envelope import Request

pytestmark = pytest.mark.timeout(30)


@rpc.remote_exception(fields=["instance_id", "state"])
class InstanceBusy(Exception):
    def __init__(self, instance_id: str, state: str) -> None:
        super().__init__(f"instance {instance_id} is {state}")
        self.instance_id = instance_id
        self.state = state


class InstanceLocked(InstanceBusy):
    """Not registered: travels as its registered base class."""


class Endpoint:
    """Records every execution; ``sleep`` lets a test keep a request running."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.runs: list[tuple[str, object]] = []
        self.active = 0
        self.max_active = 0
        self.threads: list[str] = []
        self.started = asyncio.Event()

    async def echo(self, value: object) -> object:
        self.runs.append(("echo", value))
        return value

    def add(self, a: int, b: int) -> int:
        self.threads.append(threading.current_thread().name)
        self.runs.append(("add", (a, b)))
        return a + b

    async def note(self, value: object) -> None:
        self.runs.append(("note", value))

    async def sleep(self, seconds: float, tag: object = None) -> object:
        self.runs.append(("sleep", tag))
        self.started.set()
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.active -= 1
        self.runs.append(("slept", tag))
        return tag

    async def busy(self, instance_id: str) -> None:
        raise InstanceBusy(instance_id, "rebooting")

    async def locked(self, instance_id: str) -> None:
        raise InstanceLocked(instance_id, "locked")

    async def broken(self) -> None:
        raise KeyError("flavor")

    async def unserialisable(self) -> object:
        return {1, 2}

    def _private(self) -> str:
        return "secret"

    def values(self, kind: str) -> list[object]:
        return [value for name, value in self.runs if name == kind]


async def wait_until(predicate, timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


@pytest.fixture
def prefix() -> str:
    return f"test{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def transport(prefix):
    transport = rpc.get_transport("inproc://", queue_prefix=prefix)
    yield transport
    await transport.close()


@pytest.fixture
async def serve(transport):
    servers: list[rpc.RPCServer] = []

    async def start(endpoint, *, topic="compute", server="host1", transport_=None, **kwargs):
        srv = rpc.RPCServer(transport_ or transport, rpc.Target(topic), [endpoint], server=server, **kwargs)
        await srv.start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.stop(grace=1)


# -- call and cast basics ------------------------------------------------------------------

async def test_call_returns_result_from_async_and_sync_methods(transport, serve):
    endpoint = Endpoint()
    await serve(endpoint)
    client = rpc.RPCClient(transport, rpc.Target("compute"), timeout=5)

    assert await client.call("echo", value={"a": [1, "x", None]}) == {"a": [1, "x", None]}
    assert await client.call("add", a=2, b=3) == 5
    # Sync methods run in a worker thread, never on the event loop.
    assert endpoint.threads and threading.main_thread().name not in endpoint.threads


async def test_cast_runs_once_on_exactly_one_of_the_competing_servers(transport, serve):
    first, second = Endpoint(), Endpoint()
    await serve(first, server="host1")
    await serve(second, server="host2")
    client = rpc.RPCClient(transport, "compute")

    for i in range(20):
        await client.cast("note", value=i)
    await wait_until(lambda: len(first.runs) + len(second.runs) == 20)
    await asyncio.sleep(0.05)

    assert sorted(first.values("note") + second.values("note")) == list(range(20))
    assert first.runs and second.runs  # the queue's consumers take turns


async def test_server_target_reaches_only_that_server(transport, serve):
    first, second = Endpoint(), Endpoint()
    await serve(first, server="host1")
    await serve(second, server="host2")
    client = rpc.RPCClient(transport, "compute").prepare(server="host2")

    for i in range(5):
        assert await client.call("echo", value=i) == i
    await client.cast("note", value="direct")
    await wait_until(lambda: second.values("note") == ["direct"])

    assert first.runs == []


async def test_fanout_cast_reaches_every_server(transport, serve):
    endpoints = [Endpoint(), Endpoint(), Endpoint()]
    for i, endpoint in enumerate(endpoints):
        await serve(endpoint, server=f"host{i}")
    client = rpc.RPCClient(transport, "compute").prepare(fanout=True)

    await client.cast("note", value="refresh")
    await wait_until(lambda: all(e.values("note") == ["refresh"] for e in endpoints))
    with pytest.raises(ValueError):
        await client.call("echo", value=1)


# -- persistence and TTL ---------------------------------------------------------------------

async def test_cast_waits_for_a_server_that_is_not_running_yet(transport, serve):
    client = rpc.RPCClient(transport, "compute")
    await client.cast("note", value="queued")
    await client.prepare(server="host1").cast("note", value="queued-direct")

    endpoint = Endpoint()
    await serve(endpoint)
    await wait_until(lambda: len(endpoint.runs) == 2)
    assert sorted(endpoint.values("note")) == ["queued", "queued-direct"]


async def test_pending_casts_survive_a_restart_of_server_and_transport(prefix, transport, serve):
    endpoint = Endpoint()
    server = await serve(endpoint)
    await server.stop()
    await rpc.RPCClient(transport, "compute").cast("note", value="while-down")
    await rpc.RPCClient(transport, "compute").prepare(fanout=True).cast("note", value="fanout-while-down")
    await transport.close()

    # A new transport for the same URL is the same broker, like a restarted process
    # reconnecting to RabbitMQ.
    restarted = rpc.get_transport("inproc://", queue_prefix=prefix)
    again = Endpoint()
    await serve(again, transport_=restarted)
    await wait_until(lambda: len(again.runs) == 2)
    assert sorted(again.values("note")) == ["fanout-while-down", "while-down"]
    assert endpoint.runs == []


async def test_expired_cast_is_dropped_and_never_executed(transport, serve, caplog):
    client = rpc.RPCClient(transport, "compute")
    await client.prepare(ttl=0.05).cast("note", value="stale")
    await client.cast("note", value="fresh")
    await asyncio.sleep(0.1)

    endpoint = Endpoint()
    await serve(endpoint)
    await wait_until(lambda: endpoint.values("note") == ["fresh"])
    await asyncio.sleep(0.05)
    assert endpoint.values("note") == ["fresh"]


async def test_server_drops_request_whose_envelope_expired(transport, serve, caplog):
    # The transport's own expiry is the first line of defence; the envelope's absolute
    # expires_at is enforced by the server before dispatch even if a transport lets a
    # stale message through (here: a message handed over with a far transport expiry).
    endpoint = Endpoint()
    await serve(endpoint)
    body = envelope.encode_request(Request("cast", "m-stale", "note", {"value": 1}, time.time() - 1))
    with caplog.at_level(logging.INFO, logger="pocketstack.common.rpc.server"):
        await transport.send(rpc.Target("compute"), body, msg_id="m-stale", expires_at=time.time() + 60,
                             persistent=True)
        await rpc.RPCClient(transport, "compute").call("echo", value="after")
    assert endpoint.values("note") == []
    assert "dropping expired cast m-stale" in caplog.text


# -- call timeouts -----------------------------------------------------------------------------

async def test_call_without_server_times_out(transport):
    client = rpc.RPCClient(transport, "nobody", timeout=0.2)
    started = time.monotonic()
    with pytest.raises(rpc.Timeout):
        await client.call("echo", value=1)
    assert 0.15 < time.monotonic() - started < 1.0
    assert issubclass(rpc.Timeout, TimeoutError)


async def test_slow_call_times_out(transport, serve):
    endpoint = Endpoint()
    await serve(endpoint)
    with pytest.raises(rpc.Timeout):
        await rpc.RPCClient(transport, "compute", timeout=0.1).call("sleep", seconds=0.3)
    await wait_until(lambda: endpoint.values("slept") == [None])  # the late reply is dropped


async def test_call_whose_caller_gave_up_is_never_executed_late(transport, serve):
    endpoint = Endpoint()
    await serve(endpoint, max_concurrency=1)
    client = rpc.RPCClient(transport, "compute")

    slow = asyncio.create_task(client.prepare(timeout=5).call("sleep", seconds=0.4, tag="slow"))
    await endpoint.started.wait()
    with pytest.raises(rpc.Timeout):
        await client.prepare(timeout=0.1).call("sleep", seconds=0, tag="late")
    assert await slow == "slow"
    await client.call("echo", value="barrier")  # the server has moved past the late call

    assert endpoint.values("sleep") == ["slow"]


async def test_reply_to_a_caller_that_went_away_is_dropped(prefix, serve):
    caller = rpc.get_transport("inproc://", queue_prefix=prefix)
    endpoint = Endpoint()
    await serve(endpoint)
    pending = asyncio.create_task(rpc.RPCClient(caller, "compute").call("sleep", seconds=0.1, tag="t"))
    await endpoint.started.wait()
    pending.cancel()
    await caller.close()  # the caller process "dies": its reply address disappears

    restarted = rpc.get_transport("inproc://", queue_prefix=prefix)
    assert await rpc.RPCClient(restarted, "compute").call("echo", value="mine") == "mine"
    await wait_until(lambda: endpoint.values("slept") == ["t"])
    await restarted.close()


async def test_call_whose_caller_died_is_not_executed(prefix, transport, serve):
    caller = rpc.get_transport("inproc://", queue_prefix=prefix)
    pending = asyncio.create_task(rpc.RPCClient(caller, "compute", timeout=30).call("note", value="orphan"))
    await asyncio.sleep(0.02)  # the call waits in the queue: no server yet
    pending.cancel()
    await caller.close()  # the caller "dies" long before its deadline

    endpoint = Endpoint()
    await serve(endpoint)
    await rpc.RPCClient(transport, "compute").call("echo", value="barrier")
    assert endpoint.values("note") == []


# -- exceptions --------------------------------------------------------------------------------

async def test_allow_listed_exception_is_reraised_with_its_fields(transport, serve):
    await serve(Endpoint())
    client = rpc.RPCClient(transport, "compute")

    with pytest.raises(InstanceBusy) as caught:
        await client.call("busy", instance_id="i-1")
    assert type(caught.value) is InstanceBusy
    assert (caught.value.instance_id, caught.value.state) == ("i-1", "rebooting")
    assert str(caught.value) == "instance i-1 is rebooting"
    assert "compute.busy" in caught.value.__notes__[0]

    # A subclass nobody registered arrives as its registered ancestor.
    with pytest.raises(InstanceBusy) as caught:
        await client.call("locked", instance_id="i-2")
    assert type(caught.value) is InstanceBusy and caught.value.state == "locked"


async def test_other_exceptions_become_remote_error(transport, serve):
    await serve(Endpoint())
    client = rpc.RPCClient(transport, "compute")

    with pytest.raises(rpc.RemoteError) as caught:
        await client.call("broken")
    assert caught.value.exc_type == "KeyError"
    assert caught.value.message == "'flavor'"

    with pytest.raises(rpc.RemoteError) as caught:
        await client.call("add", a=1)  # wrong arguments
    assert caught.value.exc_type == "TypeError"

    with pytest.raises(rpc.RemoteError) as caught:
        await client.call("unserialisable")
    assert caught.value.exc_type == "TypeError" and "JSON" in caught.value.message


async def test_only_public_methods_are_exposed(transport, serve):
    server = await serve(Endpoint())
    client = rpc.RPCClient(transport, "compute")
    assert "_private" not in server.methods and "echo" in server.methods
    for name in ("_private", "__init__", "missing"):
        with pytest.raises(rpc.NoSuchMethod) as caught:
            await client.call(name)
        assert caught.value.method == name


async def test_arguments_must_be_json(transport, serve):
    endpoint = Endpoint()
    await serve(endpoint)
    with pytest.raises(TypeError):
        await rpc.RPCClient(transport, "compute").cast("note", value=object())
    with pytest.raises(ValueError):
        await rpc.RPCClient(transport, "compute").call("echo", value=float("nan"))
    await asyncio.sleep(0.02)
    assert endpoint.runs == []


# -- envelope handling ---------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    json.dumps({"v": 2, "kind": "cast", "msg_id": "m1", "method": "note", "args": {"value": 1},
                "expires_at": time.time() + 60}).encode(),
    b"\x80\x04not json",
    json.dumps({"v": 1, "kind": "call", "msg_id": "m2", "method": "note", "args": {"value": 1},
                "expires_at": time.time() + 60}).encode(),  # a call without reply_to
], ids=["unknown-version", "not-json", "call-without-reply-to"])
async def test_bad_envelopes_are_rejected_and_logged(transport, serve, caplog, body):
    endpoint = Endpoint()
    await serve(endpoint)
    with caplog.at_level(logging.ERROR, logger="pocketstack.common.rpc.server"):
        await transport.send(rpc.Target("compute"), body, msg_id="bad", expires_at=time.time() + 60,
                             persistent=True)
        # The server carries on.
        assert await rpc.RPCClient(transport, "compute").call("echo", value="ok") == "ok"
    assert endpoint.values("note") == []
    assert "rejected a message" in caplog.text


async def test_a_request_sent_twice_runs_once(transport, serve):
    # What a publisher produces when it re-sends after losing the broker's confirmation.
    endpoint = Endpoint()
    await serve(endpoint)
    body = envelope.encode_request(Request("cast", "dup-1", "note", {"value": "x"}, time.time() + 60))
    for _ in range(2):
        await transport.send(rpc.Target("compute"), body, msg_id="dup-1", expires_at=time.time() + 60,
                             persistent=True)
    await rpc.RPCClient(transport, "compute").call("echo", value="barrier")
    assert endpoint.values("note") == ["x"]


async def test_undecodable_reply_is_an_error_for_the_caller(transport, serve, caplog):
    class Impostor:
        """Answers calls with an envelope version this caller does not speak."""

        async def run(self, delivery) -> None:
            request = envelope.decode_request(delivery.body)
            await delivery.ack()
            body = json.dumps({"v": 2, "kind": "reply", "msg_id": request.msg_id, "result": 1}).encode()
            await transport.send_reply(request.reply_to, body, msg_id=request.msg_id,
                                       expires_at=request.expires_at)

    impostor = Impostor()
    tasks = set()
    subscription = await transport.subscribe(
        "compute", "impostor", lambda d: tasks.add(asyncio.create_task(impostor.run(d))), prefetch=1)
    with caplog.at_level(logging.ERROR, logger="pocketstack.common.rpc.client"):
        with pytest.raises(rpc.EnvelopeError):
            await rpc.RPCClient(transport, "compute", timeout=5).call("echo", value=1)
    assert "undecodable reply" in caplog.text
    await subscription.close()


# -- server behaviour ------------------------------------------------------------------------------

async def test_concurrency_is_bounded(transport, serve):
    endpoint = Endpoint()
    await serve(endpoint, max_concurrency=3)
    client = rpc.RPCClient(transport, "compute")
    await asyncio.gather(*(client.call("sleep", seconds=0.03, tag=i) for i in range(10)))
    assert endpoint.max_active == 3


async def test_graceful_stop_finishes_running_work_and_hands_back_the_rest(transport, serve):
    first = Endpoint()
    server = await serve(first, max_concurrency=1)
    client = rpc.RPCClient(transport, "compute")
    running = asyncio.create_task(client.call("sleep", seconds=0.2, tag="running"))
    await first.started.wait()
    for i in range(3):
        await client.cast("note", value=i)

    await server.stop()
    assert running.done() and running.result() == "running"  # replied before stop returned
    assert first.values("note") == []

    second = Endpoint()
    await serve(second, server="host2")
    await wait_until(lambda: len(second.values("note")) == 3)
    assert sorted(second.values("note")) == [0, 1, 2]


async def test_stop_with_grace_cancels_and_does_not_redeliver(transport, serve):
    # At most once: a cast that started is not run again, even if its server dies mid-way.
    first = Endpoint()
    server = await serve(first)
    await rpc.RPCClient(transport, "compute").cast("sleep", seconds=10, tag="doomed")
    await first.started.wait()
    await server.stop(grace=0.05)

    second = Endpoint()
    await serve(second, server="host2")
    await rpc.RPCClient(transport, "compute").call("echo", value="barrier")
    assert first.values("slept") == [] and second.values("sleep") == []


async def test_server_can_be_used_as_context_manager_and_restarted(transport):
    endpoint = Endpoint()
    server = rpc.RPCServer(transport, "compute", [endpoint], server="host1")
    async with server:
        assert await rpc.RPCClient(transport, "compute").call("echo", value=1) == 1
    async with server:
        assert await rpc.RPCClient(transport, "compute").call("echo", value=2) == 2


# -- API surface ---------------------------------------------------------------------------------

def test_get_transport_selects_by_url():
    from pocketstack.common.rpc.transports.amqp import AMQPTransport
    from pocketstack.common.rpc.transports.inproc import InprocTransport

    assert isinstance(rpc.get_transport("inproc://"), InprocTransport)
    amqp = rpc.get_transport("amqp://guest:secret@127.0.0.1:5672/", queue_prefix="x")
    assert isinstance(amqp, AMQPTransport) and amqp.queue_prefix == "x"
    assert "secret" not in amqp._safe_url
    with pytest.raises(ValueError):
        rpc.get_transport("kafka://broker")


def test_targets_are_validated_and_prepare_retargets():
    with pytest.raises(ValueError):
        rpc.Target("a.b")
    with pytest.raises(ValueError):
        rpc.Target("compute", server="h", fanout=True)
    client = rpc.RPCClient(rpc.get_transport("inproc://"), "compute", timeout=5, ttl=30)
    direct = client.prepare(server="h1", timeout=1)
    assert direct.target == rpc.Target("compute", "h1") and (direct.timeout, direct.ttl) == (1, 30)
    assert direct.prepare(fanout=True).target == rpc.Target("compute", fanout=True)
    assert client.target == rpc.Target("compute")
