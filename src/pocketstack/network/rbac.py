"""Network RBAC policies (Neutron's ``rbac-policies`` extension, object type ``network``).

A policy grants one project (``target_tenant``, or ``*`` for every project) an action on
a network: ``access_as_shared`` (see it, see its subnets, put ports on it; ``shared``
shows true to that project) or ``access_as_external`` (see it and use it as a router
gateway; a policy makes the network external, as in Neutron).  The rows are the only
record of who may use another project's network: ``shared``/``router:external`` on a
network create and delete the wildcard policies, as Neutron does, and the network's
``shared`` column just follows its wildcard ``access_as_shared`` policy.  Reading who
may use a network is :mod:`.access`.

Revoking access races with the ports that access lets a project make.  A port another
project makes on the strength of a policy bumps that policy's ``generation`` (in the
port's transaction), and a policy is changed or deleted only at the generation it was
checked at: one of the two transactions re-runs and sees the other (compare-and-swap,
no row locks held across reads).
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, changed_rows
from pocketstack.common.db.inserts import try_insert
from pocketstack.network import errors, store, views
from pocketstack.network.access import ACTIONS, EXTERNAL, SHARED, WILDCARD
from pocketstack.network.context import Work
from pocketstack.network.models import Network, Port, RbacPolicy, Router

# The object types this service keeps policies for (Neutron also has qos_policy,
# security_group, address_scope, subnetpool, address_group...).
OBJECT_TYPES = ("network",)


# -- ports made through a policy ---------------------------------------------------------------
def hold_access(w: Work, network: Network, project_id: str) -> None:
    """A port of ``project_id`` goes on another project's ``network``: bump the policy
    that lets it (the project's own before the wildcard), so that revoking that policy
    concurrently re-runs and finds the port.  Nothing to hold for the owner's ports, the
    service's own (no project), or an admin's port where no policy applies."""
    if not project_id or project_id == network.project_id:
        return
    policy_id = w.s.scalar(sa.select(RbacPolicy.id).where(
        RbacPolicy.object_id == network.id, RbacPolicy.action == SHARED,
        RbacPolicy.target_tenant.in_([project_id, WILDCARD])).order_by(RbacPolicy.target_tenant == WILDCARD))
    if policy_id is None:
        return
    bumped = changed_rows(w.s, sa.update(RbacPolicy).where(RbacPolicy.id == policy_id)
                          .values(generation=RbacPolicy.generation + 1),
                          execution_options={"synchronize_session": False})
    if bumped != 1:
        raise ConcurrentUpdate(f"rbac policy {policy_id} went away while a port was made with it")


# -- the network's own flags -------------------------------------------------------------------
def add(w: Work, network: Network, action: str, target: str, owner: str | None = None) -> RbacPolicy:
    """Insert a policy on ``network``; 409 DuplicateRbacPolicy if it exists.  An insert
    refused for another reason (the network deleted meanwhile: the foreign key) re-runs
    the transaction, which then finds no network."""
    values = dict(id=str(uuid.uuid4()), project_id=owner or network.project_id, object_type="network",
                  object_id=network.id, action=action, target_tenant=target, generation=0)
    if not try_insert(w.s, lambda: w.s.execute(sa.insert(RbacPolicy).values(**values))):
        if _find(w.s, network.id, action, target) is not None:
            raise errors.DuplicateRbacPolicy()
        raise ConcurrentUpdate(f"network {network.id}: rbac policy insert refused")
    return w.s.get_one(RbacPolicy, values["id"])


def set_wildcard_share(w: Work, network: Network, shared: bool) -> None:
    """``shared`` set on a network: create or delete its wildcard ``access_as_shared``
    policy (unsharing is refused while projects without a policy of their own have ports
    on it: InvalidSharedSetting, as Neutron's update)."""
    wildcard = _find(w.s, network.id, SHARED, WILDCARD)
    if shared and wildcard is None:
        add(w, network, SHARED, WILDCARD)
    elif not shared and wildcard is not None:
        if _ports_losing_access(w.s, network, wildcard.target_tenant):
            raise errors.InvalidSharedSetting(network=network.id)
        _remove(w.s, wildcard)


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


def _find(session: Session, network_id: str, action: str, target: str) -> RbacPolicy | None:
    return session.scalar(sa.select(RbacPolicy).where(RbacPolicy.object_id == network_id, RbacPolicy.action == action,
                                                      RbacPolicy.target_tenant == target))


def _remove(session: Session, policy: RbacPolicy) -> None:
    """Delete ``policy`` at the generation it was checked at (see the module docstring)."""
    deleted = changed_rows(session, sa.delete(RbacPolicy).where(RbacPolicy.id == policy.id,
                                                                RbacPolicy.generation == policy.generation),
                           execution_options={"synchronize_session": False})
    if deleted != 1:
        raise ConcurrentUpdate(f"rbac policy {policy.id} changed while being removed")
    session.expunge(policy)


# -- what depends on a policy (Neutron's ensure_no_project_ports_on_network) -----------------
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


def _check_release(session: Session, network: Network, policy: RbacPolicy, new_target: str | None = None) -> None:
    """409 RbacPolicyInUse when ``policy``'s target still depends on it."""
    if policy.action == SHARED and _ports_losing_access(session, network, policy.target_tenant):
        details = errors.InvalidSharedSetting(network=network.id).message
    elif policy.action == EXTERNAL and policy.target_tenant == WILDCARD and network.is_default:
        details = "Default external networks must be shared to everyone."
    elif policy.action == EXTERNAL and _routers_losing_access(session, network, policy.target_tenant, new_target):
        details = "There are routers attached to this network that depend on this policy for access."
    else:
        return
    raise errors.RbacPolicyInUse(object_id=network.id, details=details)


def _sync(w: Work, network: Network, action: str) -> None:
    """The network's flags after a policy change: ``shared`` follows the wildcard
    ``access_as_shared`` policy; an external policy makes the network external and the
    last one gone makes it internal again (Neutron's ``_process_ext_policy_*``)."""
    values = {}
    if action == SHARED:
        values["shared"] = _find(w.s, network.id, SHARED, WILDCARD) is not None
    else:
        values["external"] = _externals(w.s, network.id) > 0
    if any(getattr(network, k) != v for k, v in values.items()):
        store.update_row(w.s, network, values)
        w.emit("network_updated", views.render_one(w.s, network))


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


def _network_for(w: Work, network_id: str) -> Network:
    """The policy's network as Neutron's create callbacks check it: visible to the caller
    and, unless an admin, the caller's own."""
    if not _uuid_like(network_id):
        raise errors.InvalidInput(error_message=f"'{network_id}' is not a valid UUID")
    try:
        network = store.fetch(w.s, Network, w.ctx, network_id)
    except errors.NetworkNotFound as error:
        raise errors.InvalidInput(error_message=error.message.rstrip(".")) from None
    if not w.ctx.is_admin and network.project_id != w.ctx.project_id:
        raise errors.InvalidInput(error_message="Only admins can manipulate policies on networks they do not own")
    return network


def create(w: Work, attrs: dict) -> RbacPolicy:
    object_type = _object_type(attrs["object_type"])
    target = _target(attrs["target_tenant"])
    network = _network_for(w, attrs["object_id"])
    action = attrs["action"]
    if action not in ACTIONS:
        raise errors.InvalidActionForType(action=action, object_type=object_type, valid_actions=repr(ACTIONS))
    row = add(w, network, action, target, owner=w.owner(attrs))
    _sync(w, network, action)
    return row


def update(w: Work, policy_id: str, attrs: dict, revision: int | None = None) -> RbacPolicy:
    """Only ``target_tenant`` changes; the old target must not depend on the policy."""
    row = store.fetch(w.s, RbacPolicy, w.ctx, policy_id)
    store.check_updatable(attrs, {"target_tenant"})
    if "target_tenant" in attrs and attrs["target_tenant"] != row.target_tenant:
        target = _target(attrs["target_tenant"])
        network = w.s.get_one(Network, row.object_id)
        if w.ctx.is_admin or network.project_id == w.ctx.project_id or row.action != SHARED:
            _check_release(w.s, network, row, new_target=target)
        else:
            raise errors.InvalidInput(error_message="Only admins can manipulate policies on networks they do not own")
        if _find(w.s, network.id, row.action, target) is not None:
            raise errors.DuplicateRbacPolicy()
        try:
            cas_update(w.s, RbacPolicy, where={"id": row.id, "generation": row.generation},
                       values={"target_tenant": target, "generation": row.generation + 1})
            w.s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateRbacPolicy() from None
        w.s.expire(row)
        _sync(w, network, row.action)
    return row


def delete(w: Work, policy_id: str) -> None:
    row = store.fetch(w.s, RbacPolicy, w.ctx, policy_id)
    network = w.s.get_one(Network, row.object_id)
    _check_release(w.s, network, row)
    action = row.action
    _remove(w.s, row)
    _sync(w, network, action)


def delete_all(session: Session, network_id: str) -> None:
    """A deleted network's policies go with it."""
    session.execute(sa.delete(RbacPolicy).where(RbacPolicy.object_id == network_id))
