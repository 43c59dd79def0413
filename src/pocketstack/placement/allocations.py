"""Allocations: writing them race-free, reading them back, and usage sums.

The claim algorithm (one transaction, re-run from the start on any lost race):

1. read the consumers' current allocations and consumer rows;
2. read the generation of every provider involved — *before* reading inventories and
   usages, so that the capacity we check is at least as fresh as the generation;
3. check every (provider, class) whose usage would grow against
   ``(total - reserved) * allocation_ratio`` and min_unit/max_unit/step_size;
4. ``UPDATE provider SET generation = g + 1 WHERE uuid = ? AND generation = g`` for each
   provider in uuid order (a stale ``g`` means capacity changed under us: re-run);
5. compare-and-swap the consumer rows, then replace the allocation rows.

A caller that has just read the providers itself (the scheduler, from its allocation
candidates) may hand them over as ``seen``: steps 2-3 then use that generation,
inventories and usage, which the candidate query read in the same order (generation
first), so step 4 proves them current just the same.  When it does not (a generation
moved meanwhile), or what was seen refuses the claim, steps 2-4 run again on fresh reads
in the same transaction: a lost race costs one UPDATE.  Only the first attempt uses them.

Every writer of inventories or allocations bumps the generation in the same
transaction, so a successful step 4 proves nobody changed the provider since step 2.
No row is ever locked by a SELECT; on Galera the losing writer fails certification
(a retryable deadlock error) instead of blocking.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows, run_in_transaction
from pocketstack.placement import inventory as inv_rules
from pocketstack.placement import models as m
from pocketstack.placement.candidates import Candidate
from pocketstack.placement.errors import (
    AmountRefused,
    CapacityExceeded,
    CapacityWouldBeExceeded,
    ConsumerGenerationConflict,
    NoInventoryForClass,
    UnknownProvider,
)
from pocketstack.placement.providers import inventories_of, used_by_class

# Consumer generation sentinel: the caller does not check it (in-process callers, API < 1.28).
ANY_GENERATION = object()
# Enough rounds for hundreds of writers racing on a handful of providers.
CLAIM_ATTEMPTS = 60


@dataclass
class ConsumerAllocations:
    """What one consumer should hold after the write ({} means release everything)."""

    consumer_uuid: str
    allocations: dict[str, dict[str, int]]
    project_id: str | None = None
    user_id: str | None = None
    # ANY_GENERATION, None (the consumer must be new) or the generation the client read.
    generation: object = ANY_GENERATION
    consumer_type: str | None = None


def _allocations_of(s: Session, consumers: Iterable[str]) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    rows = s.execute(sa.select(m.Allocation.consumer_uuid, m.Allocation.provider_uuid, m.Allocation.resource_class,
                               m.Allocation.used).where(m.Allocation.consumer_uuid.in_(list(consumers))))
    for consumer, provider, rc, used in rows:
        out[consumer].setdefault(provider, {})[rc] = used
    return out


def _generations(s: Session, providers: Iterable[str]) -> dict[str, int]:
    """The current generation of each of these providers that exists."""
    rows = s.execute(sa.select(m.ResourceProvider.uuid, m.ResourceProvider.generation)
                     .where(m.ResourceProvider.uuid.in_(list(providers))))
    return {uuid: generation for uuid, generation in rows}


def _totals(allocs: Iterable[Mapping[str, Mapping[str, int]]]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = defaultdict(int)
    for alloc in allocs:
        for provider, resources in alloc.items():
            for rc, amount in resources.items():
                out[(provider, rc)] += amount
    return out


class Allocations:
    def __init__(self, db: Database):
        self.db = db

    # -- writing ---------------------------------------------------------------------
    def write(self, requests: list[ConsumerAllocations], seen: Mapping[str, Candidate] | None = None) -> None:
        """Atomically give each consumer exactly its requested allocations.

        ``seen``: providers as the caller's candidate query just read them (see the module
        docstring); the first attempt tries them before reading them again.

        Raises :class:`CapacityExceeded` (409), :class:`UnknownProvider` (400) or a 409
        ``placement.concurrent_update`` when a client-supplied consumer generation is stale.
        """
        first = iter([seen or {}])
        run_in_transaction(self.db, lambda s: self._write(s, requests, next(first, {})), attempts=CLAIM_ATTEMPTS)

    def move(self, source: str, target: str) -> None:
        """``target`` gets ``source``'s allocations (and owner), ``source`` none, atomically."""
        def work(s: Session) -> None:
            allocs = _allocations_of(s, [source]).get(source, {})
            owner = s.get(m.Consumer, source)
            self._write(s, [ConsumerAllocations(target, allocs, owner.project_id if owner else None,
                                                owner.user_id if owner else None,
                                                consumer_type=owner.consumer_type if owner else None),
                            ConsumerAllocations(source, {})], {})
        run_in_transaction(self.db, work, attempts=CLAIM_ATTEMPTS)

    def _write(self, s: Session, requests: list[ConsumerAllocations], seen: Mapping[str, Candidate]) -> None:
        uuids = [r.consumer_uuid for r in requests]
        consumers = {c.uuid: c for c in s.scalars(sa.select(m.Consumer).where(m.Consumer.uuid.in_(uuids)))}
        for req in requests:
            _check_consumer_generation(req, consumers.get(req.consumer_uuid))
        old = _allocations_of(s, uuids)
        new = {r.consumer_uuid: {p: dict(res) for p, res in r.allocations.items() if res} for r in requests}
        old_totals, new_totals = _totals(old.values()), _totals(new.values())
        providers = sorted({p for p, _ in old_totals} | {p for p, _ in new_totals})
        if not _claim_as_seen(s, providers, seen, new, old_totals, new_totals):
            # Generations first (see the module docstring), then capacity.
            generations = _generations(s, providers)
            missing = sorted({p for p, _ in new_totals} - set(generations))
            if missing:
                raise UnknownProvider(uuid=missing[0])
            inventories = {p: inventories_of(s, p) for p in {p for p, _ in new_totals}}
            _check_capacity(new, old_totals, new_totals, inventories, used_by_class(s, inventories))
            for provider in providers:
                if provider in generations:
                    cas_update(s, m.ResourceProvider, {"uuid": provider, "generation": generations[provider]},
                               {"generation": generations[provider] + 1})
        try:
            for req in requests:
                _save_consumer(s, req, consumers.get(req.consumer_uuid), bool(new[req.consumer_uuid]))
            if any(old.values()):  # a consumer without allocations has none to delete (its row is CAS'd above)
                s.execute(sa.delete(m.Allocation).where(m.Allocation.consumer_uuid.in_(uuids)))
            rows = [{"consumer_uuid": c, "provider_uuid": p, "resource_class": rc, "used": amount}
                    for c, alloc in new.items() for p, res in alloc.items() for rc, amount in res.items()]
            if rows:  # one executemany, not one INSERT per resource class
                s.execute(sa.insert(m.Allocation), rows)
            s.flush()
        except sa_exc.IntegrityError as error:  # a provider vanished or a consumer raced in
            raise ConcurrentUpdate(str(error.orig)) from None

    # -- reading ---------------------------------------------------------------------
    def for_consumer(self, consumer_uuid: str) -> tuple[dict[str, dict[str, int]], m.Consumer | None,
                                                          dict[str, int]]:
        """(allocations, consumer row or None, provider generations)."""
        with self.db.session(readonly=True) as s:
            allocs = _allocations_of(s, [consumer_uuid]).get(consumer_uuid, {})
            consumer = s.get(m.Consumer, consumer_uuid)
            generations = _generations(s, list(allocs))
            return allocs, consumer, generations

    def for_provider(self, provider_uuid: str) -> dict[str, dict[str, int]]:
        """{consumer: {class: used}} on one provider."""
        out: dict[str, dict[str, int]] = defaultdict(dict)
        with self.db.session(readonly=True) as s:
            rows = s.execute(sa.select(m.Allocation.consumer_uuid, m.Allocation.resource_class, m.Allocation.used)
                             .where(m.Allocation.provider_uuid == provider_uuid))
            for consumer, rc, used in rows:
                out[consumer][rc] = used
        return dict(out)

    def provider_usages(self, provider_uuid: str) -> dict[str, int]:
        """Used amount of every class in the provider's inventory (0 when unused)."""
        with self.db.session(readonly=True) as s:
            classes = inventories_of(s, provider_uuid)
            used = used_by_class(s, [provider_uuid])[provider_uuid]
        return {rc: used.get(rc, 0) for rc in sorted(set(classes) | set(used))}

    def project_usages(self, project_id: str, user_id: str | None = None,
                       consumer_type: str | None = None) -> dict[str, int]:
        stmt = (sa.select(m.Allocation.resource_class, sa.func.sum(m.Allocation.used))
                .join(m.Consumer, m.Consumer.uuid == m.Allocation.consumer_uuid)
                .where(m.Consumer.project_id == project_id).group_by(m.Allocation.resource_class))
        if user_id is not None:
            stmt = stmt.where(m.Consumer.user_id == user_id)
        if consumer_type is not None:
            stmt = stmt.where(m.Consumer.consumer_type == consumer_type)
        with self.db.session(readonly=True) as s:
            return {rc: int(total) for rc, total in s.execute(stmt)}

    def project_usages_by_type(self, project_id: str, user_id: str | None = None) -> dict[str, dict]:
        """API 1.38: {consumer_type: {"consumer_count": n, <class>: used}} ("unknown" when unset)."""
        stmt = (sa.select(m.Consumer.uuid, m.Consumer.consumer_type, m.Allocation.resource_class, m.Allocation.used)
                .join(m.Allocation, m.Consumer.uuid == m.Allocation.consumer_uuid)
                .where(m.Consumer.project_id == project_id))
        if user_id is not None:
            stmt = stmt.where(m.Consumer.user_id == user_id)
        out: dict[str, dict] = {}
        seen: dict[str, set] = defaultdict(set)
        with self.db.session(readonly=True) as s:
            for consumer, ctype, rc, used in s.execute(stmt):
                group = out.setdefault(ctype or "unknown", {"consumer_count": 0})
                group[rc] = group.get(rc, 0) + used
                seen[ctype or "unknown"].add(consumer)
        for ctype, consumers in seen.items():
            out[ctype]["consumer_count"] = len(consumers)
        return out


