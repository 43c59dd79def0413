"""Properties of the ring builder: placement, balance, dispersion, limited movement."""

from __future__ import annotations

from collections import Counter

import pytest

from pocketstack.object.ring import RingBuilder, RingBuilderError, RingValidationError
from pocketstack.object.ring.devices import parse_add_value, parse_search_value


class FakeClock:
    """Injectable clock for min_part_hours."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += hours * 3600


def make_builder(zones: int = 3, per_zone: int = 4, part_power: int = 10, replicas: float = 3,
                 min_part_hours: float = 0, weight: float = 100.0, **kwargs) -> RingBuilder:
    builder = RingBuilder(part_power, replicas, min_part_hours, **kwargs)
    for z in range(1, zones + 1):
        for i in range(per_zone):
            builder.add_dev(region=1, zone=z, ip=f"10.0.{z}.{i}", port=6200, device="sdb",
                            weight=weight)
    return builder


def snapshot(builder: RingBuilder) -> list[list[int]]:
    return [list(row) for row in builder.replica2part2dev]


def moves(before: list[list[int]], after: list[list[int]]) -> tuple[int, Counter]:
    """(replicas that changed device, histogram of changed replicas per partition)."""
    per_part: Counter = Counter()
    for row_before, row_after in zip(before, after):
        for part, (old, new) in enumerate(zip(row_before, row_after)):
            if old != new:
                per_part[part] += 1
    return sum(per_part.values()), per_part


def part_counts(builder: RingBuilder) -> dict[int, int]:
    return {d.id: d.parts for d in builder.iter_devs()}


# --------------------------------------------------------------- placement


def test_every_partition_gets_distinct_devices() -> None:
    builder = make_builder()
    builder.rebalance(seed=1)
    builder.validate()
    assert len(builder.replica2part2dev) == 3
    for part in range(builder.parts):
        devs = [row[part] for row in builder.replica2part2dev]
        assert len(set(devs)) == 3


def test_rows_are_compact_arrays() -> None:
    builder = make_builder()
    builder.rebalance(seed=1)
    for row in builder.replica2part2dev:
        assert row.typecode == "H"
        assert len(row) == builder.parts


def test_equal_weights_are_balanced() -> None:
    builder = make_builder(zones=3, per_zone=4, part_power=10)
    result = builder.rebalance(seed=7)
    expected = builder.parts * 3 / 12
    assert result.balance < 2.0
    for dev in builder.iter_devs():
        assert abs(dev.parts - expected) / expected < 0.02


def test_weights_are_honoured_proportionally() -> None:
    builder = RingBuilder(12, 3, 0)
    weights = [100, 200, 300, 400, 100, 200, 300, 400, 100, 200, 300, 400]
    for i, w in enumerate(weights):
        builder.add_dev(region=1, zone=i % 3 + 1, ip=f"10.0.0.{i}", port=6200, device="sdb",
                        weight=w)
    result = builder.rebalance(seed=3)
    total = builder.parts * 3
    for dev in builder.iter_devs():
        want = total * dev.weight / sum(weights)
        assert abs(dev.parts - want) <= max(2, 0.01 * want)
    assert result.balance < 1.0


def test_three_zones_three_replicas_one_replica_per_zone() -> None:
    builder = make_builder(zones=3, per_zone=5, part_power=11)
    builder.rebalance(seed=2)
    for part in range(builder.parts):
        zones = sorted(d.zone for d in builder.get_part_devices(part))
        assert zones == [1, 2, 3]
    assert builder.dispersion == 0.0


def test_dispersion_beats_unequal_devices_per_zone() -> None:
    # 2 devices in zone 1, 6 in zone 2, 4 in zone 3, each zone weighted equally:
    # still one replica per zone (dispersion first), devices in a zone share its load.
    builder = RingBuilder(10, 3, 0)
    for zone, count in ((1, 2), (2, 6), (3, 4)):
        for i in range(count):
            builder.add_dev(region=1, zone=zone, ip=f"10.{zone}.0.{i}", port=6200,
                            device="sdb", weight=1200 / count)
    builder.rebalance(seed=5)
    for part in range(builder.parts):
        assert sorted(d.zone for d in builder.get_part_devices(part)) == [1, 2, 3]
    assert builder.get_balance() < 1.0


def test_servers_are_a_failure_domain() -> None:
    # One zone, 3 servers with 4 disks each: replicas land on 3 different servers.
    builder = RingBuilder(10, 3, 0)
    for server in range(3):
        for disk in range(4):
            builder.add_dev(region=1, zone=1, ip=f"10.0.0.{server}", port=6200,
                            device=f"sd{disk}", weight=100)
    builder.rebalance(seed=1)
    for part in range(builder.parts):
        assert len({d.ip for d in builder.get_part_devices(part)}) == 3


def test_two_zones_three_replicas_as_unique_as_possible() -> None:
    builder = make_builder(zones=2, per_zone=4)
    builder.rebalance(seed=1)
    for part in range(builder.parts):
        per_zone = Counter(d.zone for d in builder.get_part_devices(part))
        assert sorted(per_zone.values()) == [1, 2]
        # and the two replicas sharing a zone are on different servers
        assert len({d.ip for d in builder.get_part_devices(part)}) == 3


def test_overload_trades_balance_for_dispersion() -> None:
    def build(overload: float) -> RingBuilder:
        builder = RingBuilder(10, 3, 0, overload=overload)
        for zone, weight in ((1, 200), (2, 100), (3, 100)):
            for i in range(4):
                builder.add_dev(region=1, zone=zone, ip=f"10.{zone}.0.{i}", port=6200,
                                device="sdb", weight=weight)
        builder.rebalance(seed=1)
        return builder

    strict = build(0.0)
    assert strict.get_balance() < 1.0
    assert strict.dispersion > 0  # zone 1 holds 2 replicas of half the partitions
    assert strict.get_required_overload() == pytest.approx(1 / 3)
    dispersed = build(0.5)
    assert dispersed.dispersion == 0.0
    for part in range(dispersed.parts):
        assert sorted(d.zone for d in dispersed.get_part_devices(part)) == [1, 2, 3]


def test_fractional_replicas() -> None:
    builder = make_builder(replicas=2.5)
    builder.rebalance(seed=4)
    builder.validate()
    lengths = [len(row) for row in builder.replica2part2dev]
    assert lengths == [builder.parts, builder.parts, builder.parts // 2]
    counts = Counter(len(builder.get_part_devices(p)) for p in range(builder.parts))
    assert counts == {3: builder.parts // 2, 2: builder.parts // 2}
    total = sum(d.parts for d in builder.iter_devs())
    assert total == int(2.5 * builder.parts)
    for part in range(builder.parts):
        zones = [d.zone for d in builder.get_part_devices(part)]
        assert len(set(zones)) == len(zones)
    assert builder.get_balance() < 2.0


def test_changing_replica_count() -> None:
    builder = make_builder(zones=4, per_zone=3, part_power=10)
    builder.rebalance(seed=1)
    builder.set_replicas(3.5)
    result = builder.rebalance(seed=1)
    builder.validate()
    assert [len(r) for r in builder.replica2part2dev] == [1024, 1024, 1024, 512]
    assert result.assigned_replicas == 512
    builder.set_replicas(3)
    builder.rebalance(seed=1)
    builder.validate()
    assert len(builder.replica2part2dev) == 3


def test_not_enough_devices() -> None:
    builder = make_builder(zones=1, per_zone=2)
    with pytest.raises(RingValidationError):
        builder.rebalance()


# ------------------------------------------------------------ limited movement


def test_adding_a_device_moves_its_share_only() -> None:
    builder = make_builder(zones=3, per_zone=4, part_power=12)
    builder.rebalance(seed=1)
    before = snapshot(builder)
    builder.add_dev(region=1, zone=1, ip="10.0.1.99", port=6200, device="sdb", weight=100)
    result = builder.rebalance(seed=2)
    builder.validate()
    moved, per_part = moves(before, snapshot(builder))
    total = builder.parts * 3
    assert moved == result.moved_replicas
    assert moved / total == pytest.approx(1 / 13, rel=0.05)
    assert max(per_part.values()) == 1  # never more than one replica of a partition
    new_id = builder.search_devs("-10.0.1.99")[0].id
    # everything that moved went to the new device
    assert builder.devs[new_id].parts == moved
    assert result.balance < 2.0


@pytest.mark.parametrize("existing", [6, 12, 20])
def test_adding_one_device_to_n_moves_one_over_n_plus_one(existing: int) -> None:
    builder = RingBuilder(12, 3, 0)
    for i in range(existing):
        builder.add_dev(region=1, zone=i % 3 + 1, ip=f"10.0.0.{i}", port=6200, device="sdb",
                        weight=100)
    builder.rebalance(seed=1)
    before = snapshot(builder)
    builder.add_dev(region=1, zone=1, ip="10.0.9.9", port=6200, device="sdb", weight=100)
    result = builder.rebalance(seed=1)
    moved, per_part = moves(before, snapshot(builder))
    assert moved / (builder.parts * 3) == pytest.approx(1 / (existing + 1), rel=0.1)
    assert max(per_part.values()) == 1
    assert result.changed_parts == len(per_part)


def test_removing_a_device_moves_only_its_partitions() -> None:
    builder = make_builder(zones=3, per_zone=4, part_power=11)
    builder.rebalance(seed=1)
    before = snapshot(builder)
    victim = 5
    held = builder.devs[victim].parts
    builder.remove_dev(victim)
    assert builder.devs[victim].weight == 0
    result = builder.rebalance(seed=1)
    builder.validate()
    after = snapshot(builder)
    assert builder.devs[victim] is None
    assert result.removed_devices == 1
    for row_before, row_after in zip(before, after):
        for old, new in zip(row_before, row_after):
            if old != victim:
                assert old == new
            else:
                assert new != victim
    assert result.moved_replicas == held


def test_removal_ignores_min_part_hours() -> None:
    clock = FakeClock()
    builder = make_builder(min_part_hours=24, clock=clock)
    builder.rebalance(seed=1)
    builder.remove_dev(0)
    clock.advance(1)
    result = builder.rebalance(seed=1)
    builder.validate()
    assert result.removed_devices == 1
    assert all(0 not in row for row in builder.replica2part2dev)


def test_zero_weight_device_drains() -> None:
    builder = make_builder(zones=3, per_zone=3)
    builder.rebalance(seed=1)
    builder.set_dev_weight(4, 0)
    builder.rebalance(seed=1)
    builder.validate()
    assert builder.devs[4].parts == 0
    assert builder.devs[4] is not None  # still listed until removed


def test_weight_change_moves_proportionally() -> None:
    builder = make_builder(zones=3, per_zone=4, part_power=12)
    builder.rebalance(seed=1)
    before = snapshot(builder)
    builder.set_dev_weight(0, 200)  # total weight 1200 -> 1300
    result = builder.rebalance(seed=1)
    moved, per_part = moves(before, snapshot(builder))
    want = builder.parts * 3 * 200 / 1300
    assert builder.devs[0].parts == pytest.approx(want, abs=2)
    # only the newly wanted partitions moved (to device 0)
    assert moved == pytest.approx(want - builder.parts * 3 / 12, rel=0.05)
    assert max(per_part.values()) == 1
    assert result.balance < 2.0


def test_second_rebalance_without_changes_moves_nothing() -> None:
    builder = make_builder()
    builder.rebalance(seed=1)
    before = snapshot(builder)
    result = builder.rebalance(seed=99)
    assert result.changed_parts == 0
    assert snapshot(builder) == before


# ----------------------------------------------------- gradual new region (the note)


def region_share(builder: RingBuilder, region: int) -> float:
    rows = builder.replica2part2dev
    held = sum(1 for row in rows for dev_id in row if builder.devs[dev_id].region == region)
    return held / sum(len(row) for row in rows)


def test_new_region_added_gradually() -> None:
    """Florent Flament's "Splitting Swift cluster": add region 2 with low weights and
    raise them step by step; each step moves only the new share, at most one replica
    of any partition, and region 1 is not reshuffled."""
    builder = make_builder(zones=3, per_zone=4, part_power=13)
    builder.rebalance(seed=1)
    w1_total = sum(d.weight for d in builder.iter_devs())
    n2 = 2
    new_ids = [builder.add_dev(region=2, zone=1, ip=f"10.2.0.{i}", port=6200, device="sdb",
                               weight=0) for i in range(n2)]
    previous = 0.0
    for ratio in (0.01, 0.03, 0.06, 0.09, 0.15, 0.25, 1 / 3):
        w2 = ratio * w1_total / ((1 - ratio) * n2)  # the note's formula
        for dev_id in new_ids:
            builder.set_dev_weight(dev_id, w2)
        before = snapshot(builder)
        result = builder.rebalance(seed=3)
        builder.validate()
        after = snapshot(builder)
        moved, per_part = moves(before, after)
        share = region_share(builder, 2)
        assert share == pytest.approx(ratio, abs=0.002)
        # the data moved is the growth of the new region's share, nothing more
        assert moved / (builder.parts * 3) == pytest.approx(ratio - previous, abs=0.002)
        assert max(per_part.values()) == 1
        # moves inside region 1 (region 1 -> region 1) are rounding noise only
        intra = sum(1 for rb, ra in zip(before, after) for o, n in zip(rb, ra)
                    if o != n and builder.devs[n].region == 1)
        assert intra <= len(list(builder.iter_devs()))
        assert result.balance < 2.0
        previous = share
    # at one third every partition has exactly one replica in the new region
    for part in range(builder.parts):
        assert [d.region for d in builder.get_part_devices(part)].count(2) == 1
    assert builder.dispersion == 0.0


def test_single_partition_per_new_device() -> None:
    """The note's first step: weights so that each new device gets one partition."""
    builder = make_builder(zones=3, per_zone=4, part_power=12)
    builder.rebalance(seed=1)
    w1_total, p1 = 1200.0, builder.parts * 3
    n2 = 3
    w2 = w1_total * 1 / p1  # w2 = W1 * p2 / (n2 * p1) with p2 = n2 partitions
    for i in range(n2):
        builder.add_dev(region=2, zone=1, ip=f"10.2.0.{i}", port=6200, device="sdb", weight=w2)
    result = builder.rebalance(seed=1)
    assert result.moved_replicas == n2
    assert result.changed_parts == n2
    assert [d.parts for d in builder.iter_devs() if d.region == 2] == [1] * n2


