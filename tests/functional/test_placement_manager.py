"""The in-process Placement interface the compute service uses, on every backend."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from pocketstack.common.db.guard import RowLockForbidden
from pocketstack.common.errors import BadRequest, Conflict

from conftest import unique


def new_uuid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def placement(cloud):
    return cloud.service("placement").manager


def make_provider(placement, **inventories) -> str:
    rp = new_uuid()
    placement.ensure_provider(rp, unique("node"), {rc: {"total": total} for rc, total in inventories.items()})
    return rp


def test_ensure_provider_creates_then_updates_idempotently(placement):
    rp, name = new_uuid(), unique("node")
    placement.ensure_provider(rp, name, {"VCPU": {"total": 8, "allocation_ratio": 4.0}, "MEMORY_MB": {"total": 2048}},
                              traits=["COMPUTE_NODE", "CUSTOM_FAST"])
    generation, inventories = placement.providers.inventories(rp)
    assert generation == 0
    assert inventories["VCPU"] == {"total": 8, "reserved": 0, "min_unit": 1, "max_unit": 8, "step_size": 1,
                                   "allocation_ratio": 4.0}
    assert placement.providers.traits(rp)[1] == ["COMPUTE_NODE", "CUSTOM_FAST"]

    placement.ensure_provider(rp, name, {"VCPU": {"total": 8, "allocation_ratio": 4.0}, "MEMORY_MB": {"total": 2048}},
                              traits=["COMPUTE_NODE", "CUSTOM_FAST"])
    assert placement.providers.get(rp)["generation"] == 0  # nothing changed, no bump

    placement.ensure_provider(rp, name, {"VCPU": {"total": 16}}, traits=["COMPUTE_NODE"])
    generation, inventories = placement.providers.inventories(rp)
    assert generation == 1
    assert set(inventories) == {"VCPU"} and inventories["VCPU"]["total"] == 16


def test_ensure_provider_rejects_bad_input(placement):
    with pytest.raises(BadRequest):
        placement.ensure_provider(new_uuid(), unique("node"), {"NOT_A_CLASS": {"total": 1}})
    with pytest.raises(BadRequest):
        placement.ensure_provider(new_uuid(), unique("node"), {"VCPU": {"total": 0}})
    taken = unique("node")
    placement.ensure_provider(new_uuid(), taken, {"VCPU": {"total": 1}})
    with pytest.raises(Conflict):
        placement.ensure_provider(new_uuid(), taken, {"VCPU": {"total": 1}})


def test_claim_replaces_and_respects_capacity(placement):
    rp = make_provider(placement, VCPU=4, MEMORY_MB=1024)
    consumer, project, user = new_uuid(), unique("p"), unique("u")
    assert placement.claim(consumer, project, user, {rp: {"VCPU": 2, "MEMORY_MB": 512}})
    assert placement.get_allocations(consumer) == {rp: {"VCPU": 2, "MEMORY_MB": 512}}
    assert placement.usages(rp) == {"MEMORY_MB": 512, "VCPU": 2}
    # Replacing: the consumer's own allocation does not count against it.
    assert placement.claim(consumer, project, user, {rp: {"VCPU": 4, "MEMORY_MB": 1024}})
    assert placement.usages(rp) == {"MEMORY_MB": 1024, "VCPU": 4}
    assert not placement.claim(new_uuid(), project, user, {rp: {"VCPU": 1}})
    assert not placement.claim(consumer, project, user, {rp: {"VCPU": 5}})
    assert placement.get_allocations(consumer) == {rp: {"VCPU": 4, "MEMORY_MB": 1024}}  # unchanged
    assert not placement.claim(new_uuid(), project, user, {new_uuid(): {"VCPU": 1}})  # unknown provider
    assert placement.project_usages(project) == {"VCPU": 4, "MEMORY_MB": 1024}
    assert placement.project_usages(project, user) == {"VCPU": 4, "MEMORY_MB": 1024}
    assert placement.project_usages(project, "someone-else") == {}


def test_claim_honours_unit_rules_and_overcommit(placement):
    rp = new_uuid()
    placement.ensure_provider(rp, unique("node"), {"VCPU": {"total": 4, "reserved": 1, "allocation_ratio": 2.0,
                                                            "max_unit": 4},
                                                   "DISK_GB": {"total": 100, "step_size": 10, "min_unit": 10}})
    project, user = unique("p"), unique("u")
    assert not placement.claim(new_uuid(), project, user, {rp: {"VCPU": 5}})  # above max_unit
    assert not placement.claim(new_uuid(), project, user, {rp: {"DISK_GB": 15}})  # not a step multiple
    assert not placement.claim(new_uuid(), project, user, {rp: {"DISK_GB": 5}})  # below min_unit
    for _ in range(6):  # (4 - 1) * 2.0 = 6 VCPUs
        assert placement.claim(new_uuid(), project, user, {rp: {"VCPU": 1}})
    assert not placement.claim(new_uuid(), project, user, {rp: {"VCPU": 1}})


def test_delete_and_move_allocations(placement):
    rp = make_provider(placement, VCPU=8)
    instance, migration, project, user = new_uuid(), new_uuid(), unique("p"), unique("u")
    assert placement.claim(instance, project, user, {rp: {"VCPU": 2}})
    placement.move_allocations(instance, migration)
    assert placement.get_allocations(instance) == {}
    assert placement.get_allocations(migration) == {rp: {"VCPU": 2}}
    assert placement.project_usages(project) == {"VCPU": 2}  # the migration keeps the owner
    placement.delete_allocations(migration)
    placement.delete_allocations(migration)  # idempotent
    assert placement.usages(rp) == {"VCPU": 0}


def test_delete_provider_refuses_while_allocated(placement):
    rp = make_provider(placement, VCPU=2)
    consumer = new_uuid()
    assert placement.claim(consumer, "p", "u", {rp: {"VCPU": 1}})
    with pytest.raises(Conflict):
        placement.delete_provider(rp)
    placement.delete_allocations(consumer)
    placement.delete_provider(rp)
    assert all(c.provider_uuid != rp for c in placement.get_candidates({"VCPU": 1}))


def test_candidates_filter_on_capacity_and_traits(placement):
    trait = "CUSTOM_" + uuid.uuid4().hex.upper()
    roomy, tight = new_uuid(), new_uuid()
    placement.ensure_provider(roomy, unique("node"), {"VCPU": {"total": 8}, "MEMORY_MB": {"total": 4096}},
                              traits=[trait])
    placement.ensure_provider(tight, unique("node"), {"VCPU": {"total": 1}, "MEMORY_MB": {"total": 4096}},
                              traits=[trait])
    found = {c.provider_uuid: c for c in placement.get_candidates({"VCPU": 2, "MEMORY_MB": 512},
                                                                  required_traits=[trait])}
    assert set(found) == {roomy}
    assert found[roomy].inventories["MEMORY_MB"]["total"] == 4096 and found[roomy].usages["MEMORY_MB"] == 0
    assert placement.get_candidates({"VCPU": 1}, required_traits=[trait], forbidden_traits=[trait]) == []
    assert len(placement.get_candidates({"VCPU": 1}, required_traits=[trait], limit=1)) == 1


def test_row_locking_sql_is_refused(cloud):
    """The engine hook is active: any FOR UPDATE fails loudly (so no code path uses one)."""
    with pytest.raises(RowLockForbidden):
        with cloud.db.session() as s:
            s.execute(sa.text("SELECT uuid FROM placement_resource_provider FOR UPDATE"))


def test_concurrent_claims_never_overcommit(placement, cloud):
    """200 racing claims for 150 slots on 4 providers: exactly 150 win."""
    slots = [40, 40, 40, 30]
    providers = [new_uuid() for _ in slots]
    for rp, count in zip(providers, slots):
        placement.ensure_provider(rp, unique("race"), {"MEMORY_MB": {"total": 512 * count}})
    project = unique("p")
    start = threading.Barrier(200)

    def attempt(i: int) -> bool:
        start.wait()  # all 200 threads start their claim at once
        return placement.claim(new_uuid(), project, "u", {providers[i % 4]: {"MEMORY_MB": 512}})

    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(cloud.db.engine, "before_cursor_execute", record)
    try:
        with ThreadPoolExecutor(max_workers=200) as pool:
            results = list(pool.map(attempt, range(200)))
    finally:
        event.remove(cloud.db.engine, "before_cursor_execute", record)
    assert results.count(True) == 150
    # The compare-and-swap did the work; no statement locked rows.
    assert any(s.startswith("UPDATE placement_resource_provider SET generation") for s in statements)
    assert not any("FOR UPDATE" in s.upper() or "FOR SHARE" in s.upper() for s in statements)
    total = 0
    for rp, count in zip(providers, slots):
        used = placement.usages(rp)["MEMORY_MB"]
        assert used == 512 * count  # each provider exactly full, never over
        allocated = sum(a.get("MEMORY_MB", 0) for a in placement.allocations.for_provider(rp).values())
        assert allocated == used
        total += used
    assert placement.project_usages(project) == {"MEMORY_MB": total}


def test_claim_on_stale_candidates_decides_on_fresh_reads(placement):
    """A claim handed candidates that other claims have since outdated neither
    over-commits nor refuses room that is there: its generation no longer matches, so it
    reads the provider again."""
    rp = make_provider(placement, MEMORY_MB=1024)
    [seen] = [c for c in placement.get_candidates({"MEMORY_MB": 512}) if c.provider_uuid == rp]
    assert placement.claim(new_uuid(), "p", "u", {rp: {"MEMORY_MB": 512}}, seen=[seen])
    # ``seen`` still shows 1024 free: only a fresh read knows that 512 are left.
    assert placement.claim(new_uuid(), "p", "u", {rp: {"MEMORY_MB": 512}}, seen=[seen])
    assert not placement.claim(new_uuid(), "p", "u", {rp: {"MEMORY_MB": 512}}, seen=[seen])
    assert placement.usages(rp)["MEMORY_MB"] == 1024
    # A refusal on what was seen is checked afresh too: room freed since counts.
    full = dataclasses.replace(seen, usages={"MEMORY_MB": 1024}, generation=placement.providers.inventories(rp)[0])
    placement.delete_allocations(next(iter(placement.allocations.for_provider(rp))))
    assert placement.claim(new_uuid(), "p", "u", {rp: {"MEMORY_MB": 512}}, seen=[full])
    assert placement.usages(rp)["MEMORY_MB"] == 1024


def test_concurrent_claims_on_candidates_never_overcommit(placement):
    """As above, but each of 120 racing claims is handed the candidates it read before the
    race (as the scheduler does): exactly the 90 that fit win."""
    slots = [30, 30, 30]
    providers = [new_uuid() for _ in slots]
    for rp, count in zip(providers, slots):
        placement.ensure_provider(rp, unique("race"), {"MEMORY_MB": {"total": 512 * count}})
    seen = {c.provider_uuid: c for c in placement.get_candidates({"MEMORY_MB": 512}) if c.provider_uuid in providers}
    start = threading.Barrier(120)

    def attempt(i: int) -> bool:
        start.wait()
        rp = providers[i % 3]
        return placement.claim(new_uuid(), "p", "u", {rp: {"MEMORY_MB": 512}}, seen=[seen[rp]])

    with ThreadPoolExecutor(max_workers=120) as pool:
        results = list(pool.map(attempt, range(120)))
    assert results.count(True) == 90
    for rp, count in zip(providers, slots):
        assert placement.usages(rp)["MEMORY_MB"] == 512 * count
