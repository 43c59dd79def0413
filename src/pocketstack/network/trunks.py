"""Trunks (Neutron's ``trunk`` extension): one parent port carrying the networks of its
subports as VLANs, for instances that tag their own traffic.

The rules are Neutron's (``neutron/services/trunk/rules.py`` and ``plugin.py``), with its
errors:

* a port is in one trunk at most, as its parent or as a subport (409 ``ParentPortInUse``
  / ``TrunkPortInUse``), and a bound parent can be neither trunked nor untrunked (as with
  Neutron's Open vSwitch driver: 409 ``ParentPortInUse`` on create, ``TrunkInUse`` on
  delete);
* a subport has no device (409 ``PortInUse``), its network's MTU is not above the
  parent's (409), and it rides a ``vlan`` id from 1 to 4094 (400 otherwise) unique in the
  trunk (409 ``DuplicateSubPort``); ``inherit`` takes its network's own segment;
* a disabled trunk takes no subport change and is not deleted (409 ``TrunkDisabled``);
* a port in a trunk is not deleted (409 ``PortInUseAsTrunkParent`` / ``PortInUseAsSubPort``).

Status and bindings, as Neutron's trunk plugin and its agents keep them: a trunk is DOWN
when created, after every subport change and once its parent is unbound; its subports
get the trunk as ``device_id``, ``device_owner`` ``trunk:subport`` and the parent's
``binding:host_id`` (following the parent's binding), and lose all three when they leave.
With the Linux datapath the agent that wires the trunk reports the rest
(:func:`report_wiring`): BUILD while it binds the subports to its host, then ACTIVE with
every subport wired (each ACTIVE), DEGRADED with some not, ERROR with none.  Without a
datapath agent (noop) the service reports for it: ACTIVE while the parent is bound and
active, its subports ACTIVE while bound.  A trunk in ERROR takes no new subports (409
``TrunkInErrorState``) until some are removed.

Concurrency: each port of a trunk is one :class:`TrunkPort` row keyed by the port, so two
trunks claiming one port are decided by the database.  A port joining or leaving a trunk
gets a new revision (compare-and-swap: its delete, or a binding racing with the check,
re-runs and sees the trunk), and so does the trunk on every subport change (a concurrent
disable or delete cannot miss it).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows
from pocketstack.common.db.inserts import try_insert
from pocketstack.network import converters, errors, store
from pocketstack.network.context import Work
from pocketstack.network.models import Network, Port, Tag, Trunk, TrunkPort

UPDATABLE = {"name", "description", "admin_state_up"}
PARENT, SUBPORT = "parent", "subport"
SUBPORT_OWNER = "trunk:subport"  # neutron_lib's TRUNK_SUBPORT_OWNER
DOWN, BUILD, ACTIVE, DEGRADED, ERROR = "DOWN", "BUILD", "ACTIVE", "DEGRADED", "ERROR"
INHERIT = "inherit"
# The segmentation types the driver carries and their valid ids (Neutron's OVS driver:
# VLAN only, ``is_valid_vlan_tag``).
SEGMENTATION_TYPES = {"vlan": (1, 4094)}


# -- input ----------------------------------------------------------------------------------------
def subports_problem(data: Any) -> str | None:
    """``validate_subports``: what is wrong with a ``sub_ports`` list, in Neutron's words
    (unique valid port UUIDs; both segmentation values or neither; no segmentation id twice
    per type), or None.  Unlike Neutron, an ``inherit`` item does not end the check of
    the items after it."""
    if not isinstance(data, list):
        return f"Invalid data format for subports: '{data}' is not a list"
    port_ids: set[str] = set()
    segmentations: set[tuple[str, str]] = set()
    for subport in data:
        if not isinstance(subport, dict):
            return f"Invalid data format for subport: '{subport}' is not a dict"
        if "port_id" not in subport:
            return "A valid port UUID must be specified"
        port_id = subport["port_id"]
        if not converters.is_uuid(port_id):
            return f"Invalid UUID for subport: '{port_id}'"
        if port_id in port_ids:
            return f"Non unique UUID for subport: '{port_id}'"
        port_ids.add(port_id)
        kind, seg_id = subport.get("segmentation_type"), subport.get("segmentation_id")
        if kind == INHERIT:
            continue
        if (not kind or seg_id is None) and len(subport) > 1:
            return (f"Invalid subport details '{subport}': missing segmentation information. Must specify both "
                    "segmentation_id and segmentation_type")
        key = (repr(kind), repr(seg_id))
        if seg_id is not None and key in segmentations:
            return f"Segmentation ID '{seg_id}' for '{port_id}' is not unique"
        segmentations.add(key)
    return None


def _segmentation(subport: dict) -> tuple[str, int]:
    """The (type, id) a subport asks for, checked as the trunk plugin checks it."""
    if "segmentation_type" not in subport or "segmentation_id" not in subport:
        raise errors.InvalidInput(error_message=f"Invalid subport details '{subport}': missing segmentation "
                                                "information. Must specify both segmentation_id and "
                                                "segmentation_type")
    kind, raw = subport["segmentation_type"], subport["segmentation_id"]
    try:
        seg_id = int(raw)
    except (TypeError, ValueError, OverflowError):
        raise errors.InvalidInput(error_message=f"Invalid subport details: segmentation_id '{raw}' is not an "
                                                "integer") from None
    if not isinstance(kind, str) or kind not in SEGMENTATION_TYPES:
        raise errors.InvalidInput(error_message=f"Unknown segmentation_type '{kind}'")
    lowest, highest = SEGMENTATION_TYPES[kind]
    if not lowest <= seg_id <= highest:
        raise errors.InvalidInput(error_message=f"Segmentation ID '{seg_id}' is not in range")
    return kind, seg_id


# -- checks ---------------------------------------------------------------------------------------
def _member(session: Session, port_id: str) -> TrunkPort | None:
    return session.scalar(sa.select(TrunkPort).where(TrunkPort.port_id == port_id))


def _refuse_member(session: Session, port_id: str) -> None:
    """A port already in a trunk: as a subport, ``TrunkPortInUse``; as a parent,
    ``ParentPortInUse`` (``TrunkPortValidator.validate``)."""
    member = _member(session, port_id)
    if member is not None:
        raise (errors.ParentPortInUse if member.role == PARENT else errors.TrunkPortInUse)(port_id=port_id)


def _parent(w: Work, port_id: Any) -> Port:
    if not converters.is_uuid(port_id):
        raise converters.invalid_attribute("port_id", f"'{port_id}' is not a valid UUID")
    port = store.fetch(w.s, Port, w.ctx, port_id)
    _refuse_member(w.s, port.id)
    if port.binding_host_id:
        raise errors.ParentPortInUse(port_id=port.id)
    return port


def _subports(w: Work, parent: Port, requested: list[dict]) -> list[tuple[Port, str, int]]:
    """``SubPortsValidator``: each requested subport with the segmentation it gets."""
    parent_mtu = w.s.get_one(Network, parent.network_id).mtu
    result = []
    for subport in requested:
        port_id = subport["port_id"]
        if port_id == parent.id:
            raise errors.ParentPortInUse(port_id=port_id)
        port = w.s.scalar(sa.select(Port).where(Port.id == port_id, store.visible_clause(Port, w.ctx)))
        if port is not None:
            network = w.s.get_one(Network, port.network_id)
            if network.mtu > parent_mtu:
                # Neutron names the parent port as the "trunk" here.
                raise errors.SubPortMtuGreaterThanTrunkPortMtu(port_id=port_id, port_mtu=network.mtu,
                                                               trunk_id=parent.id, trunk_mtu=parent_mtu)
            if subport.get("segmentation_type") == INHERIT:
                subport = {"port_id": port_id, "segmentation_type": network.network_type,
                           "segmentation_id": network.segmentation_id}
        kind, seg_id = _segmentation(subport)
        port = store.fetch(w.s, Port, w.ctx, port_id)
        _refuse_member(w.s, port.id)
        if port.device_id:
            raise errors.PortInUse(net_id=port.network_id, port_id=port.id, device_id=port.device_id)
        result.append((port, kind, seg_id))
    return result


def _manageable(row: Trunk) -> None:
    """``trunk_can_be_managed``: a disabled trunk is locked."""
    if not row.admin_state_up:
        raise errors.TrunkDisabled(trunk_id=row.id)


def _claim(w: Work, trunk_id: str, port: Port, role: str, kind: str | None = None,
           seg_id: int | None = None) -> None:
    """Put ``port`` in the trunk (the primary key decides a race for it) and give it a
    new revision."""
    values = {"port_id": port.id, "trunk_id": trunk_id, "role": role, "segmentation_type": kind,
              "segmentation_id": seg_id}
    if not try_insert(w.s, lambda: w.s.execute(sa.insert(TrunkPort).values(**values))):
        _refuse_member(w.s, port.id)
        if w.s.scalar(sa.select(TrunkPort.port_id).where(TrunkPort.trunk_id == trunk_id,
                                                         TrunkPort.segmentation_type == kind,
                                                         TrunkPort.segmentation_id == seg_id)) is not None:
            raise errors.DuplicateSubPort(segmentation_type=kind, segmentation_id=seg_id, trunk_id=trunk_id)
        raise ConcurrentUpdate(f"port {port.id} changed while joining trunk {trunk_id}")
    store.bump(w.s, port)


# -- the resource ---------------------------------------------------------------------------------
def create(w: Work, attrs: dict) -> Trunk:
    project_id = w.owner(attrs)
    requested = attrs.get("sub_ports", [])
    problem = subports_problem(requested)
    if problem:
        raise converters.invalid_attribute("sub_ports", problem)
    parent = _parent(w, attrs["port_id"])
    subports = _subports(w, parent, requested)
    row = Trunk(project_id=project_id, name=attrs.get("name") or "", description=attrs.get("description") or "",
                admin_state_up=attrs.get("admin_state_up", True), port_id=parent.id)
    w.s.add(row)
    w.s.flush()
    _claim(w, row.id, parent, PARENT)
    for port, kind, seg_id in subports:
        _claim(w, row.id, port, SUBPORT, kind, seg_id)
        _bind_subport(w, row, port, parent)
    _settle(w, row, parent)
    return row


def update(w: Work, trunk_id: str, attrs: dict, revision: int | None = None) -> Trunk:
    """``name``, ``description`` and ``admin_state_up`` change (disabling locks the trunk)."""
    row = store.fetch(w.s, Trunk, w.ctx, trunk_id)
    store.check_updatable(attrs, UPDATABLE)
    store.update_row(w.s, row, dict(attrs), revision)
    return row


def delete(w: Work, trunk_id: str) -> None:
    row = store.fetch(w.s, Trunk, w.ctx, trunk_id)
    _manageable(row)
    parent = w.s.get_one(Port, row.port_id)
    if parent.binding_host_id:
        raise errors.TrunkInUse(trunk_id=row.id)
    members = list(w.s.scalars(sa.select(Port).join(TrunkPort, TrunkPort.port_id == Port.id)
                               .where(TrunkPort.trunk_id == row.id, TrunkPort.role == SUBPORT)))
    w.s.execute(sa.delete(TrunkPort).where(TrunkPort.trunk_id == row.id))
    for port in members:
        _release_subport(w, port)
    store.bump(w.s, parent)
    w.emit("port_updated", _views().render_one(w.s, parent))  # no trunk_details any more
    w.s.execute(sa.delete(Tag).where(Tag.resource_id == row.id))
    deleted = changed_rows(w.s, sa.delete(Trunk).where(Trunk.id == row.id,
                                                       Trunk.revision_number == row.revision_number),
                           execution_options={"synchronize_session": False})
    if deleted != 1:
        raise ConcurrentUpdate(f"trunk {row.id} changed while being deleted")


def add_subports(w: Work, trunk_id: str, requested: Any) -> Trunk:
    row = store.fetch(w.s, Trunk, w.ctx, trunk_id)
    problem = subports_problem(requested)
    if problem:
        raise errors.InvalidInput(error_message=problem)
    parent = w.s.get_one(Port, row.port_id)
    subports = _subports(w, parent, requested)
    _manageable(row)
    if row.status == ERROR:
        raise errors.TrunkInErrorState(trunk_id=row.id)
    for port, kind, seg_id in subports:
        _claim(w, row.id, port, SUBPORT, kind, seg_id)
        _bind_subport(w, row, port, parent)
    _changed(w, row, parent)
    return row


def remove_subports(w: Work, trunk_id: str, requested: Any) -> Trunk:
    """Only the ports are read from the items (their segmentation, if given, must be whole)."""
    row = store.fetch(w.s, Trunk, w.ctx, trunk_id)
    _manageable(row)
    problem = subports_problem(requested)
    if problem:
        raise errors.InvalidInput(error_message=problem)
    current = set(w.s.scalars(sa.select(TrunkPort.port_id).where(TrunkPort.trunk_id == row.id,
                                                                  TrunkPort.role == SUBPORT)))
    for subport in requested:
        if subport["port_id"] not in current:
            raise errors.SubPortNotFound(trunk_id=row.id, port_id=subport["port_id"])
    port_ids = [s["port_id"] for s in requested]
    w.s.execute(sa.delete(TrunkPort).where(TrunkPort.trunk_id == row.id, TrunkPort.port_id.in_(port_ids)))
    for port in list(w.s.scalars(sa.select(Port).where(Port.id.in_(port_ids)))):
        _release_subport(w, port)
    _changed(w, row, w.s.get_one(Port, row.port_id))
    return row


def _changed(w: Work, row: Trunk, parent: Port) -> None:
    """A subport change is a new revision of the trunk (DOWN until it is wired again, as
    Neutron's plugin sets it), and of its parent (whose ``trunk_details`` show the
    subports: the datapath learns the change from the parent's ``port_updated``)."""
    _settle(w, row, parent, bump=True)
    store.bump(w.s, parent)
    w.emit("port_updated", _views().render_one(w.s, parent))


# -- status and bindings ----------------------------------------------------------------------------
def _views():
    """:mod:`.views` (which imports this module)."""
    from pocketstack.network import views as module
    return module


def _reported_by_service(w: Work) -> bool:
    """Whether no datapath agent wires trunks (noop): the service reports for it."""
    return w.env.datapath != "linux"


def _settle(w: Work, row: Trunk, parent: Port, bump: bool = False) -> None:
    """The trunk's status after a change of its subports or its parent's binding: DOWN
    until an agent reports it wired; without agents, ACTIVE while the parent is bound and
    active."""
    status = DOWN
    if _reported_by_service(w) and parent.binding_host_id and parent.status == ACTIVE:
        status = ACTIVE
    if bump or status != row.status:
        store.update_row(w.s, row, {"status": status})


def _bind_subport(w: Work, row: Trunk, port: Port, parent: Port) -> None:
    """A subport joining (or following its parent): the trunk is its device, it is bound
    where the parent is, DOWN until wired there (without agents: ACTIVE while bound)."""
    host = parent.binding_host_id
    status = ACTIVE if host and _reported_by_service(w) else DOWN
    values = {"device_id": row.id, "device_owner": SUBPORT_OWNER, "binding_host_id": host, "status": status}
    if {k: getattr(port, k) for k in values} == values:
        return
    store.update_row(w.s, port, values)
    w.emit("port_updated", _views().render_one(w.s, port))


def _release_subport(w: Work, port: Port) -> None:
    """A subport leaving its trunk: no device, unbound, DOWN (Neutron's plugin clears
    them)."""
    store.update_row(w.s, port, {"device_id": "", "device_owner": "", "binding_host_id": "", "status": DOWN})
    w.emit("port_updated", _views().render_one(w.s, port))


def follow_parent(w: Work, port: Port) -> None:
    """After a change of ``port``'s binding: if it is a trunk's parent, its subports
    follow its host and the trunk settles again (DOWN once the parent is unbound, as
    Neutron's plugin sets it; moved to another host: DOWN until that host's agent wires
    it)."""
    member = _member(w.s, port.id)
    if member is None or member.role != PARENT:
        return
    row = w.s.get_one(Trunk, member.trunk_id)
    moved = False
    for subport in _subport_rows(w, row.id):
        moved |= subport.binding_host_id != port.binding_host_id
        _bind_subport(w, row, subport, port)
    if moved or not port.binding_host_id or _reported_by_service(w):
        _settle(w, row, port)


def _subport_rows(w: Work, trunk_id: str) -> list[Port]:
    return list(w.s.scalars(sa.select(Port).join(TrunkPort, TrunkPort.port_id == Port.id)
                            .where(TrunkPort.trunk_id == trunk_id, TrunkPort.role == SUBPORT)
                            .order_by(Port.id)))


def report_wiring(w: Work, trunk_id: str, status: str, subports: dict[str, str]) -> None:
    """What an agent reports of a trunk it wires (Neutron's ``update_subport_bindings``
    and ``update_trunk_status``): ``status`` BUILD binds the trunk's subports to the
    parent's host (``trunk:subport``); ACTIVE, DEGRADED or ERROR is the outcome, with
    each subport's status (``subports``: port id -> ACTIVE or DOWN).  A trunk or subport
    that is gone meanwhile is skipped (a later change is reported again)."""
    row = w.s.get(Trunk, trunk_id)
    if row is None or status not in (BUILD, ACTIVE, DEGRADED, ERROR):
        return
    parent = w.s.get_one(Port, row.port_id)
    for port in _subport_rows(w, row.id):
        if status == BUILD:
            _bind_subport(w, row, port, parent)
        elif port.id in subports and port.status != subports[port.id]:
            store.update_row(w.s, port, {"status": subports[port.id]})
    if row.status != status:
        store.update_row(w.s, row, {"status": status})


# -- what other resources ask -----------------------------------------------------------------------
def check_port_deletable(session: Session, port_id: str) -> None:
    """``enforce_port_deletion_rules``: a port in a trunk stays."""
    member = _member(session, port_id)
    if member is not None:
        refusal = errors.PortInUseAsTrunkParent if member.role == PARENT else errors.PortInUseAsSubPort
        raise refusal(port_id=port_id, trunk_id=member.trunk_id)


