"""RBAC policies (Neutron's ``rbac-policies`` extension) on networks, QoS policies,
security groups, address scopes, subnet pools and address groups.

A policy grants one project (``target_tenant``, or ``*`` for every project) an action on
an object.  ``access_as_shared`` (every type): the project sees the object and uses it
-- ports on a network, a QoS policy bound to its networks and ports, a security group on
its ports, an address scope for its pools, a subnet pool to allocate from, an address
group as the remote of its security group rules -- but does
not change it; ``shared`` shows true to that project.  ``access_as_external`` (networks
only): the project sees the network and uses it as a router gateway; a policy makes the
network external, as in Neutron.  The rows are the only record of who may use another
project's object: ``shared`` (and a network's ``router:external``) set on an object
create and delete the wildcard policies, as Neutron does, and the object's ``shared``
column just follows its wildcard ``access_as_shared`` policy.  Reading who may use an
object is :mod:`.access`.

Revoking access races with the uses that access lets a project make.  A use another
project makes on the strength of a policy bumps that policy's ``generation`` (in the
use's transaction, :func:`hold_access`), and a policy is changed or deleted only at the
generation it was checked at: one of the two transactions re-runs and sees the other
(compare-and-swap, no row locks held across reads).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows
from pocketstack.common.db.inserts import try_insert
from pocketstack.network import errors, quota, store, views
from pocketstack.network.access import ACTIONS, EXTERNAL, MODELS, SHARED, TYPES, WILDCARD
from pocketstack.network.context import Work
from pocketstack.network.models import Network, Port, RbacPolicy, Router, SecurityGroupRule, Subnet, SubnetPool


@dataclass(frozen=True)
class ObjectType:
    """What differs between the object types: the policy column carrying the foreign key,
    the valid actions, and the projects depending on an object (Neutron's
    ``get_bound_project_ids``: they lose it when their access goes)."""

    column: str
    actions: tuple[str, ...]
    bound: Callable[[str], list[Any]]


def _bound_to_qos_policy(object_id: str) -> list[Any]:
    return [sa.select(m.project_id).where(m.qos_policy_id == object_id) for m in (Network, Port)]


def _bound_to_security_group(object_id: str) -> list[Any]:
    # A port's groups are a JSON list of ids: a group id appears in its text only as itself.
    return [sa.select(Port.project_id).where(sa.type_coerce(Port.security_groups, sa.Text).like(f'%"{object_id}"%'))]


def _bound_to_address_scope(object_id: str) -> list[Any]:
    return [sa.select(SubnetPool.project_id).where(SubnetPool.address_scope_id == object_id)]


def _bound_to_subnetpool(object_id: str) -> list[Any]:
    return [sa.select(Subnet.project_id).where(Subnet.subnetpool_id == object_id)]


def _bound_to_address_group(object_id: str) -> list[Any]:
    return [sa.select(SecurityGroupRule.project_id).where(SecurityGroupRule.remote_address_group_id == object_id)]


OBJECT_TYPES: dict[str, ObjectType] = {
    "network": ObjectType("network_id", ACTIONS, lambda _: []),
    "qos_policy": ObjectType("qos_policy_id", (SHARED,), _bound_to_qos_policy),
    "security_group": ObjectType("security_group_id", (SHARED,), _bound_to_security_group),
    "address_scope": ObjectType("address_scope_id", (SHARED,), _bound_to_address_scope),
    "subnetpool": ObjectType("subnetpool_id", (SHARED,), _bound_to_subnetpool),
    "address_group": ObjectType("address_group_id", (SHARED,), _bound_to_address_group),
}


# -- uses made through a policy ----------------------------------------------------------------
def hold_access(w: Work, obj: Any, project_id: str | None) -> None:
    """``project_id`` uses another project's ``obj`` (a port on a network or with a
    security group, a QoS binding, a pool in a scope, a subnet from a pool): bump the
    policy that lets it (the project's own before the wildcard), so that revoking that
    policy concurrently re-runs and finds the use.  Nothing to hold for the owner's uses,
    the service's own (no project), or an admin's where no policy applies."""
    if not project_id or project_id == obj.project_id:
        return
    policy_id = w.s.scalar(sa.select(RbacPolicy.id).where(
        RbacPolicy.object_id == obj.id, RbacPolicy.action == SHARED,
        RbacPolicy.target_tenant.in_([project_id, WILDCARD])).order_by(RbacPolicy.target_tenant == WILDCARD))
    if policy_id is None:
        return
    bumped = changed_rows(w.s, sa.update(RbacPolicy).where(RbacPolicy.id == policy_id)
                          .values(generation=RbacPolicy.generation + 1),
                          execution_options={"synchronize_session": False})
    if bumped != 1:
        raise ConcurrentUpdate(f"rbac policy {policy_id} went away while it was used")


# -- the objects' own flags --------------------------------------------------------------------
def add(w: Work, obj: Any, action: str, target: str, owner: str | None = None,
        enforce_quota: bool = False) -> RbacPolicy:
    """Insert a policy on ``obj``; 409 DuplicateRbacPolicy if it exists.  An insert
    refused for another reason (the object deleted meanwhile: the foreign key) re-runs
    the transaction, which then finds no object.  The policy counts against its
    project's ``rbac_policy`` quota, refused there only with ``enforce_quota`` (an API
    create)."""
    object_type = TYPES[type(obj)]
    values = dict(id=str(uuid.uuid4()), project_id=owner or obj.project_id, object_type=object_type,
                  object_id=obj.id, action=action, target_tenant=target, generation=0,
                  **{OBJECT_TYPES[object_type].column: obj.id})
    if not try_insert(w.s, lambda: w.s.execute(sa.insert(RbacPolicy).values(**values))):
        if _find(w.s, obj.id, action, target) is not None:
            raise errors.DuplicateRbacPolicy()
        raise ConcurrentUpdate(f"{object_type} {obj.id}: rbac policy insert refused")
    quota.claim_rbac_policy(w, values["project_id"], values["id"], enforce_quota)
    return w.s.get_one(RbacPolicy, values["id"])


def set_wildcard_share(w: Work, obj: Any, shared: bool) -> None:
    """``shared`` set on an object: create or delete its wildcard ``access_as_shared``
    policy (Neutron's ``update_shared``).  Unsharing is refused while projects without a
    policy of their own use it: InvalidSharedSetting for a network, as Neutron's update,
    RbacPolicyInUse for the others."""
    wildcard = _find(w.s, obj.id, SHARED, WILDCARD)
    if shared and wildcard is None:
        add(w, obj, SHARED, WILDCARD)
    elif not shared and wildcard is not None:
        if not isinstance(obj, Network):
            _check_release(w.s, obj, wildcard)
        elif _ports_losing_access(w.s, obj, wildcard.target_tenant):
            raise errors.InvalidSharedSetting(network=obj.id)
        _remove(w.s, wildcard)
    if not isinstance(obj, Network):  # a network's caller sets its column with the rest
        _sync(w, obj, SHARED)


def set_external(w: Work, network: Network, external: bool) -> None:
    """``router:external`` set on a network: true grants every project external access
    (unless some policy already does), false drops every external policy."""
    has_any = _externals(w.s, network.id)
    if external and not has_any:
        add(w, network, EXTERNAL, WILDCARD)
    elif not external and has_any:
        w.s.execute(sa.delete(RbacPolicy).where(RbacPolicy.object_id == network.id, RbacPolicy.action == EXTERNAL))


def _externals(session: Session, network_id: str) -> int:
    """How many ``access_as_external`` policies the network has."""
    return session.scalar(sa.select(sa.func.count()).select_from(RbacPolicy).where(
        RbacPolicy.object_id == network_id, RbacPolicy.action == EXTERNAL)) or 0


def _find(session: Session, object_id: str, action: str, target: str) -> RbacPolicy | None:
    return session.scalar(sa.select(RbacPolicy).where(RbacPolicy.object_id == object_id, RbacPolicy.action == action,
                                                      RbacPolicy.target_tenant == target))


def _remove(session: Session, policy: RbacPolicy) -> None:
    """Delete ``policy`` at the generation it was checked at (see the module docstring)."""
    deleted = changed_rows(session, sa.delete(RbacPolicy).where(RbacPolicy.id == policy.id,
                                                                RbacPolicy.generation == policy.generation),
                           execution_options={"synchronize_session": False})
    if deleted != 1:
        raise ConcurrentUpdate(f"rbac policy {policy.id} changed while being removed")
    quota.release(session, [policy.id])
    session.expunge(policy)


# -- what depends on a policy -----------------------------------------------------------------
def _projects_losing_access(session: Session, obj: Any, target: str) -> str | None:
    """Neutron's ``_validate_rbac_policy_delete`` for the objects but networks: a project
    that uses ``obj`` and would lose it with ``target``'s share -- ``target`` itself
    unless a wildcard stays (nothing when ``target`` owns the object); for ``*``, any
    using project no other policy names, the owner included, as in Neutron (its
    ``get_bound_project_ids`` leaves no project out).  The service's own resources (no
    project) depend on no policy."""
    if target == obj.project_id:
        return None
    others = [t for t in session.scalars(sa.select(RbacPolicy.target_tenant).where(
        RbacPolicy.object_id == obj.id, RbacPolicy.action == SHARED))]
    if target != WILDCARD and WILDCARD in others:
        return None
    for users in OBJECT_TYPES[TYPES[type(obj)]].bound(obj.id):
        if target == WILDCARD:
            users = users.where(users.selected_columns[0].not_in([*others, ""]))
        else:
            users = users.where(users.selected_columns[0] == target)
        project = session.scalar(users.limit(1))
        if project is not None:
            return target
    return None


# Neutron's ensure_no_project_ports_on_network, for networks.
def _ports_losing_access(session: Session, network: Network, target: str) -> bool:
    """Whether taking ``target``'s shared access away leaves a port of a project that
    no other policy (nor ownership) lets use the network."""
    if target == network.project_id:
        return False
    ports = sa.select(Port.id).where(Port.network_id == network.id)
    others = sa.select(RbacPolicy.target_tenant).where(RbacPolicy.object_id == network.id,
                                                       RbacPolicy.action == SHARED)
    if target == WILDCARD:
        allowed = [t for t in session.scalars(others) if t != WILDCARD] + [network.project_id]
        # Ports of no project are the service's own (router gateways, floating IPs).
        ports = ports.where(Port.project_id.not_in(allowed), Port.project_id != "")
    else:
        if _find(session, network.id, SHARED, WILDCARD) is not None:
            return False
        ports = ports.where(Port.project_id == target)
    return session.scalar(ports.limit(1)) is not None


def _routers_losing_access(session: Session, network: Network, target: str, new_target: str | None) -> bool:
    """Neutron's ``_validate_ext_not_in_use_by_project``: routers with their gateway on
    the network that only ``target``'s external access allows."""
    routers = sa.select(Router.id).where(Router.external_network_id == network.id)
    if target != WILDCARD:
        if _find(session, network.id, EXTERNAL, WILDCARD) is not None:
            return False
        routers = routers.where(Router.project_id == target)
    else:
        entries = [t for t in session.scalars(sa.select(RbacPolicy.target_tenant).where(
            RbacPolicy.object_id == network.id, RbacPolicy.action == EXTERNAL)) if t != WILDCARD]
        if new_target:
            entries.append(new_target)
        routers = routers.where(Router.project_id.not_in(entries))
    return session.scalar(routers.limit(1)) is not None


