"""``/v3/OS-OAUTH1``: consumers, the three legs of the delegation (request token,
authorize, access token) and ``/v3/users/{user_id}/OS-OAUTH1/access_tokens``
(keystone/api/os_oauth1.py, keystone/api/users.py).

The request and access token legs are public: the OAuth signature authenticates them.
Their answers are form-encoded (``oauth_token=..&oauth_token_secret=..&oauth_expires_at=..``).
A token issued through a delegation (trust, application credential, OAuth) may neither
authorize request tokens nor manage access tokens, as in Keystone.
"""

from __future__ import annotations

import urllib.parse

import sqlalchemy as sa
from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import schemas
from pocketstack.identity.api.common import caller_id
from pocketstack.identity.api.delegation import refuse_any_delegation
from pocketstack.identity.auth import format_time
from pocketstack.identity.manager import Identity
from pocketstack.identity.oauth1 import SignedRequest, with_scheme

OAUTH = "/v3/OS-OAUTH1"
CONSUMERS = OAUTH + "/consumers"
CONSUMER = CONSUMERS + "/{consumer_id}"
REQUEST_TOKEN = OAUTH + "/request_token"
ACCESS_TOKEN = OAUTH + "/access_token"
AUTHORIZE = OAUTH + "/authorize/{request_token_id}"
ACCESS_TOKENS = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"
FORM = "application/x-www-form-urlencoded"


def signed_request(req: ApiRequest) -> SignedRequest:
    """The request as its OAuth signature covers it: the URL the client addressed, with
    the scheme of the service's public URL (Keystone's ``_update_url_scheme``)."""
    return SignedRequest(url=with_scheme(req.url, req.service_url), method=req.method, headers=dict(req.headers),
                         body=req.body.decode("utf-8", "replace"))


def oauth_of(req: ApiRequest) -> SignedRequest | None:
    """The signed request, for an auth request with the ``oauth1`` method."""
    identity = req.data["auth"].get("identity") if isinstance(req.data.get("auth"), dict) else None
    methods = identity.get("methods") if isinstance(identity, dict) else None
    return signed_request(req) if isinstance(methods, list) and "oauth1" in methods else None


def consumer_body(base: str, consumer: m.OAuthConsumer, secret: bool = False) -> dict:
    body = {**consumer.extra, "id": consumer.id, "description": consumer.description,
            "links": {"self": f"{base}{CONSUMERS}/{consumer.id}"}}
    if secret:
        body["secret"] = consumer.secret
    return body


def form_response(token_id: str, secret: str, expires_at) -> Response:
    fields = {"oauth_token": token_id, "oauth_token_secret": secret}
    if expires_at is not None:
        fields["oauth_expires_at"] = format_time(expires_at)
    return Response(urllib.parse.urlencode(fields, safe=":"), status_code=201, media_type=FORM)


