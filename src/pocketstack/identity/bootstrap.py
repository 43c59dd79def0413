"""First-start bootstrap: the Default domain, admin and demo, roles, the catalog.

Idempotent: each run creates only what is missing and brings the catalog's endpoints up
to date with the services this process serves (their URLs may change with the port).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa

from pocketstack.identity import errors, passwords
from pocketstack.identity import models as m
from pocketstack.identity.catalog import INTERFACES
from pocketstack.identity.manager import Identity
from pocketstack.identity.resource import DEFAULT_DOMAIN_ID

LOG = logging.getLogger(__name__)
# As `keystone-manage bootstrap` (2023.2+) creates them: each role of the chain implies
# the next; `service` (for service users) stands alone.  Tempest 47 expects all five.
ROLE_CHAIN = ("admin", "manager", "member", "reader")
STANDALONE_ROLES = ("service",)


def _role(identity: Identity, name: str) -> m.Role:
    with identity.db.session(readonly=True) as s:
        try:
            return identity.assignment.find_role_by_name(s, name)
        except errors.NotFound:
            pass
    return identity.assignment.create_role(name=name)


def _project(identity: Identity, name: str) -> m.Project:
    with identity.db.session(readonly=True) as s:
        try:
            return identity.resource.find_project_by_name(s, name, DEFAULT_DOMAIN_ID)
        except errors.NotFound:
            pass
    return identity.resource.create_project(name=name, domain_id=DEFAULT_DOMAIN_ID,
                                            description=f"Bootstrap project {name}")


def _user(identity: Identity, name: str, password: str, project: m.Project) -> tuple[m.User, bool]:
    with identity.db.session(readonly=True) as s:
        try:
            return identity.users.find_user_by_name(s, name, DEFAULT_DOMAIN_ID), False
        except errors.NotFound:
            pass
    # The operator chose these passwords: they need no change at first use.
    return identity.users.create_user(name=name, domain_id=DEFAULT_DOMAIN_ID, password=password,
                                      default_project_id=project.id,
                                      options={"ignore_change_password_upon_first_use": True}), True


def bootstrap(identity: Identity, *, admin_password: str, demo_password: str, region: str,
              services: list[tuple[str, str, str]], service_users: Sequence[tuple[str, str]] = ()) -> dict:
    """Create what is missing.  ``services`` lists (type, name, url) to put in the catalog;
    ``service_users`` (name, password) the services' own users, made members of the
    ``service`` project with the ``service`` role, as ``keystone-manage bootstrap`` and
    the services' installation guides leave them.

    Returns which users were created with which passwords, so the caller can print them
    once.
    """
    identity.keys.ensure()
    identity.credential_keys.ensure()
    try:
        identity.resource.get_domain(DEFAULT_DOMAIN_ID)
    except errors.NotFound:
        identity.resource.create_domain(name="Default", domain_id=DEFAULT_DOMAIN_ID,
                                        description="The default domain")
    roles = [_role(identity, name) for name in ROLE_CHAIN]
    for prior, implied in zip(roles, roles[1:]):
        identity.assignment.create_implied_role(prior.id, implied.id)
    for name in STANDALONE_ROLES:
        _role(identity, name)
    admin_role, member_role = roles[0], roles[ROLE_CHAIN.index("member")]
    admin_project, demo_project = _project(identity, "admin"), _project(identity, "demo")
    admin, admin_new = _user(identity, "admin", admin_password, admin_project)
    demo, demo_new = _user(identity, "demo", demo_password, demo_project)
    identity.assignment.grant("user", admin.id, "project", admin_project.id, admin_role.id)
    identity.assignment.grant("user", admin.id, "system", "system", admin_role.id)
    identity.assignment.grant("user", admin.id, "domain", DEFAULT_DOMAIN_ID, admin_role.id)
    identity.assignment.grant("user", demo.id, "project", demo_project.id, member_role.id)
    if service_users:
        service_project, service_role = _project(identity, "service"), _role(identity, "service")
        for name, password in service_users:
            user, _ = _user(identity, name, password, service_project)
            identity.assignment.grant("user", user.id, "project", service_project.id, service_role.id)
    sync_catalog(identity, region, services)
    created = {}
    if admin_new:
        created["admin"] = admin_password
    if demo_new:
        created["demo"] = demo_password
    return created


def sync_catalog(identity: Identity, region: str, services: list[tuple[str, str, str]]) -> None:
    """Make ``region`` list ``services`` (type, name, URL): endpoints added or moved."""
    db = identity.db
    with db.session() as s:
        if s.get(m.Region, region) is None:
            s.add(m.Region(id=region, description="", extra={}))
    for service_type, name, url in services:
        with db.session(readonly=True) as s:
            service = s.scalar(sa.select(m.Service).where(m.Service.type == service_type))
        if service is None:
            service = identity.catalog.create_service(type=service_type, name=name)
        with db.session() as s:
            existing = {ep.interface: ep for ep in s.scalars(sa.select(m.Endpoint).where(
                m.Endpoint.service_id == service.id, m.Endpoint.region_id == region))}
            for interface in INTERFACES:
                endpoint = existing.get(interface)
                if endpoint is None:
                    s.add(m.Endpoint(service_id=service.id, region_id=region, interface=interface,
                                     url=url, enabled=True, extra={}))
                elif endpoint.url != url:
                    endpoint.url = url


generate_password = passwords.generate_password
