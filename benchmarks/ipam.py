#!/usr/bin/env python3
"""IP allocation throughput with racing clients: pocketstack's IPAM vs. row locking.

For each backend (PostgreSQL, MariaDB) a scratch database is created and dropped at the
end (like ``tests/backends.py``), then two allocators run with ``--clients`` threads
racing on one big subnet until ``--allocations`` addresses are handed out:

  pocketstack   ``pocketstack.network.ipam.allocate_any`` in ``run_in_transaction``: an
                INSERT under the unique (subnet_id, ip_address) constraint, random
                candidates, no row locks (the engine guard is on, as in production).
  for-update    for comparison only, the classic allocator the seed-002 article
                describes: a pre-populated table of addresses, ``SELECT ... WHERE
                allocated = false LIMIT 1 FOR UPDATE`` then ``UPDATE``.  It exists only
                in this file, on its own raw engine that bypasses pocketstack's guard.

Each allocation is one transaction.  Printed per run: allocations/s, latency p50/p99
(ms), errors (by exception name) and duplicate addresses (must be 0).  ``--json``
prints one JSON document.  On PostgreSQL the row-locking allocator also *fails*
under contention: a waiter whose locked row was taken meanwhile gets no row at all
(``LIMIT 1 ... FOR UPDATE`` re-checks the row, not the query), reported as
``NoResultFound``.

    python benchmarks/ipam.py --clients 32 --allocations 8000
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from pocketstack.common.db import Base, Database
from pocketstack.common.db.cas import run_in_transaction
from pocketstack.network import ipam
from pocketstack.network.models import IpAllocation, Network, Port, Subnet

PG_ADMIN = "host=127.0.0.1 user=postgres dbname=postgres"
CIDR = "10.0.0.0/16"


# -- scratch databases -------------------------------------------------------------------------

def create_database(backend: str, name: str) -> str:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    conn.close()
    return f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"


def drop_database(backend: str, name: str) -> None:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    import pymysql

    conn = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


# -- the allocators ----------------------------------------------------------------------------

def pocketstack_allocator(url: str):
    """Returns (allocate() -> address, allocated addresses(), close())."""
    db = Database(url)
    tables = [t for t in Base.metadata.sorted_tables if t.name.startswith("network_")]
    Base.metadata.create_all(db.engine, tables=tables)
    net = ipaddress.ip_network(CIDR)
    with db.session() as s:
        network = Network(project_id="bench", name="bench", network_type="local")
        s.add(network)
        s.flush()
        subnet = Subnet(project_id="bench", network_id=network.id, ip_version=4, cidr=CIDR, gateway_ip=None,
                        allocation_pools=[{"start": str(net.network_address + 1),
                                           "end": str(net.broadcast_address - 1)}])
        # One port holding every address keeps the measurement on the allocator itself.
        port = Port(project_id="bench", network_id=network.id, mac_address=ipam.generate_mac())
        s.add_all([subnet, port])
        s.flush()
        s.expunge_all()

    def allocate() -> str:
        return run_in_transaction(db, lambda session: ipam.allocate_any(session, subnet, port.id))

    def allocated() -> list[str]:
        with db.session(readonly=True) as s:
            return list(s.scalars(sa.select(IpAllocation.ip_address)))

    return allocate, allocated, db.dispose


def for_update_allocator(url: str, size: int):
    """The row-locking allocator, on a raw engine without pocketstack's guard."""
    engine = sa.create_engine(url, pool_size=40, max_overflow=10,
                              isolation_level="READ COMMITTED" if url.startswith("mysql") else None)
    meta = sa.MetaData()
    table = sa.Table("bench_fixed_ip", meta, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                     sa.Column("address", sa.String(64), nullable=False),
                     sa.Column("allocated", sa.Boolean, nullable=False, index=True),
                     sa.Column("owner", sa.String(36)))
    meta.create_all(engine)
    first = int(ipaddress.ip_network(CIDR).network_address) + 1
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"id": i + 1, "address": str(ipaddress.IPv4Address(first + i)), "allocated": False}
                                      for i in range(size)])
    pick = sa.select(table.c.id, table.c.address).where(table.c.allocated.is_(False)).order_by(
        table.c.id).limit(1).with_for_update()

    def allocate() -> str:
        with engine.begin() as conn:
            row = conn.execute(pick).one()
            conn.execute(table.update().where(table.c.id == row.id).values(allocated=True, owner=uuid.uuid4().hex))
            return row.address

    def allocated() -> list[str]:
        with engine.connect() as conn:
            return list(conn.scalars(sa.select(table.c.address).where(table.c.allocated.is_(True))))

    return allocate, allocated, engine.dispose


# -- the load ----------------------------------------------------------------------------------

def run(allocate, allocated, clients: int, total: int, duration: float) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    returned: list[str] = []
    lock = threading.Lock()
    remaining = [total]
    deadline = time.monotonic() + duration

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
            start = time.perf_counter()
            try:
                address = allocate()
            except Exception as error:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(type(error).__name__)
                continue
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                returned.append(address)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    wall = time.perf_counter() - started
    stored = allocated()
    latencies.sort()
    return {
        "allocations": len(latencies), "seconds": round(wall, 2),
        "allocations_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2) if latencies else None,
        "errors": len(errors), "error_kinds": sorted(set(errors)),
        "duplicates": (len(returned) - len(set(returned))) + (len(stored) - len(set(stored))),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="postgresql,mariadb")
    parser.add_argument("--allocators", default="pocketstack,for-update")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--allocations", type=int, default=8000, help="per run (the /16 holds 65534)")
    parser.add_argument("--duration", type=float, default=60, help="cap per run, seconds")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 0 < args.allocations <= 60000 or not 0 < args.clients <= 256 or not 0 < args.duration <= 600:
        parser.error("--allocations must be 1..60000, --clients 1..256, --duration at most 600 s")
    results = []
    for backend in args.backends.split(","):
        for name in args.allocators.split(","):
            db_name = "pocketstack_bench_" + uuid.uuid4().hex[:12]
            url = create_database(backend, db_name)
            try:
                if name == "pocketstack":
                    allocate, allocated, close = pocketstack_allocator(url)
                else:
                    allocate, allocated, close = for_update_allocator(url, args.allocations + args.clients)
                try:
                    result = run(allocate, allocated, args.clients, args.allocations, args.duration)
                finally:
                    close()
            finally:
                drop_database(backend, db_name)
            result.update(backend=backend, allocator=name, clients=args.clients)
            results.append(result)
            if not args.json:
                print(f"{backend:11} {name:12} {result['allocations_per_s']:8.1f} alloc/s  "
                      f"p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms  errors {result['errors']}  "
                      f"duplicates {result['duplicates']}  {' '.join(result['error_kinds'])}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["duplicates"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
