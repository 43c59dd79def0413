"""What other services may call of Identity: every API checks the caller's token.

``Cloud.identity`` hands out the implementation
(:class:`~pocketstack.identity.manager.Identity`); each service passes
``cloud.identity.validate_token`` to ``build_app`` as its token validator.  The call is
synchronous (it may read the database): the request wrapper makes it from a worker
thread.
"""

from __future__ import annotations

from typing import Protocol

from pocketstack.common.context import RequestContext

__all__ = ["IdentityContract", "RequestContext"]


class IdentityContract(Protocol):
    def validate_token(self, token: str) -> RequestContext:
        """The caller's context (user, project or domain or system scope, roles) for an
        ``X-Auth-Token``; raises ``Unauthorized`` (401) when the token is not valid now:
        malformed, expired, revoked, or its user, scope or roles are gone."""
        ...
