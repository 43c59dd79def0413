"""sampleapp.teams: idempotent, and a team's network is private to its project."""

import pytest
from sampleapp.teams import ensure_team_network


def test_ensure_team_network_is_idempotent(pocketstack_project):
    conn = pocketstack_project.connection()
    first = ensure_team_network(conn, "red")
    again = ensure_team_network(conn, "red")
    assert first.id == again.id
    assert [s.cidr for s in conn.network.subnets(network_id=first.id)] == ["10.42.0.0/24"]


def test_another_project_does_not_see_the_network(pocketstack_cloud, pocketstack_project):
    ensure_team_network(pocketstack_project.connection(), "blue")
    demo = pocketstack_cloud.demo.connection()
    assert "team-blue" not in [n.name for n in demo.network.networks()]


@pytest.mark.pocketstack(microversions={"compute": "2.10"})
def test_microversion_ceiling(openstack_connection):
    # Capped at 2.10, the SDK asks for nothing newer (pocketstack serves newer ones).
    response = openstack_connection.compute.get("/os-keypairs")
    assert response.headers["OpenStack-API-Version"] == "compute 2.10"


@pytest.mark.pocketstack(hypervisor="qemu")
def test_real_guests_only_where_asked(openstack_connection):
    """Skipped unless pytest runs with --pocketstack-hypervisor=qemu on a machine with QEMU."""
    assert openstack_connection.compute.hypervisors()
