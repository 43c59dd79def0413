"""``local://``: the all-in-one cloud's API worker processes reach the primary's broker.

The bridge serves the primary's in-process broker on a Unix socket; here both ends run in
one process (two transports, a real socket between them), which exercises exactly the
code the worker processes run.  The guarantees are those of docs/rpc.md.
"""

from __future__ import annotations

import asyncio
import os
import stat
import uuid

import pytest
from test_rpc_inproc import Endpoint, InstanceBusy, wait_until

from pocketstack.common import rpc
from pocketstack.common.errors import ApiError, Conflict
from pocketstack.common.rpc.transports.local import MAX_FRAME, BrokerBridge, LocalTransport

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def prefix() -> str:
    return f"test{uuid.uuid4().hex[:10]}"


@pytest.fixture
def socket_path(tmp_path):
    return tmp_path / "rpc.sock"


@pytest.fixture
async def primary(prefix, socket_path):
    """The primary's transport (its workers subscribe here) with the bridge running."""
    transport = rpc.get_transport(f"inproc://{prefix}", queue_prefix=prefix)
    bridge = BrokerBridge(lambda: transport, socket_path)
    await bridge.start()
    yield transport, bridge
    await bridge.stop()
    await transport.close()


@pytest.fixture
async def worker_transport(prefix, socket_path):
    transport = rpc.get_transport(f"local://{socket_path}", queue_prefix=prefix)
    yield transport
    await transport.close()


@pytest.fixture
async def serve(primary):
    servers: list[rpc.RPCServer] = []

    async def start(endpoint, *, topic="compute", server="host1"):
        srv = rpc.RPCServer(primary[0], rpc.Target(topic), [endpoint], server=server)
        await srv.start()
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        await srv.stop(grace=1)


def test_the_url_selects_the_local_transport(socket_path):
    transport = rpc.get_transport(f"local://{socket_path}")
    assert isinstance(transport, LocalTransport) and transport.path == str(socket_path)


async def test_call_and_cast_from_a_worker_process_reach_the_primarys_servers(worker_transport, serve):
    endpoint = Endpoint()
    await serve(endpoint)
    client = rpc.RPCClient(worker_transport, "compute", timeout=5)
    assert await client.call("add", a=2, b=3) == 5
    await client.cast("note", value="hello")
    await wait_until(lambda: endpoint.values("note") == ["hello"])


async def test_fanout_and_server_targets_keep_their_meaning(worker_transport, serve):
    one, two = Endpoint("one"), Endpoint("two")
    await serve(one, server="h1")
    await serve(two, server="h2")
    client = rpc.RPCClient(worker_transport, "compute", timeout=5)
    await client.prepare(fanout=True).cast("note", value="all")
    await client.prepare(server="h2").cast("note", value="only-two")
    await wait_until(lambda: one.values("note") == ["all"] and two.values("note") == ["all", "only-two"])


async def test_remote_exceptions_are_reraised_in_the_worker_process(worker_transport, serve):
    await serve(Endpoint())
    client = rpc.RPCClient(worker_transport, "compute", timeout=5)
    with pytest.raises(InstanceBusy) as caught:
        await client.call("busy", instance_id="i-1")
    assert caught.value.state == "rebooting"


async def test_a_cast_made_before_the_primary_listens_is_delivered_once_it_does(prefix, socket_path):
    transport = rpc.get_transport(f"inproc://{prefix}", queue_prefix=prefix)
    worker = rpc.get_transport(f"local://{socket_path}", queue_prefix=prefix)
    endpoint = Endpoint()
    server = rpc.RPCServer(transport, rpc.Target("compute"), [endpoint], server="h1")
    await server.start()
    bridge = BrokerBridge(lambda: transport, socket_path)
    try:
        cast = asyncio.create_task(rpc.RPCClient(worker, "compute", timeout=5).cast("note", value="early"))
        await asyncio.sleep(0.3)
        assert not cast.done()  # waiting for the primary, not failing
        await bridge.start()
        await asyncio.wait_for(cast, 5)
        await wait_until(lambda: endpoint.values("note") == ["early"])
    finally:
        await server.stop(grace=1)
        await worker.close()
        await bridge.stop()
        await transport.close()


async def test_a_cast_nobody_can_take_times_out_for_its_caller(socket_path, prefix):
    worker = rpc.get_transport(f"local://{socket_path}", queue_prefix=prefix)  # no primary at all
    try:
        with pytest.raises(rpc.Timeout):
            await rpc.RPCClient(worker, "compute", timeout=0.5).cast("note", value="x")
    finally:
        await worker.close()


