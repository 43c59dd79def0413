"""Give a team its private network: a network and an IPv4 subnet, created once."""

from __future__ import annotations

from openstack import exceptions


def ensure_team_network(conn, team: str, cidr: str = "10.42.0.0/24"):
    """The team's network, created with its subnet if it does not exist yet (idempotent)."""
    name = f"team-{team}"
    try:
        return conn.network.find_network(name, ignore_missing=False)
    except exceptions.NotFoundException:
        pass
    network = conn.network.create_network(name=name)
    conn.network.create_subnet(network_id=network.id, name=f"{name}-v4", ip_version=4, cidr=cidr)
    return network
