"""Who may use a network, as its RBAC policies say (the read side of :mod:`.rbac`).

Every visibility decision about networks goes through here: :func:`store.visible_clause`
(which networks and subnets a project sees), the ``shared`` filter and attribute (shared
*with the caller's project*, as Neutron shows it), and the port rules' ``network:shared``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.network.models import Network, RbacPolicy

SHARED, EXTERNAL = "access_as_shared", "access_as_external"
ACTIONS = (SHARED, EXTERNAL)
WILDCARD = "*"


def granted(project_id: str | None, actions: tuple[str, ...] = ACTIONS):
    """SELECT of the networks a policy grants ``project_id`` (or every project) one of ``actions`` on."""
    targets = [WILDCARD] if not project_id else [WILDCARD, project_id]
    return sa.select(RbacPolicy.object_id).where(RbacPolicy.action.in_(actions),
                                                 RbacPolicy.target_tenant.in_(targets))


def shared_with(project_id: str | None):
    """Clause: the network is shared with ``project_id``."""
    return Network.id.in_(granted(project_id, (SHARED,)))


def shared_ids(session: Session, network_ids: list[str], project_id: str | None) -> set[str]:
    """Which of ``network_ids`` are shared with ``project_id``, in one query."""
    if not network_ids:
        return set()
    return set(session.scalars(granted(project_id, (SHARED,)).where(RbacPolicy.object_id.in_(network_ids))))


def is_shared_with(session: Session, network_id: str, project_id: str | None) -> bool:
    return network_id in shared_ids(session, [network_id], project_id)


def viewer(session: Session) -> str | None:
    """The project a session renders for (set by :func:`.context.read`/``transact``):
    ``shared`` is shown as that project sees it."""
    return session.info.get("viewer")
