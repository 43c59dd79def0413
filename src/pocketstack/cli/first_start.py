"""What every start of a cloud's API does before serving: bootstrap identity (admin and
demo, roles, the catalog of every region), enforce a configured admin password, record
the state to reset to, and write clouds.yaml.  ``pocketstack up``, ``pocketstack api`` and the pytest
plugin's in-process cloud share it."""

from __future__ import annotations

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
    """The passwords :func:`prepare` will set, their bcrypt hashes started now in the
    background (:func:`pocketstack.identity.passwords.hash_ahead`): admin's when it is
    configured (every start sets it) or the database is new, demo's when the database is
    new (a new SQLite file; on another backend bootstrap hashes as it goes)."""
    from pocketstack.identity import passwords

    chosen = Passwords(settings.admin_password or passwords.generate_password(), passwords.generate_password())
    new = not settings.database_url and not Path(settings.effective_database_url.removeprefix("sqlite:///")).exists()
    for password, needed in ((chosen.admin, new or bool(settings.admin_password)), (chosen.demo, new)):
        if needed:
            passwords.hash_ahead(password, settings.bcrypt_rounds)
    return chosen


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
    from pocketstack.identity.resource import DEFAULT_DOMAIN_ID

    with cloud.db.session(readonly=True) as s:
        admin = cloud.identity.users.find_user_by_name(s, "admin", DEFAULT_DOMAIN_ID)
    cloud.identity.users.update_user(admin.id, {"password": password})
