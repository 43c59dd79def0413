"""The network agents' records: what ``GET /v2.0/agents`` lists besides liveness.

A network agent process registers a row for itself (one per ``(agent_type, host)``,
decided by the unique constraint, not by a read-then-write check) when it starts and
stamps ``heartbeat_timestamp`` on every heartbeat.  Whether an agent is *alive* comes
from its coordination group membership (:mod:`pocketstack.common.heartbeat`), not from
this table: the row outlives the process so operators can see a dead agent and delete
it.  An agent whose row was deleted while it runs registers again on its next beat,
as a Neutron agent does on its next report.

Besides its own row (``pocketstack datapath agent``: the L2 datapath and its tunnel
address), an agent whose driver serves DHCP and routers (the ``linux`` datapath) has a
row of Neutron's ``DHCP agent`` and ``L3 agent`` types for its host, as a Neutron host
running those agents has: one process does all three jobs, so the rows share its
liveness, heartbeat and ``configurations``.  Those rows are what
:mod:`.scheduling` schedules DHCP networks and routers on, and what Tempest's and
the clients' agent scheduler calls look for.  A driver that serves neither (``noop``)
registers none: no row claims work that nothing does.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db import Base, Database, JSONText, utcnow
from pocketstack.common.db.cas import changed_rows
from pocketstack.common.heartbeat import Liveness
from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT

AGENT_TYPE = "pocketstack datapath agent"
BINARY = "pocketstack-network-agent"
TOPIC = "network-agent"
SCHEDULED_TYPES = (DHCP_AGENT, L3_AGENT)  # the types a driver may serve besides its datapath


class Agent(Base):
    __tablename__ = "network_agent"
    __table_args__ = (sa.UniqueConstraint("agent_type", "host"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    agent_type: Mapped[str] = mapped_column(sa.String(64))
    binary: Mapped[str] = mapped_column(sa.String(64))
    topic: Mapped[str] = mapped_column(sa.String(64))
    host: Mapped[str] = mapped_column(sa.String(255))
    admin_state_up: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    configurations: Mapped[dict] = mapped_column(JSONText, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    started_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)
    heartbeat_timestamp: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


def _stamp(db: Database, host: str, types: tuple[str, ...], values: dict) -> int:
    with db.session() as s:
        return changed_rows(s, sa.update(Agent).where(Agent.agent_type.in_(types), Agent.host == host)
                            .values(**values))


def _types(serves: tuple[str, ...]) -> tuple[str, ...]:
    return (AGENT_TYPE, *(t for t in SCHEDULED_TYPES if t in serves))


def register(db: Database, host: str, configurations: dict, serves: tuple[str, ...] = ()) -> None:
    """Announce this host's agent as (re)started: insert its rows (its own, and one for
    each of Neutron's agent types its driver ``serves``), or restamp the existing ones."""
    now = utcnow()
    values = {"configurations": configurations, "started_at": now, "heartbeat_timestamp": now}
    types = _types(serves)
    if _stamp(db, host, types, values) == len(types):
        return
    with db.session(readonly=True) as s:
        present = set(s.scalars(sa.select(Agent.agent_type).where(Agent.host == host, Agent.agent_type.in_(types))))
    for agent_type in types:
        if agent_type in present:
            continue
        try:
            with db.session() as s:
                s.add(Agent(agent_type=agent_type, binary=BINARY, topic=TOPIC, host=host, **values))
        except IntegrityError:
            _stamp(db, host, (agent_type,), values)  # another process of the same host registered first


def beat(db: Database, host: str, configurations: dict, serves: tuple[str, ...] = ()) -> None:
    """Stamp one heartbeat with the agent's configurations as they are now (its driver's
    counts and last error); registers again if an operator deleted a row meanwhile."""
    types = _types(serves)
    if _stamp(db, host, types, {"heartbeat_timestamp": utcnow(), "configurations": configurations}) < len(types):
        register(db, host, configurations, serves)


def tunnel_endpoints(db: Database) -> dict[str, str]:
    """Each host's VXLAN address, as its agent reports it (``tunneling_ip``): where
    the other hosts' datapaths send that host's ports' traffic.  An agent set
    ``admin_state_up`` false (by an operator, or by instance HA fencing its host) is out
    of the mesh: the other hosts send it nothing."""
    with db.session(readonly=True) as s:
        agents = s.scalars(sa.select(Agent).where(Agent.agent_type == AGENT_TYPE, Agent.admin_state_up)).all()
    return {a.host: a.configurations["tunneling_ip"] for a in agents
            if isinstance(a.configurations, dict) and a.configurations.get("tunneling_ip")}


def view(agent: Agent, alive: bool) -> dict:
    """The agent as Neutron's agents extension shows it."""
    def when(value: dt.datetime) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S")

    return {"id": agent.id, "agent_type": agent.agent_type, "binary": agent.binary, "topic": agent.topic,
            "host": agent.host, "admin_state_up": agent.admin_state_up, "description": agent.description,
            "configurations": agent.configurations, "availability_zone": None, "alive": alive,
            "created_at": when(agent.created_at), "started_at": when(agent.started_at),
            "heartbeat_timestamp": when(agent.heartbeat_timestamp), "resources_synced": None}


class AgentDirectory:
    """What the agents API reads and changes: the rows, with liveness from the group."""

    def __init__(self, db: Database, liveness: Liveness):
        self.db = db
        self.liveness = liveness

    def list(self) -> list[dict]:
        with self.db.session(readonly=True) as s:
            agents = s.scalars(sa.select(Agent).order_by(Agent.host)).all()
        alive = self.liveness.alive()
        return [view(agent, agent.host in alive) for agent in agents]

    def get(self, agent_id: str) -> dict | None:
        with self.db.session(readonly=True) as s:
            agent = s.get(Agent, agent_id)
        return None if agent is None else view(agent, agent.host in self.liveness.alive())

    def update(self, agent_id: str, values: dict) -> dict | None:
        """Set ``admin_state_up`` / ``description``: the operator's fields, one writer."""
        with self.db.session() as s:
            if not changed_rows(s, sa.update(Agent).where(Agent.id == agent_id).values(**values)):
                return None
        return self.get(agent_id)

    def delete(self, agent_id: str) -> bool:
        with self.db.session() as s:
            return bool(changed_rows(s, sa.delete(Agent).where(Agent.id == agent_id)))
