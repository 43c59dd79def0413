"""Choosing a host for an instance and claiming its resources there.

1. Placement returns the providers (hosts) with room for the flavor's resources and the
   traits the flavor/image require (``trait:X=required|forbidden`` extra specs and image
   properties).
2. Filters drop disabled hosts and hosts that are down (forced down, or their process
   stopped heartbeating), hosts outside the requested availability
   zone, hosts whose hypervisor type / architecture the image asks against, hosts the
   server group's hard policy (affinity / anti-affinity) rules out, and -- Nova's
   SameHostFilter / DifferentHostFilter -- hosts without any / with one of the servers
   the ``same_host`` / ``different_host`` scheduler hints name.
3. Weighers rank the rest: most free RAM first; soft-(anti-)affinity adds a big bonus
   or penalty per group member already on the host.
4. The best host is claimed in Placement (an atomic compare-and-swap there); a lost race
   means "try the next one", and when the list is used up a fresh candidate list is asked
   for, until Placement has nothing left: then ``NoValidHost``.
5. For hard-policy groups the decision was made on one *generation* of the group; the
   caller records the host and bumps that generation in one compare-and-swap, so a member
   placed concurrently makes the other re-decide instead of breaking the policy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from pocketstack.common.db import Database
from pocketstack.compute.hosts import Hosts
from pocketstack.compute.models import ComputeNode, Instance, ServerGroup, ServerGroupMember
from pocketstack.compute.resources import Placement, flavor_resources

LOG = logging.getLogger(__name__)
MAX_ROUNDS = 20
SOFT_WEIGHT = 1_000_000  # dominates the RAM weigher, as the soft policies should


class NoValidHost(Exception):
    def __init__(self, reason: str = "There are not enough hosts available."):
        super().__init__(f"No valid host was found. {reason}")


HARD_POLICIES = ("affinity", "anti-affinity")


@dataclass(frozen=True)
class Group:
    id: str
    policy: str
    rules: dict
    generation: int
    members: dict[str, int]  # host -> other members already there


@dataclass(frozen=True)
class Choice:
    """A claimed host, plus the hard-policy group generation the decision was based on."""

    node: ComputeNode
    group_id: str | None = None
    group_generation: int | None = None


@dataclass
class Request:
    """What the scheduler needs to know about one instance."""

    instance_id: str
    project_id: str
    user_id: str
    flavor: dict
    image_properties: dict
    availability_zone: str | None
    group_id: str | None = None
    # Only these hosts may be chosen (None: any); a resize of a real guest stays on its host.
    hosts: frozenset[str] | None = None
    # Never these (a cold migration leaves its host).
    ignore_hosts: frozenset[str] = frozenset()
    # The host records as the caller just read them with the instance (None: read them here).
    nodes: tuple[ComputeNode, ...] | None = None
    # The servers the ``same_host`` / ``different_host`` hints name (empty: no such hint).
    same_host: frozenset[str] = frozenset()
    different_host: frozenset[str] = frozenset()


def hinted_servers(hints: dict | None, key: str) -> frozenset[str]:
    """The server ids a ``same_host`` / ``different_host`` hint names: one id or a list."""
    value = (hints or {}).get(key)
    if not value:
        return frozenset()
    return frozenset([value] if isinstance(value, str) else (str(v) for v in value))


def traits_from(specs: dict) -> tuple[set[str], set[str]]:
    required: set[str] = set()
    forbidden: set[str] = set()
    for key, value in specs.items():
        if key.startswith("trait:"):
            (required if value == "required" else forbidden if value == "forbidden" else set()).add(key[6:])
    return required, forbidden


def _image_compatible(node: ComputeNode, props: dict) -> bool:
    wanted_type = props.get("img_hv_type") or props.get("hypervisor_type")
    if wanted_type and wanted_type.lower() not in (node.hypervisor_type.lower(), "qemu" if
                                                   node.hypervisor_type == "fake" else ""):
        return False
    arch = props.get("hw_architecture") or props.get("architecture")
    return not arch or arch in ("x86_64", "i686")


class Scheduler:
    def __init__(self, db: Database, hosts: Hosts, placement: Placement):
        self.db = db
        self.hosts = hosts
        self.placement = placement

    def _group(self, request: Request) -> Group | None:
        """The group's policy, rules, generation and how many other members sit on each host."""
        if not request.group_id:
            return None
        with self.db.session(readonly=True) as s:
            group = s.get(ServerGroup, request.group_id)
            if group is None:
                return None
            rows = s.execute(sa.select(Instance.host).join(ServerGroupMember,
                                                           ServerGroupMember.instance_id == Instance.id)
                             .where(ServerGroupMember.group_id == group.id, Instance.id != request.instance_id,
                                    Instance.host.is_not(None)))
            counts: dict[str, int] = {}
            for (host,) in rows:
                counts[host] = counts.get(host, 0) + 1
        return Group(group.id, group.policy, group.rules or {}, group.generation, counts)

    def _hosts_of(self, server_ids: frozenset[str]) -> set[str]:
        """The hosts the servers are on now (Nova's ``instance_uuids_overlap`` reads the
        instances each host state holds)."""
        if not server_ids:
            return set()
        with self.db.session(readonly=True) as s:
            return {host for (host,) in s.execute(sa.select(Instance.host).where(
                Instance.id.in_(sorted(server_ids)), Instance.host.is_not(None)))}

    def _filters(self, request: Request, group: Group | None) -> list[Callable]:
        policy, rules, members = (group.policy, group.rules, group.members) if group else (None, {}, {})
        same_hosts = self._hosts_of(request.same_host)
        different_hosts = self._hosts_of(request.different_host)

        def enabled(node):
            return not node.disabled and self.hosts.is_up(node)

        def zone(node):
            return not request.availability_zone or node.availability_zone == request.availability_zone

        def allowed(node):
            return (request.hosts is None or node.host in request.hosts) and node.host not in request.ignore_hosts

        def image(node):
            return _image_compatible(node, request.image_properties)

        def group_policy(node):
            if policy == "anti-affinity":
                return members.get(node.host, 0) < rules.get("max_server_per_host", 1)
            if policy == "affinity":
                return not members or node.host in members
            return True

        def same_host(node):  # Nova's SameHostFilter: a hint naming no placed server passes no host
            return not request.same_host or node.host in same_hosts

        def different_host(node):  # Nova's DifferentHostFilter
            return node.host not in different_hosts

        return [enabled, allowed, zone, image, group_policy, same_host, different_host]

    def _weigh(self, candidate, node, group: Group | None) -> float:
        inv = candidate.inventories.get("MEMORY_MB", {})
        free_ram = (inv.get("total", 0) - inv.get("reserved", 0)) * inv.get("allocation_ratio", 1.0) \
            - candidate.usages.get("MEMORY_MB", 0)
        on_host = group.members.get(node.host, 0) if group else 0
        policy = group.policy if group else None
        if policy == "soft-affinity":
            return free_ram + SOFT_WEIGHT * on_host
        if policy == "soft-anti-affinity":
            return free_ram - SOFT_WEIGHT * on_host
        return free_ram

    def select_and_claim(self, request: Request) -> Choice:
        """Claim resources for the instance on the best host; the caller must record the
        host with :meth:`Choice`'s group generation compare-and-swapped (see lifecycle)."""
        resources = flavor_resources(request.flavor)
        specs = dict(request.flavor.get("extra_specs") or {})
        required, forbidden = traits_from(specs)
        image_required, image_forbidden = traits_from(request.image_properties)
        required |= image_required
        forbidden |= image_forbidden
        nodes = {n.id: n for n in (self.hosts.list() if request.nodes is None else request.nodes)}
        for _ in range(MAX_ROUNDS):
            group = self._group(request)
            filters = self._filters(request, group)
            candidates = self.placement.candidates(resources, required, forbidden)
            ranked = []
            for candidate in candidates:
                node = nodes.get(candidate.provider_uuid)
                if node is None:
                    nodes = {n.id: n for n in (self.hosts.list() if request.nodes is None else request.nodes)}
                    node = nodes.get(candidate.provider_uuid)
                if node is not None and all(f(node) for f in filters):
                    ranked.append((self._weigh(candidate, node, group), node, candidate))
            if not ranked:
                raise NoValidHost()
            ranked.sort(key=lambda item: -item[0])
            for _weight, node, candidate in ranked:
                if self.placement.claim(request.instance_id, request.project_id, request.user_id, node.id,
                                        resources, seen=candidate):
                    if group is not None and group.policy in HARD_POLICIES:
                        return Choice(node, group.id, group.generation)
                    return Choice(node, None, None)
                LOG.debug("lost the claim race on %s for %s; trying the next host", node.host,
                          request.instance_id)
        raise NoValidHost("Gave up after repeated claim conflicts.")
