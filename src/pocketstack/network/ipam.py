"""Race-free allocation of IPs, MACs and other unique numbers, without row locks.

The problem (seed 002): two allocators read the same "free" address and both hand it
out.  A row-locking SELECT serialises them on one server but not on a Galera
multi-writer cluster, where write-intent locks are not replicated.  Here the claim *is*
an ``INSERT`` under a unique constraint — ``network_ip_allocation(subnet_id,
ip_address)`` — so the database decides who wins, on every backend and on every Galera
node (certification rejects the second writer).  The loser's INSERT does nothing
(``ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite; a duplicate-key error rolled back
to a savepoint on MariaDB) and it picks another candidate in the same transaction.

Candidates are chosen uniformly at random among the *free* addresses of the allocation
pools (computed from the committed allocations), not "the lowest free one": racing
allocators that all pick the lowest address collide every time, random picks in a pool
of F free addresses collide with probability about k/F for k racers.  In a large pool
that is still mostly free the candidate is drawn blind (no read at all: one INSERT per
allocation however many addresses are in use); once blind draws start missing, each
attempt reads the allocations and draws among the free addresses only.

A DHCP port (and a ``network:distributed`` one) takes the *lowest* free address
instead, as Neutron's ``PreferNextAddressRequest`` gives it "the start of the pool":
one such port per network, so there is no crowd of racers to spread out, and tests and
operators expect the DHCP server at the pool's start (Tempest picks addresses near the
middle of a /28 for its own ports).

Exhaustion is detected by counting, not by retrying: when the committed allocations
already fill the pools the caller gets ``IpAddressGenerationFailure`` at once.  Retries
are bounded; running out of them raises :class:`ConcurrentUpdate` so the whole unit of
work re-runs after a jittered backoff (:func:`~pocketstack.common.db.cas.run_in_transaction`).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db.cas import ConcurrentUpdate
from pocketstack.common.db.inserts import insert_if_free
from pocketstack.network import errors
from pocketstack.network.models import IpAllocation, Subnet, table

CLAIM_ATTEMPTS = 16
# Ranges at least this large are probed blindly first (see ``claim``).
BLIND_PROBE_MIN_SIZE = 1024
BLIND_PROBES = 3
MAC_BASE = (0xFA, 0x16, 0x3E)
AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")
# Ports whose automatic addresses are the lowest free ones (Neutron's PreferNextAddressRequest).
LOWEST_ADDRESS_OWNERS = ("network:dhcp", "network:distributed")

Range = tuple[int, int]  # inclusive


class Exhausted(Exception):
    """Every value in the ranges is taken."""


def range_size(ranges: Iterable[Range]) -> int:
    return sum(last - first + 1 for first, last in ranges)


def pick_free(ranges: list[Range], used: set[int]) -> int:
    """A value chosen uniformly at random among the values of ``ranges`` not in ``used``."""
    free: list[Range] = []
    for first, last in sorted(ranges):
        start = first
        for value in sorted(v for v in used if first <= v <= last):
            if value > start:
                free.append((start, value - 1))
            start = value + 1
        if start <= last:
            free.append((start, last))
    total = range_size(free)
    if total <= 0:
        raise Exhausted()
    index = random.randrange(total)
    for first, last in free:
        size = last - first + 1
        if index < size:
            return first + index
        index -= size
    raise AssertionError("unreachable")


def first_free(ranges: list[Range], used: set[int]) -> int:
    """The lowest value of ``ranges`` not in ``used``."""
    for first, last in sorted(ranges):
        value = first
        while value <= last:
            if value not in used:
                return value
            value += 1
    raise Exhausted()


def random_value(ranges: list[Range]) -> int:
    """A value chosen uniformly at random in ``ranges`` (free or not)."""
    index = random.randrange(range_size(ranges))
    for first, last in ranges:
        if index <= last - first:
            return first + index
        index -= last - first + 1
    raise AssertionError("unreachable")


def claim(session: Session, table: sa.Table, ranges: list[Range], taken: Callable[[], Iterable[int]],
          row: Callable[[int], dict], attempts: int = CLAIM_ATTEMPTS, lowest: bool = False) -> int:
    """Claim a free value of ``ranges`` by inserting ``row(value)`` into ``table``, whose
    unique constraint includes the value: a random one, or with ``lowest`` the lowest.

    ``taken()`` reads the values already claimed (committed ones, plus this
    transaction's own).  Raises :class:`Exhausted` when the ranges are full.

    Large ranges are first probed blindly (a random value, no read): while most of the
    range is free that is one INSERT per claim whatever the number of allocations.
    After a few misses — the range is filling up — every attempt reads what is taken,
    so the candidate is always free when read and exhaustion is a count, not a guess.
    """
    size = range_size(ranges)
    if size >= BLIND_PROBE_MIN_SIZE and not lowest:
        for _ in range(BLIND_PROBES):
            value = random_value(ranges)
            if insert_if_free(session, table, row(value)):
                return value
    for _ in range(attempts):
        used = {v for v in taken() if any(first <= v <= last for first, last in ranges)}
        if len(used) >= size:
            raise Exhausted()
        value = first_free(ranges, used) if lowest else pick_free(ranges, used)
        if insert_if_free(session, table, row(value)):
            return value
    raise ConcurrentUpdate("could not claim a free value; re-running the transaction")


# -- addresses ----------------------------------------------------------------------------

def pool_ranges(subnet: Subnet) -> list[Range]:
    return [(int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"])))
            for p in subnet.allocation_pools]


def is_auto_address_subnet(subnet: Subnet) -> bool:
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in AUTO_ADDRESS_MODES


def eui64_address(cidr: str, mac: str) -> str:
    """The SLAAC address of ``mac`` in a /64: the prefix plus the modified EUI-64 id."""
    octets = [int(x, 16) for x in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    prefix = ipaddress.ip_network(cidr)
    return str(ipaddress.ip_address(int(prefix.network_address) | int.from_bytes(bytes(eui), "big")))


def check_ip_for_subnet(subnet: Subnet, ip: str) -> str:
    """Normalise ``ip``; 400 ``InvalidIpForSubnet`` unless it is a host address of the subnet."""
    network = ipaddress.ip_network(subnet.cidr)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise errors.InvalidIpForSubnet(ip_address=ip) from None
    reserved = {network.network_address}
    if network.version == 4 and network.prefixlen < 31:
        reserved.add(network.broadcast_address)
    if address not in network or address in reserved:
        raise errors.InvalidIpForSubnet(ip_address=ip)
    return str(address)


def _allocation(subnet: Subnet, port_id: str, ip: str) -> dict:
    return {"subnet_id": subnet.id, "ip_address": ip, "port_id": port_id, "network_id": subnet.network_id}


def allocate_specific(session: Session, subnet: Subnet, port_id: str, ip: str) -> str:
    """Claim the address ``ip``; 409 ``IpAddressAlreadyAllocated`` when it is taken."""
    ip = check_ip_for_subnet(subnet, ip)
    if not insert_if_free(session, table(IpAllocation), _allocation(subnet, port_id, ip)):
        raise errors.IpAddressAlreadyAllocated(ip=ip, subnet_id=subnet.id)
    return ip


def _address(version: int, value: int) -> str:
    return str(ipaddress.IPv6Address(value) if version == 6 else ipaddress.IPv4Address(value))


def allocate_any(session: Session, subnet: Subnet, port_id: str, lowest: bool = False) -> str:
    """Claim a random (``lowest``: the lowest) free address of the subnet's pools;
    :class:`Exhausted` when full."""

    def taken():
        rows = session.execute(sa.select(IpAllocation.ip_address).where(IpAllocation.subnet_id == subnet.id))
        return (int(ipaddress.ip_address(r)) for r, in rows)

    def row(value: int) -> dict:
        return _allocation(subnet, port_id, _address(subnet.ip_version, value))

    return _address(subnet.ip_version, claim(session, table(IpAllocation), pool_ranges(subnet), taken, row,
                                             lowest=lowest))


def allocate_auto_address(session: Session, subnet: Subnet, port_id: str, mac: str) -> str:
    """SLAAC / DHCPv6-stateless: the address is derived from the MAC (unique per network)."""
    return allocate_specific(session, subnet, port_id, eui64_address(subnet.cidr, mac))


def allocate_for_port(session: Session, subnets: list[Subnet], port_id: str, mac: str,
                      requested: list[dict] | None, versions: tuple[int, ...] = (4, 6),
                      router_port: bool = False, device_owner: str = "") -> list[dict]:
    """The fixed IPs of a new port, claimed in this transaction.

    ``requested`` is the API's ``fixed_ips`` (items with ``subnet`` and/or ``ip_address``,
    subnet already resolved).  Without it, like Neutron: one address from the first
    IPv4 subnet with room, one from the first stateful IPv6 subnet with room, and the
    derived address on every SLAAC subnet (limited to ``versions``: floating IPs are v4).
    As in Neutron, SLAAC addresses are added to explicit requests too, except on router
    ports (a router interface is exactly the address it was given).  A port of
    ``device_owner`` ``network:dhcp`` or ``network:distributed`` gets the lowest free
    address of each subnet (module docstring).
    """
    lowest = device_owner in LOWEST_ADDRESS_OWNERS
    if requested is not None:
        result = []
        for item in requested:
            subnet = item["subnet"]
            if item.get("ip_address"):
                ip = allocate_specific(session, subnet, port_id, item["ip_address"])
            elif is_auto_address_subnet(subnet):
                ip = allocate_auto_address(session, subnet, port_id, mac)
            else:
                try:
                    ip = allocate_any(session, subnet, port_id, lowest)
                except Exhausted:
                    raise errors.IpAddressGenerationFailure(net_id=subnet.network_id) from None
            result.append({"subnet_id": subnet.id, "ip_address": ip})
        if not router_port and 6 in versions:
            named = {item["subnet"].id for item in requested}
            for subnet in subnets:
                if is_auto_address_subnet(subnet) and subnet.id not in named:
                    result.append({"subnet_id": subnet.id,
                                   "ip_address": allocate_auto_address(session, subnet, port_id, mac)})
        return result
    result = []
    for version in versions:
        candidates = [s for s in subnets if s.ip_version == version and not is_auto_address_subnet(s)]
        for subnet in candidates:
            try:
                result.append({"subnet_id": subnet.id, "ip_address": allocate_any(session, subnet, port_id, lowest)})
                break
            except Exhausted:
                continue
        else:
            if candidates:
                raise errors.IpAddressGenerationFailure(net_id=candidates[0].network_id)
    for subnet in subnets:
        if 6 in versions and is_auto_address_subnet(subnet):
            result.append({"subnet_id": subnet.id,
                           "ip_address": allocate_auto_address(session, subnet, port_id, mac)})
    return result


# -- MAC addresses ------------------------------------------------------------------------

def generate_mac() -> str:
    """A random MAC under Neutron's default base ``fa:16:3e``; uniqueness per network is
    enforced by the port table's unique constraint (the caller retries on a clash)."""
    tail = [random.randrange(256) for _ in range(3)]
    return ":".join(f"{b:02x}" for b in (*MAC_BASE, *tail))


