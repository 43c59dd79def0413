"""The datapath driver interface.

The network service calls a driver *after* every committed change a data plane must
apply — the port (its MAC, fixed IPs, security groups, binding host), the router (its
gateway, interfaces and routes), the floating IP (its NAT pair), the security group
(its rules), the address group (its addresses), the subnet (what DHCP serves), the QoS
policy (its rules), the metering label (its rules).  Payloads are
the API dicts Neutron would return, so an agent-style driver can reconcile from them
alone.  Calls are idempotent "this is the state now" messages:
a driver that misses one catches up from the next, and on start the service replays
the current state through :meth:`DatapathDriver.sync` (a driver may ignore it).
"""

from __future__ import annotations

EVENTS = ("network_updated", "network_deleted", "subnet_updated", "subnet_deleted", "port_updated", "port_deleted",
          "router_updated", "router_deleted", "floatingip_updated", "floatingip_deleted", "security_group_updated",
          "security_group_deleted", "qos_policy_updated", "qos_policy_deleted", "address_group_updated",
          "address_group_deleted", "metering_label_updated", "metering_label_deleted")
RESCAN_INTERVAL = 2.0  # seconds (Neutron's L2 agents' polling_interval)
# Neutron's agent types (neutron-lib constants AGENT_TYPE_DHCP, AGENT_TYPE_L3).
DHCP_AGENT = "DHCP agent"
L3_AGENT = "L3 agent"


class DatapathDriver:
    name = "base"
    # The Neutron agent types whose work this driver does on its host (besides the
    # datapath itself): its agent registers a row of each type, and routers (``L3 agent``)
    # and DHCP networks (``DHCP agent``) are scheduled on those rows.  None by default: a
    # driver that serves no router and no DHCP must not claim to.
    agent_types: tuple[str, ...] = ()

    def sync(self, state: dict[str, list[dict]]) -> None:
        """Full state on start: ``{"ports": [...], "routers": [...], ...}``."""

    def rescan(self) -> None:
        """Called by the agent every :data:`RESCAN_INTERVAL` seconds: catch up with what
        changed on the host without an event (a guest's tap a compute host plugged, as
        Neutron's L2 agents poll their devices).  Nothing by default."""

    def status(self) -> dict:
        """What the agent adds to its ``configurations`` in ``/v2.0/agents`` at every
        heartbeat (as Neutron's agents report their resource counts): JSON values."""
        return {}

    def network_updated(self, network: dict) -> None: ...

    def network_deleted(self, network: dict) -> None: ...

    def subnet_updated(self, subnet: dict) -> None: ...

    def subnet_deleted(self, subnet: dict) -> None: ...

    def port_updated(self, port: dict) -> None: ...

    def port_deleted(self, port: dict) -> None: ...

    def router_updated(self, router: dict) -> None:
        """``router`` carries ``interfaces``: the router's interface ports."""

    def router_deleted(self, router: dict) -> None: ...

    def floatingip_updated(self, floatingip: dict) -> None: ...

    def floatingip_deleted(self, floatingip: dict) -> None: ...

    def security_group_updated(self, security_group: dict) -> None: ...

    def security_group_deleted(self, security_group: dict) -> None: ...

    def qos_policy_updated(self, policy: dict) -> None:
        """A QoS policy with its rules (as ``/v2.0/qos/policies/{id}`` shows it) changed;
        ports and networks name their policy by ``qos_policy_id``."""

    def qos_policy_deleted(self, policy: dict) -> None: ...

    def address_group_updated(self, address_group: dict) -> None:
        """An address group (as ``/v2.0/address-groups/{id}`` shows it, its ``addresses``
        the CIDRs) changed; security group rules name it by ``remote_address_group_id``."""

    def address_group_deleted(self, address_group: dict) -> None: ...

    def metering_label_updated(self, label: dict) -> None:
        """A metering label with all its ``rules`` (as the metering API shows them)
        changed: it meters its project's routers, or every router when ``shared``."""

    def metering_label_deleted(self, label: dict) -> None: ...