async def test_a_call_whose_worker_process_went_away_is_not_run(primary, socket_path, prefix, serve):
    endpoint = Endpoint()
    server = await serve(endpoint)
    caller = rpc.get_transport(f"local://{socket_path}", queue_prefix=prefix)
    call = asyncio.create_task(rpc.RPCClient(caller, "compute", timeout=5).call("sleep", seconds=0, tag="late"))
    await asyncio.sleep(0)
    await server.stop(grace=1)          # the request waits in the queue
    await asyncio.sleep(0.2)
    call.cancel()
    await caller.close()                # the process died: its reply route is gone
    await wait_until(lambda: not primary[1]._connections)
    endpoint2 = Endpoint()
    await serve(endpoint2)
    await asyncio.sleep(0.3)
    assert endpoint2.values("sleep") == [] and endpoint.values("sleep") == []


async def test_the_bridge_survives_a_broken_peer_and_serves_the_others(socket_path, worker_transport, serve):
    endpoint = Endpoint()
    await serve(endpoint)
    reader, writer = await asyncio.open_unix_connection(str(socket_path))
    writer.write((MAX_FRAME + 1).to_bytes(4, "big"))
    await writer.drain()
    assert await reader.read() == b""   # the bridge hung up on it
    writer.close()
    assert await rpc.RPCClient(worker_transport, "compute", timeout=5).call("echo", value=1) == 1


async def test_only_the_clouds_user_can_reach_the_socket(primary, socket_path):
    assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o600


async def test_worker_processes_cannot_consume(worker_transport):
    with pytest.raises(NotImplementedError):
        await worker_transport.subscribe("compute", "h1", lambda d: None, prefetch=1)


async def test_a_worker_process_asks_the_primary_and_gets_its_answer_or_its_refusal(prefix, socket_path):
    """``primary`` frames: what only the primary can do (a live reset), asked by the API
    worker process that took the request; a refusal comes back as the same API error."""
    transport = rpc.get_transport(f"inproc://{prefix}", queue_prefix=prefix)
    asked: list[dict] = []

    async def reset(name=None):
        asked.append({"name": name})
        if name == "missing":
            raise Conflict("This cloud cannot be reset while it runs: no.")
        return 0.25

    bridge = BrokerBridge(lambda: transport, socket_path, {"reset": reset})
    await bridge.start()
    worker = rpc.get_transport(f"local://{socket_path}", queue_prefix=prefix)
    try:
        assert await worker.ask_primary("reset", name=None) == 0.25
        with pytest.raises(ApiError) as refused:
            await worker.ask_primary("reset", name="missing")
        assert refused.value.status == 409 and refused.value.message == "This cloud cannot be reset while it runs: no."
        with pytest.raises(ApiError, match="no operation 'nothing'") as failed:
            await worker.ask_primary("nothing")
        assert failed.value.status == 503
        assert asked == [{"name": None}, {"name": "missing"}]
        # The connection survives refusals: RPC goes on.
        assert await worker.reply_address()
    finally:
        await worker.close()
        await bridge.stop()
        await transport.close()


async def test_calls_go_on_through_a_replaced_broker(prefix, socket_path):
    """A live reset starts the workers again on a fresh in-process broker: the bridge
    hands frames to the new one and moves the worker processes' reply routes to it, so
    their connections (and cached reply addresses) keep working."""
    brokers = [rpc.get_transport(f"inproc://{prefix}-1", queue_prefix=prefix)]
    bridge = BrokerBridge(lambda: brokers[-1], socket_path)
    await bridge.start()
    worker = rpc.get_transport(f"local://{socket_path}", queue_prefix=prefix)
    servers = []
    try:
        for round_ in (1, 2):
            server = rpc.RPCServer(brokers[-1], rpc.Target("compute"), [Endpoint()], server="h1")
            await server.start()
            servers.append(server)
            assert await rpc.RPCClient(worker, "compute", timeout=5).call("add", a=round_, b=1) == round_ + 1
            if round_ == 1:
                await server.stop(grace=1)
                await brokers[-1].close()
                brokers.append(rpc.get_transport(f"inproc://{prefix}-2", queue_prefix=prefix))
                bridge.follow_broker()
    finally:
        await servers[-1].stop(grace=1)
        await worker.close()
        await bridge.stop()
        for broker in brokers:
            await broker.close()
