"""The 2.86 extra-spec table (compute/extra_specs.py): which rule a key finds, and what
each kind of rule accepts."""

from __future__ import annotations

import pytest

from pocketstack.compute import extra_specs
from pocketstack.compute.errors import ExtraSpecInvalid


@pytest.mark.parametrize(("key", "rule"), [
    ("hw:cpu_policy", "hw:cpu_policy"),
    ("hw:numa_cpus.12", r"hw:numa_cpus\.\d+"),
    ("resources:VCPU", "resources([a-zA-Z0-9_-]{1,64})?:VCPU"),
    ("resources_gpu-1:CUSTOM_X", "resources([a-zA-Z0-9_-]{1,64})?:CUSTOM_[A-Z0-9_]+"),
    ("capabilities:stats:io_ops", r"capabilities:stats(:\w+)*"),
    ("aggregate_instance_extra_specs:anything", "aggregate_instance_extra_specs:.+"),
])
def test_a_key_finds_its_rule(key, rule):
    found = extra_specs.rule_for(key)
    assert found is not None and found.name == rule


@pytest.mark.parametrize("key", ["plain", "custom_ns:thing", "powervm:proc_units", "hw_foo:bar"])
def test_keys_outside_nova_namespaces_pass(key):
    assert extra_specs.rule_for(key) is None
    extra_specs.validate(key, "anything at all")


@pytest.mark.parametrize(("key", "good", "bad"), [
    ("hw:cpu_realtime", ["yes", "0", " TRUE "], ["maybe", ""]),
    ("hw:numa_nodes", ["1", "16"], ["0", "x", "1.5"]),
    ("hw:redirected_usb_ports", ["0", "15"], ["16", "-1"]),
    ("hw:mem_page_size", ["large", "2048", "2MiB", "1GB"], ["huge", "2 MB"]),
    ("quota:cpu_quota", ["-1", "5000"], ["lots"]),
    ("trait:HW_CPU_X86_AVX", ["required", "forbidden"], ["preferred"]),
    ("os:secure_boot", ["required"], ["optional"]),
])
def test_values(key, good, bad):
    for value in good:
        extra_specs.validate(key, value)
    for value in bad:
        with pytest.raises(ExtraSpecInvalid):
            extra_specs.validate(key, value)


def test_unknown_key_in_a_nova_namespace_is_refused():
    for key in ("hw:cpu_polciy", "trait:NOT_A_TRAIT", "quota:vif_sideways_average", "resources:WIDGETS"):
        with pytest.raises(ExtraSpecInvalid, match="does not appear to be a valid extra spec"):
            extra_specs.validate(key, "1")
