"""Address groups (Neutron's ``address-group`` extension): named sets of CIDRs that a
security group rule names as its remote (``remote_address_group_id``,
``security-groups-remote-address-group``).

Addresses are kept as Neutron keeps them: normalized to the network they name
(``10.0.0.5/24`` -> ``10.0.0.0/24``, a bare address -> ``/32`` or ``/128`` where Neutron
takes one), without duplicates.  ``add_addresses`` refuses an address the group has
(400 ``AddressesAlreadyExist``), ``remove_addresses`` one it lacks (404
``AddressesNotFound``, Neutron's NotFound); both are all or nothing and bump the group's
revision by compare-and-swap, so concurrent changes to one group re-run instead of
losing one.  A group named by a rule cannot be deleted (409 ``AddressGroupInUse``, whoever
owns the rule); each rule that starts using a group bumps its ``generation``, which the
delete checks, so the two cannot both commit.

RBAC policies of object type ``address_group`` (``access_as_shared``) let another
project see the group and name it in its rules, not change it; its ``shared`` is not
shown (Neutron's attribute is invisible) but policy checks read it.  Every change goes
to the datapath as ``address_group_updated``/``_deleted``: the Linux driver keeps each
group as an nftables set (:mod:`.drivers.nft_rules`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import sqlalchemy as sa

from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows
from pocketstack.network import errors, rbac, store, views
from pocketstack.network.context import Work
from pocketstack.network.models import AddressGroup, SecurityGroupRule

UPDATABLE = {"name", "description"}


def _invalid(value: Any) -> errors.InvalidAttribute:
    return errors.InvalidAttribute(attribute="addresses", reason=f"'{value}' is not a valid IP subnet")


def _network(value: Any) -> str:
    """The CIDR an address names, as Neutron's ``netaddr.IPNetwork`` normalizes it."""
    if not isinstance(value, str) or re.search(r"\s", value):
        raise _invalid(value)
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise _invalid(value) from None


def create_addresses(value: Any) -> list[str]:
    """``addresses`` of a create, checked as Neutron's ``type:subnet_list`` does: a list
    (``null`` is empty), no item twice, each a CIDR written with its prefix length (an
    IPv4 one exactly as it reads back)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.InvalidAttribute(attribute="addresses", reason=f"'{value}' is not a list")
    duplicates = [str(v) for i, v in enumerate(value) if v in value[:i]]
    if duplicates:
        raise errors.InvalidAttribute(attribute="addresses", reason=f"Duplicate items in the list: "
                                                                    f"'{', '.join(duplicates)}'")
    for item in value:
        if not isinstance(item, str) or "/" not in item:
            raise _invalid(item)
        try:
            interface = ipaddress.ip_interface(item)
        except ValueError:
            raise _invalid(item) from None
        if interface.version == 4 and str(interface) != item:
            raise _invalid(item)
    return requested(value)


def requested(value: Any) -> list[str]:
    """The normalized, deduplicated addresses of an ``add_addresses``/``remove_addresses``
    body (Neutron takes whatever ``netaddr`` parses; what it cannot is a 400 here)."""
    if not isinstance(value, list):
        raise errors.InvalidAttribute(attribute="addresses", reason=f"'{value}' is not a list")
    return sorted({_network(item) for item in value})


def _emit(w: Work, group: AddressGroup) -> None:
    w.emit("address_group_updated", views.render_one(w.s, group))


def create(w: Work, attrs: dict) -> AddressGroup:
    addresses = create_addresses(attrs.get("addresses"))
    group = AddressGroup(project_id=w.owner(attrs), name=attrs.get("name") or "",
                         description=attrs.get("description") or "", addresses=addresses, generation=0)
    w.s.add(group)
    w.s.flush()
    _emit(w, group)
    return group


def update(w: Work, group_id: str, attrs: dict, revision: int | None = None) -> AddressGroup:
    group = store.fetch(w.s, AddressGroup, w.ctx, group_id)
    store.check_updatable(attrs, UPDATABLE)
    store.update_row(w.s, group, attrs, revision)
    _emit(w, group)
    return group


def change_addresses(w: Work, group_id: str, value: Any, add: bool, revision: int | None = None) -> AddressGroup:
    """``add_addresses`` (every address new to the group) or ``remove_addresses`` (every
    address in it), all or nothing; ``revision``: ``If-Match``'s, checked when the group
    changes (as Neutron's revision plugin checks it on the flush of a change)."""
    group = store.fetch(w.s, AddressGroup, w.ctx, group_id)
    wanted = requested(value)
    current = set(group.addresses)
    if add:
        present = [a for a in wanted if a in current]
        if present:
            raise errors.AddressesAlreadyExist(addresses=present, address_group_id=group.id)
        addresses = sorted(current | set(wanted))
    else:
        absent = [a for a in wanted if a not in current]
        if absent:
            raise errors.AddressesNotFound(addresses=absent, address_group_id=group.id)
        addresses = sorted(current - set(wanted))
    if wanted:
        store.update_row(w.s, group, {"addresses": addresses}, revision)
        _emit(w, group)
    return group


def delete(w: Work, group_id: str) -> None:
    group = store.fetch(w.s, AddressGroup, w.ctx, group_id)
    rendered = views.render_one(w.s, group)
    # Neutron looks for rules as an admin: another project's rule keeps the group too.
    if w.s.scalar(sa.select(SecurityGroupRule.id).where(SecurityGroupRule.remote_address_group_id == group.id)
                  .limit(1)) is not None:
        raise errors.AddressGroupInUse(address_group_id=group.id)
    rbac.release_quota(w.s, group.id)
    deleted = changed_rows(w.s, sa.delete(AddressGroup).where(AddressGroup.id == group.id,
                                                              AddressGroup.generation == group.generation,
                                                              AddressGroup.revision_number == group.revision_number),
                           execution_options={"synchronize_session": False})
    if deleted != 1:  # a rule started using it, or its addresses changed, meanwhile
        raise ConcurrentUpdate(f"address group {group.id} changed while being deleted")
    w.emit("address_group_deleted", rendered)


def use(w: Work, group_id: str, project_id: str) -> str:
    """A rule of ``project_id`` names the group as its remote: the caller must see it
    (404 ``AddressGroupNotFound``, Neutron's ``check_address_group``); the use bumps the
    group's generation and holds the RBAC policy that lets another project use it."""
    group = store.fetch(w.s, AddressGroup, w.ctx, group_id)
    cas_update(w.s, AddressGroup, where={"id": group.id, "generation": group.generation},
               values={"generation": group.generation + 1})
    rbac.hold_access(w, group, project_id)
    return group.id
