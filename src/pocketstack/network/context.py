"""The unit of work every network change runs in, and what it tells the datapath.

``Work`` bundles the session of one transaction with the caller's context and the
service configuration; changes the datapath driver must apply are recorded on it with
:meth:`Work.emit` and delivered by :func:`transact` only after the transaction
committed — a driver never sees a change that was rolled back or re-run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.cas import RetriesExhausted, run_in_transaction
from pocketstack.network import errors, quota
from pocketstack.network.drivers.base import DatapathDriver
from pocketstack.network.segments import SegmentConfig

T = TypeVar("T")


@dataclass
class Env:
    """What the network logic needs from the process: database, datapath and settings."""

    db: Database
    driver: DatapathDriver
    segments: SegmentConfig
    #: the host whose DHCP agent serves every network (its ``network:dhcp`` ports,
    #: :mod:`.dhcp_ports`); None where no DHCP agent runs (the noop datapath)
    dhcp_host: str | None = None
    #: ``binding:vif_type`` of a bound port and the ``binding:vif_details`` keys the
    #: datapath reports (:func:`.views.ports` reads them from the session's ``info``)
    vif_type: str = "ovs"
    #: the hosts whose network agents are alive, where routers and DHCP networks are
    #: scheduled on agents (:mod:`.scheduling`); None: no scheduling (the noop datapath)
    alive_hosts: Callable[[], set[str]] | None = None
    vif_details: dict = field(default_factory=lambda: {"port_filter": True})
    #: the datapath the agents run (``network_datapath``): ``noop`` or ``linux``
    datapath: str = "noop"
    #: the quotas of a project without its own (Settings ``network_quota_*``)
    quota_defaults: dict[str, int] = field(default_factory=lambda: dict(quota.DEFAULTS))

    def describe(self, session: Session, ctx: RequestContext) -> None:
        """What rendering in ``session`` needs of the process (the port binding) and of
        the caller (its project: a network's ``shared`` is shown as it sees it)."""
        session.info["vif"] = (self.vif_type, self.vif_details)
        session.info["viewer"] = ctx.project_id


@dataclass
class Work:
    s: Session
    ctx: RequestContext
    env: Env
    events: list[tuple[str, object]] = field(default_factory=list)

    def owner(self, attrs: Mapping[str, Any]) -> str:
        """The project a new resource belongs to: the body's ``project_id`` (or
        ``tenant_id``), else the caller's.  A caller without a project must name one
        (the API refuses it first, with the same error)."""
        project_id = attrs.get("project_id") or attrs.get("tenant_id") or self.ctx.project_id
        if project_id is None:
            raise errors.TenantIdRequired()
        return str(project_id)

    def emit(self, event: str, payload: object) -> None:
        """Queue ``driver.<event>(payload)`` for after the commit."""
        self.events.append((event, payload))


def transact(env: Env, ctx: RequestContext, fn: Callable[[Work], T]) -> T:
    """Run ``fn`` in a retried transaction, then deliver its datapath events."""
    done: dict[str, Work] = {}

    def attempt(session: Session) -> T:
        work = Work(session, ctx, env)
        env.describe(session, ctx)
        result = fn(work)
        done["work"] = work
        return result

    try:
        result = run_in_transaction(env.db, attempt)
    except RetriesExhausted:
        raise errors.ConcurrentChange() from None
    for event, payload in done["work"].events:
        getattr(env.driver, event)(payload)
    return result


def read(env: Env, ctx: RequestContext, fn: Callable[[Work], T]) -> T:
    """Run ``fn`` in a read-only transaction."""
    with env.db.session(readonly=True) as session:
        env.describe(session, ctx)
        return fn(Work(session, ctx, env))
