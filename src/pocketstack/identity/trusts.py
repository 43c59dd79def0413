"""Trusts (OS-TRUST): a trustor delegates some of their roles on one project to a
trustee, who then obtains trust-scoped tokens (as the trustor, with impersonation).

The rules are Keystone's: the trustor must hold every delegated role on the project;
``remaining_uses`` bounds how many tokens the trust issues (counted down by
compare-and-swap, so N racing requests on a trust with three uses get exactly three
tokens); a trust with ``allow_redelegation`` lets its trustee create a trust of its own
from a trust-scoped token, no wider, longer or more impersonating than its parent, at
most ``redelegation_count`` levels deep.  Deleting a trust deletes the trusts
redelegated from it; tokens are not stored, so validation re-reads the trust and the
trustor's roles and refuses a token whose trust is gone or whose roles are no longer held.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id, utcnow
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.identity import errors
from pocketstack.identity import models as m

T = m.Trust
MAX_REDELEGATION_COUNT = 3  # Keystone's [trust] max_redelegation_count default


def parse_expires_at(value: str | None) -> dt.datetime | None:
    """A trust's ``expires_at`` as Keystone reads it (UTC when no zone is given), stored
    naive UTC; 400 when unreadable or in the past."""
    if value is None:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise errors.TimestampFormat() from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if parsed < utcnow():
        raise errors.ExpiresAtInPast()
    return parsed


def _forbidden(reason: str) -> errors.TrustForbidden:
    return errors.TrustForbidden(reason=reason)


def check_redelegation(parent: m.Trust, child: dict) -> None:
    """Keystone's rules for ``child`` (a trust being created, or an existing one as a
    dict) redelegated from ``parent``; fills in the child's expiry from the parent's."""
    depth = parent.redelegation_count or 0
    if not 0 < depth <= MAX_REDELEGATION_COUNT:
        raise _forbidden(f"Remaining redelegation depth of {depth} out of allowed range of "
                         f"[0..{MAX_REDELEGATION_COUNT}]")
    if child.get("remaining_uses") is not None:
        raise _forbidden(f'Field "remaining_uses" is set to {child["remaining_uses"]} while it must not be set in '
                         "order to redelegate a trust")
    if child.get("expires_at"):
        if parent.expires_at is not None and parent.expires_at < child["expires_at"]:
            raise _forbidden("Requested expiration time is more than redelegated trust can provide")
    else:
        child["expires_at"] = parent.expires_at
    if not set(child["roles"]) <= set(parent.roles):
        raise _forbidden("Some of requested roles are not in redelegated trust")
    if not parent.impersonation and child["impersonation"]:
        raise _forbidden("Impersonation is not allowed because redelegated trust does not specify impersonation. "
                         f"Redelegated trust id: {parent.id}")


def _as_request(trust: m.Trust) -> dict:
    return {"remaining_uses": trust.remaining_uses, "expires_at": trust.expires_at, "roles": trust.roles,
            "impersonation": trust.impersonation}


class TrustManager:
    def __init__(self, db: Database, identity):
        self.db = db
        self.identity = identity

    # -- reading -----------------------------------------------------------------------
    def load(self, s: Session, trust_id: str, *, for_token: bool = False) -> m.Trust:
        """A trust that can still be used: 404 when deleted or expired, and -- except
        for validating a token already issued -- when its uses are exhausted.  A
        redelegated trust is checked along its whole chain."""
        trust = s.get(T, trust_id)
        if trust is None or (trust.expires_at is not None and trust.expires_at < utcnow()):
            raise errors.TrustNotFound(trust_id=trust_id)
        if not for_token and trust.remaining_uses is not None and trust.remaining_uses <= 0:
            raise errors.TrustNotFound(trust_id=trust_id)
        if trust.redelegated_trust_id:
            chain = self.pedigree(s, trust)
            for parent, child in zip(chain[1:], chain):
                check_redelegation(parent, _as_request(child))
                trustee = s.get(m.User, parent.trustee_user_id)
                if trustee is None or not trustee.enabled:
                    raise _forbidden("One of the trust agents is disabled or deleted")
        return trust

    @staticmethod
    def pedigree(s: Session, trust: m.Trust) -> list[m.Trust]:
        """``trust`` and the trusts it was redelegated from, up to the original."""
        chain = [trust]
        while chain[-1].redelegated_trust_id:
            parent = s.get(T, chain[-1].redelegated_trust_id)
            if parent is None:
                raise errors.TrustNotFound(trust_id=chain[-1].redelegated_trust_id)
            chain.append(parent)
        return chain

    def get(self, trust_id: str) -> m.Trust:
        with self.db.session(readonly=True) as s:
            return self.load(s, trust_id)

    def list_trusts(self, *, trustor_user_id: str | None = None, trustee_user_id: str | None = None) -> list[m.Trust]:
        # Keystone lists expired and used-up trusts too; only showing one is refused.
        stmt = sa.select(T).order_by(T.created_at, T.id)
        if trustor_user_id:
            stmt = stmt.where(T.trustor_user_id == trustor_user_id)
        if trustee_user_id:
            stmt = stmt.where(T.trustee_user_id == trustee_user_id)
        with self.db.session(readonly=True) as s:
            return list(s.scalars(stmt))

    def roles(self, s: Session, trust: m.Trust) -> list[m.Role]:
        """The trust's roles that still exist (a deleted role drops out, as in Keystone)."""
        found = {r.id: r for r in s.scalars(sa.select(m.Role).where(m.Role.id.in_(trust.roles)))}
        return [found[r] for r in trust.roles if r in found]

    # -- creating ----------------------------------------------------------------------
    def create(self, fields: dict, *, caller_trust_id: str | None, caller_oauth: bool = False) -> m.Trust:
        """Create the trust described by the validated request ``fields`` (the trustor is
        the caller, checked by the API); ``caller_trust_id`` is set when the caller's token
        is trust-scoped, making this a redelegation.  An OAuth token (``caller_oauth``)
        is a delegation that is not a trust, so it may not redelegate: refused after the
        trustee, roles and expiry are checked, where Keystone refuses it."""
        with self.db.session() as s:
            self.identity.users.load_user(s, fields["trustee_user_id"])
            trust = {"impersonation": fields["impersonation"], "remaining_uses": fields.get("remaining_uses"),
                     "project_id": fields.get("project_id") or None,
                     "roles": self._role_ids(s, fields.get("roles") or [])}
            parent = self.load(s, caller_trust_id) if caller_trust_id else None
            self._require_trustor_roles(s, fields["trustor_user_id"], trust, parent)
            trust["expires_at"] = parse_expires_at(fields.get("expires_at"))
            if caller_oauth and parent is None:
                raise errors.ForbiddenAction(action="Redelegation allowed for delegated by trust only")
            count = self._redelegation_count(fields, trust, parent)
            if parent is not None:
                for ancestor in self.pedigree(s, parent):
                    check_redelegation(ancestor, trust)
            extra = {k: v for k, v in fields.items() if k not in (
                "trustor_user_id", "trustee_user_id", "impersonation", "project_id", "remaining_uses", "expires_at",
                "allow_redelegation", "redelegation_count", "redelegated_trust_id", "roles", "id", "deleted_at")}
            row = T(id=new_id(), trustor_user_id=fields["trustor_user_id"], trustee_user_id=fields["trustee_user_id"],
                    project_id=trust["project_id"], impersonation=trust["impersonation"],
                    expires_at=trust["expires_at"], remaining_uses=trust["remaining_uses"],
                    redelegated_trust_id=parent.id if parent else None, redelegation_count=count,
                    roles=trust["roles"], extra=extra)
            s.add(row)
            s.flush()
            return row

    def _role_ids(self, s: Session, refs: list[dict]) -> list[str]:
        ids: list[str] = []
        for ref in refs:
            role_id = ref["id"] if ref.get("id") else self.identity.assignment.find_role_by_name(s, ref["name"]).id
            if role_id not in ids:
                ids.append(role_id)
        return ids

    def _require_trustor_roles(self, s: Session, trustor_id: str, trust: dict, parent: m.Trust | None) -> None:
        """Every delegated role is one the original trustor (the first of a redelegation
        chain) holds on the project; a trust without a project delegates no role."""
        held: set[str] = set()
        if trust["project_id"]:
            project = self.identity.resource.load_project(s, trust["project_id"])
            if parent is not None:
                trustor_id = self.pedigree(s, parent)[-1].trustor_user_id
            held = {r.id for r in self.identity.assignment.effective_roles(s, trustor_id, project=project)}
        for role_id in trust["roles"]:
            if role_id not in held:
                raise errors.RoleNotFound(role_id=role_id)

    @staticmethod
    def _redelegation_count(fields: dict, trust: dict, parent: m.Trust | None) -> int:
        """How many more times the new trust may be redelegated (Keystone's rules)."""
        requested = fields.get("redelegation_count")
        redelegatable = bool(fields.get("allow_redelegation")) and requested != 0
        if not redelegatable:
            if trust["remaining_uses"] is not None and trust["remaining_uses"] <= 0:
                raise errors.ValidationMessage(message="remaining_uses must be a positive integer or null.")
        else:
            if requested and requested > MAX_REDELEGATION_COUNT:
                raise _forbidden(f"Requested redelegation depth of {requested} is greater than allowed "
                                 f"{MAX_REDELEGATION_COUNT}")
            if trust["remaining_uses"] is not None:
                raise errors.ValidationMessage(message="remaining_uses must not be set if redelegation is allowed")
        default = MAX_REDELEGATION_COUNT
        if parent is not None:
            default = parent.redelegation_count - 1
            if redelegatable and requested and requested != default:
                raise _forbidden('Modifying "redelegation_count" upon redelegation is forbidden. Omitting this '
                                 "parameter is advised.")
        if not redelegatable:
            return 0
        return default if requested is None else requested

    # -- using ---------------------------------------------------------------------------
    def consume_use(self, trust_id: str) -> None:
        """Count one token issued through the trust down from ``remaining_uses`` by
        compare-and-swap (retried when a racing request got there first); 403 once none
        are left."""

        def work(s: Session) -> None:
            remaining = s.scalar(sa.select(T.remaining_uses).where(T.id == trust_id))
            if remaining is None:
                if s.get(T, trust_id) is None:
                    raise errors.TrustNotFound(trust_id=trust_id)
                return
            if remaining <= 0:
                raise errors.TrustUseLimitReached(trust_id=trust_id)
            cas_update(s, T, {"id": trust_id, "remaining_uses": remaining}, {"remaining_uses": remaining - 1})

        run_in_transaction(self.db, work)

    def token_roles(self, s: Session, trust: m.Trust) -> list[m.Role]:
        """The roles a token of ``trust`` carries: the delegated roles and the roles they
        imply, every one of which the original trustor must still hold on the project."""
        trustor_id = self.pedigree(s, trust)[-1].trustor_user_id if trust.redelegated_trust_id \
            else trust.trustor_user_id
        project = s.get(m.Project, trust.project_id) if trust.project_id else None
        wanted = self.identity.assignment._implied_closure(s, trust.roles)
        held = {r.id: r for r in self.identity.assignment.effective_roles(s, trustor_id, project=project)} \
            if project else {}
        if not wanted or not wanted <= set(held):
            raise _forbidden("Trustee has no delegated roles.")
        return sorted((held[r] for r in wanted), key=lambda r: r.name)

    # -- deleting ------------------------------------------------------------------------
    def delete(self, trust_id: str) -> None:
        """Delete the trust and, recursively, the trusts redelegated from it."""
        with self.db.session() as s:
            if s.get(T, trust_id) is None:
                raise errors.TrustNotFound(trust_id=trust_id)
            doomed, frontier = [trust_id], [trust_id]
            while frontier:
                frontier = list(s.scalars(sa.select(T.id).where(T.redelegated_trust_id.in_(frontier))))
                doomed.extend(frontier)
            s.execute(sa.delete(T).where(T.id.in_(doomed)))

    @staticmethod
    def delete_for_user(s: Session, user_id: str) -> None:
        """A deleted user's trusts go with them (either side), in the caller's transaction."""
        s.execute(sa.delete(T).where(sa.or_(T.trustor_user_id == user_id, T.trustee_user_id == user_id)))