# ------------------------------------------------------------ min_part_hours


def test_min_part_hours_blocks_second_move() -> None:
    clock = FakeClock()
    builder = make_builder(zones=3, per_zone=4, part_power=11, min_part_hours=1, clock=clock)
    builder.rebalance(seed=1)

    builder.add_dev(region=1, zone=1, ip="10.0.1.50", port=6200, device="sdb", weight=100)
    clock.advance(0.5)
    blocked = builder.rebalance(seed=1)
    assert blocked.changed_parts == 0  # everything moved 30 minutes ago
    assert builder.min_part_seconds_left() == pytest.approx(1800)

    clock.advance(0.5)
    before = snapshot(builder)
    first = builder.rebalance(seed=1)
    assert first.moved_replicas > 0
    _, moved_now = moves(before, snapshot(builder))
    assert all(builder.last_moved[p] == int(clock.now) for p in moved_now)

    # Another change 30 minutes later: the partitions just moved must stay put.
    builder.add_dev(region=1, zone=2, ip="10.0.2.50", port=6200, device="sdb", weight=100)
    clock.advance(0.5)
    before2 = snapshot(builder)
    second = builder.rebalance(seed=1)
    _, moved_again = moves(before2, snapshot(builder))
    assert second.moved_replicas > 0
    assert not set(moved_again) & set(moved_now)