def _claim_as_seen(s: Session, providers: list[str], seen: Mapping[str, Candidate], new, old_totals,
                   new_totals) -> bool:
    """Steps 2-4 on what the caller's candidate query read: the capacity check on its
    inventories and usage, then each provider's compare-and-swap from its generation.
    False when that view does not settle it (a provider it lacks, a refusal, a
    generation that moved): the caller then reads afresh in this same transaction, which
    costs a lost race one UPDATE instead of a transaction."""
    if not seen or not all(p in seen for p in providers):
        return False
    try:
        _check_capacity(new, old_totals, new_totals, {p: seen[p].inventories for p in providers},
                        {p: seen[p].usages for p in providers})
    except CapacityExceeded:  # perhaps no longer so
        return False
    table = m.ResourceProvider
    return all(changed_rows(s, sa.update(table).where(table.uuid == p, table.generation == seen[p].generation)
                            .values(generation=seen[p].generation + 1)) == 1 for p in providers)


def _check_capacity(new, old_totals, new_totals, inventories: Mapping[str, Mapping[str, dict]],
                    usage: Mapping[str, Mapping[str, int]]) -> None:
    for alloc in new.values():
        for provider, resources in alloc.items():
            for rc, amount in resources.items():
                inv = inventories[provider].get(rc)
                if inv is None:
                    raise NoInventoryForClass(resource_class=rc, uuid=provider)
                problem = inv_rules.amount_problem(inv, amount)
                if problem:
                    raise AmountRefused(resource_class=rc, uuid=provider, problem=problem)
    for (provider, rc), amount in new_totals.items():
        growth = amount - old_totals.get((provider, rc), 0)
        used = usage[provider].get(rc, 0)
        if growth > 0 and used + growth > inv_rules.capacity(inventories[provider][rc]):
            raise CapacityWouldBeExceeded(resource_class=rc, uuid=provider)


