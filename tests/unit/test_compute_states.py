"""The vm_state/task_state -> API status mapping and the scheduler's trait parsing."""

from __future__ import annotations

import pytest

from pocketstack.compute import states as st
from pocketstack.compute.resources import flavor_resources
from pocketstack.compute.scheduler import traits_from


@pytest.mark.parametrize("vm_state, task_state, status", [
    (st.ACTIVE, None, "ACTIVE"), (st.ACTIVE, st.REBOOTING, "REBOOT"), (st.ACTIVE, st.REBOOTING_HARD, "HARD_REBOOT"),
    (st.ACTIVE, st.POWERING_OFF, "ACTIVE"), (st.ACTIVE, st.RESIZE_PREP, "RESIZE"), (st.BUILDING, st.SPAWNING, "BUILD"),
    (st.STOPPED, None, "SHUTOFF"), (st.RESIZED, None, "VERIFY_RESIZE"),
    (st.RESIZED, st.RESIZE_REVERTING, "REVERT_RESIZE"), (st.ERROR, None, "ERROR"), (st.RESCUED, None, "RESCUE"),
    (st.ACTIVE, st.DELETING, "ACTIVE"), ("nonsense", None, "UNKNOWN"),
])
def test_status(vm_state, task_state, status):
    assert st.status(vm_state, task_state) == status


def test_traits_and_resources():
    assert traits_from({"trait:A": "required", "trait:B": "forbidden", "hw:x": "1"}) == ({"A"}, {"B"})
    assert flavor_resources({"vcpus": 2, "ram": 512, "disk": 10, "ephemeral": 5, "swap": 1536}) == {
        "VCPU": 2, "MEMORY_MB": 512, "DISK_GB": 17}
    assert flavor_resources({"vcpus": 1, "ram": 64, "disk": 0}) == {"VCPU": 1, "MEMORY_MB": 64}
