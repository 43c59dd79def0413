"""Who may use an object, as its RBAC policies say (the read side of :mod:`.rbac`).

Every visibility decision about the objects RBAC policies share goes through here:
:func:`store.visible_clause` (which networks, subnets, QoS policies, security groups,
address scopes, subnet pools and address groups a project sees), the ``shared`` filter and attribute
(shared *with the caller's project*, as Neutron shows it), and the port rules'
``network:shared``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.network.models import (
    AddressGroup,
    AddressScope,
    Network,
    QosPolicy,
    RbacPolicy,
    SecurityGroup,
    SubnetPool,
)

SHARED, EXTERNAL = "access_as_shared", "access_as_external"
ACTIONS = (SHARED, EXTERNAL)
WILDCARD = "*"
# The objects policies grant, by the ``object_type`` Neutron names them with.
MODELS: dict[str, type] = {"network": Network, "qos_policy": QosPolicy, "security_group": SecurityGroup,
                           "address_scope": AddressScope, "subnetpool": SubnetPool, "address_group": AddressGroup}
TYPES = {model: name for name, model in MODELS.items()}


def granted(project_id: str | None, actions: tuple[str, ...] = ACTIONS, object_type: str = "network"):
    """SELECT of the objects of ``object_type`` a policy grants ``project_id`` (or every
    project) one of ``actions`` on."""
    targets = [WILDCARD] if not project_id else [WILDCARD, project_id]
    return sa.select(RbacPolicy.object_id).where(RbacPolicy.object_type == object_type,
                                                 RbacPolicy.action.in_(actions),
                                                 RbacPolicy.target_tenant.in_(targets))


def shared_with(project_id: str | None, model: type = Network):
    """Clause: the ``model`` row is shared with ``project_id``."""
    return model.id.in_(granted(project_id, (SHARED,), TYPES[model]))  # type: ignore[attr-defined]


def shared_ids(session: Session, ids: list[str], project_id: str | None, model: type = Network) -> set[str]:
    """Which of ``ids`` (of ``model`` rows) are shared with ``project_id``, in one query."""
    if not ids:
        return set()
    return set(session.scalars(granted(project_id, (SHARED,), TYPES[model]).where(RbacPolicy.object_id.in_(ids))))


def is_shared_with(session: Session, network_id: str, project_id: str | None) -> bool:
    return network_id in shared_ids(session, [network_id], project_id)


def viewer(session: Session) -> str | None:
    """The project a session renders for (set by :func:`.context.read`/``transact``):
    ``shared`` is shown as that project sees it."""
    return session.info.get("viewer")
