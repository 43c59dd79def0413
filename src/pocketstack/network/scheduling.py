"""Which network agent serves a router (L3) and a network's DHCP: Neutron's schedulers.

Where agents are scheduled (``Env.alive_hosts`` set: the linux datapath), a router is
given an ``L3 agent`` when it gets an interface or an external gateway, and a network
with a DHCP-enabled subnet a ``DHCP agent`` when its DHCP port is made (the rows of
those types an agent registers for its host when its driver serves them,
:mod:`.agent_records`): the alive agent of the type with ``admin_state_up`` that
hosts the fewest (Neutron's ``LeastRoutersScheduler`` and ``WeightScheduler``; ties by
host name).  One agent per router and per network (no
HA, ``dhcp_agents_per_network = 1``), kept in ``network_router_l3_agent`` and
``network_dhcp_agent``.  The agent's host is where the datapath serves it, told the
way Neutron tells it: a router's interface and gateway ports are bound
(``binding:host_id``) to it, and so is the network's ``network:dhcp`` port.  An
operator moves them with the ``l3_agent_scheduler`` / ``dhcp_agent_scheduler`` API
(:mod:`.api.agent_scheduler`).  With no agent to pick, a router stays unscheduled
(unbound ports: no host serves it) and a DHCP port is bound to ``Env.dhcp_host``.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db import Base
from pocketstack.common.db.cas import ConcurrentUpdate
from pocketstack.network import dhcp_ports, errors, store, views
from pocketstack.network.agent_records import Agent
from pocketstack.network.context import Work
from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT
from pocketstack.network.models import Network, Port, Router

ROUTER_OWNERS = ("network:router_interface", "network:router_gateway")


class RouterL3Agent(Base):
    __tablename__ = "network_router_l3_agent"

    router_id: Mapped[str] = mapped_column(sa.ForeignKey("network_router.id", ondelete="CASCADE"), primary_key=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("network_agent.id", ondelete="CASCADE"), index=True)


class NetworkDhcpAgent(Base):
    __tablename__ = "network_dhcp_agent"

    network_id: Mapped[str] = mapped_column(sa.ForeignKey("network_network.id", ondelete="CASCADE"),
                                            primary_key=True)
    agent_id: Mapped[str] = mapped_column(sa.ForeignKey("network_agent.id", ondelete="CASCADE"), index=True)


Binding = type[RouterL3Agent] | type[NetworkDhcpAgent]


def _key(binding: Binding):
    return RouterL3Agent.router_id if binding is RouterL3Agent else NetworkDhcpAgent.network_id


def _agent_type(binding: Binding) -> str:
    """The agent type that serves what ``binding`` binds (Neutron's L3 / DHCP agents)."""
    return L3_AGENT if binding is RouterL3Agent else DHCP_AGENT


def least_loaded(agents: list[Agent], load: dict[str, int], alive: set[str]) -> Agent | None:
    """The agent to schedule on: alive, admin_state_up, hosting the fewest (then by host)."""
    usable = [a for a in agents if a.admin_state_up and a.host in alive]
    return min(usable, key=lambda a: (load.get(a.id, 0), a.host), default=None)


def agent_of(w: Work, binding: Binding, resource_id: str) -> Agent | None:
    return w.s.scalar(sa.select(Agent).join(binding, binding.agent_id == Agent.id).where(_key(binding) == resource_id))


def hosted_by(w: Work, binding: Binding, agent_id: str) -> list[str]:
    return list(w.s.scalars(sa.select(_key(binding)).where(binding.agent_id == agent_id)))


def schedule(w: Work, binding: Binding, resource_id: str) -> Agent | None:
    """The resource's agent: the one it has, or the least loaded alive one it gets now."""
    agent = agent_of(w, binding, resource_id)
    if agent is not None or w.env.alive_hosts is None:
        return agent
    agents = list(w.s.scalars(sa.select(Agent).where(Agent.agent_type == _agent_type(binding))))
    load = {agent_id: int(count) for agent_id, count in w.s.execute(
        sa.select(binding.agent_id, sa.func.count()).group_by(binding.agent_id))}
    agent = least_loaded(agents, load, w.env.alive_hosts())
    if agent is not None:
        bind(w, binding, resource_id, agent.id)
    return agent


def bind(w: Work, binding: Binding, resource_id: str, agent_id: str) -> None:
    """Record the binding; a concurrent scheduling of the same resource won the primary
    key: the transaction re-runs and finds that one (never two agents)."""
    key = "router_id" if binding is RouterL3Agent else "network_id"
    try:
        with w.s.begin_nested():
            w.s.add(binding(**{key: resource_id, "agent_id": agent_id}))
    except IntegrityError as error:
        raise ConcurrentUpdate(f"{key} {resource_id} scheduled concurrently") from error


def unbind(w: Work, binding: Binding, resource_id: str) -> None:
    w.s.execute(sa.delete(binding).where(_key(binding) == resource_id))


def host_router_ports(w: Work, router: Router, reschedule: bool = True) -> None:
    """Bind the router's interface and gateway ports to its agent's host (scheduling
    it first if it has none, unless not ``reschedule``): that host's datapath serves
    the router."""
    agent = schedule(w, RouterL3Agent, router.id) if reschedule else agent_of(w, RouterL3Agent, router.id)
    host = agent.host if agent is not None else ""
    for port in w.s.scalars(sa.select(Port).where(Port.device_id == router.id, Port.device_owner.in_(ROUTER_OWNERS))):
        if port.binding_host_id != host:
            store.update_row(w.s, port, {"binding_host_id": host})
            w.emit("port_updated", views.render_one(w.s, port))


def reschedule_dead(w: Work) -> list[str]:
    """Automatic failover (``network_agent_failover``; Neutron's
    ``allow_automatic_l3agent_failover`` and ``allow_automatic_dhcp_failover``): each
    router and DHCP network whose agent is not alive goes to the least loaded alive
    one, its ports following.  With no agent to go to, it stays where it is.  Returns
    the ids moved."""
    if w.env.alive_hosts is None:
        return []
    alive = w.env.alive_hosts()
    moved = []
    for binding in (RouterL3Agent, NetworkDhcpAgent):
        agents = list(w.s.scalars(sa.select(Agent).where(Agent.agent_type == _agent_type(binding))))
        if least_loaded(agents, {}, alive) is None:
            continue
        stranded = w.s.execute(sa.select(_key(binding)).join(Agent, binding.agent_id == Agent.id)
                               .where(Agent.host.not_in(alive))).scalars().all()
        for resource_id in stranded:
            unbind(w, binding, resource_id)
            if binding is RouterL3Agent:
                _rehost_router(w, w.s.get_one(Router, resource_id))
            else:
                dhcp_ports.sync(w, w.s.get_one(Network, resource_id))
            moved.append(resource_id)
    return moved


# -- the operators' API: l3_agent_scheduler and dhcp_agent_scheduler --------------------------
def _agent(w: Work, agent_id: str, binding: Binding, invalid: type[errors.NeutronNotFound]) -> Agent:
    """The agent to schedule on: it exists, is of the type that serves ``binding``'s
    resources and is enabled (Neutron: ``InvalidL3Agent`` / ``InvalidDHCPAgent``)."""
    agent = w.s.get(Agent, agent_id)
    if agent is None:
        raise errors.AgentNotFound(id=agent_id)
    if agent.agent_type != _agent_type(binding) or not agent.admin_state_up:
        raise invalid(id=agent_id)
    return agent


def add_router(w: Work, agent_id: str, router_id: str) -> None:
    """Schedule a router on an agent (Neutron: 409 if an agent hosts it already)."""
    router = store.fetch(w.s, Router, w.ctx, router_id)  # Neutron: the router first, then the agent
    agent = _agent(w, agent_id, RouterL3Agent, errors.InvalidL3Agent)
    hosting = agent_of(w, RouterL3Agent, router.id)
    if hosting is not None:
        raise errors.RouterHostedByL3Agent(router_id=router.id, agent_id=hosting.id)
    bind(w, RouterL3Agent, router.id, agent.id)
    _rehost_router(w, router)


def remove_router(w: Work, agent_id: str, router_id: str) -> None:
    """Take a router off its agent: its ports unbound, no host serves it until it is
    scheduled again (by the API, or by its next interface or gateway)."""
    router = store.fetch(w.s, Router, w.ctx, router_id)
    hosting = agent_of(w, RouterL3Agent, router.id)
    if hosting is None or hosting.id != agent_id:
        raise errors.RouterNotHostedByL3Agent(router_id=router.id, agent_id=agent_id)
    unbind(w, RouterL3Agent, router.id)
    _rehost_router(w, router, reschedule=False)


def _rehost_router(w: Work, router: Router, reschedule: bool = True) -> None:
    from pocketstack.network import routers  # routers schedules through this module

    host_router_ports(w, router, reschedule)
    store.bump(w.s, router)
    routers.emit(w, router)


def add_network(w: Work, agent_id: str, network_id: str) -> None:
    """Schedule a network's DHCP on an agent: its DHCP port moves there."""
    network = store.fetch(w.s, Network, w.ctx, network_id)  # Neutron: the network first, then the agent
    agent = _agent(w, agent_id, NetworkDhcpAgent, errors.InvalidDHCPAgent)
    hosting = agent_of(w, NetworkDhcpAgent, network.id)
    if hosting is not None:
        raise errors.NetworkHostedByDHCPAgent(network_id=network.id, agent_id=hosting.id)
    bind(w, NetworkDhcpAgent, network.id, agent.id)
    dhcp_ports.sync(w, network)


def remove_network(w: Work, agent_id: str, network_id: str) -> None:
    """Take a network's DHCP off its agent: the DHCP port goes (the next DHCP subnet
    change schedules the network again)."""
    network = store.fetch(w.s, Network, w.ctx, network_id)
    hosting = agent_of(w, NetworkDhcpAgent, network.id)
    if hosting is None or hosting.id != agent_id:
        raise errors.NetworkNotHostedByDhcpAgent(network_id=network.id, agent_id=agent_id)
    unbind(w, NetworkDhcpAgent, network.id)
    dhcp_ports.remove_all(w, network.id)
