"""Endpoint filtering (OS-EP-FILTER): endpoints and endpoint groups associated with
projects.  A project with any association gets a catalog of those endpoints only
(enabled ones, and no service left without an endpoint); a project with none gets the
whole catalog (Keystone's ``return_all_endpoints_if_no_filter``, on by default).

An endpoint group is a filter (``service_id``, ``region_id``, ``interface``), matched
against the endpoints each time it is read, as Keystone does.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m

EG, PE, PEG = m.EndpointGroup, m.ProjectEndpoint, m.ProjectEndpointGroup
FILTER_KEYS = ("service_id", "region_id", "interface")


def check_filters(filters: dict | None) -> None:
    """400 for a group without filters or with one Keystone does not filter on."""
    if not filters:
        raise errors.ValidationMessage(message="filters field is required and cannot be empty")
    if any(key not in FILTER_KEYS for key in filters):
        raise errors.MissingAttribute(attribute=" or ".join(FILTER_KEYS), target="endpoint_group")


def _matches(endpoint: m.Endpoint, filters: dict) -> bool:
    return all(getattr(endpoint, key) == value for key, value in filters.items())


def project_endpoints(s: Session, project_id: str) -> dict[str, m.Endpoint]:
    """The endpoints associated with a project, directly and through its endpoint
    groups, by id (empty: the project is not filtered)."""
    found = {e.id: e for e in s.scalars(sa.select(m.Endpoint).join(PE, PE.endpoint_id == m.Endpoint.id).where(
        PE.project_id == project_id).order_by(m.Endpoint.id))}
    groups = list(s.scalars(sa.select(EG).join(PEG, PEG.endpoint_group_id == EG.id).where(
        PEG.project_id == project_id)))
    if groups:
        for endpoint in s.scalars(sa.select(m.Endpoint).order_by(m.Endpoint.id)):
            if endpoint.id not in found and any(_matches(endpoint, g.filters) for g in groups):
                found[endpoint.id] = endpoint
    return found


def forget(s: Session, *, project_ids: Iterable[str] = (), endpoint_ids: Iterable[str] = ()) -> None:
    """Drop the associations of deleted projects or endpoints."""
    projects, endpoints = list(project_ids), list(endpoint_ids)
    if projects:
        s.execute(sa.delete(PE).where(PE.project_id.in_(projects)))
        s.execute(sa.delete(PEG).where(PEG.project_id.in_(projects)))
    if endpoints:
        s.execute(sa.delete(PE).where(PE.endpoint_id.in_(endpoints)))


class EndpointFilterManager:
    def __init__(self, db: Database):
        self.db = db

    # -- endpoint groups -----------------------------------------------------------------
    @staticmethod
    def load_group(s: Session, group_id: str) -> m.EndpointGroup:
        return get_or_raise(s, EG, group_id, lambda: errors.EndpointGroupNotFound(endpoint_group_id=group_id))

    def get_group(self, group_id: str) -> m.EndpointGroup:
        with self.db.session(readonly=True) as s:
            return self.load_group(s, group_id)

    def list_groups(self, name: str | None = None) -> list[m.EndpointGroup]:
        stmt = sa.select(EG).order_by(EG.name, EG.id)
        if name is not None:
            stmt = stmt.where(EG.name == name)
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    def create_group(self, fields: dict) -> m.EndpointGroup:
        check_filters(fields.get("filters"))
        with self.db.session() as s:
            group = EG(id=new_id(), name=fields["name"], description=fields.get("description"),
                       filters=fields["filters"])
            s.add(group)
            return group

    def update_group(self, group_id: str, changes: dict) -> m.EndpointGroup:
        if "filters" in changes:
            check_filters(changes["filters"])
        with self.db.session() as s:
            group = self.load_group(s, group_id)
            for key in ("name", "description", "filters"):
                if key in changes:
                    setattr(group, key, changes[key])
            return group

    def delete_group(self, group_id: str) -> None:
        with self.db.session() as s:
            group = self.load_group(s, group_id)
            s.execute(sa.delete(PEG).where(PEG.endpoint_group_id == group_id))
            s.delete(group)

    def group_endpoints(self, group_id: str) -> list[m.Endpoint]:
        with self.db.session(readonly=True) as s:
            filters = self.load_group(s, group_id).filters
            return [e for e in s.scalars(sa.select(m.Endpoint).order_by(m.Endpoint.id)) if _matches(e, filters)]

    # -- associations --------------------------------------------------------------------
    def _add(self, row: m.ProjectEndpoint | m.ProjectEndpointGroup, kind: str) -> None:
        try:
            with self.db.session() as s:
                s.add(row)
                s.flush()
        except sa_exc.IntegrityError:
            raise errors.DuplicateEntry(action=f"store {kind}", details="Duplicate entry.") from None

    def add_group_to_project(self, group_id: str, project_id: str) -> None:
        self._add(PEG(endpoint_group_id=group_id, project_id=project_id), "project_endpoint_group")

    def _group_membership(self, s: Session, group_id: str, project_id: str) -> m.ProjectEndpointGroup:
        return get_or_raise(s, PEG, (group_id, project_id), lambda: errors.EndpointGroupProjectNotFound())

    def check_group_in_project(self, group_id: str, project_id: str) -> None:
        with self.db.session(readonly=True) as s:
            self._group_membership(s, group_id, project_id)

    def remove_group_from_project(self, group_id: str, project_id: str) -> None:
        with self.db.session() as s:
            s.delete(self._group_membership(s, group_id, project_id))

    def projects_of_group(self, group_id: str) -> list[str]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(PEG.project_id).where(PEG.endpoint_group_id == group_id)
                                  .order_by(PEG.project_id)))

    def groups_of_project(self, project_id: str) -> list[m.EndpointGroup]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(EG).join(PEG, PEG.endpoint_group_id == EG.id).where(
                PEG.project_id == project_id).order_by(EG.name, EG.id)))

    def add_endpoint_to_project(self, endpoint_id: str, project_id: str) -> None:
        self._add(PE(endpoint_id=endpoint_id, project_id=project_id), "project_endpoint")

    def _endpoint_association(self, s: Session, endpoint_id: str, project_id: str) -> m.ProjectEndpoint:
        return get_or_raise(s, PE, (endpoint_id, project_id),
                            lambda: errors.ProjectEndpointNotFound(endpoint_id=endpoint_id, project_id=project_id))

    def check_endpoint_in_project(self, endpoint_id: str, project_id: str) -> None:
        with self.db.session(readonly=True) as s:
            self._endpoint_association(s, endpoint_id, project_id)

    def remove_endpoint_from_project(self, endpoint_id: str, project_id: str) -> None:
        with self.db.session() as s:
            s.delete(self._endpoint_association(s, endpoint_id, project_id))

    def projects_of_endpoint(self, endpoint_id: str) -> list[str]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(PE.project_id).where(PE.endpoint_id == endpoint_id)
                                  .order_by(PE.project_id)))

    def endpoints_of_project(self, project_id: str) -> list[m.Endpoint]:
        with self.db.session(readonly=True) as s:
            return list(project_endpoints(s, project_id).values())
