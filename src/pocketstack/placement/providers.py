"""Resource providers and what hangs off them: inventories, traits, aggregates.

Every change here goes through :meth:`Providers.change`, which re-reads the provider,
checks the generation the client sent (if any), applies the change and bumps the
generation with a compare-and-swap.  A lost race re-runs the unit of work; when the
client named a generation the re-run then answers 409 ``placement.concurrent_update``,
exactly like Placement.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows, run_in_transaction
from pocketstack.placement import errors
from pocketstack.placement import inventory as inv_rules
from pocketstack.placement import models as m
from pocketstack.placement.catalog import Catalog, is_custom

RP = m.ResourceProvider


def render(rp: RP) -> dict:
    return {"uuid": rp.uuid, "name": rp.name, "generation": rp.generation,
            "parent_provider_uuid": rp.parent_uuid, "root_provider_uuid": rp.root_uuid,
            "created_at": rp.created_at, "updated_at": rp.updated_at}


def load(session: Session, uuid: str) -> RP:
    rp = session.get(RP, uuid)
    if rp is None:
        raise errors.ResourceProviderNotFound(uuid=uuid)
    return rp


def inventories_of(session: Session, uuid: str) -> dict[str, dict]:
    rows = session.scalars(sa.select(m.Inventory).where(m.Inventory.provider_uuid == uuid))
    return {r.resource_class: {f: getattr(r, f) for f in inv_rules.FIELDS} for r in rows}


def used_by_class(session: Session, uuids: Iterable[str]) -> dict[str, dict[str, int]]:
    """{provider: {class: used}} summed over every consumer's allocations."""
    uuids = list(uuids)
    out: dict[str, dict[str, int]] = {u: {} for u in uuids}
    if not uuids:
        return out
    rows = session.execute(sa.select(m.Allocation.provider_uuid, m.Allocation.resource_class,
                                     sa.func.sum(m.Allocation.used))
                           .where(m.Allocation.provider_uuid.in_(uuids))
                           .group_by(m.Allocation.provider_uuid, m.Allocation.resource_class))
    for uuid, rc, used in rows:
        out[uuid][rc] = int(used)
    return out


