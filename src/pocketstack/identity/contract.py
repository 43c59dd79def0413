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

    def issue_token(self, user_name: str, project_name: str) -> str:
        """A project-scoped token of a user of the Default domain, issued in-process
        without their password, for the cloud's own actors that act through its public
        APIs (``pocketstack up --seed`` as the bootstrap admin); raises ``NotFound``
        when the user, the project or a role of the user on it is missing."""
        ...

    def project_exists(self, project_id: str) -> bool:
        """Whether Keystone has a project (not a domain) of this id: what Cinder asks
        before it sets or shows a project's default volume type."""
        ...
