"""What other services may call of the Networking service: Nova's ``network_api`` (the
ports of instances) and the Neutron resources compute's proxy APIs (os-networks,
os-security-groups, os-floating-ips, server create) read and change for their callers.

``Cloud.network`` hands out the implementation
(:class:`~pocketstack.network.manager.NetworkManager`), ``None`` when the service does not
run in this process.  Every method is synchronous (call it from a worker thread, never on
the event loop), is one transaction (retried on conflicts), and raises Neutron's errors
(:mod:`pocketstack.network.errors`, e.g. 409 ``IpAddressGenerationFailure``).  Resources
are the dicts the Neutron API returns; collections are named as in its URLs
(``"networks"``, ``"subnets"``, ``"ports"``, ``"floatingips"``, ``"security-groups"`` …).

Instances and their ports: a server's ports are the ones bound here (the port records
the instance, as Nova's network info cache records the ports it bound): any project may
create a port whose ``device_id`` names a server, but such a port is never part of that
server.  Ports belong to the instance's project (``project_id``, the context's by
default): a port brought must be that project's (Nova's ``PortNotUsable``), and one
created goes on a network the project may use -- not another project's unshared
external network (Nova's ``ExternalNetworkAttachForbidden``), with a chosen address only
on its own networks -- unless the context is an admin's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from starlette.datastructures import QueryParams

from pocketstack.common.context import RequestContext
from pocketstack.common.pagination import Paging

__all__ = ["Addresses", "NetworkContract", "Paging", "QueryParams", "RequestContext", "RequestedNetworks",
           "Resource", "Resources"]

# A resource as the Neutron API returns it (``{"id": ..., "name": ..., ...}``).
Resource = dict[str, Any]
Resources = list[Resource]
# A server's ``addresses``: ``{network_name: [{"version", "addr", "OS-EXT-IPS:type", ...}]}``.
Addresses = dict[str, list[dict[str, Any]]]
# ``"none"``, ``"auto"``, or a list of ``{"port_id": id}`` / ``{"network_id": id[, "fixed_ip": ip]}``.
RequestedNetworks = str | list[dict[str, Any]] | None


class NetworkContract(Protocol):
    # -- Neutron resources, as the caller ------------------------------------------------
    def list(self, ctx: RequestContext, collection: str, query: QueryParams) -> tuple[Resources, Paging]:
        """The resources of ``collection`` the caller sees, filtered, sorted and paged by
        ``query`` exactly as the API's ``GET /v2.0/<collection>`` query string."""

    def get(self, ctx: RequestContext, collection: str, resource_id: str) -> Resource:
        """One resource the caller sees; 404 (``NetworkNotFound`` …) otherwise."""

    def create(self, ctx: RequestContext, collection: str, attrs: Resource) -> Resource:
        """Create a resource from API attributes (already authorised by the caller)."""

    def update(self, ctx: RequestContext, collection: str, resource_id: str, attrs: Resource,
               revision: int | None = None) -> Resource:
        """Change a resource; ``revision`` is an ``If-Match: revision_number`` to honour."""

    def delete(self, ctx: RequestContext, collection: str, resource_id: str) -> None:
        """Delete a resource (409 while it is in use)."""

    def create_rule(self, ctx: RequestContext, attrs: Resource) -> Resource:
        """Create a security group rule (the API's ``security_group_rule`` attributes)."""

    def delete_rule(self, ctx: RequestContext, rule_id: str) -> None:
        """Delete a security group rule."""

    # -- Nova's network_api: instances' ports ---------------------------------------------
    def allocate_for_instance(self, context: RequestContext, instance_id: str, host: str,
                              requested_networks: RequestedNetworks,
                              security_groups: Sequence[str] | None = None) -> Resources:
        """The instance's ports, bound to ``host`` (``device_owner="compute:nova"``,
        ``device_id=instance_id``).  ``requested_networks`` is ``"none"`` (no ports),
        ``"auto"`` (get-me-a-network: the project's own network, or a network+subnet+router
        created on demand as Neutron's ``auto_allocated_topology`` does), or a list of
        requests, each ``{"port_id": id}`` (bind an existing port), ``{"network_id": id}``
        or ``{"network_id": id, "fixed_ip": "10.0.0.5"}`` (create a port).  All or nothing:
        if one request fails, the ports created so far are deleted, the ones bound are
        unbound, and the error propagates.  The ports it creates get ``security_groups``
        (the project's groups by name or id, as the server asked; by default the project's
        ``default`` group), as Nova gives them."""

    def deallocate_for_instance(self, instance_id: str, context: RequestContext | None = None) -> None:
        """Delete the ports allocate/attach created, unbind the ones the user brought."""

    def list_instance_ports(self, instance_id: str) -> Resources:
        """The ports bound to the instance, oldest first."""

    def security_group_names(self, group_ids: Sequence[str]) -> dict[str, str]:
        """The names of these security groups, whichever project owns them, by id (ids of
        no group left out): what a server shows of its ports' groups, in one query."""

    def instances_addresses(self, instance_ids: Sequence[str]) -> dict[str, Addresses]:
        """The servers' ``addresses`` fields: ``{instance_id: {network_name: [{"version",
        "addr", "OS-EXT-IPS:type": "fixed"|"floating", "OS-EXT-IPS-MAC:mac_addr"}]}}``, in
        a constant number of queries whatever the number of servers (server lists)."""

    def attach_interface(self, context: RequestContext, instance_id: str, host: str, network_id: str | None = None,
                         port_id: str | None = None, fixed_ip: str | None = None,
                         project_id: str | None = None) -> Resource:
        """Bind ``port_id``, or create a port on ``network_id`` (at ``fixed_ip``), for the
        instance; 400 without either."""

    def fence_host(self, host: str) -> str:
        """Cut a fenced compute host off the network (instance HA): with the Linux
        datapath its agent leaves the other hosts' VXLAN peers and its servers' ports are
        unbound and DOWN until their servers are bound elsewhere; the noop datapath
        changes nothing.  Answers what was done, for the recovery's record."""

    def detach_interface(self, context: RequestContext, instance_id: str, port_id: str) -> None:
        """Release one of the instance's ports (deleted if created for it, else unbound);
        404 ``PortNotFound`` when the port is not the instance's."""
