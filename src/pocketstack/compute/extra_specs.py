"""Flavor extra specs Nova knows, and the values each accepts (microversion 2.86).

Nova validates a key it recognizes (``hw:cpu_policy`` must be one of three policies,
``hw:numa_nodes`` a positive integer, ...), refuses an unknown key in a namespace it owns
(``hw:no_such_thing``), and lets everything else through untouched: keys without a
namespace and namespaces it does not own belong to operators' own filters.  The table
below holds Nova's rules (``nova/api/validation/extra_specs``); a key is a regular
expression, so parameterized keys (``hw:numa_cpus.{n}``, ``resources{group}:VCPU``)
are one rule each.  Resource classes and traits are the names Placement knows here.
"""

from __future__ import annotations

import dataclasses
import re

from pocketstack.compute import errors
from pocketstack.placement.contract import STANDARD_RESOURCE_CLASSES, STANDARD_TRAITS

# oslo's ``bool_from_string(strict=True)``: what a boolean extra spec may say.
_BOOLEAN_WORDS = ("1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no")
_CPU_SET = r"\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*"  # "0-3,^2", as hw:cpu_realtime_mask takes
_GROUP = r"([a-zA-Z0-9_-]{1,64})?"  # the request group suffix of resources/trait keys
_TRAIT_USE = ("required", "forbidden")


@dataclasses.dataclass(frozen=True)
class Rule:
    """One known key (``name`` is its regular expression) and the value it takes:
    ``kind`` is ``int`` (within ``minimum``/``maximum``), ``bool`` or ``str`` (matching
    ``pattern`` or one of ``choices`` when given, anything otherwise)."""
    name: str
    kind: type
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None

    @property
    def namespace(self) -> str | None:
        return self.name.split(":", 1)[0] if ":" in self.name else None

    def check(self, value: str) -> None:
        if self.kind is int:
            self._check_int(value)
        elif self.kind is bool:
            if value.strip().lower() not in _BOOLEAN_WORDS:
                raise errors.ExtraSpecInvalid(detail=f"Validation failed; '{value}' is not a valid boolean-like value.")
        elif self.pattern is not None:
            if not re.fullmatch(self.pattern, value):
                raise errors.ExtraSpecInvalid(
                    detail=f"Validation failed; '{value}' is not of the format '{self.pattern}'.")
        elif self.choices and value not in self.choices:
            raise errors.ExtraSpecInvalid(
                detail=f"Validation failed; '{value}' is not one of: {', '.join(self.choices)}.")

    def _check_int(self, value: str) -> None:
        try:
            number = int(value)
        except ValueError:
            raise errors.ExtraSpecInvalid(
                detail=f"Validation failed; '{value}' is not a valid integer value.") from None
        if self.maximum is not None and number > self.maximum:
            raise errors.ExtraSpecInvalid(
                detail=f"Validation failed; '{value}' is greater than the max value of '{self.maximum}'.")
        if self.minimum is not None and number < self.minimum:
            raise errors.ExtraSpecInvalid(
                detail=f"Validation failed; '{value}' is less than the min value of '{self.minimum}'.")


def _int(name: str, minimum: int | None = None, maximum: int | None = None) -> Rule:
    return Rule(name, int, minimum=minimum, maximum=maximum)


def _bool(name: str) -> Rule:
    return Rule(name, bool)


def _one_of(name: str, *choices: str) -> Rule:
    return Rule(name, str, choices=choices)


def _text(name: str, pattern: str | None = None) -> Rule:
    return Rule(name, str, pattern=pattern)


_HW = [
    _bool("hw:cpu_realtime"), _text("hw:cpu_realtime_mask", _CPU_SET), _bool("hw:hide_hypervisor_id"),
    _one_of("hw:cpu_policy", "dedicated", "shared", "mixed"),
    _one_of("hw:cpu_thread_policy", "prefer", "isolate", "require"),
    _one_of("hw:emulator_threads_policy", "isolate", "share"), _text("hw:cpu_dedicated_mask", _CPU_SET),
    _text("hw:mem_page_size", r"(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)"), _bool("hw:locked_memory"),
    _int("hw:numa_nodes", 1), _text(r"hw:numa_cpus\.\d+", _CPU_SET), _int(r"hw:numa_mem\.\d+", 1),
    _one_of("hw:pci_numa_affinity_policy", "required", "preferred", "legacy", "socket"),
    *(_int(f"hw:cpu_{limit}{part}", 1) for limit in ("", "max_") for part in ("sockets", "cores", "threads")),
    _bool("hw:boot_menu"), _bool("hw:vif_multiqueue_enabled"), _bool("hw:mem_encryption"),
    _one_of("hw:mem_encryption_model", "amd-sev", "amd-sev-es", "amd-sev-snp"),
    _text("hw:pmem", "([a-zA-Z0-9_]+(,)?)+"), _bool("hw:pmu"), _int("hw:serial_port_count", 0),
    _one_of("hw:tpm_model", "tpm-tis", "tpm-crb"), _one_of("hw:tpm_version", "1.2", "2.0"),
    _one_of("hw:tpm_secret_security", "user", "host", "deployment"),
    _one_of("hw:watchdog_action", "none", "pause", "poweroff", "reset", "disabled"),
    _one_of("hw:viommu_model", "intel", "smmuv3", "virtio"), _bool("hw:virtio_packed_ring"),
    _one_of("hw:sound_model", "sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio"),
    _one_of("hw:usb_model", "none", "nec-xhci", "qemu-xhci"), _int("hw:redirected_usb_ports", 0, 15),
    _bool("hw:ephemeral_encryption"), _one_of("hw:ephemeral_encryption_format", "plain", "luks", "luksv2"),
]

