"""Benchmark the ring builder: rebalance time, balance, dispersion, data movement.

Default scenario (as in docs/ring.md): part_power 18, 3 replicas, 5 zones x 5 servers
x 4 disks = 100 devices with mixed weights (100/200/400), then 10 more devices, then a
new region grown step by step.  ``--swift-python`` runs the same initial/add steps
with OpenStack Swift's own RingBuilder in another interpreter (e.g. a throwaway venv
with ``pip install swift``) for comparison.

    python benchmarks/ring.py
    python benchmarks/ring.py --part-power 16 --swift-python /tmp/swiftvenv/bin/python
    python benchmarks/ring.py --random 40 --swift-python /tmp/swiftvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

from pocketstack.object.ring import Ring, RingBuilder


def devices(args: argparse.Namespace) -> list[dict]:
    """The initial cluster, identical for pocketstack and Swift."""
    rnd = random.Random(args.seed)
    devs = []
    for z in range(1, args.zones + 1):
        for s in range(args.servers):
            for d in range(args.disks):
                devs.append({"region": 1, "zone": z, "ip": f"10.0.{z}.{s}", "port": 6200,
                             "device": f"sd{chr(97 + d)}", "weight": rnd.choice([100, 200, 400]),
                             "meta": ""})
    return devs


def added_devices(args: argparse.Namespace) -> list[dict]:
    return [{"region": 1, "zone": i % args.zones + 1, "ip": f"10.0.{i % args.zones + 1}.99",
             "port": 6200, "device": f"sdx{i}", "weight": 200, "meta": ""}
            for i in range(args.add)]


def timed(func):
    """Run ``func``; return its value and the wall-clock seconds it took."""
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def cpu_timed(func):
    """Like :func:`timed`, plus the process CPU seconds (less sensitive to a busy host)."""
    cpu = time.process_time()
    value, wall = timed(func)
    return value, wall, time.process_time() - cpu


def bench_pocketstack(args: argparse.Namespace) -> dict:
    clock_now = [1_000_000_000.0]
    builder = RingBuilder(args.part_power, args.replicas, 1, clock=lambda: clock_now[0])
    for dev in devices(args):
        builder.add_dev(dev)
    result, initial, initial_cpu = cpu_timed(lambda: builder.rebalance(seed=args.seed))
    _, validate = timed(builder.validate)
    out = {
        "initial_s": initial, "initial_cpu_s": initial_cpu, "initial_balance": result.balance,
        "initial_dispersion": result.dispersion, "validate_s": validate,
    }
    for dev in added_devices(args):
        builder.add_dev(dev)
    clock_now[0] += 3600
    result, add, add_cpu = cpu_timed(lambda: builder.rebalance(seed=args.seed + 1))
    out.update({
        "add_s": add, "add_cpu_s": add_cpu, "add_balance": result.balance, "add_dispersion": result.dispersion,
        "add_moved_replicas": result.moved_replicas, "add_moved_fraction": result.moved_fraction,
        "add_changed_parts": result.changed_parts,
        "add_ideal_fraction": sum(d["weight"] for d in added_devices(args))
        / sum(d.weight for d in builder.iter_devs()),
    })
    with tempfile.TemporaryDirectory() as tmp:
        builder_path = os.path.join(tmp, "object.builder")
        ring_path = os.path.join(tmp, "object.ring.gz")
        _, out["save_builder_s"] = timed(lambda: builder.save(builder_path))
        _, out["write_ring_s"] = timed(lambda: builder.write_ring(ring_path))
        out["ring_bytes"] = os.path.getsize(ring_path)
        out["builder_bytes"] = os.path.getsize(builder_path)
        ring, out["load_ring_s"] = timed(lambda: Ring(ring_path))
        names = [("AUTH_bench", "c", f"o{i}") for i in range(20000)]
        _, lookups = timed(lambda: [ring.get_nodes(*n) for n in names])
        out["lookups_per_s"] = len(names) / lookups
    if args.gradual:
        out["gradual"] = gradual(builder, clock_now, args)
    return out


def gradual(builder: RingBuilder, clock_now: list[float], args: argparse.Namespace) -> list:
    """Grow a new region by the note's formula w2 = r*W1 / ((1-r)*n2), step by step."""
    w1 = sum(d.weight for d in builder.iter_devs())
    n2 = 4
    ids = [builder.add_dev(region=2, zone=1, ip=f"10.2.0.{i}", port=6200, device="sda",
                           weight=0) for i in range(n2)]
    steps = []
    for ratio in (0.01, 0.03, 0.06, 0.09, 0.15, 0.25, 1 / 3):
        for dev_id in ids:
            builder.set_dev_weight(dev_id, ratio * w1 / ((1 - ratio) * n2))
        clock_now[0] += 3600
        before = [bytes(row) for row in builder.replica2part2dev]
        result, seconds = timed(lambda: builder.rebalance(seed=args.seed))
        region2 = sum(d.parts for d in builder.iter_devs() if d.region == 2)
        total = sum(len(r) for r in builder.replica2part2dev)
        inside_r1 = 0
        for old_row, new_row in zip(before, builder.replica2part2dev):
            old_ids = memoryview(old_row).cast("H")
            inside_r1 += sum(1 for o, n in zip(old_ids, new_row)
                             if o != n and builder.devs[n].region == 1)
        steps.append({"ratio": ratio, "share": region2 / total,
                      "moved_fraction": result.moved_fraction,
                      "changed_parts": result.changed_parts, "moved_inside_region1": inside_r1,
                      "balance": result.balance, "dispersion": result.dispersion,
                      "seconds": seconds})
    return steps


