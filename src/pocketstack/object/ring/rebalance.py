"""The rebalance hot loops: gathering and placing partition-replicas.

:class:`~pocketstack.object.ring.builder.RingBuilder` decides *what* a rebalance must
achieve (the replica plan and each device's whole-number share); this module does the
per-partition work.  It runs once per partition-replica -- 786 432 times for a
2**18-partition, 3-replica ring -- so tier tuples become small integers and
per-device values live in plain lists indexed by device id.
"""

from __future__ import annotations

import math
import random
from array import array
from collections.abc import Iterable, Iterator
from itertools import chain

from pocketstack.object.ring import plan
from pocketstack.object.ring.devices import NONE_DEV, Device, Tier

#: Largest time a ``last_moved`` entry (``array('I')``) can hold.
MAX_TIME = 2**32 - 1


class Layout:
    """Integer-indexed failure-domain tree for one rebalance."""

    def __init__(self, devs: list[Device | None], active: list[Device],
                 target: dict[Tier, float], dev_targets: dict[int, int],
                 replicas: float) -> None:
        index: dict[Tier, int] = {(): 0}
        ndev = len(devs)
        self.dev_tiers: list[tuple[int, ...]] = [()] * ndev
        for dev in devs:
            if dev is not None:
                self.dev_tiers[dev.id] = tuple(index.setdefault(t, len(index)) for t in dev.tiers)
        size = len(index)
        self.minr = [0] * size
        self.maxr = [0] * size
        for tier, tid in index.items():
            self.minr[tid], self.maxr[tid] = plan.bounds(target.get(tier, 0.0))
        self.maxr[0] = math.ceil(replicas)
        self.children: list[list[int]] = [[] for _ in range(size)]
        for tier, kids in plan.tier_tree(active).items():
            self.children[index[tier]] = [index[k] for k in kids]
        self.leaf_dev = [-1] * size
        self.ndevs = [0] * size
        self.active = bytearray(ndev)
        self.target = [0] * ndev
        for dev in active:
            self.active[dev.id] = 1
            self.target[dev.id] = dev_targets.get(dev.id, 0)
            self.leaf_dev[self.dev_tiers[dev.id][-1]] = dev.id
            for tid in self.dev_tiers[dev.id]:
                self.ndevs[tid] += 1
        self.size = size
        # Whole-number share of partition-replicas per tier (decides where to overfill).
        self.tier_target = [0] * size
        for dev in active:
            for tid in self.dev_tiers[dev.id]:
                self.tier_target[tid] += self.target[dev.id]
        # Levels with a single child able to hold every replica (one region, say)
        # need no decision: placement starts below them.
        self.start = 0
        while len(self.children[self.start]) == 1 \
                and self.maxr[self.children[self.start][0]] >= self.maxr[0]:
            self.start = self.children[self.start][0]

    def crowding_tiers(self, nrows: int) -> list[tuple[int, ...]]:
        """Per device: the tier ids whose bound a partition could exceed.

        Tiers allowing every replica (``maxr >= nrows``) are left out.  For a device
        that may not hold anything (no weight), its own tier is repeated so that the
        quick "no tier seen twice" test of the dispersion sweep never skips it.
        """
        out = []
        for dev_id, tiers in enumerate(self.dev_tiers):
            crowd = tuple(t for t in tiers if self.maxr[t] < nrows)
            if tiers and not self.active[dev_id]:
                crowd += (tiers[-1], tiers[-1])
            out.append(crowd)
        return out


