"""Text reports in the shape of ``swift-ring-builder``'s output, and the same numbers as
data (:func:`summary`, what the object storage contract gives the admin API).

Operators compare these numbers across rebalances (and with Swift's own tool), so
the layout and wording follow Swift: a summary header, then one line per device.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass

from pocketstack.object.ring.builder import RebalanceResult, RingBuilder
from pocketstack.object.ring.devices import Tier
from pocketstack.object.ring.errors import RingError
from pocketstack.object.ring.ringfile import RingData


def ring_path_for(builder_path: str) -> str:
    """``object.builder`` -> ``object.ring.gz`` (next to the builder)."""
    base = builder_path[: -len(".builder")] if builder_path.endswith(".builder") else builder_path
    return base + ".ring.gz"


def ring_status(builder: RingBuilder, ring_path: str) -> str:
    if not os.path.exists(ring_path):
        return f"Ring file {ring_path} not found, probably it hasn't been written yet"
    try:
        version = RingData.load(ring_path).version
    except RingError:
        return f"Ring file {ring_path} is invalid"
    state = "up-to-date" if version == builder.version else "obsolete"
    return f"Ring file {ring_path} is {state}"


@dataclass(frozen=True)
class DeviceSummary:
    """One device as ``swift-ring-builder`` lists it: where it is, its weight, the
    partition-replicas it holds and how far that is from its weight's share (percent)."""

    id: int
    region: int
    zone: int
    ip: str
    port: int
    device: str
    weight: float
    partitions: int
    balance: float


@dataclass(frozen=True)
class RingSummary:
    """A ring as its builder describes it: ``swift-ring-builder <builder>``'s header
    (balance: the worst device's; dispersion: the share of partition-replicas above the
    as-unique-as-possible bound) and its devices; ``current`` is whether the ring file
    served is the builder's latest."""

    partitions: int
    replicas: float
    regions: int
    zones: int
    balance: float
    dispersion: float
    overload: float
    min_part_hours: float
    version: int
    current: bool
    devices: tuple[DeviceSummary, ...]


def summary(builder: RingBuilder, ring_path: str) -> RingSummary:
    devs = list(builder.iter_devs())
    per_dev = builder.balance_per_dev() if builder.ever_rebalanced else {}
    try:
        current = os.path.exists(ring_path) and RingData.load(ring_path).version == builder.version
    except RingError:
        current = False
    return RingSummary(
        partitions=builder.parts, replicas=builder.replicas, regions=len({d.region for d in devs}),
        zones=len({(d.region, d.zone) for d in devs}),
        balance=max((abs(b) for b in per_dev.values()), default=0.0), dispersion=builder.dispersion,
        overload=builder.overload, min_part_hours=builder.min_part_hours, version=builder.version, current=current,
        devices=tuple(DeviceSummary(d.id, d.region, d.zone, d.ip, d.port, d.device, d.weight, d.parts,
                                    per_dev.get(d.id, 0.0)) for d in devs))


def _ip(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def show(builder: RingBuilder, builder_path: str) -> str:
    """The ``swift-ring-builder <builder>`` summary and device table."""
    devs = list(builder.iter_devs())
    numbers = summary(builder, ring_path_for(builder_path))
    left = builder.min_part_seconds_left()
    lines = [
        f"{builder_path}, build version {builder.version}, id {builder.id}",
        f"{builder.parts} partitions, {builder.replicas:f} replicas, {numbers.regions} regions, "
        f"{numbers.zones} zones, {len(devs)} devices, {numbers.balance:.2f} balance, "
        f"{builder.dispersion:.2f} dispersion",
        f"The minimum number of hours before a partition can be reassigned is "
        f"{builder.min_part_hours} ({datetime.timedelta(seconds=int(left))} remaining)",
        f"The overload factor is {builder.overload * 100:.2f}% ({builder.overload:.6f})",
        ring_status(builder, ring_path_for(builder_path)),
    ]
    if builder.devs_changed:
        lines.append("Devices have changed since the last rebalance: rebalance to apply them")
    if not devs:
        return "\n".join(lines)
    per_dev = {d.id: d.balance for d in numbers.devices}
    header = ("id", "region", "zone", "ip address:port", "replication ip:port", "name",
              "weight", "partitions", "balance", "flags", "meta")
    rows = [header]
    removing = set(builder.pending_removals)
    for d in devs:
        rows.append((
            str(d.id), str(d.region), str(d.zone), f"{_ip(d.ip)}:{d.port}",
            f"{_ip(d.replication_ip)}:{d.replication_port}", d.device, f"{d.weight:.2f}",
            str(d.parts), f"{per_dev.get(d.id, 0.0):.2f}", "DEL" if d.id in removing else "",
            d.meta,
        ))
    lines.append("Devices:")
    lines.extend(_table(rows))
    return "\n".join(lines)


def _table(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [c.rjust(w) if i < len(row) - 2 else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        out.append("  " + " ".join(cells).rstrip())
    return out


def tier_name(tier: Tier) -> str:
    names = ["r{}", "z{}", "-{}", "/d{}"]
    return "".join(fmt.format(_ip(v) if isinstance(v, str) else v)
                   for fmt, v in zip(names, tier))


def dispersion(builder: RingBuilder, verbose: bool = False) -> str:
    """``swift-ring-builder <builder> dispersion``: replicas per tier, at-risk share."""
    report = builder.dispersion_report()
    required = builder.get_required_overload()
    lines = [
        f"Dispersion is {report.dispersion:.6f}, Balance is {builder.get_balance():.6f}, "
        f"Overload is {builder.overload * 100:.2f}%",
        f"Required overload is {required * 100:.6f}%",
    ]
    if report.dispersion > 0 and required > builder.overload:
        lines.append(f"Worst tier is over its as-unique-as-possible bound; an overload of "
                     f"{required * 100:.2f}% would allow full dispersion")
    width = len(next(iter(report.graph.values()), [0]))
    rule = "-" * (52 + 6 * width)
    lines += [rule, f"{'Tier':<30}{'Parts':>8}{'%':>8}{'Max':>6}"
              + "".join(f"{n:>6}" for n in range(width)), rule]
    depth = 4 if verbose else 2
    for tier in sorted(report.graph, key=lambda t: tuple(str(v).zfill(8) for v in t)):
        if len(tier) > depth:
            continue
        counts = report.graph[tier]
        top = max((n for n, c in enumerate(counts) if c and n), default=0)
        placed = counts[top] if top else 0
        flag = " *" if top > report.max_allowed.get(tier, 0) else ""
        lines.append(f"{tier_name(tier):<30}{placed:>8}{100.0 * placed / builder.parts:>8.2f}"
                     f"{top:>6}" + "".join(f"{c:>6}" for c in counts) + flag)
    return "\n".join(lines)


def rebalance_summary(result: RebalanceResult) -> str:
    """Swift's one-liner plus how much data actually has to move."""
    return (f"Reassigned {result.changed_parts} ({100.0 * result.changed_fraction:.2f}%) "
            f"partitions. Balance is now {result.balance:.2f}.  "
            f"Dispersion is now {result.dispersion:.2f}\n"
            f"Moved {result.moved_replicas} partition-replicas "
            f"({100.0 * result.moved_fraction:.2f}% of the data), "
            f"assigned {result.assigned_replicas} new, removed "
            f"{result.removed_devices} device(s)")