SWIFT_SCRIPT = r"""
import json, sys, time
from swift.common.ring import RingBuilder
cfg = json.loads(sys.argv[1])
b = RingBuilder(cfg["part_power"], cfg["replicas"], 1)
for dev in cfg["devs"]:
    b.add_dev(dict(dev))
t, c = time.perf_counter(), time.process_time()
changed, balance, _ = b.rebalance(seed=cfg["seed"])
out = {"initial_s": time.perf_counter() - t, "initial_cpu_s": time.process_time() - c,
       "initial_balance": balance,
       "initial_dispersion": b.dispersion}
for dev in cfg["added"]:
    b.add_dev(dict(dev))
b.pretend_min_part_hours_passed()
t, c = time.perf_counter(), time.process_time()
changed, balance, _ = b.rebalance(seed=cfg["seed"] + 1)
out.update({"add_s": time.perf_counter() - t, "add_cpu_s": time.process_time() - c,
            "add_balance": balance,
            "add_dispersion": b.dispersion, "add_moved_replicas": changed,
            "add_moved_fraction": changed / (b.parts * b.replicas)})
print(json.dumps(out))
"""


def bench_swift(args: argparse.Namespace) -> dict:
    cfg = {"part_power": args.part_power, "replicas": args.replicas, "seed": args.seed,
           "devs": devices(args), "added": added_devices(args)}
    proc = subprocess.run([args.swift_python, "-c", SWIFT_SCRIPT, json.dumps(cfg)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def random_clusters(count: int) -> list[dict]:
    """Small, deliberately awkward clusters: few devices, weights 1..1000, 1-2 regions."""
    cases = []
    for trial in range(count):
        rnd = random.Random(1000 + trial)
        devs = [{"region": rnd.randint(1, 2), "zone": rnd.randint(1, 4),
                 "ip": f"10.0.0.{rnd.randint(1, 10)}", "port": 6200, "device": f"sd{i}",
                 "weight": rnd.choice([1, 10, 100, 100, 200, 1000]), "meta": ""}
                for i in range(rnd.randint(4, 30))]
        cases.append({"part_power": rnd.choice([8, 10, 12]),
                      "replicas": rnd.choice([2, 3, 3, 2.5]), "devs": devs})
    return cases


def rebalance_twice(cases: list[dict]) -> list[list[float]]:
    out = []
    for case in cases:
        builder = RingBuilder(case["part_power"], case["replicas"], 0)
        for dev in case["devs"]:
            builder.add_dev(dev)
        builder.rebalance(seed=1)
        result = builder.rebalance(seed=2)
        out.append([result.balance, result.dispersion])
    return out


SWIFT_RANDOM_SCRIPT = r"""
import json, sys
from swift.common.ring import RingBuilder
out = []
for case in json.loads(sys.stdin.read()):
    b = RingBuilder(case["part_power"], case["replicas"], 0)
    for dev in case["devs"]:
        b.add_dev(dict(dev))
    b.rebalance(seed=1)
    _, balance, _ = b.rebalance(seed=2)
    out.append([balance, b.dispersion])
print(json.dumps(out))
"""


def compare_random(args: argparse.Namespace) -> int:
    """Balance and dispersion on random clusters, pocketstack vs Swift."""
    cases = random_clusters(args.random)
    ours = rebalance_twice(cases)
    proc = subprocess.run([args.swift_python, "-c", SWIFT_RANDOM_SCRIPT],
                          input=json.dumps(cases), capture_output=True, text=True, check=True)
    theirs = json.loads(proc.stdout.strip().splitlines()[-1])
    better = sum(1 for o, t in zip(ours, theirs) if o[0] < t[0] - 1e-9)
    same = sum(1 for o, t in zip(ours, theirs) if abs(o[0] - t[0]) <= 1e-9)
    close = sum(1 for o, t in zip(ours, theirs) if o[1] <= t[1] + 1.0)
    for i, (o, t) in enumerate(zip(ours, theirs)):
        print(f"case {i:3d}: balance {o[0]:10.2f} vs swift {t[0]:10.2f}   "
              f"dispersion {o[1]:6.2f} vs swift {t[1]:6.2f}")
    print(f"\n{len(cases)} clusters: balance better in {better}, equal in {same}, worse in "
          f"{len(cases) - better - same}; dispersion better or within 1 point in {close}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part-power", type=int, default=18)
    parser.add_argument("--replicas", type=float, default=3)
    parser.add_argument("--zones", type=int, default=5)
    parser.add_argument("--servers", type=int, default=5, help="servers per zone")
    parser.add_argument("--disks", type=int, default=4, help="disks per server")
    parser.add_argument("--add", type=int, default=10, help="devices added afterwards")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-gradual", dest="gradual", action="store_false",
                        help="skip the gradual new-region scenario")
    parser.add_argument("--swift-python", help="python with OpenStack Swift installed")
    parser.add_argument("--json", action="store_true", help="print raw JSON")
    parser.add_argument("--random", type=int, metavar="N",
                        help="instead: compare balance/dispersion with Swift on N random "
                             "small clusters (needs --swift-python)")
    args = parser.parse_args(argv)
    if args.random:
        if not args.swift_python:
            parser.error("--random needs --swift-python")
        return compare_random(args)

    ndev = args.zones * args.servers * args.disks
    results = {"pocketstack": bench_pocketstack(args)}
    if args.swift_python:
        results["swift"] = bench_swift(args)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0

    print(f"part_power {args.part_power} ({1 << args.part_power} partitions), "
          f"{args.replicas:g} replicas, {ndev} devices in {args.zones} zones, "
          f"+{args.add} devices")
    for name, r in results.items():
        print(f"\n[{name}]")
        print(f"  initial rebalance  {r['initial_s']:7.2f} s ({r['initial_cpu_s']:.2f} s CPU)"
              f"   balance {r['initial_balance']:.3f}%"
              f"   dispersion {r['initial_dispersion']:.3f}%")
        print(f"  add {args.add} + rebalance {r['add_s']:7.2f} s ({r['add_cpu_s']:.2f} s CPU)"
              f"   balance {r['add_balance']:.3f}%"
              f"   dispersion {r['add_dispersion']:.3f}%   moved "
              f"{r['add_moved_replicas']} replicas ({100 * r['add_moved_fraction']:.2f}%)")
        if "add_ideal_fraction" in r:
            print(f"  ideal movement (new devices' weight share): "
                  f"{100 * r['add_ideal_fraction']:.2f}%; partitions touched "
                  f"{r['add_changed_parts']}")
            print(f"  validate {r['validate_s']:.2f} s, save builder {r['save_builder_s']:.2f} s "
                  f"({r['builder_bytes'] / 1e6:.2f} MB), write ring {r['write_ring_s']:.2f} s "
                  f"({r['ring_bytes'] / 1e6:.2f} MB), load ring {r['load_ring_s']:.3f} s, "
                  f"{r['lookups_per_s']:,.0f} get_nodes/s")
        for step in r.get("gradual", []):
            print(f"  region 2 target {100 * step['ratio']:5.1f}%: share "
                  f"{100 * step['share']:5.2f}%  moved {100 * step['moved_fraction']:5.2f}% "
                  f"of replicas ({step['changed_parts']} partitions), "
                  f"inside region 1: {step['moved_inside_region1']}, "
                  f"balance {step['balance']:.2f}, dispersion {step['dispersion']:.2f}, "
                  f"{step['seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
