"""The isolation matrix: every persona × every resource type × every operation of every
service (Keystone, Nova, Placement, Neutron, Cinder, Glance, Swift, Heat, Masakari), each cell asserting
the outcome the policy defaults (src/pocketstack/*/policies.py, common/policy.py) and
the real OpenStack service give; pocketstack's own API (state and fault rules, admin only); and the
metadata API guests read, which takes no token:
a signed request naming another project than the server's reads nothing
(tests/isolation/metadata.py).

Personas (tests/isolation/matrix.py): the cloud ``admin`` (admin project), ``a_member``
and ``a_reader`` of project A, ``b_member`` and ``b_reader`` of project B; for some
operations also ``a_appcred``/``a_appcred_self`` (restricted application credentials of
``a_member``) and, on object storage, ``b_acl_read``/``b_acl_write`` (members of B
holding a read or a write ACL on one of A's containers).  The resources live in project
A.  What the services do with another project's resource: Nova, Neutron, Cinder and
Glance answer 404 (they do not reveal it exists) to show, update, delete and actions; a
reader gets 403 on any write; listings never contain another project's resources; the
admin sees and does everything.  Keystone answers 403 rather than 404; Swift answers an
authenticated stranger 403 and shows TempURL keys and ACLs to owners only (pocketstack
counts the cloud admin as an owner of every account, as Swift does a reseller admin).
Each service's module says which source files of the real service its expectations
come from.

It grows with every new resource.  To add one, in the service's module under
tests/isolation/:

1. a ``Resource("thing", make)`` in ``RESOURCES``, where ``make(world)`` creates one in
   project A (``world.call(method, path, persona, json=...)``; ``world.shared("other")``
   for a resource it depends on, ``world.fresh("other")`` for one of its own) and
   returns its fields, ``id`` first;
2. one ``Op`` per operation in ``OPS``: ``Op("thing", "show", "GET", "/svc/things/{thing}",
   OWN_READ)`` — the path, headers and body are templates (``{thing}``, ``{thing.field}``,
   ``{project_a}``, ``{a_member}``, ``{me}``, ``{new}``: see matrix.py), the expectation a
   profile from matrix.py (``OWN_READ``, ``OWN_WRITE``, ``OWN_LIST`` with
   ``watch="{thing}"``, ``CREATE``, ``ADMIN_ONLY``, ``EVERYONE``) or ``expect(admin,
   a_member, a_reader, b_member, b_reader, **extra)`` for anything else;
   ``consumes="thing"`` when the operation destroys or irreversibly changes it.

A cell that differs from its expectation fails naming persona × resource × operation,
expected and got.  Known holes carry ``hole(item, ...)``, holes this matrix found
``finding(...)``: strict xfails, which fail (XPASS) once the fix lands, so the marker
must then be removed.

The full matrix (about 2200 cells, half a minute) runs on SQLite.  PostgreSQL and
MariaDB run every "list" and "show" operation and those marked ``everywhere=True``
(create, update, delete and an action of each service's main resources and one cell of
each known hole): about 900 cells in half a minute, where the whole matrix takes well
over a minute.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from pocketstack.metadata.app import build_app

from isolation import (
    compute,
    faults,
    ha,
    identity,
    image,
    metadata,
    network,
    network_address_groups,
    network_metering,
    object_storage,
    orchestration,
    placement,
    state,
    volume,
)
from isolation.matrix import World, cells

SERVICES = (identity, compute, placement, network, network_address_groups, network_metering, volume, image,
            object_storage, orchestration, faults, metadata, ha, state)
RESOURCES = [r for service in SERVICES for r in service.RESOURCES]
OPS = [op for service in SERVICES for op in service.OPS]
PROJECT_SETUPS = [service.unlimited_quotas for service in SERVICES if hasattr(service, "unlimited_quotas")]


@pytest.fixture(scope="module")
def world(api, admin_token):
    world = World(api, admin_token, RESOURCES, PROJECT_SETUPS)
    yield world
    world.close()


@pytest.mark.parametrize("op,persona", cells(OPS))
def test_cell(world, backend, op, persona):
    if backend != "sqlite" and not op.on_every_backend:
        pytest.skip("the full matrix runs on SQLite; this backend runs every list and show and the operations "
                    "marked everywhere=True")
    world.check(op, persona)


@pytest.fixture(scope="module")
def metadata_client(cloud):
    app = build_app(cloud.compute, cloud.network, metadata.SECRET, cloud.settings.dhcp_domain)
    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize("cell", metadata.CELLS, ids=lambda cell: cell.id)
def test_metadata_cell(world, metadata_client, cell):
    metadata.check(world, metadata_client, cell)
