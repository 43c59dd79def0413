"""Authentication and token validation.

``authenticate`` checks the methods of an auth request (password, token,
application_credential, totp, kerberos, oauth1, a federation protocol's) and the user's
MFA rules (``receipts.py``), resolves the requested scope and seals a token (Fernet or JWS).
``validate`` opens a token and re-derives everything that may have changed since it was
issued — user and scope still exist and are enabled, the token is not revoked, the user
still holds roles there — in one read-only transaction.  The same validation backs
``GET /v3/auth/tokens`` and the token middleware of every service, so a revoked token
is rejected everywhere at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.access_rules import Rule
from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database, utcnow
from pocketstack.identity import errors, receipts, totp
from pocketstack.identity import models as m
from pocketstack.identity.access_rules import AccessRuleManager
from pocketstack.identity.federation import FEDERATED_METHODS, FederatedLogin
from pocketstack.identity.kerberos import Negotiated, refused
from pocketstack.identity.passwords import VerifiedSecrets
from pocketstack.identity.receipts import AuthReceiptIssued, Receipt, ReceiptError, ReceiptFormatter
from pocketstack.identity.service_providers import ServiceProviderManager
from pocketstack.identity.tokens import (
    SCOPE_DOMAIN,
    SCOPE_PROJECT,
    SCOPE_SYSTEM,
    SCOPE_UNSCOPED,
    Formatter,
    TokenError,
    TokenPayload,
    new_audit_id,
)
from pocketstack.identity.validation_cache import ValidationCache

if TYPE_CHECKING:
    from pocketstack.identity.oauth1 import SignedRequest


@dataclass
class ValidatedToken:
    """A token opened and checked against the current state of the database."""

    token: str
    payload: TokenPayload
    user: m.User
    user_domain: m.Project
    roles: list[m.Role] = field(default_factory=list)
    project: m.Project | None = None
    project_domain: m.Project | None = None
    domain: m.Project | None = None
    system: bool = False
    app_cred: m.ApplicationCredential | None = None
    access_rules: list[Rule] | None = None  # the application credential's, if it has any
    trust: m.Trust | None = None
    access_token: m.OAuthAccessToken | None = None  # an OAuth 1.0a token's (OS-OAUTH1)
    catalog: list[dict] | None = None
    # The enabled service providers (Keystone to Keystone), listed in every token.
    service_providers: list[dict] = field(default_factory=list)
    # The validation cache's generation this was checked at (None: checked outside it).
    generation: int | None = None

    @property
    def expires_at(self) -> dt.datetime:
        return _utc(self.payload.expires_at)

    @property
    def issued_at(self) -> dt.datetime:
        return _utc(self.payload.issued_at)

    def context(self) -> RequestContext:
        return RequestContext(
            user_id=self.user.id, user_name=self.user.name,
            user_domain_id=self.user_domain.id, user_domain_name=self.user_domain.name,
            project_id=self.project.id if self.project else None,
            project_name=self.project.name if self.project else None,
            project_domain_id=self.project_domain.id if self.project_domain else None,
            project_domain_name=self.project_domain.name if self.project_domain else None,
            domain_id=self.domain.id if self.domain else None,
            domain_name=self.domain.name if self.domain else None,
            system_scope="all" if self.system else None,
            roles=[r.name for r in self.roles], role_ids=[r.id for r in self.roles],
            auth_token=self.token, expires_at=self.expires_at, audit_ids=self.payload.audit_ids,
            application_credential_id=self.app_cred.id if self.app_cred else None,
            access_rules=tuple(self.access_rules) if self.access_rules is not None else None,
            trust_id=self.trust.id if self.trust else None,
            access_token_id=self.access_token.id if self.access_token else None,
        )


def format_time(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


# The methods POST /v3/auth/tokens implements; ``auth_methods`` enables some of them
# (all but ``kerberos`` by default).
AUTH_METHODS = ("password", "token", "application_credential", "totp", "kerberos", "oauth1")
DEFAULT_AUTH_METHODS = (*AUTH_METHODS[:4], "oauth1")
KERBEROS = "kerberos"
# Stands for the catalog while a validated token's JSON is cached (random: no name or id
# in the body can contain it), so the pieces around it are kept and the catalog's JSON,
# cached per generation and project, goes between them.
_CATALOG_MARK = f"catalog-{uuid.uuid4().hex}"
_CATALOG_MARK_JSON = json.dumps([_CATALOG_MARK]).encode()


def is_federated(method: str, body) -> bool:
    """Whether ``method`` (with its ``body``) is a federation protocol's sign-in: one of
    FEDERATED_METHODS, where ``kerberos`` is federation's only with an identity provider
    (keystoneauth's ``v3kerberos`` sends ``"kerberos": {}``, Keystone's KerberosDomain)."""
    if method == KERBEROS:
        return isinstance(body, dict) and "identity_provider" in body
    return method in FEDERATED_METHODS


@dataclass(frozen=True)
class AuthSettings:
    """Keystone's ``[auth] methods``, ``[totp] included_previous_windows`` and
    ``[receipt] expiration``."""

    methods: tuple[str, ...] = DEFAULT_AUTH_METHODS
    totp_previous_windows: int = 1
    receipt_expiration: int = 300


class TokenManager:
    def __init__(self, db: Database, identity, formatter: Formatter, expiration: int,
                 verified_secret_ttl: float, auth: AuthSettings, receipt_formatter: ReceiptFormatter):
        self.db = db
        self.identity = identity
        self.formatter = formatter
        self.expiration = expiration
        self.cache = ValidationCache(db)
        self.secrets = VerifiedSecrets(verified_secret_ttl)
        self.methods = [name for name in auth.methods if name in AUTH_METHODS]
        self.totp_previous_windows = auth.totp_previous_windows
        self.receipt_expiration = auth.receipt_expiration
        self.receipts = receipt_formatter

    # -- issuing ---------------------------------------------------------------------
    def kerberos_requested(self, auth) -> bool:
        """Whether ``auth`` (the body's ``auth``) signs in with the enabled ``kerberos``
        method, for which the request must carry a ``Negotiate`` token."""
        identity = auth.get("identity") if isinstance(auth, dict) else None
        if KERBEROS not in self.methods or not isinstance(identity, dict):
            return False
        methods = identity.get("methods")
        return isinstance(methods, list) and KERBEROS in methods and not is_federated(KERBEROS, identity.get(KERBEROS))

    def authenticate(self, auth: dict, receipt_id: str | None = None,
                     assertion: Mapping[str, str] | None = None,
                     negotiated: Negotiated | None = None,
                     oauth: SignedRequest | None = None) -> ValidatedToken:
        """Handle the body of ``POST /v3/auth/tokens`` (and its ``Openstack-Auth-Receipt``);
        returns the new, validated token, or raises :class:`AuthReceiptIssued` when the
        user's MFA rules want more methods.  ``assertion``: the identity provider's
        attributes that came with the request (identity/federation.py), for a federation
        protocol's method; ``negotiated``: the Kerberos principal its ``Negotiate`` header
        proved (identity/kerberos.py), for the ``kerberos`` method; ``oauth``: the request as
        signed, for the ``oauth1`` method."""
        identity = auth.get("identity") or {}
        methods = identity.get("methods") or []
        if not methods:
            raise errors.InvalidInput(field="identity.methods", reason="at least one method is required.")
        unknown = [x for x in methods if x not in self.methods and not is_federated(x, identity.get(x))]
        if unknown:
            raise errors.UnsupportedAuthMethod(method=unknown[0])
        for method in methods:
            if method not in identity:
                raise errors.InvalidInput(field="identity", reason=f"'{method}' is a required property")

        expires_at = time.time() + self.expiration
        audit_ids = [new_audit_id()]
        app_cred = None
        user_id = None
        user: m.User | None = None  # the authenticated user's row, once a method has read it
        carried_methods: list[str] = []
        federated: FederatedLogin | None = None
        if "token" in methods:
            # A token that no longer validates is a 404 here too, as in Keystone (whose
            # token method validates it like GET /v3/auth/tokens does).
            original = self.validate(self._token_id(identity["token"]))
            user_id, user = original.user.id, original.user
            expires_at = original.payload.expires_at
            audit_ids = [new_audit_id(), original.payload.audit_chain_id]
            # A rescoped token keeps the methods the original was obtained with (Keystone does too).
            carried_methods = original.payload.methods
            if original.app_cred:
                raise errors.ApplicationCredentialRescope()
            if original.trust:
                raise errors.ForbiddenAction(action="Using trust-scoped token to create another token. Create a new "
                                                    "trust-scoped token instead")
            if original.access_token:
                raise errors.ForbiddenAction(action="Using OAuth-scoped token to create another token. Create a new "
                                                    "OAuth-scoped token instead")
            if original.payload.idp_id:
                federated = self._rescoped_federation(original.payload)
        for method, check in (("password", self._check_password), ("totp", self._check_totp)):
            if method in methods:
                user = check(identity[method])
                if user_id and user.id != user_id:
                    raise errors.AuthenticationRequired()
                user_id = user.id
        if KERBEROS in methods and not is_federated(KERBEROS, identity[KERBEROS]):
            user = self._check_kerberos(negotiated)
            if user_id and user.id != user_id:
                raise errors.AuthenticationRequired()
            user_id = user.id
        if "application_credential" in methods:
            app_cred = self._check_app_cred(identity["application_credential"])
            user_id = app_cred.user_id
            if app_cred.expires_at:
                expires_at = min(expires_at, app_cred.expires_at.replace(tzinfo=dt.timezone.utc).timestamp())

        access = None
        if "oauth1" in methods:
            if oauth is None:
                raise errors.OAuthHeadersMissing()
            access = self.identity.oauth1.authenticate(oauth)
            if user_id and access.authorizing_user_id != user_id:
                raise errors.AuthenticationRequired()
            user_id = access.authorizing_user_id
            if access.expires_at:
                expires_at = min(expires_at, access.expires_at.replace(tzinfo=dt.timezone.utc).timestamp())

        for method in (x for x in methods if is_federated(x, identity[x])):
            login = self._federated_login(identity[method], assertion or {})
            if user_id and login.user_id != user_id:
                raise errors.AuthenticationRequired()
            user_id = login.user_id
            federated = login if login.idp_id else federated

        assert user_id is not None  # every method above names the user (or raised)
        passed = self._enforce_mfa(user_id, user, {*methods, *carried_methods}, receipt_id)
        scope = auth.get("scope")
        trust = None
        if app_cred:
            scope_type, scope_id = SCOPE_PROJECT, app_cred.project_id
        elif access:  # the access token's project, whatever scope was asked for (Keystone)
            scope_type, scope_id = SCOPE_PROJECT, access.project_id
        elif isinstance(scope, dict) and "OS-TRUST:trust" in scope:
            trust = self._trust_for(scope, user_id)
            scope_type, scope_id = SCOPE_PROJECT, trust.project_id
            if trust.expires_at:
                expires_at = min(expires_at, trust.expires_at.replace(tzinfo=dt.timezone.utc).timestamp())
        else:
            scope_type, scope_id = self.resolve_scope(scope, user_id)
        payload = TokenPayload(user_id=user_id, methods=receipts.method_order(passed),
                               expires_at=expires_at,
                               scope_type=scope_type, scope_id=scope_id, audit_ids=audit_ids,
                               application_credential_id=app_cred.id if app_cred else None,
                               trust_id=trust.id if trust else None,
                               access_token_id=access.id if access else None)
        if federated:
            payload.idp_id, payload.protocol_id = federated.idp_id, federated.protocol_id
            payload.group_ids = federated.group_ids
        return self.mint(payload)

    def _federated_login(self, body, assertion: Mapping[str, str]) -> FederatedLogin:
        """A federation protocol's method (``{"identity_provider", "protocol"}``): the
        assertion mapped through the protocol's mapping (keystone/auth/plugins/mapped.py)."""
        if not isinstance(body, dict):
            raise errors.InvalidInput(field="identity", reason="expected an object.")
        for key in ("identity_provider", "protocol"):
            if not isinstance(body.get(key), str):
                raise errors.MissingAttribute(attribute=key, target="mapped")
        return self.identity.federation.authenticate(body["identity_provider"], body["protocol"], assertion)

    def _rescoped_federation(self, original: TokenPayload) -> FederatedLogin:
        """A federated token rescoped keeps its provider, protocol and groups, while its
        provider is enabled (keystone/auth/plugins/mapped.py ``handle_scoped_token``)."""
        with self.db.session(readonly=True) as s:
            self.identity.federation.check_enabled(s, original.idp_id)
        return FederatedLogin(user_id=original.user_id, idp_id=original.idp_id, protocol_id=original.protocol_id,
                              group_ids=original.group_ids)

    def mint(self, payload: TokenPayload, *, consume_trust: bool = True) -> ValidatedToken:
        """Seal ``payload`` and check it as validation would; a trust-scoped token uses up
        one of its trust's remaining uses once it is known to be good (as Keystone)."""
        token = self.formatter.seal(payload)
        try:
            vt = self._check(token, payload)
        except errors.NotFound as error:
            raise errors.ScopeNotAvailable(reason=error.message) from None
        if payload.trust_id and consume_trust:
            try:
                self.identity.trusts.consume_use(payload.trust_id)
            except errors.TrustNotFound:
                raise errors.TrustUnavailable(trust_id=payload.trust_id) from None
        return vt

    def _trust_for(self, scope: dict, user_id: str) -> m.Trust:
        """The trust a trust-scoped token is asked for by ``user_id``, who must be its trustee."""
        if len(scope) != 1:
            raise errors.InvalidInput(field="scope", reason="specify one of project, domain, system or OS-TRUST:trust.")
        ref = scope["OS-TRUST:trust"]
        if not isinstance(ref, dict) or not ref.get("id"):
            raise errors.MissingAttribute(attribute="trust_id", target="trust")
        with self.db.session(readonly=True) as s:
            try:
                trust = self.identity.trusts.load(s, ref["id"])
            except errors.TrustNotFound:
                raise errors.TrustUnavailable(trust_id=ref["id"]) from None
        if trust.trustee_user_id != user_id:
            raise errors.TrustForbidden(reason="User is not a trustee.")
        if not trust.project_id:
            raise errors.TrustForbidden(reason="Trustee has no delegated roles.")
        return trust

    def issue(self, user_id: str, project_id: str) -> ValidatedToken:
        """A token of ``user_id`` in ``project_id`` issued without a password, for this
        cloud's own in-process actors (``up --seed`` acting as the bootstrap admin).  It
        is checked like any other: the user needs a role on the project."""
        payload = TokenPayload(user_id=user_id, methods=["password"], expires_at=time.time() + self.expiration,
                               scope_type=SCOPE_PROJECT, scope_id=project_id)
        return self._check(self.formatter.seal(payload), payload)

    @staticmethod
    def _token_id(body) -> str:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise errors.InvalidInput(field="identity.token.id", reason="a token id is required.")
        return body["id"]

    def _find_user(self, s: Session, ref: dict) -> m.User:
        if not isinstance(ref, dict):
            raise errors.InvalidInput(field="user", reason="expected an object.")
        if ref.get("id"):
            user = s.get(m.User, ref["id"])
        elif ref.get("name"):
            domain = ref.get("domain") or {}
            if not isinstance(domain, dict) or not (domain.get("id") or domain.get("name")):
                raise errors.InvalidInput(field="user.domain", reason="a user name requires a domain.")
            try:
                domain_id = domain.get("id") or self.identity.resource.find_domain_by_name(s, domain["name"]).id
            except errors.NotFound:
                raise errors.AuthenticationRequired() from None
            user = s.scalar(sa.select(m.User).where(m.User.name == ref["name"], m.User.domain_id == domain_id))
        else:
            raise errors.InvalidInput(field="user", reason="'id' or 'name' is required.")
        if user is None:
            raise errors.AuthenticationRequired()
        return user

    def _check_password(self, body: dict) -> m.User:
        if not isinstance(body, dict) or "user" not in body:
            raise errors.InvalidInput(field="identity.password", reason="'user' is a required property")
        password = body["user"].get("password") if isinstance(body["user"], dict) else None
        if not isinstance(password, str):
            raise errors.InvalidInput(field="identity.password.user.password", reason="a password is required.")
        if self._ldap_in_use():
            self.identity.ldap.prepare_login(body["user"])
        with self.db.session(readonly=True) as s:
            user = self._find_user(s, body["user"])
            domain = s.get(m.Project, user.domain_id)
        self.verify_password(user, password)
        if domain is None or not domain.enabled:
            raise errors.AuthenticationRequired()
        return user

    def _ldap_in_use(self) -> bool:
        """Whether LDAP can take part in a password login, as of the identity generation
        (the request's): a cloud without directories then skips their two lookups per login."""
        return bool(self.cache.as_of(self.cache.current(), "ldap_in_use", self.identity.ldap.in_use))

    def verify_password(self, user: m.User, password: str, *, allow_expired: bool = False) -> None:
        """Keystone's order: a locked account is refused before its password is even
        checked, a wrong password counts towards the lockout, then the user must be
        enabled and the password not expired.  bcrypt runs outside any transaction: it
        is slow by design."""
        if self._ldap_in_use() and self.identity.ldap.owns(user.id):
            # The directory checks the password (a bind as the user) and keeps its own
            # lockout and expiry rules, as with Keystone's LDAP driver.
            if not self.identity.ldap.authenticate(user, password):
                raise errors.AuthenticationRequired()
            if not user.enabled:
                raise errors.UserDisabled(user_id=user.id)
            return
        compliance = self.identity.compliance
        if compliance.is_locked(self.db, user):
            raise errors.AccountLocked(user_id=user.id)
        if not self.secrets.check(password, user.password_hash):
            compliance.record_failure(self.db, user)
            raise errors.AuthenticationRequired()
        if not user.enabled:
            raise errors.UserDisabled(user_id=user.id)
        if not allow_expired and compliance.password_expired(user):
            raise errors.PasswordExpired(user_id=user.id)
        compliance.reset_failures(self.db, user)

    def _check_totp(self, body: dict) -> m.User:
        """Keystone's ``totp`` method: the user (enabled, in an enabled domain) and a
        passcode one of their ``totp`` credentials generates now or in the previous
        ``included_previous_windows`` windows."""
        if not isinstance(body, dict) or not isinstance(body.get("user"), dict):
            raise errors.InvalidInput(field="identity.totp", reason="'user' is a required property")
        passcode = body["user"].get("passcode")
        with self.db.session(readonly=True) as s:
            user = self._find_user(s, body["user"])
            domain = s.get(m.Project, user.domain_id)
        if not user.enabled or domain is None or not domain.enabled:
            raise errors.AuthenticationRequired()
        if not isinstance(passcode, str):  # none given: it matches nothing, as in Keystone
            raise errors.TotpFailed()
        credentials = self.identity.credentials
        now = time.time()
        for row in credentials.list_credentials(user_id=user.id, type="totp"):
            try:
                if totp.verify(credentials.blob(row), passcode, now, self.totp_previous_windows):
                    return user
            except ValueError:
                continue  # not a base32 secret: it matches nothing, as in Keystone
        raise errors.TotpFailed()

    def _enforce_mfa(self, user_id: str, user: m.User | None, passed: set[str], receipt_id: str | None) -> set[str]:
        """The methods passed (with those of a valid receipt), if they meet one of the
        user's MFA rules; otherwise a receipt for them (:class:`AuthReceiptIssued`)."""
        if receipt_id is not None:
            receipt = self._open_receipt(receipt_id, user_id)
            passed = passed | set(receipt.methods)
        if user is None:
            with self.db.session(readonly=True) as s:
                user = s.get(m.User, user_id)
        rules = receipts.user_rules(user.options if user else None, self.methods)
        if user is None or receipts.satisfied(rules, passed):
            return passed
        receipt = Receipt(user_id=user_id, methods=receipts.method_order(passed),
                          expires_at=time.time() + self.receipt_expiration)
        with self.db.session(readonly=True) as s:
            domain = s.get(m.Project, user.domain_id)
        body = {"receipt": {
            "methods": receipt.methods,
            "user": {"id": user.id, "name": user.name,
                     "domain": {"id": user.domain_id, "name": domain.name if domain else None}},
            "expires_at": format_time(_utc(receipt.expires_at)),
            "issued_at": format_time(_utc(receipt.issued_at))},
            "required_auth_methods": receipts.required_methods(rules, passed)}
        raise AuthReceiptIssued(self.receipts.seal(receipt), body)

    def _open_receipt(self, receipt_id: str, user_id: str) -> Receipt:
        """A receipt of ``user_id`` that has not expired (401 otherwise, as Keystone)."""
        try:
            receipt = self.receipts.open(receipt_id)
        except ReceiptError:
            raise errors.ReceiptNotFound(receipt_id=receipt_id) from None
        if receipt.user_id != user_id or receipt.expires_at <= time.time():
            raise errors.ReceiptNotFound(receipt_id=receipt_id)
        return receipt

    def _check_kerberos(self, negotiated: Negotiated | None) -> m.User:
        """Keystone's ``KerberosDomain``: the principal the request's ``Negotiate`` token
        proved, without its realm, names a user of the ``kerberos_user_domain``."""
        if negotiated is None:  # not through the HTTP front end
            raise refused("no Negotiate token came with the request")
        domain_name = self.identity.kerberos.user_domain
        with self.db.session(readonly=True) as s:
            domain = s.scalar(sa.select(m.Project).where(m.Project.is_domain.is_(True), m.Project.name == domain_name))
            user = None if domain is None or not domain.enabled else s.scalar(
                sa.select(m.User).where(m.User.name == negotiated.name, m.User.domain_id == domain.id))
        if user is None:
            raise errors.KerberosUserUnknown(name=negotiated.name, principal=negotiated.principal, domain=domain_name)
        if not user.enabled:
            raise errors.UserDisabled(user_id=user.id)
        return user

    def _check_app_cred(self, body: dict) -> m.ApplicationCredential:
        if not isinstance(body, dict) or not isinstance(body.get("secret"), str):
            raise errors.InvalidInput(field="application_credential.secret", reason="a secret is required.")
        with self.db.session(readonly=True) as s:
            if body.get("id"):
                cred = s.get(m.ApplicationCredential, body["id"])
            elif body.get("name") and body.get("user"):
                user = self._find_user(s, body["user"])
                cred = s.scalar(sa.select(m.ApplicationCredential).where(
                    m.ApplicationCredential.user_id == user.id, m.ApplicationCredential.name == body["name"]))
            else:
                raise errors.InvalidInput(field="application_credential",
                                          reason="'id', or 'name' and 'user', are required.")
        if cred is None or not self.secrets.check(body["secret"], cred.secret_hash):
            raise errors.AuthenticationRequired()
        if cred.expires_at and cred.expires_at <= utcnow():
            raise errors.ApplicationCredentialExpired()
        return cred

    def resolve_scope(self, scope, user_id: str) -> tuple[int, str | None]:
        """The scope a request asks for, as (type, id); the same request of the same user
        resolves alike until identity data changes (its generation): names are looked up
        once per generation."""
        try:
            key = ("scope", user_id, json.dumps(scope, sort_keys=True))
        except (TypeError, ValueError):
            return self._resolve_scope(scope, user_id)
        return cast(tuple[int, str | None], self.cache.as_of(
            self.cache.current(), key, lambda: self._resolve_scope(scope, user_id)))

    def _resolve_scope(self, scope, user_id: str) -> tuple[int, str | None]:
        with self.db.session(readonly=True) as s:
            if scope in (None, "unscoped"):
                user = s.get(m.User, user_id)
                if scope is None and user is not None and user.default_project_id:
                    project = s.get(m.Project, user.default_project_id)
                    if project is not None and project.enabled and self.identity.assignment.effective_roles(
                            s, user_id, project=project):
                        return SCOPE_PROJECT, project.id
                return SCOPE_UNSCOPED, None
            if not isinstance(scope, dict) or len(scope) != 1:
                raise errors.InvalidInput(field="scope", reason="specify one of project, domain or system.")
            kind, ref = next(iter(scope.items()))
            if kind == "system":
                if ref != {"all": True}:
                    raise errors.InvalidInput(field="scope.system", reason="only {\"all\": true} is supported.")
                return SCOPE_SYSTEM, "all"
            if not isinstance(ref, dict):
                raise errors.InvalidInput(field=f"scope.{kind}", reason="expected an object.")
            try:
                if kind == "project":
                    if ref.get("id"):
                        return SCOPE_PROJECT, ref["id"]
                    domain = ref.get("domain") or {}
                    if not ref.get("name") or not isinstance(domain, dict) or not (
                            domain.get("id") or domain.get("name")):
                        raise errors.InvalidInput(field="scope.project",
                                                  reason="'id', or 'name' and 'domain', are required.")
                    domain_id = domain.get("id") or self.identity.resource.find_domain_by_name(s, domain["name"]).id
                    return SCOPE_PROJECT, self.identity.resource.find_project_by_name(s, ref["name"], domain_id).id
                if kind == "domain":
                    if ref.get("id"):
                        return SCOPE_DOMAIN, ref["id"]
                    if not ref.get("name"):
                        raise errors.InvalidInput(field="scope.domain", reason="'id' or 'name' is required.")
                    return SCOPE_DOMAIN, self.identity.resource.find_domain_by_name(s, ref["name"]).id
            except errors.NotFound as error:
                raise errors.ScopeNotAvailable(reason=error.message) from None
            raise errors.InvalidInput(field="scope", reason=f"unknown scope {kind!r}.")

    # -- validating ------------------------------------------------------------------
    def validate(self, token: str, *, catalog: bool = False) -> ValidatedToken:
        """Open and check ``token``; raises :class:`~pocketstack.identity.errors.NotFound` if it is not valid (now)."""
        try:
            payload = self.formatter.open(token)
        except TokenError as error:
            raise errors.TokenNotValid(reason=str(error)) from None
        if payload.expires_at <= time.time():
            raise errors.TokenNotValid(reason="The token has expired.")
        # Read the generation before the data (the session below starts after this
        # read): a result is never cached under a generation newer than what it saw.
        generation = self.cache.current()
        vt = self.cache.get(token, generation)
        if vt is None:
            with self.db.session(readonly=True) as s:
                vt = self._check_in(s, token, payload, generation)
            vt.generation = generation
            self.cache.put(token, generation, vt)
        elif vt.app_cred and vt.app_cred.expires_at and vt.app_cred.expires_at <= utcnow():
            raise errors.TokenNotValid(reason="The application credential of this token has expired.")
        if catalog:
            vt = dataclasses.replace(vt, catalog=self._catalog_at(generation, vt.project.id if vt.project else None))
        return vt

    def catalog(self, project_id: str | None) -> list[dict]:
        """The service catalog (of ``project_id``, for endpoint filtering), rebuilt only
        after a change to identity data (the validation cache's generation)."""
        return self._catalog_at(self.cache.current(), project_id)

    def catalog_json(self, project_id: str | None) -> bytes:
        """The same catalog as JSON, encoded once per generation."""
        return self.cache.catalog_json(self.cache.current(), project_id, self._catalog_builder(project_id))

    def _catalog_at(self, generation: int, project_id: str | None) -> list[dict]:
        return self.cache.catalog(generation, project_id, self._catalog_builder(project_id))

    def _catalog_builder(self, project_id: str | None):
        def build() -> list[dict]:
            with self.db.session(readonly=True) as s:
                return self.identity.catalog.build_catalog(s, project_id)
        return build

    def _check(self, token: str, payload: TokenPayload) -> ValidatedToken:
        """A token sealed just now, checked as validation would -- but for revocation: an
        event revokes tokens issued at or before its ``issued_before``, a time before this
        token's ``issued_at`` (Keystone does not check revocations at issue either).  The
        token's first validation checks them."""
        generation = self.cache.current()  # before the data, as in validate()
        with self.db.session(readonly=True) as s:
            return self._check_in(s, token, payload, generation, fresh=True)

    def _roles(self, s: Session, generation: int | None, user_id: str, groups: list[str], *,
               project: m.Project | None = None, domain_id: str | None = None,
               system: bool = False) -> list[m.Role]:
        """The token's effective roles; as of ``generation`` (read before ``s`` began)
        they are kept for the next token of the same user, groups and scope, as copies
        bound to no session (a session's rollback expires the rows it loaded)."""
        def build() -> list[m.Role]:
            return [m.Role(id=r.id, name=r.name, domain_id=r.domain_id, description=r.description,
                           options=r.options, extra=r.extra)
                    for r in self.identity.assignment.effective_roles(
                        s, user_id, project=project, domain_id=domain_id, system=system, groups=groups)]
        if generation is None:
            return build()
        key = ("roles", user_id, tuple(groups), project.id if project is not None else None, domain_id, system)
        return list(cast(list, self.cache.as_of(generation, key, build)))

    def _check_in(self, s: Session, token: str, payload: TokenPayload,
                  generation: int | None = None, fresh: bool = False) -> ValidatedToken:
        """Everything that can invalidate ``payload`` since it was issued, checked in ``s``
        (``generation``: the validation caches' generation, read before ``s`` began;
        ``fresh``: sealed just now, so no revocation event can cover it yet)."""
        user = s.get(m.User, payload.user_id)
        if user is None or not user.enabled:
            raise errors.UserNotFound(user_id=payload.user_id)
        user_domain = s.get(m.Project, user.domain_id)
        if user_domain is None or not user_domain.enabled:
            raise errors.TokenNotValid(reason=f"The domain of user {user.id} is disabled.")
        vt = ValidatedToken(token=token, payload=payload, user=user, user_domain=user_domain)
        if payload.idp_id and s.get(m.IdentityProvider, payload.idp_id) is None:
            raise errors.TokenNotValid(reason=f"Could not find Identity Provider: {payload.idp_id}.")
        groups = payload.group_ids
        scope_domains: list[str] = []
        if payload.scope_type == SCOPE_PROJECT:
            project = s.get(m.Project, payload.scope_id)
            if project is None or project.is_domain or not project.enabled:
                raise errors.ProjectNotFound(project_id=payload.scope_id)
            project_domain = s.get(m.Project, project.domain_id)
            if project_domain is None or not project_domain.enabled:
                raise errors.TokenNotValid(reason=f"The domain of project {project.id} is disabled.")
            vt.project, vt.project_domain = project, project_domain
            scope_domains.append(project_domain.id)
            if payload.trust_id:
                self._check_trust(s, vt, payload.trust_id)
            else:
                vt.roles = self._roles(s, generation, user.id, groups, project=project)
            if payload.access_token_id:
                self._check_access_token(s, vt, payload.access_token_id)
        elif payload.scope_type == SCOPE_DOMAIN:
            domain = s.get(m.Project, payload.scope_id)
            if domain is None or not domain.is_domain or not domain.enabled:
                raise errors.DomainNotFound(domain_id=payload.scope_id)
            vt.domain = domain
            scope_domains.append(domain.id)
            vt.roles = self._roles(s, generation, user.id, groups, domain_id=domain.id)
        elif payload.scope_type == SCOPE_SYSTEM:
            vt.system = True
            vt.roles = self._roles(s, generation, user.id, groups, system=True)
        if payload.scope_type != SCOPE_UNSCOPED and not vt.roles:
            raise errors.TokenNotValid(reason=f"User {user.id} has no access to the requested scope.")
        if payload.application_credential_id:
            cred = s.get(m.ApplicationCredential, payload.application_credential_id)
            if cred is None or (cred.expires_at and cred.expires_at <= utcnow()):
                raise errors.TokenNotValid(reason="The application credential of this token no longer exists.")
            allowed = {r["id"] for r in cred.roles}
            allowed = self.identity.assignment._implied_closure(s, allowed)
            vt.roles = [r for r in vt.roles if r.id in allowed]
            if not vt.roles:
                raise errors.TokenNotValid(reason="The application credential's roles are no longer held.")
            vt.app_cred = cred
            vt.access_rules = AccessRuleManager.for_credential(s, cred.id) or None
        # A trust-scoped token also falls with its trustor's tokens.
        user_ids = [payload.user_id, *([vt.trust.trustor_user_id] if vt.trust else [])]
        if not fresh and self.identity.revoke.is_revoked(s, payload, user_ids=user_ids, user_domain_id=user.domain_id,
                                           project_id=vt.project.id if vt.project else None,
                                           scope_domain_ids=scope_domains):
            raise errors.TokenNotValid(reason="The token has been revoked.")
        if generation is None:
            vt.service_providers = ServiceProviderManager.in_token(s)
        else:  # service providers are identity rows: the same list until identity changes
            vt.service_providers = list(cast(list, self.cache.as_of(
                generation, "service_providers", lambda: ServiceProviderManager.in_token(s))))
        return vt

    def _check_access_token(self, s: Session, vt: ValidatedToken, access_token_id: str) -> None:
        """An OAuth token stands while its access token does (deleting it, or its
        consumer, revokes the token) and carries the delegated roles still held."""
        access = s.get(m.OAuthAccessToken, access_token_id)
        project_id = vt.project.id if vt.project else None
        if access is None or access.authorizing_user_id != vt.user.id or access.project_id != project_id:
            raise errors.TokenNotValid(reason="The OAuth access token of this token no longer exists.")
        if access.expires_at and access.expires_at <= utcnow():
            raise errors.TokenNotValid(reason="The OAuth access token of this token has expired.")
        vt.roles = self.identity.oauth1.token_roles(s, access, vt.roles)
        vt.access_token = access

    def _check_trust(self, s: Session, vt: ValidatedToken, trust_id: str) -> None:
        """A trust-scoped token stands while its trust does, its trustee is the token's
        user and the original trustor still holds every delegated role; with
        impersonation the token acts as the trustor."""
        trust = self.identity.trusts.load(s, trust_id, for_token=True)
        if trust.trustee_user_id != vt.user.id or trust.project_id != (vt.project.id if vt.project else None):
            raise errors.TrustForbidden(reason="User is not a trustee.")
        trustor = s.get(m.User, trust.trustor_user_id)
        if trustor is None:
            raise errors.UserNotFound(user_id=trust.trustor_user_id)
        if not trustor.enabled:
            raise errors.TrustForbidden(reason="Trustor is disabled.")
        trustor_domain = s.get(m.Project, trustor.domain_id)
        if trustor_domain is None or not trustor_domain.enabled:
            raise errors.TokenNotValid(reason="Trustor domain is disabled.")
        vt.roles = self.identity.trusts.token_roles(s, trust)
        vt.trust = trust
        if trust.impersonation:
            vt.user, vt.user_domain = trustor, trustor_domain

    def context_for(self, token: str) -> RequestContext:
        """The token middleware's entry point: a context, or 401."""
        try:
            return self.validate(token).context()
        except errors.ApiError:
            raise errors.AuthenticationRequired() from None

    def revoke(self, token: str) -> None:
        self.identity.revoke.revoke_token(self.validate(token).payload)

    # -- rendering -------------------------------------------------------------------
    def render_json(self, vt: ValidatedToken, *, catalog: bool) -> bytes:
        """``render(vt)`` as JSON.  A validation from the cache (``vt.generation``) is
        rendered and encoded once per generation: the same bytes until any identity
        change, the catalog's JSON (per generation and project) put in its place."""
        if vt.generation is None:
            if catalog and vt.catalog is None:
                vt = dataclasses.replace(vt, catalog=self.catalog(vt.project.id if vt.project else None))
            return json.dumps(self.render(vt, catalog=catalog)).encode()
        generation = vt.generation

        def pieces() -> tuple[bytes, ...]:
            marked = dataclasses.replace(vt, catalog=[_CATALOG_MARK]) if catalog else vt  # type: ignore[list-item]
            encoded = json.dumps(self.render(marked, catalog=catalog)).encode()
            parts = tuple(encoded.split(_CATALOG_MARK_JSON))
            assert len(parts) <= 2  # the mark is random: nothing else in the body holds it
            return parts

        parts = self.cache.rendered(vt.token, catalog, generation, pieces)
        if len(parts) == 1:
            return parts[0]
        project_id = vt.project.id if vt.project else None
        return parts[0] + self.cache.catalog_json(generation, project_id, self._catalog_builder(project_id)) + parts[1]

    @staticmethod
    def render(vt: ValidatedToken, *, catalog: bool) -> dict:
        body: dict = {
            "methods": receipts.method_order(vt.payload.methods),
            "user": {"id": vt.user.id, "name": vt.user.name,
                     "domain": {"id": vt.user_domain.id, "name": vt.user_domain.name},
                     "password_expires_at": format_time(vt.user.password_expires_at)
                     if vt.user.password_expires_at else None},
            "audit_ids": vt.payload.audit_ids,
            "expires_at": format_time(vt.expires_at),
            "issued_at": format_time(vt.issued_at),
        }
        if vt.project and vt.project_domain:
            body["project"] = {"id": vt.project.id, "name": vt.project.name,
                               "domain": {"id": vt.project_domain.id, "name": vt.project_domain.name}}
            body["is_domain"] = False
        elif vt.domain:
            body["domain"] = {"id": vt.domain.id, "name": vt.domain.name}
        elif vt.system:
            body["system"] = {"all": True}
        if vt.payload.scope_type != SCOPE_UNSCOPED:
            body["roles"] = [{"id": r.id, "name": r.name} for r in vt.roles]
            if catalog:
                body["catalog"] = vt.catalog or []
        if vt.payload.idp_id:
            # Keystone shows a federated user's provider, protocol and groups, and no password expiry.
            del body["user"]["password_expires_at"]
            body["user"]["OS-FEDERATION"] = {"groups": [{"id": g} for g in vt.payload.group_ids],
                                             "identity_provider": {"id": vt.payload.idp_id},
                                             "protocol": {"id": vt.payload.protocol_id}}
        if vt.service_providers:
            body["service_providers"] = vt.service_providers
        if vt.trust:
            body["OS-TRUST:trust"] = {"id": vt.trust.id, "impersonation": vt.trust.impersonation,
                                      "trustor_user": {"id": vt.trust.trustor_user_id},
                                      "trustee_user": {"id": vt.trust.trustee_user_id}}
        if vt.access_token:
            body["OS-OAUTH1"] = {"access_token_id": vt.access_token.id, "consumer_id": vt.access_token.consumer_id}
        if vt.app_cred:
            body["application_credential"] = {"id": vt.app_cred.id, "name": vt.app_cred.name,
                                              "restricted": not vt.app_cred.unrestricted}
            if vt.access_rules is not None:
                body["application_credential"]["access_rules"] = [r.to_json() for r in vt.access_rules]
        return {"token": body}
