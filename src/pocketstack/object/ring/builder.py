"""RingBuilder: assign partitions to devices, dispersed first, balanced by weight.

The object namespace is cut into ``2**part_power`` partitions.  For each replica
``r`` and partition ``p``, ``replica2part2dev[r][p]`` is the id of the device that
stores that copy -- one compact ``array('H')`` per replica, as in Swift.  With a
fractional replica count (e.g. 2.5) the last row only covers the first part of the
partitions, so some partitions have one more copy than others.

A rebalance works in two phases, both of which move as little data as possible:

1. **Gather** partition-replicas that must or should move, at most *one* replica per
   partition (so a partition always keeps a majority of its copies in place), and
   never a partition moved less than ``min_part_hours`` ago:

   * replicas on removed devices, and unassigned slots (these ignore both limits --
     there is nothing to keep);
   * replicas in a failure domain that holds more copies of the partition than the
     replica plan allows (:mod:`.plan`): dispersion problems;
   * replicas on devices holding more than their whole-number share of
     partition-replicas (:func:`.plan.integer_parts`), but only when an
     underweight device could legally take them: balance problems.

2. **Place** each gathered replica by walking the failure-domain tree: at every level
   only children still below their per-partition maximum may take it (and children
   below their minimum come first) -- dispersion has priority; among those the one
   with the most room on devices not yet holding the partition wins -- weight
   balance decides.  Ties are broken by the seeded random generator, and a replica
   with nowhere better to go stays where it was.

Gather/place repeats a few times while some device stays over its share.  Because a
device's share is its weight share, adding a lightly weighted device -- even in a
brand-new region -- only pulls that share of partitions to it; nothing else moves.

The builder owns the state, the plan and the files; the per-partition loops live in
:mod:`.rebalance`.
"""

from __future__ import annotations

import gzip
import math
import os
import random
import sys
import time
import uuid
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

import msgpack

from pocketstack.object.ring import plan
from pocketstack.object.ring.devices import (
    MAX_DEV_ID,
    NONE_DEV,
    Device,
    Tier,
    matches,
    parse_search_value,
)
from pocketstack.object.ring.errors import RingBuilderError, RingError, RingValidationError
from pocketstack.object.ring.rebalance import MAX_TIME, Layout, Run, part_tuples
from pocketstack.object.ring.ringfile import RingData, atomic_write

#: Balance reported for a zero-weight device that still holds partitions.
MAX_BALANCE = 999.99
#: Gather/place rounds per rebalance (each one can only use untouched partitions).
MAX_PASSES = 8
BUILDER_FORMAT = "pocketstack.ring.builder"
BUILDER_FORMAT_VERSION = 1


@dataclass(frozen=True)
class RebalanceResult:
    """What a rebalance changed.

    ``changed_parts`` counts partitions with at least one replica reassigned (Swift's
    "Reassigned N partitions"); ``moved_replicas`` counts the partition-replicas whose
    data has to be copied to another device; ``assigned_replicas`` the ones that had
    no device before (new ring, higher replica count).
    """

    changed_parts: int
    moved_replicas: int
    assigned_replicas: int
    removed_devices: int
    balance: float
    dispersion: float
    parts: int
    assignments: int

    @property
    def changed_fraction(self) -> float:
        return self.changed_parts / self.parts if self.parts else 0.0

    @property
    def moved_fraction(self) -> float:
        """Share of all partition-replicas that moved to another device."""
        return self.moved_replicas / self.assignments if self.assignments else 0.0


@dataclass
class DispersionReport:
    """How well replicas are spread, measured like ``swift-ring-builder dispersion``.

    ``max_allowed[tier]`` is the "as unique as possible" bound (replicas split evenly
    over the children at each level, ignoring weights); ``graph[tier][n]`` is the
    number of partitions with exactly ``n`` replicas in ``tier``.  ``dispersion`` is
    the percentage of partition-replicas above those bounds.
    """

    dispersion: float
    parts_at_risk: int
    max_allowed: dict[Tier, int]
    graph: dict[Tier, list[int]]


