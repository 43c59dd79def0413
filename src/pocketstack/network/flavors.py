"""Service flavors and service profiles (Neutron's ``flavors`` extension).

A flavor names a kind of service (``service_type``: one of the service plugins this
Networking service runs, :data:`SERVICE_TYPES`, else 400 ``InvalidServiceType``) and the
service profiles that implement it; a profile names a driver and its ``metainfo``.
Only admins write either; everyone reads flavors, only admins read profiles.

Checks as Neutron's ``FlavorsDbMixin``: a profile needs a driver or metainfo (400
``ServiceProfileEmpty``); a driver must be a service provider's the deployment lists
(:data:`PROVIDER_DRIVERS`; another is 404 ``ServiceProfileDriverNotFound``); a
profile bound to a flavor cannot be changed or deleted (409 ``ServiceProfileInUse``); binding a pair twice is 409
``FlavorServiceProfileBindingExists``, unbinding a pair that is not bound 404
``FlavorServiceProfileBindingNotFound``.  A flavor's bindings go with it.

``service_profiles`` in a flavor's create or update body binds exactly those profiles
(Neutron validates the list and then ignores it; here it is applied, not dropped).

A router made with a flavor (``l3-flavors``) keeps it by a foreign key: the flavor is
then in use (409 ``FlavorInUse``); :func:`router_flavor` checks it as Neutron picks the
router's provider.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db.cas import ConcurrentUpdate, changed_rows
from pocketstack.network import errors, store
from pocketstack.network.context import Work
from pocketstack.network.models import Flavor, FlavorServiceProfile, Router, ServiceProfile

# The service plugins (Neutron's plugin directory keys) this service runs.
SERVICE_TYPES = ("CORE", "L3_ROUTER_NAT", "FLAVORS", "METERING", "QOS", "NETWORK_IP_AVAILABILITY", "trunk",
                 "auto_allocate", "tag", "timestamp", "revisions")
# The drivers of the service providers ``/v2.0/service-providers`` lists (its one
# provider, Neutron's ``single_node`` L3 driver: :mod:`.api.fixed_lists`).
PROVIDER_DRIVERS = ("neutron.services.l3_router.service_providers.single_node.SingleNodeDriver",)
FLAVOR_UPDATABLE = {"name", "description", "enabled", "service_profiles"}
PROFILE_UPDATABLE = {"description", "driver", "enabled", "metainfo"}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _profile_ids(value: Any) -> list[str]:
    """``service_profiles``: a list of UUIDs without duplicates (``type:uuid_list``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.InvalidAttribute(attribute="service_profiles", reason=f"'{value}' is not a list")
    for item in value:
        if not isinstance(item, str) or not _is_uuid(item):
            raise errors.InvalidAttribute(attribute="service_profiles", reason=f"'{item}' is not a valid UUID")
    duplicates = [str(v) for i, v in enumerate(value) if v in value[:i]]
    if duplicates:
        raise errors.InvalidAttribute(attribute="service_profiles",
                                      reason=f"Duplicate items in the list: '{', '.join(duplicates)}'")
    return list(value)


def _bind_all(w: Work, flavor: Flavor, profile_ids: list[str]) -> None:
    w.s.execute(sa.delete(FlavorServiceProfile).where(FlavorServiceProfile.flavor_id == flavor.id),
                execution_options={"synchronize_session": False})
    for profile_id in profile_ids:
        fetch_profile(w, profile_id)
        w.s.add(FlavorServiceProfile(flavor_id=flavor.id, service_profile_id=profile_id))
    w.s.flush()


def create(w: Work, attrs: dict) -> Flavor:
    service_type = attrs["service_type"]
    if service_type not in SERVICE_TYPES:
        raise errors.InvalidServiceType(service_type=service_type)
    profiles = _profile_ids(attrs.get("service_profiles"))
    flavor = Flavor(name=attrs.get("name") or "", description=attrs.get("description", ""),
                    service_type=service_type, enabled=attrs.get("enabled", True) is not False)
    w.s.add(flavor)
    w.s.flush()
    if profiles:
        _bind_all(w, flavor, profiles)
    return flavor


def update(w: Work, flavor_id: str, attrs: dict, revision: int | None = None) -> Flavor:
    flavor = store.fetch(w.s, Flavor, w.ctx, flavor_id)
    store.check_updatable(attrs, FLAVOR_UPDATABLE)
    if "service_profiles" in attrs:
        _bind_all(w, flavor, _profile_ids(attrs["service_profiles"]))
    for key in ("name", "description"):
        if key in attrs:
            setattr(flavor, key, attrs[key] if attrs[key] is not None or key == "description" else "")
    if attrs.get("enabled") is not None:
        flavor.enabled = attrs["enabled"]
    w.s.flush()
    return flavor


def delete(w: Work, flavor_id: str) -> None:
    flavor = store.fetch(w.s, Flavor, w.ctx, flavor_id)
    if w.s.scalar(sa.select(Router.id).where(Router.flavor_id == flavor.id).limit(1)) is not None:
        raise errors.FlavorInUse(flavor_id=flavor.id)
    try:
        w.s.execute(sa.delete(FlavorServiceProfile).where(FlavorServiceProfile.flavor_id == flavor.id),
                    execution_options={"synchronize_session": False})
        w.s.delete(flavor)
        w.s.flush()
    except sa_exc.IntegrityError:  # a router was made with it meanwhile (its foreign key)
        raise errors.FlavorInUse(flavor_id=flavor.id) from None


def router_flavor(w: Work, flavor_id: Any) -> str:
    """The flavor a router is made with (``l3-flavors``), checked as Neutron's L3 driver
    controller picks the provider: the flavor (404 ``FlavorNotFound``), its first bound
    profile (404 ``FlavorServiceProfileBindingNotFound``), that profile enabled (503
    ``ServiceProfileDisabled``) and its driver a listed provider's (404
    ``ServiceProfileDriverNotFound``)."""
    flavor = store.fetch(w.s, Flavor, w.ctx, str(flavor_id))
    profile = w.s.scalar(sa.select(ServiceProfile).join(
        FlavorServiceProfile, FlavorServiceProfile.service_profile_id == ServiceProfile.id)
        .where(FlavorServiceProfile.flavor_id == flavor.id).order_by(ServiceProfile.id).limit(1))
    if profile is None:
        raise errors.FlavorServiceProfileBindingNotFound(sp_id="", fl_id=flavor.id)
    if not profile.enabled:
        raise errors.ServiceProfileDisabled()
    _check_driver(profile.driver)
    return flavor.id


def fetch_profile(w: Work, profile_id: str) -> ServiceProfile:
    return store.fetch(w.s, ServiceProfile, w.ctx, profile_id)


def _check_driver(driver: str) -> None:
    if driver not in PROVIDER_DRIVERS:
        raise errors.ServiceProfileDriverNotFound(driver=driver)


def _in_use(w: Work, profile_id: str) -> bool:
    return w.s.scalar(sa.select(FlavorServiceProfile.flavor_id)
                      .where(FlavorServiceProfile.service_profile_id == profile_id).limit(1)) is not None


def create_profile(w: Work, attrs: dict) -> ServiceProfile:
    driver = attrs.get("driver") or ""
    if driver:
        _check_driver(driver)
    elif not attrs.get("metainfo"):
        raise errors.ServiceProfileEmpty()
    profile = ServiceProfile(description=attrs.get("description", ""), driver=driver,
                             enabled=attrs.get("enabled", True) is not False, metainfo=attrs.get("metainfo", ""))
    w.s.add(profile)
    w.s.flush()
    return profile


def update_profile(w: Work, profile_id: str, attrs: dict, revision: int | None = None) -> ServiceProfile:
    store.check_updatable(attrs, PROFILE_UPDATABLE)
    if attrs.get("driver"):
        _check_driver(attrs["driver"])
    profile = fetch_profile(w, profile_id)
    if _in_use(w, profile.id):
        raise errors.ServiceProfileInUse(sp_id=profile.id)
    for key in ("description", "metainfo"):
        if key in attrs:
            setattr(profile, key, attrs[key])
    if "driver" in attrs:
        profile.driver = attrs["driver"] or ""
    if attrs.get("enabled") is not None:
        profile.enabled = attrs["enabled"]
    w.s.flush()
    return profile


def delete_profile(w: Work, profile_id: str) -> None:
    profile = fetch_profile(w, profile_id)
    if _in_use(w, profile.id):
        raise errors.ServiceProfileInUse(sp_id=profile.id)
    try:
        w.s.delete(profile)
        w.s.flush()
    except sa_exc.IntegrityError:
        # A binding committed meanwhile: its foreign key keeps the profile.
        raise errors.ServiceProfileInUse(sp_id=profile.id) from None


def bind(w: Work, flavor_id: str, profile_id: Any) -> str:
    """``POST /flavors/{id}/service_profiles``: the profile's id once bound."""
    if not isinstance(profile_id, str) or not _is_uuid(profile_id):
        raise errors.InvalidAttribute(attribute="id", reason=f"'{profile_id}' is not a valid UUID")
    flavor = store.fetch(w.s, Flavor, w.ctx, flavor_id)
    profile = fetch_profile(w, profile_id)
    if w.s.get(FlavorServiceProfile, (flavor.id, profile.id)) is not None:
        raise errors.FlavorServiceProfileBindingExists(sp_id=profile.id, fl_id=flavor.id)
    try:
        w.s.add(FlavorServiceProfile(flavor_id=flavor.id, service_profile_id=profile.id))
        w.s.flush()
    except sa_exc.IntegrityError:
        # The same pair bound meanwhile (the primary key), or the flavor or profile gone
        # (a foreign key): the re-run sees which.
        raise ConcurrentUpdate(f"binding of flavor {flavor.id} and profile {profile.id} changed") from None
    return profile.id


def unbind(w: Work, flavor_id: str, profile_id: str) -> None:
    deleted = changed_rows(w.s, sa.delete(FlavorServiceProfile).where(
        FlavorServiceProfile.flavor_id == flavor_id, FlavorServiceProfile.service_profile_id == profile_id),
        execution_options={"synchronize_session": False})
    if not deleted:
        raise errors.FlavorServiceProfileBindingNotFound(sp_id=profile_id, fl_id=flavor_id)


class Profiles:
    """The profile collection's functions under the names :data:`.manager.COLLECTIONS` calls."""

    create = staticmethod(create_profile)
    update = staticmethod(update_profile)
    delete = staticmethod(delete_profile)