def _check_release(session: Session, obj: Any, policy: RbacPolicy, new_target: str | None = None) -> None:
    """409 RbacPolicyInUse when ``policy``'s target still depends on it."""
    if not isinstance(obj, Network):
        if _projects_losing_access(session, obj, policy.target_tenant) is not None:
            raise errors.RbacPolicyInUse(object_id=obj.id, details=f"project_id={policy.target_tenant}")
        return
    network = obj
    if policy.action == SHARED and _ports_losing_access(session, network, policy.target_tenant):
        details = errors.InvalidSharedSetting(network=network.id).message
    elif policy.action == EXTERNAL and policy.target_tenant == WILDCARD and network.is_default:
        details = "Default external networks must be shared to everyone."
    elif policy.action == EXTERNAL and _routers_losing_access(session, network, policy.target_tenant, new_target):
        details = "There are routers attached to this network that depend on this policy for access."
    else:
        return
    raise errors.RbacPolicyInUse(object_id=network.id, details=details)


def _sync(w: Work, obj: Any, action: str) -> None:
    """The object's flags after a policy change: ``shared`` follows the wildcard
    ``access_as_shared`` policy; an external policy makes a network external and the
    last one gone makes it internal again (Neutron's ``_process_ext_policy_*``)."""
    values = {}
    if action == SHARED:
        values["shared"] = _find(w.s, obj.id, SHARED, WILDCARD) is not None
    else:
        values["external"] = _externals(w.s, obj.id) > 0
    # (A security group keeps no ``shared`` column: Neutron's is read-only, per viewer.)
    values = {k: v for k, v in values.items() if k in type(obj).__table__.c}
    if all(getattr(obj, k) == v for k, v in values.items()):
        return
    if isinstance(obj, Network):
        store.update_row(w.s, obj, values)
        w.emit("network_updated", views.render_one(w.s, obj))
    else:  # the column only sorts; what a project sees is its policies (views)
        w.s.execute(sa.update(type(obj)).where(type(obj).id == obj.id).values(**values),
                    execution_options={"synchronize_session": False})
        w.s.expire(obj)