# -- subnet pools -------------------------------------------------------------------------

def choose_prefix(pool_prefixes: list[str], allocated: list[str], prefixlen: int) -> str | None:
    """The first ``/prefixlen`` of the pool overlapping none of ``allocated``."""
    used = sorted((ipaddress.ip_network(c) for c in allocated), key=lambda n: int(n.network_address))
    for prefix in pool_prefixes:
        net = ipaddress.ip_network(prefix)
        if prefixlen < net.prefixlen:
            continue
        step = 1 << (net.max_prefixlen - prefixlen)
        candidate = int(net.network_address)
        end = int(net.broadcast_address)
        while candidate + step - 1 <= end:
            clash = next((u for u in used if int(u.network_address) <= candidate + step - 1
                          and int(u.broadcast_address) >= candidate), None)
            if clash is None:
                return str(ipaddress.ip_network((candidate, prefixlen)))
            # Jump past the clash, aligned to the candidate size.
            after = int(clash.broadcast_address) + 1
            candidate = ((after + step - 1) // step) * step
    return None


def subnet_of(inner: ipaddress.IPv4Network | ipaddress.IPv6Network,
              outer: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Whether ``inner`` lies within ``outer`` (never across IP versions)."""
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False


def prefix_fits(pool_prefixes: list[str], allocated: list[str], cidr: str) -> bool:
    """Whether ``cidr`` lies in the pool and overlaps no allocated prefix."""
    net = ipaddress.ip_network(cidr)
    inside = any(subnet_of(net, ipaddress.ip_network(p)) for p in pool_prefixes)
    return inside and not any(net.overlaps(ipaddress.ip_network(a)) for a in allocated)


def quota_units(version: int, prefixlen: int) -> int:
    """What a prefix counts against a subnet pool's ``default_quota``: its addresses for
    IPv4, its /64s for IPv6 (Neutron's quota units)."""
    return 2 ** max(0, (32 if version == 4 else 64) - prefixlen)