def test_pretend_min_part_hours_passed() -> None:
    clock = FakeClock()
    builder = make_builder(min_part_hours=24, clock=clock)
    builder.rebalance(seed=1)
    builder.add_dev(region=1, zone=1, ip="10.0.1.50", port=6200, device="sdb", weight=100)
    assert builder.rebalance(seed=1).changed_parts == 0
    builder.pretend_min_part_hours_passed()
    assert builder.rebalance(seed=1).changed_parts > 0


# ----------------------------------------------------------- determinism & files


def test_same_seed_same_ring() -> None:
    first, second = make_builder(), make_builder()
    first.rebalance(seed=42)
    second.rebalance(seed=42)
    assert snapshot(first) == snapshot(second)
    first.add_dev(region=1, zone=2, ip="10.0.2.77", port=6200, device="sdb", weight=150)
    second.add_dev(region=1, zone=2, ip="10.0.2.77", port=6200, device="sdb", weight=150)
    first.rebalance(seed=7)
    second.rebalance(seed=7)
    assert snapshot(first) == snapshot(second)


def test_different_seeds_differ_but_are_equally_good() -> None:
    a, b = make_builder(), make_builder()
    a.rebalance(seed=1)
    b.rebalance(seed=2)
    assert snapshot(a) != snapshot(b)
    assert a.get_balance() < 2 and b.get_balance() < 2


