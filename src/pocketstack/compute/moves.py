"""Starting a move of a server between hosts, shared by the API's actions (``migrate``,
``os-migrateLive``, ``evacuate``) and the instance-HA service's recovery, which
evacuates through the compute contract (:meth:`~pocketstack.compute.manager.Compute.evacuate_server`)
rather than over HTTP.  The host side of each move lives in :mod:`.lifecycle`."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from pocketstack.compute import states as st
from pocketstack.compute.models import Instance
from pocketstack.compute.transitions import begin

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

# The states Nova evacuates from: an ERROR server comes back ACTIVE, a stopped one stopped.
EVACUABLE = [st.ACTIVE, st.STOPPED, st.ERROR]


def begin_move(compute: Compute, inst: Instance, action: str, kind: str, vm_states: list[str], task_state: str,
               host: str | None, user_id: str, project_id: str | None = None, record: dict | None = None,
               candidates: frozenset[str] | None = None, **extra: Any) -> Instance:
    """Enter a move's task state with its record in the instance (``migration``: the
    Placement consumer that holds the source's allocation meanwhile, the source, the
    named target or the ``candidates`` the scheduler may choose from, and what ``record``
    adds) and write its ``os-migrations`` row: a cold (``migration``) or live migration or
    an evacuation; 409 in another state."""
    migration_id = str(uuid.uuid4())
    migration: dict[str, Any] = {"id": migration_id, "source_host": inst.host, "type": kind, "host": host,
                                 **(record or {})}
    if candidates is not None:
        migration["candidates"] = sorted(candidates)
    inst = begin(compute.db, inst.id, action, vm_states, task_state, {"migration": migration, **extra})
    compute.migration_records.start(inst, migration_id, inst.flavor_id, user_id, kind, project_id)
    return inst


def start_evacuation(compute: Compute, inst: Instance, host: str | None, request_id: str,
                     project_id: str | None, user_id: str | None, stop: bool = False,
                     candidates: frozenset[str] | None = None) -> None:
    """Enter ``rebuilding`` (409 from another state), record the ``evacuate`` instance
    action and cast the evacuation to a scheduler, which claims a destination (``host``
    when named, else one of ``candidates`` when given) for the destination host to
    rebuild the server on; with ``stop`` (2.95) the server is left stopped there, whatever
    it was."""
    inst = begin_move(compute, inst, "evacuate", "evacuation", EVACUABLE, st.REBUILDING, host, user_id or "",
                      project_id, record={"stop": True} if stop else None, candidates=candidates)
    action_id = compute.actions.start(inst.id, "evacuate", request_id, project_id, user_id)
    compute.rpc.evacuate_instance(None, inst.id, action_id)
