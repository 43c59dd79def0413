"""Cutting a fenced compute host off the network (instance HA's FenceHostTask).

Powering a failed host off is what makes its guests stop; this makes sure that, should
anything of it still run, none of its traffic reaches the other hosts -- no IP address
is on the network twice once its servers come back elsewhere.  With the Linux datapath:

* the host's agents (its datapath agent, and its DHCP and L3 agents) are set
  ``admin_state_up`` false: a datapath agent that is administratively down is left out
  of the VXLAN mesh (:func:`.agent_records.tunnel_endpoints`), so the surviving hosts
  drop it from their FDBs (no flood entry, no MAC points at it), and no DHCP network or
  router is scheduled on the host; an operator enables them again (``openstack network agent set --enable``) once the
  host is repaired;
* its instances' ports are unbound (``binding:host_id`` "") and ``DOWN``: they stay the
  servers' ports (device and instance unchanged) and are bound again, ``ACTIVE``, on the
  host each server is evacuated to;
* every network the host had a port on is sent to the agents again, so each surviving
  host reconciles its VXLAN devices at once, its peers read anew.

The noop datapath has no network to cut: nothing is changed, and the answer says so.
"""

from __future__ import annotations

import sqlalchemy as sa

from pocketstack.common.db.cas import changed_rows
from pocketstack.network import store, trunks, views
from pocketstack.network.agent_records import Agent
from pocketstack.network.context import Work
from pocketstack.network.models import Network, Port


def fence_host(w: Work, host: str) -> str:
    """Cut ``host`` off the datapath (module docstring); what was done, for the record."""
    if w.env.datapath != "linux":
        return f"{w.env.datapath} datapath: no network to cut host {host} off (nothing done)"
    agents = changed_rows(w.s, sa.update(Agent).where(Agent.host == host).values(admin_state_up=False))
    on_host = list(w.s.scalars(sa.select(Port).where(Port.binding_host_id == host).order_by(Port.id)))
    unbound = 0
    for port in on_host:
        if not port.device_owner.startswith("compute:"):
            continue  # a DHCP or router port: its host is out of the mesh, its record stays
        store.update_row(w.s, port, {"binding_host_id": "", "status": "DOWN"})
        w.emit("port_updated", views.render_one(w.s, port))
        trunks.follow_parent(w, port)  # a trunk's subports are unbound with their parent
        unbound += 1
    networks = list(w.s.scalars(sa.select(Network).where(Network.id.in_({p.network_id for p in on_host}))
                                .order_by(Network.id)))
    for network in networks:
        w.emit("network_updated", views.render_one(w.s, network))
    return (f"network: the agents of host {host} set down ({agents} agent(s)), out of the VXLAN "
            f"peers of the other hosts; {unbound} port(s) of its servers unbound and DOWN "
            f"({len(networks)} network(s) re-sent to the agents)")