def test_replica_sets_are_varied() -> None:
    # Random tie-breaking must not pair devices in fixed triples.
    builder = make_builder(zones=3, per_zone=4, part_power=10)
    builder.rebalance(seed=1)
    triples = {tuple(sorted(row[p] for row in builder.replica2part2dev))
               for p in range(builder.parts)}
    assert len(triples) > 40  # 64 combinations possible (4 * 4 * 4)


def test_builder_file_round_trip(tmp_path) -> None:
    clock = FakeClock()
    builder = make_builder(min_part_hours=2, clock=clock, overload=0.1)
    builder.add_dev(region=2, zone=1, ip="fe80::1", port=6200, device="sdb", weight=50,
                    meta="ssd")
    builder.rebalance(seed=5)
    builder.remove_dev(1)
    path = tmp_path / "object.builder"
    builder.save(path)
    loaded = RingBuilder.load(path, clock=clock)
    assert snapshot(loaded) == snapshot(builder)
    assert list(loaded.last_moved) == list(builder.last_moved)
    assert loaded.devs == builder.devs
    assert part_counts(loaded) == part_counts(builder)
    assert loaded.pending_removals == [1]
    assert (loaded.min_part_hours, loaded.overload, loaded.version) == (2, 0.1, builder.version)
    clock.advance(3)
    assert snapshot_after(loaded) == snapshot_after(builder)


