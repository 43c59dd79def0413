"""OAuth 1.0a delegation (OS-OAUTH1), as Keystone's: an administrator registers a
consumer; the consumer asks for a *request token* on a project (signed with its secret);
a user holding roles there authorizes it for some of them and hands the consumer the
*verifier*; the consumer trades request token and verifier for an *access token* (the
request token is used up); signed with the access token, the ``oauth1`` method of
``POST /v3/auth/tokens`` issues project-scoped tokens carrying the delegated roles the
user still holds.

Tokens are not stored: validation re-reads the access token, so deleting it (or its
consumer, which takes its request and access tokens along) invalidates every token
issued from it at once.  A token lives no longer than its access token.
Request tokens last ``oauth1_request_token_duration`` seconds (28800), access tokens
``oauth1_access_token_duration`` (86400); 0 means forever, as Keystone's options.
"""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db import Database, new_id, utcnow
from pocketstack.common.db.cas import changed_rows
from pocketstack.common.lazy import lazy
from pocketstack.identity import errors
from pocketstack.identity import models as m

if TYPE_CHECKING:
    from pocketstack.identity import oauth1_signing as signing
else:  # oauthlib is imported by the first OAuth request, not at start
    signing = lazy("pocketstack.identity.oauth1_signing")

C, R, A = m.OAuthConsumer, m.OAuthRequestToken, m.OAuthAccessToken
TIMESTAMP_LIFETIME = 600  # oauthlib's: a signed request is good for ten minutes


@dataclass(frozen=True)
class SignedRequest:
    """What an OAuth signature covers: the URL as the client addressed it, the method,
    the headers (``Authorization: OAuth ...``) and a form body (no other body is signed)."""

    url: str
    method: str
    headers: Mapping[str, str]
    body: str = ""

    def oauth_params(self) -> dict[str, str]:
        header = self.headers.get("authorization") or self.headers.get("Authorization")
        if not header:
            raise errors.OAuthHeadersMissing()
        return signing.parse_authorization(header)


