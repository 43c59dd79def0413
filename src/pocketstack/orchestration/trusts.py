"""How the engine acts for a stack's owner after the request that started it: a Keystone
trust, as Heat's ``deferred_auth_method = trusts``.

When a stack is created the user's request delegates, through the Identity API, the
user's roles on the project (or ``orchestration_trusts_delegated_roles``) to the
orchestration service's own user -- the trustee -- with impersonation; the stack keeps the
trust's id.  A request that is itself trust-scoped (a nested stack made by the engine)
keeps the trust it acts under, as Heat's ``create_trust_context`` does.  Deferred work
authenticates as the trustee with the trust's scope and acts with that token (the
trustor's identity and delegated roles), through :meth:`pocketstack.cloud.Cloud.api_client`
like any client; tokens are kept per trust and taken again once three quarters of their
life are gone, or when a service refuses one.  A trust that no longer authenticates (its
trustor lost a delegated role, was disabled or deleted) fails the step that needed it with
Identity's reason.  The trust is deleted with the last stack holding it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

from pocketstack.common.answers import Answer
from pocketstack.common.context import RequestContext
from pocketstack.common.kept_secret import kept_secret
from pocketstack.orchestration import errors
from pocketstack.orchestration.resources.base import ResourceFailure

if TYPE_CHECKING:
    import httpx

    from pocketstack.common.config import Settings

LOG = logging.getLogger(__name__)
TOKENS = "/identity/v3/auth/tokens"
TRUSTS = "/identity/v3/OS-TRUST/trusts"
PASSWORD_FILE = "orchestration-trustee-password"
DEFAULT_DOMAIN = "default"


def trustee_password(settings: Settings) -> str:
    """The trustee's password: the setting, else the one kept in the data directory."""
    return settings.orchestration_trustee_password or kept_secret(settings.data_dir / PASSWORD_FILE, create=True)


def _seconds(timestamp: str) -> float:
    return dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _reason(answer: Answer) -> str:
    return answer.message or answer.text or answer.reason


class Trustee:
    """The orchestration service's user: makes stacks' trusts (with the user's token),
    takes trust-scoped tokens and deletes trusts."""

    def __init__(self, cloud: Any):
        self.cloud = cloud
        self._user_id: str | None = None
        # trust id -> (token, time.time() after which it is taken again)
        self._tokens: dict[str, tuple[str, float]] = {}

    async def _authenticate(self, scope: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """A token of the trustee (its password), with ``scope``; AuthorizationFailure
        with Identity's reason when refused."""
        settings = self.cloud.settings
        auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
            "name": settings.orchestration_trustee_user, "domain": {"id": DEFAULT_DOMAIN},
            "password": trustee_password(settings)}}}}
        if scope is not None:
            auth["scope"] = scope
        async with self.cloud.api_client() as client:
            response = await client.post(TOKENS, json={"auth": auth})
        if response.status_code != 201:
            what = f"the stack's trust {scope['OS-TRUST:trust']['id']}" if scope else "the orchestration service user"
            raise ResourceFailure(f"Could not authenticate with {what}: {_reason(Answer.of(response))}",
                                  "AuthorizationFailure", response.status_code)
        return response.headers["X-Subject-Token"], response.json()["token"]

    async def user_id(self) -> str:
        if self._user_id is None:
            _, token = await self._authenticate(None)
            self._user_id = token["user"]["id"]
        return self._user_id

    async def token(self, trust_id: str) -> str:
        """A token of ``trust_id``, the kept one while it has a quarter of its life left."""
        kept = self._tokens.get(trust_id)
        if kept is not None and time.time() < kept[1]:
            return kept[0]
        token, body = await self._authenticate({"OS-TRUST:trust": {"id": trust_id}})
        issued, expires = _seconds(body["issued_at"]), _seconds(body["expires_at"])
        self._tokens[trust_id] = (token, issued + (expires - issued) * 0.75)
        return token

    def forget(self, trust_id: str) -> None:
        self._tokens.pop(trust_id, None)

    def client(self, trust_id: str | None) -> httpx.AsyncClient:
        """A client of the cloud's APIs (:meth:`~pocketstack.cloud.Cloud.api_client`)
        acting with the trust (:class:`.trust_auth.TrustAuth`)."""
        from pocketstack.orchestration.trust_auth import TrustAuth  # httpx: engines only

        client = self.cloud.api_client()
        client.auth = TrustAuth(self, trust_id)
        return client

    # -- a stack's trust ---------------------------------------------------------------
    async def delegate(self, context: RequestContext, project_id: str) -> str:
        """The trust a new stack of ``context``'s request holds: the request's own when
        it is trust-scoped, else a new one from the caller to the trustee (400
        ``MissingCredentialError`` when Identity finds the roles not held, Identity's own
        4xx otherwise, 403 when the trustee cannot authenticate)."""
        if context.trust_id:
            return context.trust_id
        wanted = [r.strip() for r in self.cloud.settings.orchestration_trusts_delegated_roles.split(",") if r.strip()]
        roles = [{"name": name} for name in wanted] or [{"id": role_id} for role_id in context.role_ids]
        try:
            trustee = await self.user_id()
        except ResourceFailure as failure:  # the service's user is missing or its password wrong
            raise errors.TrustNotCreated(reason=failure.message) from None
        body = {"trust": {"trustor_user_id": context.user_id, "trustee_user_id": trustee,
                          "project_id": project_id, "impersonation": True, "roles": roles}}
        async with self.cloud.api_client(context.auth_token) as client:
            response = await client.post(TRUSTS, json=body)
        if response.status_code == 201:
            return str(response.json()["trust"]["id"])
        answer = Answer.of(response)
        if response.status_code == 404:
            raise errors.MissingCredentialError(required=f"roles {', '.join(wanted) or context.roles}")
        raise errors.TrustNotCreated(reason=_reason(answer), status=response.status_code
                                     if 400 <= response.status_code < 500 else 403)

    async def release(self, trust_id: str | None) -> None:
        """Delete the trust (acting with it: the trustor, impersonated, may).  As Heat, a
        trust that cannot be deleted is only logged: the stack's delete stands."""
        if not trust_id:
            return
        try:
            async with self.client(trust_id) as client:
                response = await client.delete(f"{TRUSTS}/{trust_id}")
        except ResourceFailure as failure:
            LOG.warning("trust %s not deleted: %s", trust_id, failure.message)
            return
        finally:
            self.forget(trust_id)
        if response.status_code not in (204, 404):
            LOG.warning("trust %s not deleted: %s", trust_id, _reason(Answer.of(response)))