class ConsumersApi:
    """``/v3/OS-OAUTH1/consumers``: the administrator's registry of consumers; the secret
    is shown once, when the consumer is created."""

    def __init__(self, identity: Identity):
        self.oauth1 = identity.oauth1

    @route.get(CONSUMERS, policy="identity:list_consumers")
    @route.head(CONSUMERS, policy="identity:list_consumers")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"consumers": [consumer_body(req.service_url, c) for c in self.oauth1.list_consumers()],
                "links": {"self": f"{req.service_url}{CONSUMERS}", "previous": None, "next": None}}

    @route.post(CONSUMERS, policy="identity:create_consumer", body=schemas.consumer_create, body_required=False,
                authorize_first=True)
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        consumer = self.oauth1.create_consumer((req.data or {}).get("consumer") or {})
        return json_response({"consumer": consumer_body(req.service_url, consumer, secret=True)}, status=201)

    @route.get(CONSUMER, policy="identity:get_consumer")
    @route.head(CONSUMER, policy="identity:get_consumer")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"consumer": consumer_body(req.service_url, self.oauth1.get_consumer(req.path_params["consumer_id"]))}

    @route.patch(CONSUMER, policy="identity:update_consumer", body=schemas.consumer_update, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        req.authorize()
        consumer_id, fields = req.path_params["consumer_id"], req.data["consumer"]
        if "id" in fields and fields["id"] != consumer_id:
            raise errors.ValidationMessage(message="Cannot change the id of a consumer.")
        consumer = self.oauth1.update_consumer(consumer_id, fields)
        return {"consumer": consumer_body(req.service_url, consumer)}

    @route.delete(CONSUMER, policy="identity:delete_consumer")
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.oauth1.delete_consumer(req.path_params["consumer_id"])


class DelegationApi:
    """The three legs: the consumer's signed request token, the user's authorization
    (the verifier), the consumer's signed exchange for an access token."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.oauth1 = identity.oauth1

    @route.post(REQUEST_TOKEN, public=True)
    def request_token(self, req: ApiRequest) -> Response:
        token = self.oauth1.create_request_token(signed_request(req), req.headers.get("requested-project-id"))
        return form_response(token.id, token.request_secret, token.expires_at)

    @route.put(AUTHORIZE, policy="identity:authorize_request_token", body=schemas.request_token_authorize,
               body_required=False, authorize_first=True)
    def authorize(self, req: ApiRequest) -> dict:
        req.authorize()
        refuse_any_delegation(req, "Cannot authorize a request token")
        roles = (req.data or {}).get("roles") or []
        verifier = self.oauth1.authorize(req.path_params["request_token_id"], caller_id(req), roles)
        return {"token": {"oauth_verifier": verifier}}

    @route.post(ACCESS_TOKEN, public=True)
    def access_token(self, req: ApiRequest) -> Response:
        token = self.oauth1.create_access_token(signed_request(req))
        return form_response(token.id, token.access_secret, token.expires_at)


def access_token_body(base: str, token: m.OAuthAccessToken) -> dict:
    own = f"{base}/v3/users/{token.authorizing_user_id}/OS-OAUTH1/access_tokens/{token.id}"
    return {"id": token.id, "consumer_id": token.consumer_id, "project_id": token.project_id,
            "authorizing_user_id": token.authorizing_user_id,
            "expires_at": format_time(token.expires_at) if token.expires_at else None,
            "links": {"self": own, "roles": own + "/roles"}}


def role_body(base: str, role: m.Role) -> dict:
    """Keystone's ``_format_role_entity``: the role without its description."""
    return {"id": role.id, "name": role.name,
            "domain_id": None if role.domain_id == m.NULL_DOMAIN_ID else role.domain_id,
            "links": {"self": f"{base}/v3/roles/{role.id}"}}


class AccessTokensApi:
    """``/v3/users/{user_id}/OS-OAUTH1/access_tokens``: what a user delegated; deleting
    one revokes the tokens issued from it."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.oauth1 = identity.oauth1

    def _enter(self, req: ApiRequest) -> str:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        refuse_any_delegation(req, "Cannot manage OAuth access tokens")
        return user_id

    @route.get(ACCESS_TOKENS, policy="identity:list_access_tokens")
    @route.head(ACCESS_TOKENS, policy="identity:list_access_tokens")
    def index(self, req: ApiRequest) -> dict:
        user_id = self._enter(req)
        base = req.service_url
        return {"access_tokens": [access_token_body(base, t) for t in self.oauth1.list_access_tokens(user_id)],
                "links": {"self": f"{base}/v3/users/{user_id}/OS-OAUTH1/access_tokens", "previous": None,
                          "next": None}}

    @route.get(ACCESS_TOKENS + "/{access_token_id}", policy="identity:get_access_token")
    @route.head(ACCESS_TOKENS + "/{access_token_id}", policy="identity:get_access_token")
    def show(self, req: ApiRequest) -> dict:
        user_id = self._enter(req)
        token = self.oauth1.get_access_token(user_id, req.path_params["access_token_id"])
        return {"access_token": access_token_body(req.service_url, token)}

    @route.delete(ACCESS_TOKENS + "/{access_token_id}", policy="identity:delete_access_token")
    def delete(self, req: ApiRequest) -> None:
        user_id = self._enter(req)
        self.oauth1.delete_access_token(user_id, req.path_params["access_token_id"])

    def _roles(self, req: ApiRequest) -> tuple[m.OAuthAccessToken, list[m.Role]]:
        user_id = req.path_params["user_id"]
        req.authorize(target={"target.user.id": user_id})
        token = self.oauth1.get_access_token(user_id, req.path_params["access_token_id"])
        with self.identity.db.session(readonly=True) as s:
            found = {r.id: r for r in s.scalars(sa.select(m.Role).where(m.Role.id.in_(token.role_ids)))}
        return token, [found[r] for r in token.role_ids if r in found]

    @route.get(ACCESS_TOKENS + "/{access_token_id}/roles", policy="identity:list_access_token_roles")
    @route.head(ACCESS_TOKENS + "/{access_token_id}/roles", policy="identity:list_access_token_roles")
    def roles(self, req: ApiRequest) -> dict:
        token, roles = self._roles(req)
        return {"roles": [role_body(req.service_url, r) for r in roles],
                "links": {"self": access_token_body(req.service_url, token)["links"]["roles"], "previous": None,
                          "next": None}}

    @route.get(ACCESS_TOKENS + "/{access_token_id}/roles/{role_id}", policy="identity:get_access_token_role")
    @route.head(ACCESS_TOKENS + "/{access_token_id}/roles/{role_id}", policy="identity:get_access_token_role")
    def role(self, req: ApiRequest) -> dict:
        _token, roles = self._roles(req)
        role = next((r for r in roles if r.id == req.path_params["role_id"]), None)
        if role is None:
            raise errors.RoleNotFound(role_id=req.path_params["role_id"])
        return {"role": role_body(req.service_url, role)}
