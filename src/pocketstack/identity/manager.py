"""The Identity service's logic, one facade over its parts, and the public entry
other services call (:class:`~pocketstack.identity.contract.IdentityContract`).

Parts refer to each other through this facade (``identity.resource``,
``identity.revoke``…) so each stays a small module with one job.
"""

from __future__ import annotations

from pocketstack.common.config import Settings
from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.identity.app_creds import AppCredentialManager
from pocketstack.identity.assignment import AssignmentManager
from pocketstack.identity.auth import TokenManager
from pocketstack.identity.catalog import CatalogManager
from pocketstack.identity.keys import KeyRepository
from pocketstack.identity.resource import ResourceManager
from pocketstack.identity.revoke import RevokeManager
from pocketstack.identity.tokens import TokenFormatter
from pocketstack.identity.users import UserManager


class Identity:
    """Keystone: projects and domains, users and groups, roles and assignments, the
    catalog, application credentials and Fernet tokens."""

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.keys = KeyRepository(settings.data_dir / "fernet-keys", settings.max_active_keys)
        self.revoke = RevokeManager(db, max_token_age=settings.token_expiration + settings.token_allow_expired_window)
        self.resource = ResourceManager(db, self)
        self.users = UserManager(db, self, settings.bcrypt_rounds)
        self.assignment = AssignmentManager(db, self)
        self.catalog = CatalogManager(db)
        self.app_creds = AppCredentialManager(db, self, settings.bcrypt_rounds)
        self.tokens = TokenManager(db, self, TokenFormatter(self.keys), settings.token_expiration,
                                   settings.verified_secret_ttl)

    def validate_token(self, token: str) -> RequestContext:
        """The caller's context for an ``X-Auth-Token``; 401 when it is not valid (the
        token validator of every service's ``build_app``)."""
        return self.tokens.context_for(token)
