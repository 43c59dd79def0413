"""Which providers can take a request right now (GET /allocation_candidates and the
scheduler's in-process query).

A :class:`Candidate` is a single provider holding every requested class with room to
spare; a :class:`CandidateSet` combines one candidate per request group (granular
requests, API 1.25).  The answer is advisory — the claim that follows re-checks under
compare-and-swap.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from pocketstack.common.db import Database
from pocketstack.placement import inventory as inv_rules
from pocketstack.placement import models as m
from pocketstack.placement.providers import filter_traits_and_aggregates, has_room, used_by_class

RP = m.ResourceProvider


@dataclass
class Candidate:
    provider_uuid: str
    name: str
    inventories: dict[str, dict]
    usages: dict[str, int]
    generation: int = 0
    parent_provider_uuid: str | None = None
    root_provider_uuid: str | None = None
    traits: tuple[str, ...] = ()


def find_candidates(db: Database, resources: Mapping[str, int], *, required=(), forbidden=(),
                    member_of=(), any_traits=(), in_tree: str | None = None,
                    limit: int | None = None, with_traits: bool = True) -> list[Candidate]:
    """``with_traits=False``: the candidates' ``traits`` are left empty, not read (the
    scheduler's query filters on traits and needs no more of them: one query fewer)."""
    stmt = sa.select(RP).order_by(RP.created_at, RP.uuid)
    for rc in resources:
        stmt = stmt.where(RP.uuid.in_(sa.select(m.Inventory.provider_uuid).where(m.Inventory.resource_class == rc)))
    stmt = filter_traits_and_aggregates(stmt, required, set(forbidden), member_of, any_traits)
    out: list[Candidate] = []
    with db.session(readonly=True) as s:
        if in_tree is not None:
            root = s.scalar(sa.select(RP.root_uuid).where(RP.uuid == in_tree))
            stmt = stmt.where(RP.root_uuid == root)
        providers = list(s.scalars(stmt))
        uuids = [p.uuid for p in providers]
        inventories: dict[str, dict] = {u: {} for u in uuids}
        for row in s.scalars(sa.select(m.Inventory).where(m.Inventory.provider_uuid.in_(uuids))):
            inventories[row.provider_uuid][row.resource_class] = {f: getattr(row, f) for f in inv_rules.FIELDS}
        usage = used_by_class(s, uuids)
        traits: dict[str, list[str]] = {u: [] for u in uuids}
        if with_traits:
            for uuid, trait in s.execute(sa.select(m.ProviderTrait.provider_uuid, m.ProviderTrait.trait)
                                         .where(m.ProviderTrait.provider_uuid.in_(uuids))):
                traits[uuid].append(trait)
    for rp in providers:
        inv, used = inventories[rp.uuid], usage[rp.uuid]
        if has_room(inv, used, resources):
            out.append(Candidate(rp.uuid, rp.name, inv, {rc: used.get(rc, 0) for rc in inv},
                                 rp.generation, rp.parent_uuid, rp.root_uuid, tuple(sorted(traits[rp.uuid]))))
            if limit is not None and len(out) >= limit:
                break
    return out


@dataclass
class RequestGroup:
    """One request group of GET /allocation_candidates: ``suffix`` "" is the
    unnumbered group, anything else a numbered (granular) group."""

    suffix: str
    resources: dict[str, int]
    required: frozenset[str] = frozenset()
    forbidden: frozenset[str] = frozenset()
    any_traits: tuple[frozenset[str], ...] = ()
    member_of: tuple[frozenset[str], ...] = ()
    in_tree: str | None = None


@dataclass
class CandidateSet:
    """One allocation request: which providers take which amounts, and which group
    each provider satisfies."""

    allocations: dict[str, dict[str, int]]
    mappings: dict[str, list[str]]
    providers: dict[str, Candidate]


# Upper bound on the provider combinations examined for one multi-group request.
MAX_COMBINATIONS = 10000


def find_candidate_sets(db: Database, groups: list[RequestGroup], *, isolate: bool = False,
                        limit: int | None = None) -> list[CandidateSet]:
    """Each group is satisfied by one provider; all providers of a set share a tree
    root, their combined amounts fit, and with ``isolate`` numbered groups use
    distinct providers."""
    per_group = [find_candidates(db, g.resources, required=g.required, forbidden=g.forbidden,
                                 any_traits=g.any_traits, member_of=g.member_of, in_tree=g.in_tree)
                 for g in groups]
    out: list[CandidateSet] = []
    seen: set = set()
    for combo in itertools.islice(itertools.product(*per_group), MAX_COMBINATIONS):
        if len({c.root_provider_uuid for c in combo}) != 1:
            continue
        numbered = [c.provider_uuid for g, c in zip(groups, combo) if g.suffix]
        if isolate and len(set(numbered)) != len(numbered):
            continue
        providers = {c.provider_uuid: c for c in combo}
        allocations: dict[str, dict[str, int]] = {}
        mappings: dict[str, list[str]] = {}
        for group, c in zip(groups, combo):
            mine = allocations.setdefault(c.provider_uuid, {})
            for rc, amount in group.resources.items():
                mine[rc] = mine.get(rc, 0) + amount
            mappings.setdefault(group.suffix, []).append(c.provider_uuid)
        if not all(has_room(providers[p].inventories, providers[p].usages, res) for p, res in allocations.items()):
            continue
        key = (tuple(sorted((p, tuple(sorted(r.items()))) for p, r in allocations.items())),
               tuple(sorted((s, tuple(ps)) for s, ps in mappings.items())))
        if key in seen:
            continue
        seen.add(key)
        out.append(CandidateSet(allocations, mappings, providers))
        if limit is not None and len(out) >= limit:
            break
    return out