# -- the API's operations ----------------------------------------------------------------------
def _object_type(value: str) -> str:
    normalized = value.strip().lower()
    if normalized not in OBJECT_TYPES:
        raise errors.InvalidInput(error_message=f"'{value}' is not a valid RBAC object type")
    return normalized


def _uuid_like(value: str) -> bool:
    try:
        return uuid.UUID(value).hex == value.replace("-", "").lower()
    except ValueError:
        return False


def _target(value: str) -> str:
    if value != WILDCARD and not _uuid_like(value):
        raise errors.InvalidInput(error_message=f"'{value}' is not a valid target project ID; expected a UUID or "
                                                 f"'{WILDCARD}'")
    return value


def _not_owner(obj: Any) -> errors.InvalidInput:
    """Neutron's refusal to a non-admin changing a policy on another project's object
    (the network plugin's words for networks, the RBAC objects' for the rest)."""
    what = "networks" if isinstance(obj, Network) else "objects"
    return errors.InvalidInput(error_message=f"Only admins can manipulate policies on {what} they do not own")


def _object_for(w: Work, object_type: str, object_id: str) -> Any:
    """The policy's object as Neutron's create callbacks check it: unless an admin, the
    caller's own.  A network must also be visible to the caller (the network plugin
    reads it as the caller; the other types are read as admin)."""
    if not _uuid_like(object_id):
        raise errors.InvalidInput(error_message=f"'{object_id}' is not a valid UUID")
    model = MODELS[object_type]
    try:
        obj = store.fetch(w.s, model, w.ctx if model is Network else RequestContext.admin(), object_id)
    except errors.NeutronNotFound as error:
        raise errors.InvalidInput(error_message=error.message.rstrip(".")) from None
    if not w.ctx.is_admin and obj.project_id != w.ctx.project_id:
        raise _not_owner(obj)
    return obj


