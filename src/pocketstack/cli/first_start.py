"""What every start of a cloud's API does before serving: bootstrap identity (admin and
demo, roles, the catalog of every region), enforce a configured admin password, record
the state to reset to, and write clouds.yaml.  ``pocketstack up``, ``pocketstack api`` and the pytest
plugin's in-process cloud share it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud
    from pocketstack.common.config import Settings

# What makes a process the all-in-one cloud: every role, every service.  (This module is
# imported by `pocketstack up` before it decides where metrics live, so what prepare()
# needs -- the database, hence prometheus_client -- is imported when it runs.)
ALL_IN_ONE = {"roles": "api,scheduler,compute,volume,network-agent,ha,orchestration", "services": ""}


@dataclass
class Passwords:
    """What bootstrap gives admin and demo if it creates them."""

    admin: str
    demo: str


def hash_ahead(settings: Settings) -> Passwords:
    """The passwords :func:`prepare` will set, their bcrypt work started now in the
    background (:mod:`pocketstack.identity.passwords`): admin's and demo's hashes when the
    database is new (a new SQLite file; on another backend bootstrap hashes as it goes);
    on a database that has an admin, the check of a configured admin password against
    admin's stored hash (:func:`_set_admin_password`), else its hash."""
    from pocketstack.identity import passwords

    chosen = Passwords(settings.admin_password or passwords.generate_password(), passwords.generate_password())
    path = Path(settings.effective_database_url.removeprefix("sqlite:///"))
    new = not settings.database_url and not path.exists()
    stored = None
    if settings.admin_password and not new:
        stored = _stored_admin_hash_in(settings.database_url) if settings.database_url else _stored_admin_hash(path)
    if stored:
        passwords.check_ahead(chosen.admin, stored)
    for password, needed in ((chosen.admin, new or (bool(settings.admin_password) and not stored)),
                             (chosen.demo, new)):
        if needed:
            passwords.hash_ahead(password, settings.bcrypt_rounds)
    return chosen


# Admin's hash (the default domain's id: identity.resource.DEFAULT_DOMAIN_ID, not imported here).
_ADMIN_HASH = "SELECT password_hash FROM identity_user WHERE name = 'admin' AND domain_id = 'default'"


def _stored_admin_hash(path: Path) -> str | None:
    """Admin's password hash in the SQLite database at ``path``, read before anything
    imports the models (None when there is none, or the file cannot tell)."""
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)) as db:
            row = db.execute(_ADMIN_HASH).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row and isinstance(row[0], str) else None


def _stored_admin_hash_in(url: str) -> str | None:
    """Admin's password hash in the database at ``url`` (any backend), through a
    connection of its own; None when there is none or the database cannot tell (the
    cloud's own start then reports what is wrong)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    from pocketstack.common.db.engine import _normalise_url

    try:
        engine = sa.create_engine(_normalise_url(url), poolclass=NullPool)
        try:
            with engine.connect() as connection:
                row = connection.execute(sa.text(_ADMIN_HASH)).first()
        finally:
            engine.dispose()
    except (sa.exc.SQLAlchemyError, ImportError, OSError):
        return None
    return row[0] if row and isinstance(row[0], str) else None


def prepare(cloud: Cloud, chosen: Passwords | None = None) -> dict[str, str]:
    """Bootstrap and write clouds.yaml; the users created now, with their passwords."""
    from pocketstack.cli.clouds import write_clouds
    from pocketstack.identity.bootstrap import bootstrap, sync_catalog
    from pocketstack.identity.passwords import forget_ahead, generate_password

    settings = cloud.settings
    chosen = chosen or Passwords(settings.admin_password or generate_password(), generate_password())
    created = bootstrap(cloud.identity, admin_password=chosen.admin, demo_password=chosen.demo,
                        region=settings.region, services=cloud.catalog(), service_users=cloud.service_users())
    for region in cloud.regions:
        sync_catalog(cloud.identity, region.settings.region, region.catalog())
    passwords = dict(created)
    if settings.admin_password and "admin" not in created:
        _set_admin_password(cloud, settings.admin_password)
        passwords["admin"] = settings.admin_password
    forget_ahead()
    cloud.state.record_baseline()
    auth_url = cloud.service("identity").catalog_url()
    write_clouds(settings.effective_clouds_file, auth_url, settings.region, passwords,
                 [region.settings.region for region in cloud.regions])
    return created


def _set_admin_password(cloud: Cloud, password: str) -> None:
    """Make ``password`` admin's, as Keystone's bootstrap does: only when it does not
    already match (and has not expired).  A change revokes admin's tokens; a restart with
    the same password leaves them, and the user's row, alone."""
    from pocketstack.common.db.base import utcnow
    from pocketstack.identity.passwords import matches
    from pocketstack.identity.resource import DEFAULT_DOMAIN_ID

    with cloud.db.session(readonly=True) as s:
        admin = cloud.identity.users.find_user_by_name(s, "admin", DEFAULT_DOMAIN_ID)
    expired = admin.password_expires_at is not None and admin.password_expires_at <= utcnow()
    if not expired and matches(password, admin.password_hash):
        return
    cloud.identity.users.update_user(admin.id, {"password": password})
