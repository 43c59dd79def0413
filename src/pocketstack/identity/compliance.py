"""Security compliance (Keystone's PCI-DSS options): account lockout after failed
password logins, password expiry, forced change at first use, password history,
minimum password age and a password regex.

Every rule is off unless its setting is.  Failed logins are counted with one atomic
``UPDATE ... SET failed_auth_count = failed_auth_count + 1``, and only while lockout is
enabled, so racing wrong guesses all count and a cloud without lockout writes nothing
on a failed login.  Users may opt out per rule through Keystone's user options
(``ignore_lockout_failure_attempts``, ``ignore_password_expiry``,
``ignore_change_password_upon_first_use``, ``lock_password``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.config import Settings
from pocketstack.common.db import Database, utcnow
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.passwords import check_password

READABLE = ("password_regex", "password_regex_description")  # what /config/security_compliance shows


@dataclass(frozen=True)
class SecurityCompliance:
    lockout_failure_attempts: int = 0
    lockout_duration: int = 1800
    password_expires_days: int = 0
    unique_last_password_count: int = 0
    minimum_password_age: int = 0
    password_regex: str = ""
    password_regex_description: str = ""
    change_password_upon_first_use: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> SecurityCompliance:
        return cls(**{name: getattr(settings, name) for name in cls.__dataclass_fields__})

    # -- new passwords ------------------------------------------------------------------
    def check_requirements(self, password: str) -> None:
        """400 unless ``password`` matches the configured regex."""
        if not self.password_regex:
            return
        try:
            matched = re.match(self.password_regex, password)
        except re.error:
            raise errors.PasswordValidation(
                detail="Unable to validate password due to invalid configuration") from None
        if not matched:
            raise errors.PasswordRequirements(detail=self.password_regex_description or None)

    def expires_at(self, user: m.User, *, self_service: bool, now: dt.datetime) -> dt.datetime | None:
        """When a password set now expires: at once when an administrator set it and it
        must be changed at first use, else after ``password_expires_days``."""
        options = user.options or {}
        if not self_service and self.change_password_upon_first_use and not options.get(
                "ignore_change_password_upon_first_use"):
            return now
        if self.password_expires_days and not options.get("ignore_password_expiry"):
            return now + dt.timedelta(days=self.password_expires_days)
        return None

    def check_self_service_change(self, user: m.User, new: str, history: list[str]) -> None:
        """The rules a user changing their own password obeys (an administrator's reset
        does not): not locked, not too soon after their last change, none of the
        ``history`` hashes reused (bcrypt, so called outside any transaction)."""
        if (user.options or {}).get("lock_password"):
            raise errors.PasswordSelfServiceDisabled()
        if self.minimum_password_age and user.password_self_service and user.password_created_at:
            earliest = user.password_created_at + dt.timedelta(days=self.minimum_password_age)
            now = utcnow()
            if now < earliest:
                raise errors.PasswordAge(min_age_days=self.minimum_password_age, days_left=(earliest - now).days)
        if self.unique_last_password_count:
            for old in history[:self.unique_last_password_count]:
                if check_password(new, old):
                    raise errors.PasswordHistory(unique_count=self.unique_last_password_count)

    def password_expired(self, user: m.User) -> bool:
        return bool(user.password_expires_at and user.password_expires_at <= utcnow()
                    and not (user.options or {}).get("ignore_password_expiry"))

    # -- lockout ------------------------------------------------------------------------
    def _lockout_applies(self, user: m.User) -> bool:
        return bool(self.lockout_failure_attempts) and not (user.options or {}).get("ignore_lockout_failure_attempts")

    def is_locked(self, db: Database, user: m.User) -> bool:
        """Whether too many failed logins lock the account now; a lock that has run its
        ``lockout_duration`` is lifted (the count starts again)."""
        if not self._lockout_applies(user) or (user.failed_auth_count or 0) < self.lockout_failure_attempts:
            return False
        if not self.lockout_duration or user.failed_auth_at is None:
            return True
        if user.failed_auth_at + dt.timedelta(seconds=self.lockout_duration) > utcnow():
            return True
        self.reset_failures(db, user)
        return False

    def record_failure(self, db: Database, user: m.User) -> None:
        if self._lockout_applies(user):
            with db.session() as s:
                s.execute(sa.update(m.User).where(m.User.id == user.id).values(
                    failed_auth_count=sa.func.coalesce(m.User.failed_auth_count, 0) + 1, failed_auth_at=utcnow()))

    @staticmethod
    def reset_failures(db: Database, user: m.User) -> None:
        if user.failed_auth_count:
            with db.session() as s:
                s.execute(sa.update(m.User).where(m.User.id == user.id).values(failed_auth_count=0,
                                                                               failed_auth_at=None))

    # -- what the domain config API shows --------------------------------------------------
    def readable(self) -> dict[str, str | None]:
        return {name: getattr(self, name) or None for name in READABLE}


def recent_hashes(s: Session, user_id: str, count: int) -> list[str]:
    """The user's last ``count`` password hashes, the current one first."""
    if count <= 0:
        return []
    H = m.PasswordHistory
    return list(s.scalars(sa.select(H.password_hash).where(H.user_id == user_id)
                          .order_by(H.created_at.desc(), H.id.desc()).limit(count)))


def remember_password(s: Session, user: m.User, password_hash: str, keep: int) -> None:
    """Add the user's new password to their history, keeping the last ``keep``."""
    H = m.PasswordHistory
    s.add(H(user_id=user.id, password_hash=password_hash, created_at=utcnow()))
    s.flush()
    stale = list(s.scalars(sa.select(H.id).where(H.user_id == user.id)
                           .order_by(H.created_at.desc(), H.id.desc()).offset(max(keep, 1))))
    if stale:
        s.execute(sa.delete(H).where(H.id.in_(stale)))