def _check_consumer_generation(req: ConsumerAllocations, consumer: m.Consumer | None) -> None:
    if req.generation is ANY_GENERATION:
        return
    current = consumer.generation if consumer is not None else None
    if req.generation == current:
        return
    if consumer is None:  # and a generation given (None would equal the current None)
        raise ConsumerGenerationConflict(expected="null", got=req.generation)
    raise ConsumerGenerationConflict(expected=req.generation, got=current)


def _save_consumer(s: Session, req: ConsumerAllocations, consumer: m.Consumer | None, keep: bool) -> None:
    """Create, update (CAS on generation) or remove the consumer row."""
    if consumer is None:
        if keep:
            s.add(m.Consumer(uuid=req.consumer_uuid, project_id=req.project_id, user_id=req.user_id,
                             consumer_type=req.consumer_type, generation=0))
        return
    if not keep:
        gone = changed_rows(s, sa.delete(m.Consumer).where(m.Consumer.uuid == consumer.uuid,
                                                           m.Consumer.generation == consumer.generation))
        if gone != 1:
            raise ConcurrentUpdate(consumer.uuid)
        return
    cas_update(s, m.Consumer, {"uuid": consumer.uuid, "generation": consumer.generation},
               {"generation": consumer.generation + 1, "updated_at": utcnow(),
                "project_id": req.project_id or consumer.project_id, "user_id": req.user_id or consumer.user_id,
                "consumer_type": req.consumer_type or consumer.consumer_type})

