"""The replica plan: how many replicas of a partition each failure domain should hold.

Every tier of the device tree (``()`` the cluster, ``(r,)`` a region, ``(r, z)`` a
zone, ``(r, z, ip)`` a server, ``(r, z, ip, id)`` a device) gets a *replicanth* count:
the average number of replicas of one partition it should store.  A zone with a
target of 1.25 holds one replica of every partition and a second replica of a quarter
of them; its per-partition bounds are ``floor``/``ceil`` of the target (1 and 2).

Three views are combined, exactly as Swift does since 2.x:

* **weighted** -- proportional to device weights, a device capped at one replica
  (it cannot hold two copies of the same partition usefully);
* **wanted** -- "as unique as possible": replicas spread over as many failure domains
  as exist, weights only deciding between otherwise equal choices;
* **target** -- weighted, moved towards wanted by at most ``overload`` (a tier may take
  ``overload * 100`` % more than its weight share so that dispersion improves).
  With the default overload of 0 weights are honoured exactly, which is what makes a
  new, lightly weighted region receive only its weight share of the data.

The pure functions here take the *active* devices (weight > 0) and know nothing
about partitions, so they are cheap and easy to test on their own.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pocketstack.object.ring.devices import Device, Tier
from pocketstack.object.ring.errors import RingValidationError

EPSILON = 1e-10


def tier_tree(devs: Iterable[Device]) -> dict[Tier, list[Tier]]:
    """Map each tier to its sorted child tiers (devices are the leaves)."""
    children: dict[Tier, set[Tier]] = defaultdict(set)
    for dev in devs:
        parent: Tier = ()
        for tier in dev.tiers:
            children[parent].add(tier)
            parent = tier
    return {tier: sorted(kids, key=_sort_key) for tier, kids in children.items()}


def _sort_key(tier: Tier) -> tuple:
    # Tiers mix ints and strings at fixed positions, so they compare fine, but make the
    # ordering explicit and independent of Python's tuple rules for mixed types.
    return tuple((0, v, "") if isinstance(v, int) else (1, 0, v) for v in tier)


def device_counts(devs: Iterable[Device]) -> dict[Tier, int]:
    """Number of devices below each tier (a tier can never hold more replicas)."""
    counts: dict[Tier, int] = defaultdict(int)
    for dev in devs:
        counts[()] += 1
        for tier in dev.tiers:
            counts[tier] += 1
    return counts


def weighted_replicas(devs: Sequence[Device], replicas: float) -> dict[Tier, float]:
    """Replicanths per tier in proportion to weight, no device above one replica.

    A device whose weight share exceeds one replica is capped and the excess is
    spread over the others in proportion to their weights, repeatedly, until the
    total is ``replicas`` again.
    """
    total_weight = sum(d.weight for d in devs)
    if not devs or total_weight <= 0:
        return defaultdict(float)
    per_dev = {d.id: min(1.0, replicas * d.weight / total_weight) for d in devs}
    while True:
        remaining = replicas - sum(per_dev.values())
        room = [i for i, r in per_dev.items() if r < 1.0]
        if remaining < EPSILON or not room:
            break
        scale = 1.0 + remaining / sum(per_dev[i] for i in room)
        for i in room:
            per_dev[i] = min(1.0, per_dev[i] * scale)
    return _sum_by_tier(devs, per_dev)


def _sum_by_tier(devs: Iterable[Device], per_dev: dict[int, float]) -> dict[Tier, float]:
    by_tier: dict[Tier, float] = defaultdict(float)
    for dev in devs:
        share = per_dev[dev.id]
        by_tier[()] += share
        for tier in dev.tiers:
            by_tier[tier] += share
    return by_tier


def max_replicas(devs: Sequence[Device], replicas: float, bound=math.ceil) -> dict[Tier, float]:
    """Most replicas a tier may hold if replicas are split evenly by *count* of children.

    This ignores weights: it is the "as unique as possible" bound that the dispersion
    report measures against (a partition with more replicas in a tier than this is "at
    risk").  ``bound=float`` gives the fractional version used to plan ``wanted``.
    """
    tree = tier_tree(devs)
    result: dict[Tier, float] = defaultdict(float)

    def walk(tier: Tier, count: float) -> None:
        if len(tier) == 4:
            count = min(1, count)
        result[tier] = count
        kids = tree.get(tier, [])
        for kid in kids:
            walk(kid, bound(float(count) / len(kids)))

    walk((), replicas)
    return result


def wanted_replicas(devs: Sequence[Device], replicas: float) -> dict[Tier, float]:
    """Replicanths per tier for the most dispersed placement the devices allow.

    Walking down the tree, a tier's replicanths are shared among its children in
    proportion to weight, but each child is clamped into ``[floor, ceil]`` of its
    even share (from :func:`max_replicas`) and to its device count; what clamping
    takes from (or adds to) one child is redistributed among the others.
    """
    weighted = weighted_replicas(devs, replicas)
    dispersed = {t: (math.floor(r), math.ceil(r))
                 for t, r in max_replicas(devs, replicas, bound=float).items()}
    ndevs = device_counts(devs)
    tree = tier_tree(devs)
    wanted: dict[Tier, float] = defaultdict(float)

    def place(tier: Tier, amount: float) -> None:
        if amount > ndevs[tier] + EPSILON:
            raise RingValidationError(
                f"more replicas ({amount:g}) than devices ({ndevs[tier]}) in tier {tier}")
        wanted[tier] = amount
        kids = tree.get(tier)
        if not kids:
            return
        to_place = dict.fromkeys(kids, 0.0)
        spread = list(kids)
        device_limited = False
        remaining = amount
        for _ in range(1000):  # converges in a handful of rounds; bound it anyway
            spread_weight = sum(weighted[t] for t in spread)
            if spread_weight <= 0:
                spread_weight, per = float(len(spread)), {t: 1.0 for t in spread}
            else:
                per = {t: weighted[t] for t in spread}
            rel = remaining / spread_weight
            for t in spread:
                value = to_place[t] + per[t] * rel
                low, high = dispersed[t]
                if value < low:
                    value = low
                elif value > high and not device_limited:
                    value = high
                to_place[t] = min(value, ndevs[t])
            remaining = amount - sum(to_place.values())
            if remaining < -EPSILON:
                spread = [t for t in kids if to_place[t] > dispersed[t][0]]
            elif remaining > EPSILON:
                spread = [t for t in kids if ndevs[t] > to_place[t] < dispersed[t][1]]
                if not spread:
                    device_limited = True
                    spread = [t for t in kids if to_place[t] < ndevs[t]]
            else:
                break
            if not spread:
                break
        for t in kids:
            place(t, to_place[t])

    place((), replicas)
    return wanted


def required_overload(devs: Sequence[Device], weighted: dict[Tier, float],
                      wanted: dict[Tier, float]) -> float:
    """Smallest overload with which every device can hold its fully-dispersed share."""
    worst = 0.0
    for dev in devs:
        tier = dev.tiers[-1]
        if weighted[tier] > 0:
            worst = max(worst, (wanted[tier] - weighted[tier]) / weighted[tier])
    return worst


def target_replicas(devs: Sequence[Device], replicas: float,
                    overload: float) -> dict[Tier, float]:
    """The plan actually built: weighted, pulled towards wanted by ``overload``."""
    weighted = weighted_replicas(devs, replicas)
    wanted = wanted_replicas(devs, replicas)
    required = required_overload(devs, weighted, wanted)
    if required <= 0:
        return wanted
    fraction = min(overload, required) / required
    return {t: w + (wanted[t] - w) * fraction for t, w in weighted.items()}


def bounds(target: float) -> tuple[int, int]:
    """Per-partition (min, max) replicas for a tier with replicanth ``target``."""
    return math.floor(target + EPSILON), math.ceil(target - EPSILON)


def integer_parts(devs: Sequence[Device], target: dict[Tier, float], total: int,
                  parts: int, current: dict[Tier, int]) -> dict[int, int]:
    """Split ``total`` partition-replicas into whole numbers per device.

    Each tier's count is handed down to its children by the largest-remainder
    method, so every level sums exactly.  Ties go to the child that currently holds
    more, which avoids moving a partition only to round a fraction the other way.
    ``current`` is the number of partition-replicas each tier holds now.
    """
    tree = tier_tree(devs)
    result: dict[int, int] = {}

    def share(tier: Tier, count: int) -> None:
        kids = tree.get(tier)
        if not kids:
            result[tier[-1]] = count
            return
        ideal = {t: target[t] * parts for t in kids}
        scale = count / sum(ideal.values()) if sum(ideal.values()) > 0 else 0.0
        ideal = {t: v * scale for t, v in ideal.items()}
        whole = {t: math.floor(v + EPSILON) for t, v in ideal.items()}
        left = count - sum(whole.values())
        order = sorted(kids, key=lambda t: (-round(ideal[t] - whole[t], 6), -current.get(t, 0)))
        if left >= 0:
            for t in order[:left]:
                whole[t] += 1
        else:  # EPSILON rounded some value up: take the excess back from the smallest
            for t in order[left:]:
                whole[t] -= 1
        for t in kids:
            share(t, whole[t])

    share((), total)
    return result
