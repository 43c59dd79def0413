"""RPC throughput and latency: calls/s and casts/s with p50/p99, per transport.

    python benchmarks/rpc.py                                  # inproc and amqp
    python benchmarks/rpc.py --transport inproc --count 5000
    python benchmarks/rpc.py --url amqp://guest:guest@rabbit:5672/ --concurrency 32

For each transport one server and one client run in this process:

* ``call``: ``count`` calls of a trivial async method, ``concurrency`` at a time;
  latency is each call's round trip.
* ``cast``: ``count`` casts, ``concurrency`` at a time; latency is until ``cast()``
  returns (the transport has persisted it), throughput is until the server ran them all.

Queues are created under a throw-away prefix and deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass

from pocketstack.common import rpc


class Endpoint:
    def __init__(self) -> None:
        self.casts = 0
        self.done = asyncio.Event()
        self.expected = 0

    async def ping(self, value: int) -> int:
        return value

    async def record(self, value: int) -> None:
        self.casts += 1
        if self.casts == self.expected:
            self.done.set()


@dataclass
class Result:
    transport: str
    op: str
    count: int
    concurrency: int
    seconds: float
    latencies: list[float]

    def row(self) -> str:
        quantiles = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return (f"{self.transport:<8} {self.op:<5} {self.count:>7} {self.concurrency:>5} "
                f"{self.count / self.seconds:>10.0f} {quantiles[49] * 1000:>9.3f} {quantiles[98] * 1000:>9.3f}")


async def _run(operation, count: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    next_index = iter(range(count))

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            await operation(i)
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def bench(name: str, url: str, count: int, concurrency: int) -> list[Result]:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    server_transport = rpc.get_transport(url, queue_prefix=prefix)
    client_transport = rpc.get_transport(url, queue_prefix=prefix)
    endpoint = Endpoint()
    server = rpc.RPCServer(server_transport, "bench", [endpoint], server="bench1", max_concurrency=64)
    await server.start()
    client = rpc.RPCClient(client_transport, "bench", timeout=30)
    results = []
    try:
        await _run(lambda i: client.call("ping", value=i), min(count, 200), concurrency)  # warm-up

        started = time.perf_counter()
        latencies = await _run(lambda i: client.call("ping", value=i), count, concurrency)
        results.append(Result(name, "call", count, concurrency, time.perf_counter() - started, latencies))

        endpoint.expected = count
        started = time.perf_counter()
        latencies = await _run(lambda i: client.cast("record", value=i), count, concurrency)
        await asyncio.wait_for(endpoint.done.wait(), 120)
        results.append(Result(name, "cast", count, concurrency, time.perf_counter() - started, latencies))
    finally:
        await server.stop()
        await _delete_queues(url, server_transport, "bench", "bench1")
        await client_transport.close()
        await server_transport.close()
    return results


async def _delete_queues(url: str, transport: rpc.Transport, topic: str, host: str) -> None:
    if not url.startswith("amqp"):
        return
    import aio_pika

    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for name in (transport.queue_name(topic), transport.queue_name(topic, host),
                     transport.fanout_queue(topic, host)):
            await channel.queue_delete(name)
        await channel.exchange_delete(transport.fanout_exchange(topic))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transport", choices=["inproc", "amqp", "both"], default="both")
    parser.add_argument("--url", default="amqp://guest:guest@127.0.0.1:5672/", help="RabbitMQ URL for amqp")
    parser.add_argument("--count", type=int, default=2000, help="messages per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16],
                        help="requests in flight (several values: one run each)")
    args = parser.parse_args()

    targets = {"inproc": "inproc://", "amqp": args.url}
    if args.transport != "both":
        targets = {args.transport: targets[args.transport]}
    print(f"{'transport':<8} {'op':<5} {'count':>7} {'conc':>5} {'ops/s':>10} {'p50 ms':>9} {'p99 ms':>9}")
    for name, url in targets.items():
        for concurrency in args.concurrency:
            for result in await bench(name, url, args.count, concurrency):
                print(result.row(), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
