"""Subnet pools: prefixes subnets draw from (see ``subnets._prefix_from_pool``), each
in at most one address scope (:mod:`.address_scopes`).  RBAC policies of object type
``subnetpool`` share a pool with one project (:mod:`.rbac`), which may then allocate its
subnets from it; ``shared`` is the wildcard policy."""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from pocketstack.common.db.cas import cas_update
from pocketstack.network import address_scopes, converters, errors, ipam, quota, rbac, store
from pocketstack.network.context import Work
from pocketstack.network.models import AddressScope, SubnetPool, Tag
from pocketstack.network.subnets import network_of

UPDATABLE = {"name", "description", "prefixes", "default_prefixlen", "min_prefixlen", "max_prefixlen",
             "is_default", "default_quota", "address_scope_id"}
_LENGTHS = ("default_prefixlen", "min_prefixlen", "max_prefixlen")


def _prefixes(prefixes: list[str]) -> tuple[int, list[str]]:
    if not prefixes:
        raise errors.InvalidInput(error_message="prefixes must be a non-empty list")
    nets = [network_of(p) for p in prefixes]
    versions = {n.version for n in nets}
    if len(versions) != 1:
        raise errors.PrefixVersionMismatch()
    collapsed = [str(n) for n in ipaddress.collapse_addresses(nets)]  # type: ignore[type-var]  # one version
    return versions.pop(), collapsed


def _requested_lengths(attrs: dict) -> dict[str, int]:
    """The prefix lengths ``attrs`` sets, as non-negative integers (strings of one too)."""
    return {key: converters.non_negative(key, converters.to_int(attrs[key])) for key in _LENGTHS if key in attrs}


def _default_quota(value) -> int | None:
    """``default_quota``: a non-negative integer (a string of one too), or None for no limit."""
    if value is None:
        return None
    quota = converters.non_negative("default_quota", converters.to_int(value))
    return converters.in_range("default_quota", quota, 0, converters.DB_INTEGER_MAX)


def _lengths(version: int, attrs: dict, current: SubnetPool | None = None) -> dict:
    max_len = 32 if version == 4 else 128
    requested = _requested_lengths(attrs)
    lo = requested.get("min_prefixlen", current.min_prefixlen if current else (8 if version == 4 else 64))
    hi = requested.get("max_prefixlen", current.max_prefixlen if current else max_len)
    default = requested.get("default_prefixlen", current.default_prefixlen if current else lo)
    if not 0 <= lo <= default <= hi <= max_len:
        raise errors.InvalidInput(error_message=f"Illegal prefix bounds: min_prefixlen={lo}, "
                                                 f"default_prefixlen={default}, max_prefixlen={hi}")
    return {"min_prefixlen": lo, "max_prefixlen": hi, "default_prefixlen": default}


def _scope_id(attrs: dict) -> None:
    """``address_scope_id`` is ``type:uuid_or_none``: anything else is a 400, not a lookup."""
    if attrs.get("address_scope_id") is not None:
        converters.uuid("address_scope_id", attrs["address_scope_id"])


def create(w: Work, attrs: dict) -> SubnetPool:
    _scope_id(attrs)
    version, prefixes = _prefixes(attrs.get("prefixes") or [])
    project_id = w.owner(attrs)
    row = SubnetPool(project_id=project_id, name=attrs.get("name") or "", description=attrs.get("description") or "",
                     ip_version=version, prefixes=prefixes, shared=False,
                     is_default=attrs.get("is_default", False), allocated=[], generation=0,
                     default_quota=_default_quota(attrs.get("default_quota")),
                     address_scope_id=attrs.get("address_scope_id"), **_lengths(version, attrs))
    w.s.add(row)
    w.s.flush()
    if row.address_scope_id:
        address_scopes.join(w, row.address_scope_id, row.id, version, prefixes)
    if attrs.get("shared"):
        rbac.set_wildcard_share(w, row, True)
    quota.claim(w, project_id, "subnetpool", row.id)
    return row


def update(w: Work, pool_id: str, attrs: dict, revision: int | None = None) -> SubnetPool:
    row = store.fetch(w.s, SubnetPool, w.ctx, pool_id)
    store.check_updatable(attrs, UPDATABLE)
    _scope_id(attrs)
    if row.address_scope_id and not w.ctx.is_admin:
        # Neutron's _check_subnetpool_update_allowed: a pool in another project's (shared)
        # scope is that project's to change, whatever the change.
        scope = w.s.get_one(AddressScope, row.address_scope_id)
        if scope.project_id != w.ctx.project_id:
            raise errors.IllegalSubnetPoolUpdate(subnetpool_id=row.id, address_scope_id=scope.id)
    values = dict(attrs)
    if "prefixes" in attrs:
        version, prefixes = _prefixes(attrs["prefixes"])
        old = [ipaddress.ip_network(p) for p in row.prefixes]
        if version != row.ip_version or not all(any(ipam.subnet_of(o, ipaddress.ip_network(n)) for n in prefixes)
                                                for o in old):
            raise errors.InvalidInput(error_message="Existing prefixes must be a subset of the new prefixes")
        values["prefixes"] = prefixes
    if "default_quota" in attrs:
        values["default_quota"] = _default_quota(attrs["default_quota"])
    values.update(_lengths(row.ip_version, attrs, row))
    scope_id = attrs.get("address_scope_id", row.address_scope_id)
    if scope_id and ("address_scope_id" in attrs or "prefixes" in attrs):
        address_scopes.join(w, scope_id, row.id, row.ip_version, values.get("prefixes", row.prefixes))
    # Prefix changes race with allocations: both go through the pool's generation.
    cas_update(w.s, SubnetPool, where={"id": row.id, "generation": row.generation},
               values={"generation": row.generation + 1})
    store.update_row(w.s, row, values, revision)
    return row


def delete(w: Work, pool_id: str) -> None:
    row = store.fetch(w.s, SubnetPool, w.ctx, pool_id)
    if row.allocated:
        raise errors.SubnetPoolInUse(pool_id=row.id)
    # Deleting only at the generation we read keeps a racing allocation from being orphaned.
    cas_update(w.s, SubnetPool, where={"id": row.id, "generation": row.generation},
               values={"generation": row.generation + 1})
    quota.release(w.s, [row.id])
    rbac.release_quota(w.s, row.id)
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == row.id))
    w.s.execute(sa.delete(SubnetPool).where(SubnetPool.id == row.id))