class RingBuilder:
    """Builds and maintains the partition -> device assignment of one ring."""

    def __init__(self, part_power: int, replicas: float, min_part_hours: float = 1, *,
                 overload: float = 0.0, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(part_power, int) or not 0 <= part_power <= 32:
            raise RingBuilderError(f"part_power {part_power!r} must be an integer in 0..32")
        self.part_power = part_power
        self.replicas = _check_replicas(replicas)
        self.min_part_hours = _check_min_part_hours(min_part_hours)
        self.overload = _check_overload(overload)
        #: Source of "now" for min_part_hours; tests inject a fake clock.
        self.clock = clock
        self.devs: list[Device | None] = []
        self.version = 0
        self.devs_changed = False
        self.dispersion = 0.0
        self.id = uuid.uuid4().hex
        self._replica2part2dev: list[array] = []
        #: Per partition: when (unix seconds) one of its replicas last moved.
        self._last_moved = array("I")
        self._remove_ids: set[int] = set()

    # ------------------------------------------------------------------ basics

    @property
    def parts(self) -> int:
        return 1 << self.part_power

    @property
    def part_shift(self) -> int:
        return 32 - self.part_power

    @property
    def replica2part2dev(self) -> list[array]:
        """The assignment table (read it, do not modify it)."""
        return self._replica2part2dev

    @property
    def last_moved(self) -> array:
        """Unix time at which each partition last had a replica moved (0 = never)."""
        return self._last_moved

    @property
    def ever_rebalanced(self) -> bool:
        return bool(self._replica2part2dev)

    def row_lengths(self) -> list[int]:
        """Length of each replica row: full rows, then a partial one for the fraction."""
        whole = int(self.replicas)
        lengths = [self.parts] * whole
        fraction = int(self.parts * (self.replicas - whole))
        if fraction:
            lengths.append(fraction)
        return lengths

    def iter_devs(self) -> Iterator[Device]:
        """Every device, including zero-weight and pending-removal ones."""
        return (d for d in self.devs if d is not None)

    def active_devs(self) -> list[Device]:
        """Devices that may receive partitions: positive weight, not being removed."""
        return [d for d in self.iter_devs() if d.weight > 0 and d.id not in self._remove_ids]

    @property
    def pending_removals(self) -> list[int]:
        return sorted(self._remove_ids)

    def weight_of_one_part(self) -> float:
        """Weight that corresponds to one partition-replica."""
        total = sum(d.weight for d in self.iter_devs())
        return self.parts * self.replicas / total if total else 0.0

    # ----------------------------------------------------------------- devices

    def add_dev(self, dev: dict[str, Any] | Device | None = None, **fields: Any) -> int:
        """Add a device (dict, :class:`Device` or keyword fields); return its id.

        Without an ``id`` the lowest free id is used (ids of removed devices are
        reused, as in Swift).  The device only receives partitions at the next
        rebalance.
        """
        data = dev.to_dict() if isinstance(dev, Device) else dict(dev or {})
        data.update(fields)
        if data.get("id") is None:
            data["id"] = next((i for i, d in enumerate(self.devs) if d is None), len(self.devs))
        data.setdefault("meta", "")
        try:
            new = Device.from_dict(data)
        except TypeError as exc:
            raise RingBuilderError(f"incomplete device {data!r}: {exc}") from exc
        if new.id < len(self.devs) and self.devs[new.id] is not None:
            raise RingBuilderError(f"duplicate device id {new.id}")
        for other in self.iter_devs():
            if (other.ip, other.port, other.device) == (new.ip, new.port, new.device) \
                    and other.id not in self._remove_ids:
                raise RingBuilderError(
                    f"device d{other.id} already uses {other.ip}:{other.port}/{other.device}")
        if new.id > MAX_DEV_ID:
            raise RingBuilderError(f"too many devices (id {new.id} > {MAX_DEV_ID})")
        while len(self.devs) <= new.id:
            self.devs.append(None)
        self.devs[new.id] = new
        self.devs_changed = True
        return new.id

    def _dev(self, dev_id: int) -> Device:
        dev = self.devs[dev_id] if 0 <= dev_id < len(self.devs) else None
        if dev is None:
            raise RingBuilderError(f"no device with id {dev_id}")
        return dev

    def set_dev_weight(self, dev_id: int, weight: float) -> None:
        """Change a device's weight; partitions follow at the next rebalance."""
        dev = self._dev(dev_id)
        if dev_id in self._remove_ids:
            raise RingBuilderError(f"device d{dev_id} is being removed")
        weight = float(weight)
        if not weight >= 0:
            raise RingBuilderError(f"weight {weight!r} must be >= 0")
        dev.weight = weight
        self.devs_changed = True

    def remove_dev(self, dev_id: int) -> None:
        """Schedule removal: weight 0 now, partitions and device gone after rebalance."""
        dev = self._dev(dev_id)
        dev.weight = 0.0
        self._remove_ids.add(dev_id)
        self.devs_changed = True

    def search_devs(self, criteria: str | dict[str, Any]) -> list[Device]:
        """Devices matching a Swift search value (``"r1z2-10.0.0.5"``) or a field dict."""
        if isinstance(criteria, str):
            criteria = parse_search_value(criteria)
        return [d for d in self.iter_devs() if matches(d, criteria)]

    def set_overload(self, overload: float) -> None:
        self.overload = _check_overload(overload)
        self.devs_changed = True

    def set_min_part_hours(self, hours: float) -> None:
        self.min_part_hours = _check_min_part_hours(hours)

    def set_replicas(self, replicas: float) -> None:
        """Change the replica count; rows grow or shrink at the next rebalance."""
        self.replicas = _check_replicas(replicas)
        self.devs_changed = True

    def pretend_min_part_hours_passed(self) -> None:
        """Forget when partitions last moved (for emergencies and tests)."""
        self._last_moved = array("I", bytes(4 * len(self._last_moved)))

    def min_part_seconds_left(self) -> float:
        """Seconds until every partition may move again."""
        if not self._last_moved or not self.min_part_hours:
            return 0.0
        return max(0.0, max(self._last_moved) + self.min_part_hours * 3600 - self.clock())

    def get_part_devices(self, part: int) -> list[Device]:
        """Devices holding the replicas of ``part`` (replica order)."""
        return [self.devs[row[part]] for row in self._replica2part2dev
                if part < len(row) and row[part] != NONE_DEV]

    # --------------------------------------------------------------- rebalance

    def rebalance(self, seed: int | None = None) -> RebalanceResult:
        """(Re)assign partitions to devices; see the module docstring for the rules.

        The same builder state and the same ``seed`` always give the same ring.
        """
        active = self.active_devs()
        if len(active) < self.replicas:
            raise RingValidationError(
                f"replica count of {self.replicas:g} requires at least "
                f"{math.ceil(self.replicas)} devices with weight, have {len(active)}")
        rng = random.Random(seed)
        now = min(max(int(self.clock()), 0), MAX_TIME)
        if len(self._last_moved) != self.parts:
            self._last_moved = array("I", bytes(4 * self.parts))
        self._resize_rows()
        self._recount_parts()

        target = plan.target_replicas(active, self.replicas, self.overload)
        current: dict[Tier, int] = defaultdict(int)
        for dev in active:
            for tier in dev.tiers:
                current[tier] += dev.parts
        total = sum(len(row) for row in self._replica2part2dev)
        dev_targets = plan.integer_parts(active, target, total, self.parts, current)
        layout = Layout(self.devs, active, target, dev_targets, self.replicas)
        run = Run(self._replica2part2dev, self.devs, self._last_moved, self.min_part_hours,
                  layout, rng, now)

        run.gather_forced(self._remove_ids)
        run.gather_dispersion()
        removed = self._drop_removed_devices()
        overweight = None
        for _ in range(MAX_PASSES):
            run.gather_balance()
            if not run.gathered:
                break
            run.place()
            before, overweight = overweight, run.overweight()
            if not overweight or (before is not None and overweight >= before):
                break  # balanced, or the remaining skew cannot be fixed this time

        for dev in self.iter_devs():
            dev.parts = run.parts[dev.id]
        self.dispersion = self._compute_dispersion()
        self.version += 1
        self.devs_changed = False
        return RebalanceResult(
            changed_parts=len(run.changed),
            moved_replicas=run.moved,
            assigned_replicas=run.assigned,
            removed_devices=removed,
            balance=self.get_balance(),
            dispersion=self.dispersion,
            parts=self.parts,
            assignments=total,
        )

    def _resize_rows(self) -> None:
        """Make the rows match ``replicas``: new slots are unassigned, extra ones dropped."""
        rows = self._replica2part2dev
        wanted = self.row_lengths()
        del rows[len(wanted):]
        for r, length in enumerate(wanted):
            if r == len(rows):
                rows.append(array("H", [NONE_DEV]) * length)
            elif len(rows[r]) < length:
                rows[r].extend(array("H", [NONE_DEV]) * (length - len(rows[r])))
            elif len(rows[r]) > length:
                del rows[r][length:]

    def _recount_parts(self) -> None:
        counts = [0] * len(self.devs)
        for row in self._replica2part2dev:
            for dev_id, n in Counter(row).items():
                if dev_id < len(counts):
                    counts[dev_id] += n
        for dev in self.iter_devs():
            dev.parts = counts[dev.id]

    def _drop_removed_devices(self) -> int:
        for dev_id in self._remove_ids:
            self.devs[dev_id] = None
        removed = len(self._remove_ids)
        self._remove_ids.clear()
        while self.devs and self.devs[-1] is None:
            self.devs.pop()
        return removed

    # -------------------------------------------------------------- reporting

    def balance_per_dev(self) -> dict[int, float]:
        """Percent difference between each device's partitions and its weight share."""
        one = self.weight_of_one_part()
        result = {}
        for dev in self.iter_devs():
            if dev.weight:
                result[dev.id] = 100.0 * dev.parts / (dev.weight * one) - 100.0
            else:
                result[dev.id] = MAX_BALANCE if dev.parts else 0.0
        return result

    def get_balance(self) -> float:
        """Worst device's deviation (percent) from its weight-desired partitions."""
        return max((abs(b) for b in self.balance_per_dev().values()), default=0.0)

    def get_required_overload(self) -> float:
        """Overload needed for full dispersion (0 when weights already allow it)."""
        active = self.active_devs()
        if not active:
            return 0.0
        return plan.required_overload(active, plan.weighted_replicas(active, self.replicas),
                                      plan.wanted_replicas(active, self.replicas))

    def replica_plan(self) -> dict[Tier, float]:
        """Target replicanths per tier used by the next rebalance."""
        return dict(plan.target_replicas(self.active_devs(), self.replicas, self.overload))

    def _max_allowed(self) -> dict[Tier, int]:
        devs = [d for d in self.iter_devs() if d.weight > 0] or list(self.iter_devs())
        return {t: int(v) for t, v in plan.max_replicas(devs, self.replicas).items()}

    def _compute_dispersion(self) -> float:
        """Percent of partition-replicas in a tier above its as-unique-as-possible bound."""
        return self.dispersion_report(graph=False).dispersion

    def dispersion_report(self, graph: bool = True) -> DispersionReport:
        """Count, per tier, partitions by number of replicas held (``swift-ring-builder
        dispersion``), and the partition-replicas above the as-unique-as-possible bound.

        Like Swift, a partition contributes its excess replicas at the tier depth where
        the excess is largest (two replicas on one server in one zone count once).
        """
        rows = self._replica2part2dev
        allowed = self._max_allowed()
        if not rows:
            return DispersionReport(0.0, 0, allowed, {})
        nrows = len(rows)
        # Integer tier ids keep the per-partition loop cheap; without the graph only
        # tiers whose bound can actually be exceeded need counting.
        index: dict[Tier, int] = {}
        size = max((d.id for d in self.iter_devs()), default=-1) + 1
        tiers_of: list[tuple[int, ...]] = [()] * size
        probe_of: list[tuple[int, ...]] = [()] * size
        for dev in self.iter_devs():
            kept = [t for t in dev.tiers if graph or allowed.get(t, 0) < nrows]
            ids = tuple(index.setdefault(t, len(index)) for t in kept)
            tiers_of[dev.id] = ids
            # A tier allowing no replica at all is listed twice, so that the quick
            # "any tier seen twice?" test below can never miss a partition at risk.
            probe_of[dev.id] = ids + tuple(index[t] for t in kept if not allowed.get(t, 0))
        tiers = list(index)
        limit = [allowed.get(t, 0) for t in tiers]
        depth = [len(t) for t in tiers]
        width = math.ceil(self.replicas) + 1
        hist = [[0] * width for _ in tiers] if graph else []
        at_risk = 0
        flat = chain.from_iterable
        for devs_of_part in part_tuples(rows):
            if not graph:
                probe = tuple(flat(map(probe_of.__getitem__, devs_of_part)))
                if len(set(probe)) == len(probe):
                    continue  # every bound is >= 1 and no tier holds two replicas
            counts: dict[int, int] = {}
            for t in flat(map(tiers_of.__getitem__, devs_of_part)):
                counts[t] = counts.get(t, 0) + 1
            risk: dict[int, int] = {}
            for t, n in counts.items():
                if n > limit[t]:
                    risk[depth[t]] = risk.get(depth[t], 0) + n - limit[t]
            if risk:
                at_risk += max(risk.values())
            if graph:
                for t, n in counts.items():
                    hist[t][min(n, width - 1)] += 1
        table: dict[Tier, list[int]] = {}
        for t, counts_row in enumerate(hist):
            counts_row[0] = self.parts - sum(counts_row[1:])
            table[tiers[t]] = counts_row
        total = sum(len(r) for r in rows)
        return DispersionReport(100.0 * at_risk / total if total else 0.0, at_risk,
                                allowed, table)

    def validate(self) -> None:
        """Raise :class:`RingValidationError` if the ring breaks an invariant."""
        if not self.ever_rebalanced:
            raise RingValidationError("the ring has never been rebalanced")
        if [len(r) for r in self._replica2part2dev] != self.row_lengths():
            raise RingValidationError("replica rows do not match the replica count; rebalance")
        counts = [0] * len(self.devs)
        for r, row in enumerate(self._replica2part2dev):
            for dev_id, n in Counter(row).items():
                if dev_id == NONE_DEV:
                    raise RingValidationError(f"replica {r} has {n} unassigned partitions")
                if dev_id >= len(self.devs) or self.devs[dev_id] is None:
                    raise RingValidationError(f"replica {r} uses unknown device {dev_id}")
                counts[dev_id] += n
        for dev in self.iter_devs():
            if dev.parts != counts[dev.id]:
                raise RingValidationError(
                    f"d{dev.id} claims {dev.parts} partitions but holds {counts[dev.id]}")
        enough = len([d for d in self.iter_devs() if d.weight > 0]) >= math.ceil(self.replicas)
        if enough:
            for part, devs_of_part in enumerate(part_tuples(self._replica2part2dev)):
                if len(set(devs_of_part)) != len(devs_of_part):
                    raise RingValidationError(
                        f"partition {part} has two replicas on one device: {devs_of_part}")

    # ----------------------------------------------------------- serialisation

    def to_ring_data(self) -> RingData:
        """The lookup-side view of this builder (what ``*.ring.gz`` contains)."""
        if not self.ever_rebalanced:
            raise RingError("rebalance before writing a ring")
        devs = [d.to_dict() if d else None for d in self.devs]
        return RingData([array("H", row) for row in self._replica2part2dev], devs,
                        self.part_shift, self.replicas, self.version)

    def write_ring(self, path: str | os.PathLike) -> None:
        self.to_ring_data().save(path)

    def to_dict(self) -> dict[str, Any]:
        """Full builder state, enough to continue rebalancing later."""
        return {
            "format": BUILDER_FORMAT,
            "format_version": BUILDER_FORMAT_VERSION,
            "id": self.id,
            "part_power": self.part_power,
            "replicas": self.replicas,
            "min_part_hours": self.min_part_hours,
            "overload": self.overload,
            "version": self.version,
            "devs_changed": self.devs_changed,
            "dispersion": self.dispersion,
            "devs": [d.to_dict() if d else None for d in self.devs],
            "remove_devs": sorted(self._remove_ids),
            "replica2part2dev": [_le_bytes(row) for row in self._replica2part2dev],
            "last_moved": _le_bytes(self._last_moved),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *,
                  clock: Callable[[], float] = time.time) -> RingBuilder:
        if data.get("format") != BUILDER_FORMAT:
            raise RingError("not a pocketstack ring builder")
        if data.get("format_version") != BUILDER_FORMAT_VERSION:
            raise RingError(f"unsupported builder format version {data.get('format_version')}")
        builder = cls(data["part_power"], data["replicas"], data["min_part_hours"],
                      overload=data["overload"], clock=clock)
        builder.id = data["id"]
        builder.version = data["version"]
        builder.devs_changed = data["devs_changed"]
        builder.dispersion = data["dispersion"]
        builder.devs = [Device.from_dict(d) if d else None for d in data["devs"]]
        builder._remove_ids = set(data["remove_devs"])
        builder._replica2part2dev = [_from_le_bytes("H", b) for b in data["replica2part2dev"]]
        builder._last_moved = _from_le_bytes("I", data["last_moved"])
        builder._recount_parts()
        return builder

    def save(self, path: str | os.PathLike) -> None:
        """Write the builder file (gzip'd msgpack) atomically."""
        packed = msgpack.packb(self.to_dict(), use_bin_type=True)
        atomic_write(path, gzip.compress(packed, compresslevel=6, mtime=0))

    @classmethod
    def load(cls, path: str | os.PathLike, *,
             clock: Callable[[], float] = time.time) -> RingBuilder:
        try:
            with gzip.open(path, "rb") as fh:
                data = msgpack.unpackb(fh.read(), raw=False, strict_map_key=False)
        except (OSError, EOFError, ValueError, msgpack.UnpackException) as exc:
            raise RingError(f"cannot read builder file {os.fspath(path)}: {exc}") from exc
        if not isinstance(data, dict):
            raise RingError(f"{os.fspath(path)} is not a builder file")
        try:
            return cls.from_dict(data, clock=clock)
        except (KeyError, TypeError, ValueError) as exc:
            raise RingError(f"{os.fspath(path)}: corrupt builder file: {exc}") from exc


# ---------------------------------------------------------------------------
# Small helpers


def _le_bytes(values: array) -> bytes:
    if sys.byteorder == "little":
        return values.tobytes()
    swapped = array(values.typecode, values)
    swapped.byteswap()
    return swapped.tobytes()


def _from_le_bytes(typecode: str, data: bytes) -> array:
    values = array(typecode)
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    return values


def _check_replicas(replicas: float) -> float:
    try:
        value = float(replicas)
    except (TypeError, ValueError):
        raise RingBuilderError(f"replicas {replicas!r} must be a number") from None
    if not value >= 1:
        raise RingBuilderError(f"replicas {replicas!r} must be at least 1")
    return value


def _check_min_part_hours(hours: float) -> float:
    try:
        value = float(hours)
    except (TypeError, ValueError):
        raise RingBuilderError(f"min_part_hours {hours!r} must be a number") from None
    if not value >= 0:
        raise RingBuilderError(f"min_part_hours {hours!r} must be >= 0")
    return int(value) if value.is_integer() else value


def _check_overload(overload: float) -> float:
    try:
        value = float(overload)
    except (TypeError, ValueError):
        raise RingBuilderError(f"overload {overload!r} must be a number") from None
    if not value >= 0:
        raise RingBuilderError(f"overload {overload!r} must be >= 0")
    return value
