"""OS-FEDERATION service providers: the remote clouds this one asserts its users to
(Keystone to Keystone, keystone/federation/core.py).  Each enabled one is listed in
every token (``service_providers``: id, auth_url, sp_url), which is how clients such as
keystoneauth's ``Keystone2Keystone`` find where to send the assertion."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.db import Database
from pocketstack.common.db.lookup import get_or_raise
from pocketstack.identity import errors
from pocketstack.identity import models as m

SP = m.ServiceProvider
# Keystone's [saml] relay_state_prefix.
DEFAULT_RELAY_STATE_PREFIX = "ss:mem:"
MUTABLE = ("auth_url", "sp_url", "description", "enabled", "relay_state_prefix")


class ServiceProviderManager:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def load(s: Session, sp_id: str) -> m.ServiceProvider:
        return get_or_raise(s, SP, sp_id, lambda: errors.ServiceProviderNotFound(sp_id=sp_id))

    def get(self, sp_id: str) -> m.ServiceProvider:
        with self.db.session(readonly=True) as s:
            return self.load(s, sp_id)

    def list_sps(self, filters: Mapping) -> list[m.ServiceProvider]:
        stmt = sa.select(SP).order_by(SP.id)
        if "id" in filters:
            stmt = stmt.where(SP.id == filters["id"])
        if "enabled" in filters:
            stmt = stmt.where(SP.enabled.is_(filters["enabled"]))
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    @staticmethod
    def _duplicate(sp_id: str) -> errors.DuplicateEntry:
        return errors.DuplicateEntry(action="store service_provider", details=f"Duplicate entry: {sp_id}.")

    def create(self, sp_id: str, fields: Mapping) -> m.ServiceProvider:
        """Keystone's defaults: disabled, the default RelayState prefix (a ``null`` one too)."""
        try:
            with self.db.session() as s:
                if s.get(SP, sp_id) is not None:
                    raise self._duplicate(sp_id)
                sp = SP(id=sp_id, auth_url=fields["auth_url"], sp_url=fields["sp_url"],
                        description=fields.get("description"), enabled=bool(fields.get("enabled", False)),
                        relay_state_prefix=fields.get("relay_state_prefix") or DEFAULT_RELAY_STATE_PREFIX)
                s.add(sp)
                s.flush()
                return sp
        except sa_exc.IntegrityError:
            raise self._duplicate(sp_id) from None

    def update(self, sp_id: str, changes: Mapping) -> m.ServiceProvider:
        with self.db.session() as s:
            sp = self.load(s, sp_id)
            for key in MUTABLE:
                if key in changes:
                    value = changes[key]
                    if key == "relay_state_prefix" and value is None:
                        value = DEFAULT_RELAY_STATE_PREFIX
                    setattr(sp, key, value)
            s.flush()
            return sp

    def delete(self, sp_id: str) -> None:
        with self.db.session() as s:
            s.delete(self.load(s, sp_id))

    @staticmethod
    def in_token(s: Session) -> list[dict]:
        """The enabled service providers as a token lists them (Keystone's
        ``get_enabled_service_providers``)."""
        return [{"auth_url": sp.auth_url, "id": sp.id, "sp_url": sp.sp_url}
                for sp in s.scalars(sa.select(SP).where(SP.enabled.is_(True)).order_by(SP.id))]