_QUOTA = [
    *(rule for item in ("cpu", "memory", "disk_io", "vif") for rule in (
        _int(f"quota:{item}_limit", 0), _int(f"quota:{item}_reservation"),
        _one_of(f"quota:{item}_shares_level", "custom", "high", "normal", "low"),
        _int(f"quota:{item}_shares_share", 0))),
    _int("quota:cpu_shares", 0), _int("quota:cpu_period", 0), _int("quota:cpu_quota"),
    *(_int(f"quota:disk_{stat}_{metric}_sec", 0) for stat in ("read", "write", "total")
      for metric in ("bytes", "iops")),
    *(_int(f"quota:vif_{way}_{metric}", 0) for way in ("inbound", "outbound")
      for metric in ("average", "peak", "burst")),
]

# The compute node fields ComputeCapabilitiesFilter matches: plain ones, and the
# structured ones a ``:sub:key`` path may follow.
_CAPABILITIES = (
    "id", "uuid", "service_id", "host", "vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used",
    "local_gb_used", "hypervisor_type", "hypervisor_version", "hypervisor_hostname", "free_ram_mb",
    "free_disk_gb", "current_workload", "running_vms", "disk_available_least", "host_ip", "mapped",
    "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio", "total_usable_ram_mb",
    "total_usable_disk_gb", "disk_mb_used", "free_disk_mb", "vcpus_total", "num_instances", "num_io_ops",
    "failed_builds", "aggregates", "cell_uuid", "updated")
_STRUCTURED_CAPABILITIES = (
    "cpu_info", "metrics", "stats", "numa_topology", "supported_hv_specs", "pci_device_pools", "nodename",
    "pci_stats", "supported_instances", "limits", "instances")

_OTHERS = [
    _bool("hw_rng:allowed"), _int("hw_rng:rate_bytes", 0), _int("hw_rng:rate_period", 0),
    _int("hw_video:ram_max_mb", 0),
    _text("accel:device_profile"),
    _text("aggregate_instance_extra_specs:.+"),
    *(_text(f"capabilities:{name}") for name in _CAPABILITIES),
    *(_text(rf"capabilities:{name}(:\w+)*") for name in _STRUCTURED_CAPABILITIES),
    _one_of("os:secure_boot", "disabled", "required"),
    _text("pci_passthrough:alias", r"[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*"),
    _bool("hide_hypervisor_id"), _one_of("group_policy", "isolate", "none"),
    *(_int(f"resources{_GROUP}:{name}") for name in STANDARD_RESOURCE_CLASSES),
    _int(f"resources{_GROUP}:CUSTOM_[A-Z0-9_]+"),
    *(_one_of(f"trait{_GROUP}:{name}", *_TRAIT_USE) for name in STANDARD_TRAITS),
    _one_of(f"trait{_GROUP}:CUSTOM_[A-Z0-9_]+", *_TRAIT_USE),
    _text("vmware:hw_version"), _text("vmware:storage_policy"),
]

RULES: tuple[Rule, ...] = (*_HW, *_QUOTA, *_OTHERS)
_BY_NAME = {rule.name: rule for rule in RULES}
_NAMESPACES = tuple({rule.namespace for rule in RULES if rule.namespace is not None})


def rule_for(key: str) -> Rule | None:
    """The rule of ``key``: the one named so, else the first whose pattern it matches."""
    rule = _BY_NAME.get(key)
    if rule is not None:
        return rule
    return next((rule for rule in RULES if re.fullmatch(rule.name, key)), None)


def validate(key: str, value: str) -> None:
    """Nova's 2.86 check of one extra spec: a known key's value, else a key in a
    namespace Nova owns is refused; anything else passes (400 ``ExtraSpecInvalid``)."""
    rule = rule_for(key)
    if rule is not None:
        rule.check(value)
        return
    if ":" in key and any(re.fullmatch(space, key.split(":", 1)[0]) for space in _NAMESPACES):
        raise errors.ExtraSpecInvalid(
            detail=f"Validation failed; extra spec '{key}' does not appear to be a valid extra spec.")
