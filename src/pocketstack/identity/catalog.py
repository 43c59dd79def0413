"""Regions, services and endpoints, and the service catalog built from them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id
from pocketstack.identity import endpoint_filter, endpoint_policy, errors
from pocketstack.identity import models as m
from pocketstack.identity.limits import LimitManager

INTERFACES = ("public", "internal", "admin")
NOT_FOUND: dict[str, type[errors.NotFound]] = {
    "region": errors.RegionNotFound, "service": errors.ServiceNotFound, "endpoint": errors.EndpointNotFound}


class CatalogManager:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def _load(session: Session, model, ident: str, kind: str):
        row = session.get(model, ident)
        if row is None:
            fields: dict[str, Any] = {f"{kind}_id": ident}
            raise NOT_FOUND[kind](**fields)
        return row

    # -- regions ---------------------------------------------------------------------
    def get_region(self, region_id: str) -> m.Region:
        with self.db.session(readonly=True) as s:
            return self._load(s, m.Region, region_id, "region")

    def list_regions(self, filters: dict) -> list[m.Region]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.Region)
            if "parent_region_id" in filters:
                stmt = stmt.where(m.Region.parent_region_id == filters["parent_region_id"])
            return list(s.scalars(stmt.order_by(m.Region.id)))

    def create_region(self, *, region_id: str | None, parent_region_id: str | None = None,
                      description: str = "", extra: dict | None = None) -> m.Region:
        try:
            with self.db.session() as s:
                if parent_region_id:
                    self._load(s, m.Region, parent_region_id, "region")
                region = m.Region(id=region_id or new_id(), parent_region_id=parent_region_id,
                                  description=description or "", extra=extra or {})
                s.add(region)
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action="store region", details=f"Duplicate ID, {region_id}.") from None
        return region

    def update_region(self, region_id: str, changes: dict) -> m.Region:
        with self.db.session() as s:
            region = self._load(s, m.Region, region_id, "region")
            if "parent_region_id" in changes:
                parent = changes["parent_region_id"]
                cursor = parent
                while cursor:
                    if cursor == region_id:
                        raise errors.RegionCycle(region_id=region_id)
                    cursor = self._load(s, m.Region, cursor, "region").parent_region_id
                region.parent_region_id = parent
            if "description" in changes:
                region.description = changes["description"] or ""
            if "extra" in changes:
                region.extra = {**region.extra, **changes["extra"]}
            return region

    def delete_region(self, region_id: str) -> None:
        with self.db.session() as s:
            region = self._load(s, m.Region, region_id, "region")
            if s.scalar(sa.select(m.Region.id).where(m.Region.parent_region_id == region_id).limit(1)):
                raise errors.RegionHasChildren(region_id=region_id)
            LimitManager.refuse_if_named(s, "region", region_id)
            s.execute(sa.update(m.Endpoint).where(m.Endpoint.region_id == region_id).values(region_id=None))
            endpoint_policy.forget(s, region_ids=[region_id])
            s.delete(region)

    # -- services --------------------------------------------------------------------
    def get_service(self, service_id: str) -> m.Service:
        with self.db.session(readonly=True) as s:
            return self._load(s, m.Service, service_id, "service")

    def list_services(self, filters: dict) -> list[m.Service]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.Service)
            for key in ("type", "name"):
                if key in filters:
                    stmt = stmt.where(getattr(m.Service, key) == filters[key])
            return list(s.scalars(stmt.order_by(m.Service.type)))

    def create_service(self, *, type: str, name: str = "", enabled: bool = True, description: str = "",
                       extra: dict | None = None, service_id: str | None = None) -> m.Service:
        with self.db.session() as s:
            service = m.Service(id=service_id or new_id(), type=type, name=name or "", enabled=enabled,
                                description=description or "", extra=extra or {})
            s.add(service)
            return service

    def update_service(self, service_id: str, changes: dict) -> m.Service:
        with self.db.session() as s:
            service = self._load(s, m.Service, service_id, "service")
            for key in ("type", "name", "enabled", "description"):
                if key in changes:
                    setattr(service, key, changes[key] if changes[key] is not None else "")
            if "extra" in changes:
                service.extra = {**service.extra, **changes["extra"]}
            return service

    def delete_service(self, service_id: str) -> None:
        with self.db.session() as s:
            service = self._load(s, m.Service, service_id, "service")
            LimitManager.refuse_if_named(s, "service", service_id)
            endpoint_ids = list(s.scalars(sa.select(m.Endpoint.id).where(m.Endpoint.service_id == service_id)))
            endpoint_filter.forget(s, endpoint_ids=endpoint_ids)
            endpoint_policy.forget(s, endpoint_ids=endpoint_ids, service_ids=[service_id])
            s.execute(sa.delete(m.Endpoint).where(m.Endpoint.service_id == service_id))
            s.delete(service)

    # -- endpoints -------------------------------------------------------------------
    def get_endpoint(self, endpoint_id: str) -> m.Endpoint:
        with self.db.session(readonly=True) as s:
            return self._load(s, m.Endpoint, endpoint_id, "endpoint")

    def list_endpoints(self, filters: dict) -> list[m.Endpoint]:
        with self.db.session(readonly=True) as s:
            stmt = sa.select(m.Endpoint)
            for key in ("interface", "service_id", "region_id", "enabled"):
                if key in filters:
                    stmt = stmt.where(getattr(m.Endpoint, key) == filters[key])
            return list(s.scalars(stmt.order_by(m.Endpoint.id)))

    def create_endpoint(self, *, service_id: str, interface: str, url: str, region_id: str | None = None,
                        enabled: bool = True, extra: dict | None = None) -> m.Endpoint:
        with self.db.session() as s:
            self._load(s, m.Service, service_id, "service")
            if region_id:
                self._load(s, m.Region, region_id, "region")
            endpoint = m.Endpoint(id=new_id(), service_id=service_id, interface=interface, url=url,
                                  region_id=region_id, enabled=enabled, extra=extra or {})
            s.add(endpoint)
            return endpoint

    def update_endpoint(self, endpoint_id: str, changes: dict) -> m.Endpoint:
        with self.db.session() as s:
            endpoint = self._load(s, m.Endpoint, endpoint_id, "endpoint")
            if "service_id" in changes:
                self._load(s, m.Service, changes["service_id"], "service")
            if changes.get("region_id"):
                self._load(s, m.Region, changes["region_id"], "region")
            for key in ("service_id", "interface", "url", "region_id", "enabled"):
                if key in changes:
                    setattr(endpoint, key, changes[key])
            if "extra" in changes:
                endpoint.extra = {**endpoint.extra, **changes["extra"]}
            return endpoint

    def delete_endpoint(self, endpoint_id: str) -> None:
        with self.db.session() as s:
            s.delete(self._load(s, m.Endpoint, endpoint_id, "endpoint"))
            endpoint_filter.forget(s, endpoint_ids=[endpoint_id])
            endpoint_policy.forget(s, endpoint_ids=[endpoint_id])

    # -- the catalog -----------------------------------------------------------------
    def build_catalog(self, session: Session, project_id: str | None = None) -> list[dict]:
        """Enabled services with their enabled endpoints, in the token's format.

        As in Keystone, ``%(project_id)s``/``%(tenant_id)s`` in an endpoint URL (Swift's
        ``/v1/AUTH_%(project_id)s``) are replaced by the token's project; an endpoint
        whose template cannot be filled (no project in scope) is left out.  A project
        with endpoints associated (OS-EP-FILTER) sees only those, and only the services
        left with an endpoint.
        """
        services: dict[str, dict[str, Any]] = {sv.id: {"endpoints": [], "id": sv.id, "type": sv.type, "name": sv.name}
                    for sv in session.scalars(sa.select(m.Service).where(m.Service.enabled.is_(True)))}
        allowed = endpoint_filter.project_endpoints(session, project_id) if project_id else {}
        for ep in session.scalars(sa.select(m.Endpoint).where(m.Endpoint.enabled.is_(True))):
            url = _substitute(ep.url, project_id)
            if ep.service_id in services and url is not None and (not allowed or ep.id in allowed):
                services[ep.service_id]["endpoints"].append({
                    "id": ep.id, "interface": ep.interface, "region": ep.region_id,
                    "region_id": ep.region_id, "url": url})
        if allowed:
            services = {k: sv for k, sv in services.items() if sv["endpoints"]}
        return sorted(services.values(), key=lambda sv: sv["type"])


def _substitute(url: str, project_id: str | None) -> str | None:
    if "%(" not in url:
        return url
    if project_id is None:
        return None
    return url.replace("%(project_id)s", project_id).replace("%(tenant_id)s", project_id)