def _check_create(w: Work, obj: Any, target: str) -> None:
    """Neutron's ``SubnetPool.validate_rbac_policy_create``: a pool in an address scope
    is shared only with a project the scope is shared with."""
    if isinstance(obj, SubnetPool) and obj.address_scope_id:
        reaches = w.s.scalar(sa.select(RbacPolicy.id).where(
            RbacPolicy.object_id == obj.address_scope_id, RbacPolicy.target_tenant.in_([WILDCARD, target])).limit(1))
        if reaches is None:
            raise errors.InvalidInput(error_message=f"Failed to create RBAC policy on object {obj.id} because "
                                                     f"target project doesn't have access to associated address "
                                                     f"scope")


def create(w: Work, attrs: dict) -> RbacPolicy:
    object_type = _object_type(attrs["object_type"])
    target = _target(attrs["target_tenant"])
    obj = _object_for(w, object_type, attrs["object_id"])
    action = attrs["action"]
    valid = OBJECT_TYPES[object_type].actions
    if action not in valid:
        raise errors.InvalidActionForType(action=action, object_type=object_type, valid_actions=repr(valid))
    _check_create(w, obj, target)
    row = add(w, obj, action, target, owner=w.owner(attrs), enforce_quota=True)
    _sync(w, obj, action)
    return row


def _object_of(w: Work, policy: RbacPolicy) -> Any:
    return w.s.get_one(MODELS[policy.object_type], policy.object_id)


def update(w: Work, policy_id: str, attrs: dict, revision: int | None = None) -> RbacPolicy:
    """Only ``target_tenant`` changes; the old target must not depend on the policy."""
    row = store.fetch(w.s, RbacPolicy, w.ctx, policy_id)
    store.check_updatable(attrs, {"target_tenant"})
    if "target_tenant" in attrs and attrs["target_tenant"] != row.target_tenant:
        target = _target(attrs["target_tenant"])
        obj = _object_of(w, row)
        if isinstance(obj, Network) and row.action != SHARED:
            _check_release(w.s, obj, row, new_target=target)
        elif not w.ctx.is_admin and obj.project_id != w.ctx.project_id:
            raise _not_owner(obj)
        elif isinstance(obj, Network) or target != WILDCARD:
            # Neutron's validate_rbac_policy_update: a new wildcard keeps every user.
            _check_release(w.s, obj, row, new_target=target)
        if _find(w.s, obj.id, row.action, target) is not None:
            raise errors.DuplicateRbacPolicy()
        try:
            cas_update(w.s, RbacPolicy, where={"id": row.id, "generation": row.generation},
                       values={"target_tenant": target, "generation": row.generation + 1})
            w.s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateRbacPolicy() from None
        w.s.expire(row)
        _sync(w, obj, row.action)
    return row


def delete(w: Work, policy_id: str) -> None:
    row = store.fetch(w.s, RbacPolicy, w.ctx, policy_id)
    obj = _object_of(w, row)
    _check_release(w.s, obj, row)
    action = row.action
    _remove(w.s, row)
    _sync(w, obj, action)


def delete_all(session: Session, network_id: str) -> None:
    """A deleted network's policies go with it."""
    release_quota(session, network_id)
    session.execute(sa.delete(RbacPolicy).where(RbacPolicy.object_id == network_id))


def release_quota(session: Session, object_id: str) -> None:
    """The quota slots of an object's policies, released with the object (its delete
    takes the policies by foreign key)."""
    quota.release(session, list(session.scalars(sa.select(RbacPolicy.id).where(RbacPolicy.object_id == object_id))))