class Providers:
    def __init__(self, db: Database, catalog: Catalog):
        self.db = db
        self.catalog = catalog

    # -- the provider itself ---------------------------------------------------------
    def create(self, uuid: str, name: str, parent_uuid: str | None = None) -> dict:
        def work(s: Session) -> dict:
            self._check_name_free(s, name, uuid)
            if s.get(RP, uuid) is not None:
                raise errors.DuplicateProviderUuid(uuid=uuid)
            root = self._root_of(s, parent_uuid, uuid)
            rp = RP(uuid=uuid, name=name, generation=0, parent_uuid=parent_uuid, root_uuid=root)
            s.add(rp)
            self._flush_unique(s)
            return render(rp)
        return run_in_transaction(self.db, work)

    def get(self, uuid: str) -> dict:
        with self.db.session(readonly=True) as s:
            return render(load(s, uuid))

    def list(self, *, name: str | None = None, uuid: str | None = None, in_tree: str | None = None,
             member_of: Sequence[AbstractSet[str]] = (), required: AbstractSet[str] = frozenset(),
             forbidden: AbstractSet[str] = frozenset(), any_traits: Sequence[AbstractSet[str]] = (),
             resources: Mapping[str, int] | None = None) -> list[dict]:
        """Providers matching every filter; ``resources`` keeps those with room for
        the amounts (Placement's 1.4 filter)."""
        stmt = sa.select(RP).order_by(RP.created_at, RP.uuid)
        if name is not None:
            stmt = stmt.where(RP.name == name)
        if uuid is not None:
            stmt = stmt.where(RP.uuid == uuid)
        with self.db.session(readonly=True) as s:
            if in_tree is not None:
                stmt = stmt.where(RP.root_uuid == load(s, in_tree).root_uuid)
            stmt = filter_traits_and_aggregates(stmt, required, forbidden, member_of, any_traits)
            providers = list(s.scalars(stmt))
            if resources:
                usage = used_by_class(s, [rp.uuid for rp in providers])
                providers = [rp for rp in providers
                             if has_room(inventories_of(s, rp.uuid), usage[rp.uuid], resources)]
            return [render(rp) for rp in providers]

    def update(self, uuid: str, name: str, parent_uuid: str | None, *, allow_reparent: bool) -> dict:
        def work(s: Session) -> dict:
            rp = load(s, uuid)
            self._check_name_free(s, name, uuid)
            if parent_uuid != rp.parent_uuid:
                if rp.parent_uuid is not None and not allow_reparent:
                    raise errors.ParentCannotChange()
                self._reparent(s, rp, parent_uuid)
            rp.name = name
            rp.updated_at = utcnow()
            self._flush_unique(s)
            return render(rp)
        return run_in_transaction(self.db, work)

    def delete(self, uuid: str) -> None:
        """Delete a provider with no allocations and no children (409 otherwise)."""
        def work(s: Session) -> None:
            rp = load(s, uuid)
            if s.execute(sa.select(m.Allocation.id).where(m.Allocation.provider_uuid == uuid).limit(1)).first():
                raise errors.ProviderHasAllocations(uuid=uuid)
            if s.execute(sa.select(RP.uuid).where(RP.parent_uuid == uuid).limit(1)).first():
                raise errors.ProviderHasChildren(uuid=uuid)
            for model in (m.Inventory, m.ProviderTrait, m.ProviderAggregate):
                s.execute(sa.delete(model).where(model.provider_uuid == uuid))
            # Claims bump the generation after inserting allocations: deleting only the
            # generation we checked means no allocation can have slipped in meanwhile.
            gone = changed_rows(s, sa.delete(RP).where(RP.uuid == uuid, RP.generation == rp.generation))
            if gone != 1:
                raise ConcurrentUpdate(uuid)
        run_in_transaction(self.db, work)

    # -- the generation-guarded change every sub-resource uses ----------------------
    def change(self, uuid: str, generation: int | None, mutate: Callable[[Session, RP], Any]) -> tuple[int, Any]:
        """Apply ``mutate(session, provider)`` and bump the generation by CAS; answer
        409 concurrent_update when ``generation`` (the client's) is stale."""
        def work(s: Session):
            rp = load(s, uuid)
            if generation is not None and rp.generation != generation:
                raise errors.ProviderGenerationConflict(uuid=uuid)
            result = mutate(s, rp)
            cas_update(s, RP, {"uuid": uuid, "generation": rp.generation},
                       {"generation": rp.generation + 1, "updated_at": utcnow()})
            return rp.generation + 1, result
        return run_in_transaction(self.db, work)

    # -- inventories -----------------------------------------------------------------
    def inventories(self, uuid: str) -> tuple[int, dict[str, dict]]:
        with self.db.session(readonly=True) as s:
            rp = load(s, uuid)
            return rp.generation, inventories_of(s, uuid)

    def replace_inventories(self, uuid: str, generation: int | None,
                            edit: Callable[[dict[str, dict]], dict[str, dict]]) -> tuple[int, dict[str, dict]]:
        """Set the provider's inventories to ``edit(current)``; classes removed while
        allocated answer 409 ``placement.inventory.inuse``."""
        def mutate(s: Session, rp: RP) -> dict[str, dict]:
            current = inventories_of(s, uuid)
            wanted = edit(dict(current))
            self._require_classes(wanted)
            write_inventories(s, uuid, current, wanted)
            return wanted
        return self.change(uuid, generation, mutate)

    # -- traits ----------------------------------------------------------------------
    def traits(self, uuid: str) -> tuple[int, builtins.list[str]]:
        with self.db.session(readonly=True) as s:
            rp = load(s, uuid)
            return rp.generation, traits_of(s, uuid)

    def set_traits(self, uuid: str, generation: int | None, traits: Iterable[str]) -> int:
        traits = sorted(set(traits))
        unknown = self.catalog.unknown_traits(traits)
        if unknown:
            raise errors.UnknownTraits(names=", ".join(sorted(unknown)))
        return self.change(uuid, generation, lambda s, rp: write_traits(s, uuid, traits))[0]

    # -- aggregates ------------------------------------------------------------------
    def aggregates(self, uuid: str) -> tuple[int, builtins.list[str]]:
        with self.db.session(readonly=True) as s:
            rp = load(s, uuid)
            rows = s.scalars(sa.select(m.ProviderAggregate.aggregate_uuid)
                             .where(m.ProviderAggregate.provider_uuid == uuid))
            return rp.generation, sorted(rows)

    def set_aggregates(self, uuid: str, generation: int | None, aggregates: Iterable[str]) -> int:
        aggregates = sorted(set(aggregates))

        def mutate(s: Session, rp: RP) -> None:
            s.execute(sa.delete(m.ProviderAggregate).where(m.ProviderAggregate.provider_uuid == uuid))
            s.add_all(m.ProviderAggregate(provider_uuid=uuid, aggregate_uuid=a) for a in aggregates)
        return self.change(uuid, generation, mutate)[0]

    # -- the idempotent "make it so" the compute service calls ------------------------
    def ensure(self, uuid: str, name: str, inventories: Mapping[str, Mapping], traits: Iterable[str] = (),
               parent_uuid: str | None = None) -> None:
        wanted = {rc: inv_rules.normalise(rc, inv) for rc, inv in inventories.items()}
        traits = sorted(set(traits))
        for rc in self.catalog.unknown_resource_classes(wanted):
            if is_custom(rc):
                self.catalog.create_resource_class(rc, exist_ok=True)
        for trait in self.catalog.unknown_traits(traits):
            if is_custom(trait):
                self.catalog.create_trait(trait)
        self._require_classes(wanted)
        unknown = self.catalog.unknown_traits(traits)
        if unknown:
            raise errors.UnknownTraits(names=", ".join(sorted(unknown)))

        def work(s: Session) -> None:
            self._check_name_free(s, name, uuid)
            rp = s.get(RP, uuid)
            if rp is None:
                s.add(RP(uuid=uuid, name=name, generation=0, parent_uuid=parent_uuid,
                         root_uuid=self._root_of(s, parent_uuid, uuid)))
                self._flush_unique(s)
                write_inventories(s, uuid, {}, wanted)
                write_traits(s, uuid, traits)
                return
            current = inventories_of(s, uuid)
            changed = current != wanted or traits_of(s, uuid) != traits or rp.name != name
            if rp.parent_uuid != parent_uuid:
                self._reparent(s, rp, parent_uuid)
                changed = True
            if not changed:
                return
            write_inventories(s, uuid, current, wanted)
            write_traits(s, uuid, traits)
            rp.name = name
            cas_update(s, RP, {"uuid": uuid, "generation": rp.generation},
                       {"generation": rp.generation + 1, "updated_at": utcnow()})
            self._flush_unique(s)
        run_in_transaction(self.db, work)

    # -- helpers ---------------------------------------------------------------------
    def _require_classes(self, inventories: Mapping[str, Any]) -> None:
        unknown = self.catalog.unknown_resource_classes(inventories)
        if unknown:
            raise errors.UnknownInventoryClasses(names=", ".join(sorted(unknown)))

    @staticmethod
    def _check_name_free(s: Session, name: str, uuid: str) -> None:
        if s.execute(sa.select(RP.uuid).where(RP.name == name, RP.uuid != uuid)).first():
            raise errors.DuplicateProviderName(name=name)

    @staticmethod
    def _flush_unique(s: Session) -> None:
        """Flush; a unique-constraint race with another writer re-runs the unit of work,
        whose re-read then answers precisely (duplicate name, existing uuid…)."""
        try:
            s.flush()
        except sa_exc.IntegrityError as error:
            raise ConcurrentUpdate(str(error.orig)) from None

    @staticmethod
    def _root_of(s: Session, parent_uuid: str | None, uuid: str) -> str:
        if parent_uuid is None:
            return uuid
        parent = s.get(RP, parent_uuid)
        if parent is None:
            raise errors.ParentNotFound(uuid=parent_uuid)
        return parent.root_uuid

    def _reparent(self, s: Session, rp: RP, parent_uuid: str | None) -> None:
        """Move ``rp`` (and its subtree) under ``parent_uuid``, refusing loops."""
        root = self._root_of(s, parent_uuid, rp.uuid)
        cursor = parent_uuid
        while cursor is not None:
            if cursor == rp.uuid:
                raise errors.ProviderTreeLoop()
            above = s.get(RP, cursor)
            cursor = above.parent_uuid if above is not None else None
        old_root = rp.root_uuid
        rp.parent_uuid = parent_uuid
        subtree, frontier = [rp.uuid], [rp.uuid]
        while frontier:
            frontier = list(s.scalars(sa.select(RP.uuid).where(RP.parent_uuid.in_(frontier))))
            subtree += frontier
        if root != old_root:
            s.execute(sa.update(RP).where(RP.uuid.in_(subtree)).values(root_uuid=root),
                      execution_options={"synchronize_session": False})
            rp.root_uuid = root


