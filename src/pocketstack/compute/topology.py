"""Guest CPU topology: how a flavor's vCPUs are presented as sockets × cores × threads.

Guest operating systems license and schedule by socket and core, so the topology
matters (Windows client editions use at most two sockets, for example).  The rules are
Nova's (``nova.virt.hardware``):

* the flavor may set preferred ``hw:cpu_sockets|cores|threads`` and upper limits
  ``hw:cpu_max_sockets|cores|threads`` in its extra specs;
* the image may set the same as ``hw_cpu_*`` properties, but only *within* the
  flavor's limits: an image limit above the flavor's is an error, an image limit below
  it tightens it (and discards a flavor preference that no longer fits);
* if the image sets any preferred value, the image's preferences replace the flavor's
  entirely; an image preference above the effective limit is an error;
* every sockets × cores × threads = vCPUs within the limits is possible; they are
  ranked by how many preferred values they match, and within equal matches Nova's
  base order wins: most sockets × cores first (fewest threads), then most sockets.

So 4 vCPUs with only ``threads=2`` preferred become 2 sockets × 1 core × 2 threads:
both (2, 1, 2) and (1, 2, 2) match the preference, and sockets beat cores.

Invalid input raises :class:`TopologyError` (a ``ValueError``) with a message meant
for the API caller; the compute API answers it with a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

DIMENSIONS = ("sockets", "cores", "threads")
# Nova's stand-in for "no limit"; the search is clamped to the vCPU count anyway.
UNLIMITED = 65536


class Topology(NamedTuple):
    sockets: int
    cores: int
    threads: int

    @property
    def vcpus(self) -> int:
        return self.sockets * self.cores * self.threads


class TopologyError(ValueError):
    """The flavor and image ask for a CPU topology that cannot or may not be built."""


def _read(source: Mapping[str, Any], prefix: str, what: str) -> dict[str, int]:
    """Positive integers for the dimensions set in ``source`` (0 means unset, as in Nova)."""
    out: dict[str, int] = {}
    for dim in DIMENSIONS:
        key = prefix + dim
        if key not in source or source[key] is None:
            continue
        raw = source[key]
        if isinstance(raw, bool):
            raise TopologyError(f"Invalid {what} value {key}={raw!r}: expected an integer.")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise TopologyError(f"Invalid {what} value {key}={raw!r}: expected an integer.") from None
        if value < 0:
            raise TopologyError(f"Invalid {what} value {key}={raw!r}: must not be negative.")
        if value:
            out[dim] = value
    return out


def _describe(values: Mapping[str, int]) -> str:
    return ", ".join(f"{dim}={values[dim]}" for dim in DIMENSIONS if dim in values)


def constraints(flavor_extra_specs: Mapping[str, Any],
                image_properties: Mapping[str, Any]) -> tuple[dict[str, int], Topology]:
    """(preferred values that are set, effective maximum topology)."""
    flavor_max = _read(flavor_extra_specs, "hw:cpu_max_", "flavor extra spec")
    image_max = _read(image_properties, "hw_cpu_max_", "image property")
    flavor_pref = _read(flavor_extra_specs, "hw:cpu_", "flavor extra spec")
    image_pref = _read(image_properties, "hw_cpu_", "image property")

    over = {d: v for d, v in image_max.items() if d in flavor_max and v > flavor_max[d]}
    if over:
        raise TopologyError(f"Image CPU topology limits ({_describe(over)}) exceed the flavor's limits "
                            f"({_describe(flavor_max)}).")
    over = {d: v for d, v in flavor_pref.items() if d in flavor_max and v > flavor_max[d]}
    if over:
        raise TopologyError(f"Flavor preferred CPU topology ({_describe(over)}) exceeds the flavor's own "
                            f"limits ({_describe(flavor_max)}).")
    maximum = Topology(*(image_max.get(d) or flavor_max.get(d) or UNLIMITED for d in DIMENSIONS))

    # An image that tightened the limits below the flavor's preference voids that preference.
    if any(v > getattr(maximum, d) for d, v in flavor_pref.items()):
        flavor_pref = {}
    over = {d: v for d, v in image_pref.items() if v > getattr(maximum, d)}
    if over:
        limits = {d: getattr(maximum, d) for d in DIMENSIONS if getattr(maximum, d) != UNLIMITED}
        raise TopologyError(f"Image preferred CPU topology ({_describe(over)}) exceeds the limits "
                            f"({_describe(limits)}).")
    return (image_pref or flavor_pref), maximum


def possible_topologies(vcpus: int, maximum: Topology, allow_threads: bool = True) -> list[Topology]:
    """Every exact factorisation of ``vcpus`` within ``maximum``, in Nova's base order."""
    max_sockets, max_cores = min(vcpus, maximum.sockets), min(vcpus, maximum.cores)
    max_threads = min(vcpus, maximum.threads) if allow_threads else 1
    found = [Topology(s, c, vcpus // (s * c))
             for s in range(1, max_sockets + 1) if vcpus % s == 0
             for c in range(1, max_cores + 1) if (vcpus // s) % c == 0 and vcpus // (s * c) <= max_threads]
    found.sort(key=lambda t: (t.sockets * t.cores, t.sockets, t.threads), reverse=True)
    if not found:
        raise TopologyError(f"Cannot build a CPU topology for {vcpus} vCPUs within the limits sockets="
                            f"{max_sockets}, cores={max_cores}, threads={max_threads}.")
    return found


def choose_topology(vcpus: int, flavor_extra_specs: Mapping[str, Any] | None = None,
                    image_properties: Mapping[str, Any] | None = None, *,
                    allow_threads: bool = True) -> Topology:
    """The topology a guest with ``vcpus`` vCPUs gets (see the module docstring).

    ``allow_threads=False`` is for hypervisors that cannot expose SMT threads.
    """
    if isinstance(vcpus, bool) or not isinstance(vcpus, int) or vcpus < 1:
        raise TopologyError(f"Invalid vCPU count {vcpus!r}: expected a positive integer.")
    preferred, maximum = constraints(flavor_extra_specs or {}, image_properties or {})
    if len(preferred) == len(DIMENSIONS) and Topology(**preferred).vcpus != vcpus:
        raise TopologyError(f"Preferred CPU topology ({_describe(preferred)}) gives "
                            f"{Topology(**preferred).vcpus} vCPUs but the flavor has {vcpus}.")
    candidates = possible_topologies(vcpus, maximum, allow_threads)
    # A stable sort keeps the base order among topologies matching equally many preferences.
    return sorted(candidates, key=lambda t: -sum(getattr(t, d) == v for d, v in preferred.items()))[0]
