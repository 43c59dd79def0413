"""Guest CPU topology selection (Nova's hw:cpu_* / hw_cpu_* rules)."""

from __future__ import annotations

import pytest

from pocketstack.compute.topology import Topology, TopologyError, choose_topology, possible_topologies


def test_seed_example_image_prefers_two_threads():
    """4 vCPUs, flavor hw:cpu_threads=4, image hw_cpu_threads=2: the image's preference
    replaces the flavor's; (2,1,2) and (1,2,2) both match it and sockets beat cores."""
    chosen = choose_topology(4, {"hw:cpu_threads": "4"}, {"hw_cpu_threads": 2})
    assert chosen == Topology(sockets=2, cores=1, threads=2)


def test_seed_example_flavor_prefers_four_threads():
    assert choose_topology(4, {"hw:cpu_threads": "4"}, {}) == Topology(1, 1, 4)


def test_default_prefers_sockets_then_cores_then_threads():
    assert choose_topology(4) == Topology(4, 1, 1)
    assert choose_topology(1) == Topology(1, 1, 1)
    assert choose_topology(8, {"hw:cpu_max_sockets": "2"}) == Topology(2, 4, 1)
    assert choose_topology(8, {"hw:cpu_max_sockets": "2", "hw:cpu_max_cores": "2"}) == Topology(2, 2, 2)


def test_base_order_matches_nova():
    assert possible_topologies(4, Topology(65536, 65536, 65536)) == [
        Topology(4, 1, 1), Topology(2, 2, 1), Topology(1, 4, 1), Topology(2, 1, 2), Topology(1, 2, 2),
        Topology(1, 1, 4)]
    assert possible_topologies(4, Topology(65536, 65536, 65536), allow_threads=False) == [
        Topology(4, 1, 1), Topology(2, 2, 1), Topology(1, 4, 1)]


def test_full_preference_is_used_exactly():
    specs = {"hw:cpu_sockets": "1", "hw:cpu_cores": "4", "hw:cpu_threads": "2"}
    assert choose_topology(8, specs) == Topology(1, 4, 2)


def test_best_partial_match_when_preference_cannot_be_met_fully():
    # cores=3 divides nothing usable for 4 vCPUs: the preference scores 0, base order wins.
    assert choose_topology(4, {"hw:cpu_cores": "3"}) == Topology(4, 1, 1)
    # sockets=2 matches (2,2,1) first in base order.
    assert choose_topology(4, {"hw:cpu_sockets": "2"}) == Topology(2, 2, 1)


def test_image_limits_tighten_flavor_and_void_its_preference():
    # Image max sockets 2 (within flavor's 4): flavor's preferred sockets=4 no longer fits and is dropped.
    chosen = choose_topology(4, {"hw:cpu_max_sockets": "4", "hw:cpu_sockets": "4"}, {"hw_cpu_max_sockets": 2})
    assert chosen == Topology(2, 2, 1)


def test_image_preference_within_limits_overrides_flavor():
    chosen = choose_topology(8, {"hw:cpu_sockets": "8", "hw:cpu_max_threads": "2"}, {"hw_cpu_cores": "4"})
    assert chosen == Topology(2, 4, 1)


@pytest.mark.parametrize("vcpus, specs, props, fragment", [
    (4, {"hw:cpu_max_sockets": "2"}, {"hw_cpu_max_sockets": 4}, "exceed the flavor's limits"),
    (4, {"hw:cpu_max_threads": "1"}, {"hw_cpu_threads": 2}, "exceeds the limits"),
    (4, {"hw:cpu_sockets": "4", "hw:cpu_max_sockets": "2"}, {}, "exceeds the flavor's own limits"),
    (4, {"hw:cpu_sockets": "2", "hw:cpu_cores": "2", "hw:cpu_threads": "2"}, {}, "gives 8 vCPUs"),
    (4, {"hw:cpu_sockets": "two"}, {}, "expected an integer"),
    (4, {}, {"hw_cpu_cores": "1.5"}, "expected an integer"),
    (4, {}, {"hw_cpu_threads": True}, "expected an integer"),
    (4, {"hw:cpu_max_cores": "-1"}, {}, "must not be negative"),
    (5, {"hw:cpu_max_sockets": "2", "hw:cpu_max_cores": "2", "hw:cpu_max_threads": "1"}, {},
     "Cannot build a CPU topology"),
    (0, {}, {}, "positive integer"),
])
def test_invalid_combinations(vcpus, specs, props, fragment):
    with pytest.raises(TopologyError, match=fragment):
        choose_topology(vcpus, specs, props)


def test_topology_error_is_a_value_error():
    assert issubclass(TopologyError, ValueError)