def has_room(inventories: Mapping[str, dict], used: Mapping[str, int], resources: Mapping[str, int]) -> bool:
    return all(rc in inventories and inv_rules.fits(inventories[rc], used.get(rc, 0), amount)
               for rc, amount in resources.items())


def traits_of(s: Session, uuid: str) -> list[str]:
    return sorted(s.scalars(sa.select(m.ProviderTrait.trait).where(m.ProviderTrait.provider_uuid == uuid)))


def write_traits(s: Session, uuid: str, traits: list[str]) -> None:
    s.execute(sa.delete(m.ProviderTrait).where(m.ProviderTrait.provider_uuid == uuid))
    s.add_all(m.ProviderTrait(provider_uuid=uuid, trait=t) for t in traits)


def write_inventories(s: Session, uuid: str, current: Mapping[str, dict], wanted: Mapping[str, dict]) -> None:
    removed = set(current) - set(wanted)
    if removed:
        busy = s.scalars(sa.select(m.Allocation.resource_class).distinct()
                         .where(m.Allocation.provider_uuid == uuid, m.Allocation.resource_class.in_(removed))).all()
        if busy:
            raise errors.InventoryInUse(classes=", ".join(sorted(busy)), uuid=uuid)
        s.execute(sa.delete(m.Inventory).where(m.Inventory.provider_uuid == uuid,
                                               m.Inventory.resource_class.in_(removed)))
    for rc, inv in wanted.items():
        if rc not in current:
            s.add(m.Inventory(provider_uuid=uuid, resource_class=rc, **inv))
        elif current[rc] != inv:
            s.execute(sa.update(m.Inventory).where(m.Inventory.provider_uuid == uuid,
                                                   m.Inventory.resource_class == rc).values(**inv),
                      execution_options={"synchronize_session": False})


def filter_traits_and_aggregates(stmt, required: Iterable[str], forbidden: AbstractSet[str],
                                 member_of: Iterable[AbstractSet[str]], any_traits: Iterable[AbstractSet[str]] = ()):
    """Narrow a provider query: every ``required`` trait, at least one trait of each set in
    ``any_traits``, no ``forbidden`` trait, and for each set in ``member_of`` membership
    of at least one of its aggregates."""
    for group in [{t} for t in required] + list(any_traits):
        stmt = stmt.where(RP.uuid.in_(sa.select(m.ProviderTrait.provider_uuid)
                                      .where(m.ProviderTrait.trait.in_(group))))
    if forbidden:
        stmt = stmt.where(RP.uuid.not_in(sa.select(m.ProviderTrait.provider_uuid)
                                         .where(m.ProviderTrait.trait.in_(forbidden))))
    for any_of in member_of:
        stmt = stmt.where(RP.uuid.in_(sa.select(m.ProviderAggregate.provider_uuid)
                                      .where(m.ProviderAggregate.aggregate_uuid.in_(any_of))))
    return stmt