def with_scheme(url: str, base: str) -> str:
    """``url`` with the scheme of ``base`` (the service's public URL), as Keystone's
    ``_update_url_scheme``: behind a TLS-terminating proxy the client signed https."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((urllib.parse.urlsplit(base).scheme or parts.scheme, *parts[1:]))


def _expiry(duration: int) -> dt.datetime | None:
    """When a token made now expires, in whole seconds: what the create answer shows is
    what every backend stores (MariaDB's DATETIME keeps no fraction)."""
    return (utcnow() + dt.timedelta(seconds=duration)).replace(microsecond=0) if duration > 0 else None


def _expired(expires_at: dt.datetime | None) -> bool:
    return expires_at is not None and expires_at < utcnow()


class OAuth1Manager:
    def __init__(self, db: Database, identity, request_token_duration: int = 28800,
                 access_token_duration: int = 86400):
        self.db = db
        self.identity = identity
        self.request_token_duration = request_token_duration
        self.access_token_duration = access_token_duration
        self._nonces: signing.NonceCache | None = None

    # -- consumers -------------------------------------------------------------------------
    @staticmethod
    def load_consumer(s: Session, consumer_id: str) -> m.OAuthConsumer:
        consumer = s.get(C, consumer_id)
        if consumer is None:
            raise errors.ConsumerNotFound()
        return consumer

    def get_consumer(self, consumer_id: str) -> m.OAuthConsumer:
        with self.db.session(readonly=True) as s:
            return self.load_consumer(s, consumer_id)

    def list_consumers(self) -> list[m.OAuthConsumer]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(C).order_by(C.created_at, C.id)))

    def create_consumer(self, fields: dict) -> m.OAuthConsumer:
        """A consumer with a fresh secret (a given ``secret`` is ignored, as in Keystone)."""
        extra = {k: v for k, v in fields.items() if k not in ("id", "description", "secret")}
        with self.db.session() as s:
            consumer = C(id=new_id(), description=fields.get("description"), secret=secrets.token_hex(16),
                         extra=extra)
            s.add(consumer)
            s.flush()
            return consumer

    def update_consumer(self, consumer_id: str, fields: dict) -> m.OAuthConsumer:
        with self.db.session() as s:
            consumer = self.load_consumer(s, consumer_id)
            if "description" in fields:
                consumer.description = fields["description"]
            extra = {k: v for k, v in fields.items() if k not in ("id", "description", "secret")}
            if extra:
                consumer.extra = {**consumer.extra, **extra}
            s.flush()
            return consumer

    def delete_consumer(self, consumer_id: str) -> None:
        """The consumer, its request tokens and its access tokens (whose tokens then fail
        validation)."""
        with self.db.session() as s:
            self.load_consumer(s, consumer_id)
            s.execute(sa.delete(R).where(R.consumer_id == consumer_id))
            s.execute(sa.delete(A).where(A.consumer_id == consumer_id))
            s.execute(sa.delete(C).where(C.id == consumer_id))

    # -- signatures ------------------------------------------------------------------------
    def _validator(self) -> signing.Validator:
        if self._nonces is None:
            self._nonces = signing.NonceCache(TIMESTAMP_LIFETIME)
        lookups = signing.Secrets(self._consumer_secret, self._request_token_secret, self._access_token_secret)
        return signing.Validator(lookups, self._nonces)

    def _consumer_secret(self, consumer_id: str) -> str | None:
        with self.db.session(readonly=True) as s:
            consumer = s.get(C, consumer_id)
            return consumer.secret if consumer else None

    def _request_token_secret(self, token_id: str) -> tuple[str, str, str | None] | None:
        with self.db.session(readonly=True) as s:
            token = s.get(R, token_id)
            return (token.consumer_id, token.request_secret, token.verifier) if token else None

    def _access_token_secret(self, token_id: str) -> tuple[str, str] | None:
        with self.db.session(readonly=True) as s:
            token = s.get(A, token_id)
            return (token.consumer_id, token.access_secret) if token else None

    # -- the delegation flow ---------------------------------------------------------------
    def create_request_token(self, signed: SignedRequest, project_id: str | None) -> m.OAuthRequestToken:
        """Check the consumer's signed request for a request token on ``project_id``
        (the ``Requested-Project-Id`` header); both must exist (404)."""
        consumer_id = signed.oauth_params().get("oauth_consumer_key")
        if not consumer_id:
            raise errors.MissingAttribute(attribute="oauth_consumer_key", target="request")
        if not project_id:
            raise errors.MissingAttribute(attribute="Requested-Project-Id", target="request")
        with self.db.session(readonly=True) as s:
            self.identity.resource.load_project(s, project_id, domain=False)
            self.load_consumer(s, consumer_id)
        signing.check_request_token_request(signed, self._validator())
        with self.db.session() as s:
            token = R(id=new_id(), request_secret=secrets.token_hex(16), requested_project_id=project_id,
                      consumer_id=consumer_id, expires_at=_expiry(self.request_token_duration))
            s.add(token)
            s.flush()
            return token

    def _live_request_token(self, s: Session, token_id: str) -> m.OAuthRequestToken:
        token = s.get(R, token_id)
        if token is None:
            raise errors.RequestTokenNotFound()
        if _expired(token.expires_at):
            raise errors.OAuthFailed(reason="Request token is expired")
        return token

    def authorize(self, token_id: str, user_id: str, roles: list[dict]) -> str:
        """``user_id`` delegates ``roles`` (by id or name), which they must hold on the
        requested project (401 otherwise, as Keystone), and gets the verifier."""
        with self.db.session() as s:
            token = self._live_request_token(s, token_id)
            wanted = {r["id"] if r.get("id") else self.identity.assignment.find_role_by_name(s, r["name"]).id
                      for r in roles}
            project = s.get(m.Project, token.requested_project_id)
            held = {r.id for r in self.identity.assignment.effective_roles(s, user_id, project=project)} \
                if project is not None else set()
            if not wanted <= held:
                raise errors.OAuthFailed(reason="authorizing user does not have role required")
            token.authorizing_user_id = user_id
            token.role_ids = sorted(wanted)
            token.verifier = signing.new_verifier()
            return token.verifier

    def create_access_token(self, signed: SignedRequest) -> m.OAuthAccessToken:
        """Trade an authorized request token and its verifier (signed with both the
        consumer's and the request token's secret) for an access token; the request
        token is used up, exactly once however many race for it."""
        params = signed.oauth_params()
        for name in ("oauth_consumer_key", "oauth_token", "oauth_verifier"):
            if not params.get(name):
                raise errors.MissingAttribute(attribute=name, target="request")
        consumer_id, token_id = params["oauth_consumer_key"], params["oauth_token"]
        with self.db.session(readonly=True) as s:
            token = self._live_request_token(s, token_id)
            if s.get(C, consumer_id) is None:
                raise errors.OAuthFailed(reason="Provided consumer does not exist.")
        if token.consumer_id != consumer_id:
            raise errors.OAuthFailed(reason="Provided consumer key does not match stored consumer key.")
        if not signing.check_access_token_request(signed, self._validator()):
            if token.verifier is None or not secrets.compare_digest(token.verifier, params["oauth_verifier"]):
                raise errors.OAuthFailed(reason="Provided verifier does not match stored verifier")
            raise errors.OAuthFailed(reason="Invalid signature")
        if not token.authorizing_user_id:
            raise errors.OAuthFailed(reason="Request Token does not have an authorizing user id.")
        with self.db.session() as s:
            if changed_rows(s, sa.delete(R).where(R.id == token_id, R.verifier == token.verifier)) != 1:
                raise errors.RequestTokenNotFound()  # another request used it first
            access = A(id=new_id(), access_secret=secrets.token_hex(16),
                       authorizing_user_id=token.authorizing_user_id, project_id=token.requested_project_id,
                       role_ids=list(token.role_ids or []), consumer_id=consumer_id,
                       expires_at=_expiry(self.access_token_duration))
            s.add(access)
            s.flush()
            return access

    def authenticate(self, signed: SignedRequest) -> m.OAuthAccessToken:
        """The ``oauth1`` method: the access token a request was signed with (404 when
        unknown, 401 when expired or the signature is wrong, as Keystone)."""
        token_id = signed.oauth_params().get("oauth_token")
        if not token_id:
            raise errors.MissingAttribute(attribute="oauth_token", target="request")
        with self.db.session(readonly=True) as s:
            access = self.load_access_token(s, token_id)
        if _expired(access.expires_at):
            raise errors.OAuthFailed(reason="Access token is expired")
        if not signing.check_protected_request(signed, self._validator()):
            raise errors.OAuthFailed(reason="Could not validate the access token")
        return access

    # -- access tokens -----------------------------------------------------------------------
    @staticmethod
    def load_access_token(s: Session, token_id: str) -> m.OAuthAccessToken:
        access = s.get(A, token_id)
        if access is None:
            raise errors.AccessTokenNotFound()
        return access

    def get_access_token(self, user_id: str, token_id: str) -> m.OAuthAccessToken:
        """A user's access token (404 for another user's, as Keystone)."""
        with self.db.session(readonly=True) as s:
            access = self.load_access_token(s, token_id)
        if access.authorizing_user_id != user_id:
            raise errors.AccessTokenNotFound()
        return access

    def list_access_tokens(self, user_id: str) -> list[m.OAuthAccessToken]:
        with self.db.session(readonly=True) as s:
            return list(s.scalars(sa.select(A).where(A.authorizing_user_id == user_id).order_by(A.id)))

    def delete_access_token(self, user_id: str, token_id: str) -> None:
        """Revoke an access token (and so every token issued from it)."""
        with self.db.session() as s:
            access = self.load_access_token(s, token_id)
            if access.authorizing_user_id != user_id:
                raise errors.AccessTokenNotFound()
            s.delete(access)

    def token_roles(self, s: Session, access: m.OAuthAccessToken, user_roles: list[m.Role]) -> list[m.Role]:
        """The roles of a token issued from ``access``: the delegated roles and those they
        imply, among those the user still holds on the project (Keystone's ``_get_oauth_roles``)."""
        wanted = self.identity.assignment._implied_closure(s, access.role_ids)
        return [r for r in user_roles if r.id in wanted]
