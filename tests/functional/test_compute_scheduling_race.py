"""Active/active schedulers: one build delivered to several schedulers at once.

A build cast can reach two schedulers (a publisher confirm lost and the cast re-sent).
Each test runs the scheduling step for one instance from 8 threads at once, split
between this cloud's compute manager and a second one built on the same database (a
second scheduler process, in process): exactly one claim must survive, the instance is
placed once, and the providers' usages are exactly the surviving allocations.  The
hosts are fresh and in their own zone, with room for one instance each, so a second
claim or a lost one shows up in the usages."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from pocketstack.compute import states as st
from pocketstack.compute.manager import Compute
from pocketstack.compute.models import Instance
from pocketstack.compute.transitions import load, transition

from conftest import unique
from test_compute_helpers import add_hosts, retire

THREADS = 8
ROUNDS = 4
FLAVOR = {"id": "race", "name": "race", "vcpus": 1, "ram": 64, "disk": 0, "extra_specs": {}}


@pytest.fixture
def zone(api):
    """Two fresh one-vCPU hosts in a private zone."""
    name = unique("zone")
    nodes = add_hosts(api, name, [1, 1])
    yield name, nodes
    retire(api, nodes)


@pytest.fixture
def managers(api):
    """This cloud's compute manager and a second one sharing its database."""
    return [api.cloud.service("compute").compute.manager, Compute(api.cloud).manager]


def waiting_instance(api, zone_name: str) -> str:
    """An instance the API has accepted and cast for scheduling (state ``scheduling``)."""
    instance_id = str(uuid.uuid4())
    with api.cloud.db.session() as s:
        s.add(Instance(id=instance_id, name=unique("vm"), project_id=uuid.uuid4().hex, user_id=uuid.uuid4().hex,
                       reservation_id=unique("r")[:32], flavor_id=FLAVOR["id"], flavor=FLAVOR,
                       vm_state=st.BUILDING, task_state=st.SCHEDULING, requested_az=zone_name,
                       requested_networks="none"))
    return instance_id


def all_at_once(calls) -> list:
    """Run the calls in threads released together by a barrier."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        return call()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def claimed_vcpus(placement, consumers) -> int:
    return sum(resources.get("VCPU", 0) for consumer in consumers
               for resources in placement.get_allocations(consumer).values())


def used_vcpus(placement, nodes) -> int:
    return sum(placement.usages(node.id).get("VCPU", 0) for node in nodes)


def test_one_build_scheduled_by_many_is_placed_once(api, zone, managers):
    zone_name, nodes = zone
    placement = api.cloud.service("placement").manager
    placed = []
    for _ in nodes:  # each host has room for one: the second instance fills the other
        instance_id = waiting_instance(api, zone_name)
        hosts = all_at_once([lambda m=managers[i % 2], instance_id=instance_id: m.schedule_instance(instance_id)
                             for i in range(THREADS)])
        winners = [h for h in hosts if h is not None]
        assert len(winners) == 1, hosts
        inst = load(api.cloud.db, instance_id)
        assert (inst.vm_state, inst.task_state, inst.host) == (st.BUILDING, st.NETWORKING, winners[0])
        node = next(n for n in nodes if n.host == winners[0])
        assert placement.get_allocations(instance_id) == {node.id: {"VCPU": 1, "MEMORY_MB": 64}}
        placed.append(instance_id)
    assert len({load(api.cloud.db, i).host for i in placed}) == len(nodes)
    assert used_vcpus(placement, nodes) == claimed_vcpus(placement, placed) == len(nodes)
    # A full zone: every copy finds no host, and the instance fails once with nothing held.
    full = waiting_instance(api, zone_name)
    assert all_at_once([lambda m=managers[i % 2]: m.schedule_instance(full) for i in range(THREADS)]) == \
        [None] * THREADS
    inst = load(api.cloud.db, full)
    assert (inst.vm_state, inst.task_state) == (st.ERROR, None)
    assert inst.fault["message"].startswith("No valid host was found.")
    assert placement.get_allocations(full) == {}
    assert used_vcpus(placement, nodes) == claimed_vcpus(placement, placed)
    for instance_id in placed:
        transition(api.cloud.db, instance_id, {"task_state": st.NETWORKING}, {"task_state": st.DELETING})
        managers[0].delete_instance(instance_id)
    assert used_vcpus(placement, nodes) == 0


def test_delete_racing_many_schedulers_leaves_no_allocation(api, zone, managers):
    zone_name, nodes = zone
    placement = api.cloud.service("placement").manager
    instances = [waiting_instance(api, zone_name) for _ in range(ROUNDS)]
    for instance_id in instances:
        def delete(instance_id=instance_id):
            if transition(api.cloud.db, instance_id, {"task_state": [st.SCHEDULING, st.NETWORKING]},
                          {"task_state": st.DELETING}):
                managers[1].delete_instance(instance_id)
        calls = [lambda m=managers[i % 2], i_=instance_id: m.schedule_instance(i_) for i in range(THREADS)]
        all_at_once(calls + [delete])
        with api.cloud.db.session(readonly=True) as s:
            assert s.get(Instance, instance_id) is None
        assert placement.get_allocations(instance_id) == {}
    assert used_vcpus(placement, nodes) == 0