def snapshot_after(builder: RingBuilder) -> list[list[int]]:
    builder.rebalance(seed=11)
    return snapshot(builder)


def test_reports() -> None:
    builder = make_builder(zones=2, per_zone=3)
    builder.rebalance(seed=1)
    report = builder.dispersion_report()
    # two zones, three replicas: every partition has two replicas in one zone, which
    # is as unique as possible (bound ceil(3/2) = 2), so nothing is at risk
    assert report.dispersion == 0.0
    assert report.max_allowed[(1, 1)] == 2
    graph = report.graph[(1, 1)]
    assert sum(graph) == builder.parts and graph[3] == 0
    assert set(builder.balance_per_dev()) == {d.id for d in builder.iter_devs()}


# ------------------------------------------------------------------ devices


def test_device_validation_and_duplicates() -> None:
    builder = RingBuilder(8, 3, 1)
    builder.add_dev(region=1, zone=1, ip="10.0.0.1", port=6200, device="sdb", weight=1)
    with pytest.raises(RingBuilderError):
        builder.add_dev(region=1, zone=2, ip="10.0.0.1", port=6200, device="sdb", weight=1)
    with pytest.raises(RingBuilderError):
        builder.add_dev(region=1, zone=1, ip="10.0.0.2", port=6200, device="sdb", weight=-1)
    with pytest.raises(RingBuilderError):
        builder.add_dev(region=1, zone=1, ip="10.0.0.2", port=0, device="sdb", weight=1)
    with pytest.raises(RingBuilderError):
        RingBuilder(8, 0.5, 1)
    with pytest.raises(RingBuilderError):
        builder.set_dev_weight(7, 1)


