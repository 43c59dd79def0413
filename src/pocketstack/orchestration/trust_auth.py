"""The engine's clients authenticate with a stack's trust (:mod:`.trusts`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import httpx

from pocketstack.orchestration.resources.base import ResourceFailure

if TYPE_CHECKING:
    from pocketstack.orchestration.trusts import Trustee


class TrustAuth(httpx.Auth):
    """A trust's token on every request: the trustee's kept one, and a new one when a
    service refuses the one sent (expired, revoked) -- which fails the request with
    Identity's reason if the trust no longer authenticates."""

    requires_request_body = True

    def __init__(self, trustee: Trustee, trust_id: str | None):
        self.trustee = trustee
        self.trust_id = trust_id

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self.trust_id is None:
            raise ResourceFailure("The stack holds no trust to act with (update or delete it to delegate anew)",
                                  "AuthorizationFailure")
        request.headers["X-Auth-Token"] = await self.trustee.token(self.trust_id)
        response = yield request
        if response.status_code in (401, 403):
            self.trustee.forget(self.trust_id)
            request.headers["X-Auth-Token"] = await self.trustee.token(self.trust_id)
            yield request
