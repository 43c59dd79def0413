"""The request context: who is calling, in which scope, with which roles.

Built once per request by the API layer from a validated token and handed to handlers
and the policy engine.  Services never parse tokens themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from pocketstack.common.access_rules import Rule


@dataclass
class RequestContext:
    user_id: str | None = None
    user_name: str | None = None
    user_domain_id: str | None = None
    user_domain_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    project_domain_name: str | None = None
    domain_id: str | None = None  # set for domain-scoped tokens
    domain_name: str | None = None
    system_scope: str | None = None  # "all" for system-scoped tokens
    roles: list[str] = field(default_factory=list)
    role_ids: list[str] = field(default_factory=list)
    auth_token: str | None = None
    expires_at: dt.datetime | None = None
    audit_ids: list[str] = field(default_factory=list)
    application_credential_id: str | None = None
    # The application credential's access rules (common/access_rules.py); None: unrestricted.
    access_rules: tuple[Rule, ...] | None = None
    trust_id: str | None = None  # set for trust-scoped tokens
    access_token_id: str | None = None  # set for tokens of an OAuth 1.0a access token
    request_id: str = "-"

    @property
    def is_admin(self) -> bool:
        """Cloud administrator: the ``admin`` role in any scope (Keystone's legacy rule)."""
        return "admin" in self.roles

    @property
    def scope(self) -> str:
        if self.system_scope:
            return "system"
        if self.project_id:
            return "project"
        if self.domain_id:
            return "domain"
        return "unscoped"

    def credentials(self) -> dict[str, Any]:
        """What the policy engine checks rules against."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": self.roles,
            "is_admin": self.is_admin,
        }

    @classmethod
    def admin(cls) -> "RequestContext":
        """A context for the cloud's own internal work (bootstrap, periodic tasks)."""
        return cls(user_name="pocketstack", roles=["admin", "member", "reader"], system_scope="all")