class Run:
    """State of one rebalance: working part counts, gathered replicas, statistics."""

    def __init__(self, rows: list[array], devs: list[Device | None], last_moved: array,
                 min_part_hours: float, layout: Layout, rng: random.Random,
                 now: int) -> None:
        self.L = layout
        self.rng = rng
        self.now = now
        self.rows = rows
        self.last_moved = last_moved
        self.nparts = len(rows[0]) if rows else 0
        self.parts = [0] * len(devs)
        for dev in devs:
            if dev is not None:
                self.parts[dev.id] = dev.parts
        self.touched = bytearray(self.nparts)
        # part -> [(row, previous device)] waiting for a new home
        self.gathered: dict[int, list[tuple[int, int]]] = {}
        self.changed: set[int] = set()
        self.moved = 0
        self.assigned = 0
        if min_part_hours:
            self.threshold = now - int(min_part_hours * 3600)
        else:
            self.threshold = MAX_TIME  # everything may move

    def _take(self, part: int, r: int, dev_id: int) -> None:
        self.gathered.setdefault(part, []).append((r, dev_id))
        self.touched[part] = 1
        if dev_id != NONE_DEV:
            self.parts[dev_id] -= 1
        self.rows[r][part] = NONE_DEV

    def gather_forced(self, removing: Iterable[int]) -> None:
        """Unassigned slots and replicas on removed devices: always, all of them."""
        bad = set(removing) | {NONE_DEV}
        for r, row in enumerate(self.rows):
            if not any(d in row for d in bad):
                continue
            if row.count(NONE_DEV) == len(row):
                self._take_unassigned_row(r)
                continue
            for part, dev_id in enumerate(row):
                if dev_id in bad:
                    self._take(part, r, dev_id)

    def _take_unassigned_row(self, r: int) -> None:
        """:meth:`_take` for every slot of a row that holds nothing yet (a new ring, or
        a replica added): the same gathered lists in the same order, built in bulk --
        on a first build this is every partition-replica of the ring."""
        n = len(self.rows[r])
        entry = (r, NONE_DEV)
        gathered = self.gathered
        if not gathered:
            gathered.update({part: [entry] for part in range(n)})
        else:
            for part in range(n):
                slots = gathered.get(part)
                if slots is None:
                    gathered[part] = [entry]
                else:
                    slots.append(entry)
        self.touched[:n] = b"\x01" * n

    def gather_dispersion(self) -> None:
        """One replica from each movable partition crowding a failure domain.

        Any replica inside the crowded domain would fix dispersion; the choice decides
        balance.  Greedy picks the most overweight device, then a repair sweep swaps a
        choice that left its device short for a sibling replica whose device is still
        over its share -- otherwise the balance phase would later have to move other
        partitions to even things out (e.g. when a new region reaches a full replica).
        """
        L = self.L
        maxr = L.maxr
        check = L.crowding_tiers(len(self.rows))
        if not any(check) or 0 not in self.touched:
            return  # no bound can be exceeded, or every partition is gathered already (a new ring)
        flat = chain.from_iterable
        touched, last_moved, threshold = self.touched, self.last_moved, self.threshold
        excess = [p - t for p, t in zip(self.parts, L.target)]
        choices: list[tuple[int, list[tuple[int, int]], int]] = []
        for part, devs_of_part in enumerate(part_tuples(self.rows)):
            if touched[part] or last_moved[part] > threshold:
                continue
            ids = tuple(flat(map(check.__getitem__, devs_of_part)))
            if len(set(ids)) == len(ids):
                continue  # no tier holds two replicas: nothing above a bound >= 1
            counts: dict[int, int] = {}
            for t in ids:
                counts[t] = counts.get(t, 0) + 1
            if all(c <= maxr[t] for t, c in counts.items()):
                continue
            candidates = [(r, d) for r, d in enumerate(devs_of_part)
                          if any(counts[t] > maxr[t] for t in check[d])]
            k = max(range(len(candidates)), key=lambda i: excess[candidates[i][1]])
            excess[candidates[k][1]] -= 1
            choices.append((part, candidates, k))
        for _ in range(4):
            swapped = 0
            for i, (part, candidates, k) in enumerate(choices):
                if excess[candidates[k][1]] >= 0 or len(candidates) < 2:
                    continue
                j = max(range(len(candidates)), key=lambda c: excess[candidates[c][1]])
                if excess[candidates[j][1]] >= 1:
                    excess[candidates[k][1]] += 1
                    excess[candidates[j][1]] -= 1
                    choices[i] = (part, candidates, j)
                    swapped += 1
            if not swapped:
                break
        for part, candidates, k in choices:
            r, dev_id = candidates[k]
            self._take(part, r, dev_id)

    def overweight(self) -> int:
        """Partition-replicas held above the devices' whole-number shares."""
        return sum(p - t for p, t in zip(self.parts, self.L.target) if p > t)

    def _avail(self) -> list[int]:
        """Per tier: partition-replicas its devices still want (positive wants only)."""
        L, parts = self.L, self.parts
        avail = [0] * L.size
        for dev_id, flag in enumerate(L.active):
            want = L.target[dev_id] - parts[dev_id]
            if flag and want > 0:
                avail[0] += want
                for t in L.dev_tiers[dev_id]:
                    avail[t] += want
        return avail

    def _home(self, tid: int, at: dict[int, int], avail: list[int]) -> int:
        """A device tier below ``tid`` that wants partitions and may take this one
        (every tier on the way below its per-partition maximum), or -1."""
        L = self.L
        kids = L.children[tid]
        if not kids:
            return tid
        maxr = L.maxr
        for k in kids:
            if avail[k] > 0 and at.get(k, 0) < maxr[k]:
                found = self._home(k, at, avail)
                if found >= 0:
                    return found
        return -1

    def gather_balance(self) -> None:
        """From overweight devices, one replica per movable partition, until even.

        A replica is only taken if some underweight device could legally receive it
        (checked by :meth:`_home`, which reserves that capacity).  Taking one that can
        only go back where it came from would waste the partition's single move for
        this rebalance -- common when, say, a new region already holds its one
        allowed replica of most partitions.
        """
        excess = [p - t for p, t in zip(self.parts, self.L.target)]
        remaining = sum(e for e in excess if e > 0)
        avail = self._avail()
        if not remaining or avail[0] <= 0:
            return
        rows, dev_tiers, minr = self.rows, self.L.dev_tiers, self.L.minr
        lens = [len(r) for r in rows]
        touched, last_moved, threshold = self.touched, self.last_moved, self.threshold
        start = self.rng.randrange(self.nparts)
        for part in chain(range(start, self.nparts), range(start)):
            if touched[part] or last_moved[part] > threshold:
                continue
            over = [(excess[row[part]], r) for r, row in enumerate(rows)
                    if part < lens[r] and excess[row[part]] > 0]
            if not over:
                continue
            at: dict[int, int] = {}
            for r, row in enumerate(rows):
                if part < lens[r]:
                    for t in dev_tiers[row[part]]:
                        at[t] = at.get(t, 0) + 1
            over.sort(reverse=True)
            for _, r in over:
                dev_id = rows[r][part]
                # A tier left below its per-partition minimum must get the replica
                # back: only look for a home inside the deepest such tier.
                anchor = self.L.start
                for t in dev_tiers[dev_id]:
                    at[t] -= 1
                    if at[t] < minr[t]:
                        anchor = t
                home = self._home(anchor, at, avail) if anchor != dev_tiers[dev_id][-1] else -1
                if home >= 0:
                    avail[0] -= 1
                    for t in dev_tiers[self.L.leaf_dev[home]]:
                        avail[t] -= 1
                    excess[dev_id] -= 1
                    remaining -= 1
                    self._take(part, r, dev_id)
                    break
                for t in dev_tiers[dev_id]:
                    at[t] += 1
            if not remaining or avail[0] <= 0:
                break

    def place(self) -> None:
        """Give every gathered replica a home (dispersion first, then capacity).

        Walking down from the top, each level keeps the children still below their
        per-partition maximum (only those below their minimum, if any) and takes the
        one with the most *usable* room: room on devices that do not already hold
        this partition.
        """
        L, rows, parts = self.L, self.rows, self.parts
        children, maxr, leaf_dev, dev_tiers = L.children, L.maxr, L.leaf_dev, L.dev_tiers
        minr, target, active, share = L.minr, L.target, L.active, L.tier_target
        has_min = [any(minr[k] for k in kids) for kids in children]
        lens = [len(r) for r in rows]
        avail = self._avail()
        rand = self.rng.random
        last_moved, now, changed = self.last_moved, self.now, self.changed
        items = list(self.gathered.items())
        self.gathered = {}
        self.rng.shuffle(items)
        size = L.size
        assigned = moved = 0
        for part, slots in items:
            # Per tier, indexed by tier id: replicas of this partition below it, and
            # the room on devices below it that already hold the partition.
            at = [0] * size
            held = [0] * size
            for r, row in enumerate(rows):
                if part < lens[r]:
                    d = row[part]
                    if d != NONE_DEV:
                        want = target[d] - parts[d]
                        for t in dev_tiers[d]:
                            at[t] += 1
                            if want > 0:
                                held[t] += want
            for r, old in slots:
                tid = L.start
                kids = children[tid]
                initial = old == NONE_DEV
                while kids:
                    pool = kids
                    if has_min[tid]:  # children below their minimum come first
                        pool = [k for k in kids if at[k] < minr[k]] or kids
                    # One pass: the children with the most usable room (``best``) and,
                    # for first assignments, those one partition behind (``runner``).
                    top = None
                    best: list = []
                    runner: list = []
                    for k in pool:
                        if at[k] < maxr[k]:
                            a = avail[k] - held[k]
                            if top is None or a > top:
                                runner = best if top is not None and a == top + 1 else []
                                best, top = [k], a
                            elif a == top:
                                best.append(k)
                            elif a == top - 1:
                                runner.append(k)
                    if top is None:
                        tid = self._fallback(kids, at, avail)
                        kids = children[tid]
                        continue
                    if top > 4 and initial and runner:
                        # On a first assignment, while room is plentiful, near-ties
                        # (one partition apart) are decided by chance, so that
                        # devices a unit ahead in the round-robin do not collect
                        # every doubled-up replica of a zone (later changes would
                        # then move more data).  Moves stay strictly greedy.
                        best = best + runner
                    elif top <= 0 and len(best) > 1:
                        # Everything is full: overfill the largest child, where one
                        # extra partition is the smallest relative excess.
                        big = max(share[k] for k in best)
                        best = [k for k in best if share[k] == big]
                    tid = best[int(rand() * len(best))] if len(best) > 1 else best[0]
                    kids = children[tid]
                dev_id = leaf_dev[tid]
                if (avail[tid] <= 0 and old != NONE_DEV and old != dev_id and active[old]
                        and all(at[t] < maxr[t] for t in dev_tiers[old])):
                    dev_id = old  # nowhere better to go: staying costs nothing
                # The device takes one more: one less wanted below each of its tiers
                # if it was short, and what it still wants counts as held room.
                want = target[dev_id] - parts[dev_id]
                parts[dev_id] += 1
                if want > 1:
                    for t in dev_tiers[dev_id]:
                        avail[t] -= 1
                        at[t] += 1
                        held[t] += want - 1
                else:
                    short = want == 1
                    for t in dev_tiers[dev_id]:
                        if short:
                            avail[t] -= 1
                        at[t] += 1
                rows[r][part] = dev_id
                if dev_id != old:
                    changed.add(part)
                    last_moved[part] = now
                    if initial:
                        assigned += 1
                    else:
                        moved += 1
        self.assigned += assigned
        self.moved += moved

    def _fallback(self, kids: list[int], at: list[int], avail: list[int]) -> int:
        """Every child is at its planned maximum (rounding corner cases): take the
        roomiest one that still has a device without this partition."""
        ndevs = self.L.ndevs
        roomy = [k for k in kids if at[k] < ndevs[k]] or kids
        return max(roomy, key=lambda k: avail[k])


def part_tuples(rows: list[array]) -> Iterator[tuple[int, ...]]:
    """Yield, for each partition in order, the device ids of its replicas.

    ``zip`` does the work in C; a shorter (fractional) last row is handled by
    zipping the remaining full rows for the partitions it does not cover.
    """
    if not rows:
        return iter(())
    shortest = min(len(r) for r in rows)
    longer = [r[shortest:] for r in rows if len(r) > shortest]
    return chain(zip(*rows), zip(*longer)) if longer else zip(*rows)
