"""Address scopes: the IPv4 or IPv6 space subnet pools belong to (Neutron's
``address-scope`` extension).  Pools in one scope may not overlap; a scope in use by a
pool cannot be deleted; a shared scope cannot be unshared.  RBAC policies of object type
``address_scope`` share a scope with one project (:mod:`.rbac`), which may then put its
pools in it; ``shared`` is the wildcard policy.

Joining a pool to a scope checks the scope's other pools and bumps the scope's
``generation`` (compare-and-swap): two pools joining with overlapping prefixes, or a
pool joining while the scope is deleted, cannot both commit -- one re-runs and sees the
other.
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows
from pocketstack.network import errors, rbac, store
from pocketstack.network.context import Work
from pocketstack.network.models import AddressScope, SubnetPool

UPDATABLE = {"name", "shared"}


def create(w: Work, attrs: dict) -> AddressScope:
    row = AddressScope(project_id=w.owner(attrs), name=attrs.get("name") or "", shared=False,
                       ip_version=int(attrs["ip_version"]), generation=0)
    w.s.add(row)
    w.s.flush()
    if attrs.get("shared"):
        rbac.set_wildcard_share(w, row, True)
    return row


def update(w: Work, scope_id: str, attrs: dict, revision: int | None = None) -> AddressScope:
    """``name`` and ``shared`` change (``revision`` is ignored: scopes have no revisions)."""
    row = store.fetch(w.s, AddressScope, w.ctx, scope_id)
    store.check_updatable(attrs, UPDATABLE)
    if row.shared and attrs.get("shared", True) is False:
        raise errors.AddressScopeUpdateError(address_scope_id=row.id, reason="Shared address scope can't be unshared")
    cas_update(w.s, AddressScope, where={"id": row.id, "generation": row.generation},
                       values={"name": attrs.get("name", row.name) or "", "generation": row.generation + 1})
    w.s.expire(row)
    if attrs.get("shared"):
        rbac.set_wildcard_share(w, row, True)
    return row


def delete(w: Work, scope_id: str) -> None:
    row = store.fetch(w.s, AddressScope, w.ctx, scope_id)
    in_use = w.s.scalar(sa.select(SubnetPool.id).where(SubnetPool.address_scope_id == row.id).limit(1))
    if in_use is not None:
        raise errors.AddressScopeInUse(address_scope_id=row.id)
    rbac.release_quota(w.s, row.id)
    deleted = changed_rows(w.s, sa.delete(AddressScope).where(AddressScope.id == row.id,
                                                              AddressScope.generation == row.generation),
                           execution_options={"synchronize_session": False})
    if deleted != 1:
        raise ConcurrentUpdate(f"address scope {row.id} changed while being deleted")


def join(w: Work, scope_id: str, pool_id: str, ip_version: int, prefixes: list[str]) -> None:
    """Neutron's ``_validate_address_scope_id``: the pool may be in the scope if the
    caller sees the scope (its own or a shared one), its IP version is the scope's, and
    no other pool of the scope overlaps it."""
    scope = w.s.scalar(sa.select(AddressScope).where(AddressScope.id == scope_id,
                                                     store.visible_clause(AddressScope, w.ctx)))
    if scope is None:
        raise errors.AddressScopeNotFound(id=scope_id)
    if scope.ip_version != ip_version:
        raise errors.IllegalSubnetPoolIpVersionAssociationToAddressScope(
            subnetpool_id=pool_id, address_scope_id=scope_id, ip_version=scope.ip_version)
    mine = [ipaddress.ip_network(p) for p in prefixes]
    others = w.s.scalars(sa.select(SubnetPool.prefixes).where(SubnetPool.address_scope_id == scope_id,
                                                               SubnetPool.id != pool_id))
    for pool_prefixes in others:
        if any(ipaddress.ip_network(p).overlaps(n) for p in pool_prefixes for n in mine):
            raise errors.AddressScopePrefixConflict()
    cas_update(w.s, AddressScope, where={"id": scope.id, "generation": scope.generation},
               values={"generation": scope.generation + 1})
    rbac.hold_access(w, scope, w.ctx.project_id)