def test_removed_device_ids_are_reused() -> None:
    builder = make_builder()
    builder.rebalance(seed=1)
    builder.remove_dev(3)
    builder.rebalance(seed=1)
    new_id = builder.add_dev(region=1, zone=1, ip="10.9.9.9", port=6200, device="sdb",
                             weight=100)
    assert new_id == 3


def test_swift_device_syntax() -> None:
    assert parse_add_value("r2z3-10.0.0.5:6200/sdb1") == {
        "region": 2, "zone": 3, "ip": "10.0.0.5", "port": 6200, "device": "sdb1"}
    assert parse_add_value('z1-[fe80::1]:6200R10.1.0.1:6300/sdc_"fast ssd"') == {
        "region": 1, "zone": 1, "ip": "fe80::1", "port": 6200, "replication_ip": "10.1.0.1",
        "replication_port": 6300, "device": "sdc", "meta": "fast ssd"}
    assert parse_search_value("d12") == {"id": 12}
    assert parse_search_value("r1z2-10.0.0.5:6200/sdb") == {
        "region": 1, "zone": 2, "ip": "10.0.0.5", "port": 6200, "device": "sdb"}
    assert parse_search_value("/sdc") == {"device": "sdc"}
    with pytest.raises(RingBuilderError):
        parse_add_value("10.0.0.5:6200/sdb")
    with pytest.raises(RingBuilderError):
        parse_search_value("")


def test_search_devs() -> None:
    builder = make_builder(zones=3, per_zone=2)
    assert [d.id for d in builder.search_devs("z2")] == [2, 3]
    assert [d.id for d in builder.search_devs("-10.0.3.1")] == [5]
    assert [d.id for d in builder.search_devs({"zone": 1, "ip": "10.0.1.0"})] == [0]


@pytest.mark.parametrize("seed", range(12))
def test_random_cluster_evolution_keeps_invariants(seed: int) -> None:
    """Random adds, weight changes, removals and replica changes: the ring stays valid
    and a rebalance never moves two replicas of a partition (removed devices aside)."""
    import random

    rnd = random.Random(seed)
    builder = RingBuilder(8, rnd.choice([2, 2.5, 3, 3, 4]), 0,
                          overload=rnd.choice([0.0, 0.0, 0.2]))

    def add() -> None:
        builder.add_dev(region=rnd.randint(1, 2), zone=rnd.randint(1, 4),
                        ip=f"10.0.0.{rnd.randint(1, 9)}", port=6200,
                        device=f"sd{rnd.randrange(10**9)}",
                        weight=rnd.choice([0, 1, 10, 100, 100, 200, 1000]))

    for _ in range(rnd.randint(6, 16)):
        add()
    for step in range(8):
        removing = set(builder.pending_removals)
        before = snapshot(builder)
        try:
            builder.rebalance(seed=step)
        except RingValidationError:
            add()
            continue
        builder.validate()
        after = snapshot(builder)
        if [len(r) for r in before] == [len(r) for r in after]:
            for part in range(builder.parts):
                changed = [r for r in range(len(after))
                           if part < len(after[r]) and before[r][part] != after[r][part]]
                if not any(before[r][part] in removing for r in changed):
                    assert len(changed) <= 1
        active = builder.active_devs()
        choice = rnd.random()
        if choice < 0.3:
            add()
        elif choice < 0.5 and active:
            builder.set_dev_weight(rnd.choice(active).id, rnd.choice([0, 5, 50, 500]))
        elif choice < 0.7 and len(active) > 4:
            builder.remove_dev(rnd.choice(active).id)
        elif choice < 0.8:
            builder.set_replicas(rnd.choice([2, 2.5, 3, 3.5]))
