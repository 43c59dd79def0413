"""Identity tables.

Domains are stored as projects with ``is_domain`` set, as Keystone does, so a domain and
a top-level project share one namespace and hierarchy code.  Domains point at the
sentinel :data:`ROOT_DOMAIN_ID`; global roles at :data:`NULL_DOMAIN_ID`, which keeps the
unique constraints effective on every backend (NULLs never collide).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pocketstack.common.db.base import Base, JSONText, new_id, utcnow

ROOT_DOMAIN_ID = "<<keystone.domain.root>>"
NULL_DOMAIN_ID = "<<null>>"
ID = sa.String(64)


class Project(Base):
    __tablename__ = "identity_project"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(64))
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    parent_id: Mapped[str | None] = mapped_column(ID, index=True, nullable=True)
    is_domain: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class ProjectTag(Base):
    __tablename__ = "identity_project_tag"

    project_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_project.id", ondelete="CASCADE"),
                                            primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True)


class User(Base):
    __tablename__ = "identity_user"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    default_project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    password_expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    # When the password was set, and whether by the user (a self-service change, which
    # the minimum password age applies to) rather than an administrator.
    password_created_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    password_self_service: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True, default=False)
    # Failed password logins since the last success (counted only while lockout is on).
    failed_auth_count: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    failed_auth_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    options: Mapped[dict] = mapped_column(JSONText, default=dict)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class PasswordHistory(Base):
    """A user's recent password hashes, the current one included (for
    ``unique_last_password_count``)."""

    __tablename__ = "identity_password_history"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Group(Base):
    __tablename__ = "identity_group"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(64))
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class GroupMembership(Base):
    __tablename__ = "identity_group_membership"

    user_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_user.id", ondelete="CASCADE"),
                                         primary_key=True)
    group_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_group.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)


class Role(Base):
    __tablename__ = "identity_role"
    __table_args__ = (sa.UniqueConstraint("name", "domain_id"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(ID, default=NULL_DOMAIN_ID)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    options: Mapped[dict] = mapped_column(JSONText, default=dict)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class ImpliedRole(Base):
    __tablename__ = "identity_implied_role"

    prior_role_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_role.id", ondelete="CASCADE"),
                                               primary_key=True)
    implied_role_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_role.id", ondelete="CASCADE"),
                                                 primary_key=True)


class Assignment(Base):
    """A role granted to an actor (user or group) on a target (project, domain, system)."""

    __tablename__ = "identity_assignment"

    type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    target_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_role.id", ondelete="CASCADE"),
                                         primary_key=True)
    inherited: Mapped[bool] = mapped_column(sa.Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "identity_region"

    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    parent_region_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class Service(Base):
    __tablename__ = "identity_service"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class Endpoint(Base):
    __tablename__ = "identity_endpoint"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_service.id", ondelete="CASCADE"),
                                            index=True)
    region_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    interface: Mapped[str] = mapped_column(sa.String(8))
    url: Mapped[str] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class ApplicationCredential(Base):
    __tablename__ = "identity_application_credential"
    __table_args__ = (sa.UniqueConstraint("user_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    secret_hash: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    user_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    system: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    unrestricted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    roles: Mapped[list] = mapped_column(JSONText, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class AccessRule(Base):
    """What an application credential may call: a service type, a request method and a
    path pattern.  Owned by the user; shared by every credential of theirs naming the same
    (service, path, method), and deletable only once none does (Keystone's access rules)."""

    __tablename__ = "identity_access_rule"
    __table_args__ = (sa.UniqueConstraint("user_id", "service", "path", "method"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(sa.String(64))
    path: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(16))


class ApplicationCredentialAccessRule(Base):
    __tablename__ = "identity_app_cred_access_rule"

    application_credential_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("identity_application_credential.id", ondelete="CASCADE"), primary_key=True)
    access_rule_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_access_rule.id"), primary_key=True,
                                                index=True)


class RevocationEvent(Base):
    """Tokens issued at or before ``issued_before`` that match every set field are revoked.

    Times are epoch seconds as doubles so sub-second ordering survives on every backend
    (a token issued right after a password change must stay valid).
    """

    __tablename__ = "identity_revocation_event"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    domain_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    audit_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True, index=True)
    audit_chain_id: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    issued_before: Mapped[float] = mapped_column(sa.Double, index=True)
    revoked_at: Mapped[float] = mapped_column(sa.Double)


class IdentityState(Base):
    """One row whose ``generation`` goes up with every committed identity change.

    Token validation results are reused while it stays the same (see
    :mod:`pocketstack.identity.validation_cache`); reading it is one primary-key lookup.
    """

    __tablename__ = "identity_state"
    # The row a database created from the models starts with, as migration 9e97d455878c
    # inserts it (common/db/migrate.py).
    __table_args__ = {"info": {"initial_rows": lambda: [{"id": 1, "generation": 0}]}}

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class Trust(Base):
    """A trustor's delegation of roles on one project to a trustee (OS-TRUST).

    ``roles`` holds the delegated role ids; ``remaining_uses`` (None: unlimited) goes
    down by compare-and-swap with every token issued through the trust.  A redelegated
    trust points at its parent through ``redelegated_trust_id``.
    """

    __tablename__ = "identity_trust"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    trustor_user_id: Mapped[str] = mapped_column(ID, index=True)
    trustee_user_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    impersonation: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    remaining_uses: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    redelegated_trust_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    redelegation_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    roles: Mapped[list] = mapped_column(JSONText, default=list)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class Credential(Base):
    """A user's credential (``ec2``, ``totp``, ``cert``...): the blob is stored
    encrypted with the credential keys; ``key_hash`` names the key that encrypted it."""

    __tablename__ = "identity_credential"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    type: Mapped[str] = mapped_column(sa.String(255))
    encrypted_blob: Mapped[str] = mapped_column(sa.Text)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class RegisteredLimit(Base):
    """Unified limits: a service's default for one resource (``default_limit``), in one
    region or in all of them (``region_id`` None).  Unique per service, region and
    resource name, which :mod:`pocketstack.identity.limits` checks (NULL regions would not
    collide in a unique constraint)."""

    __tablename__ = "identity_registered_limit"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(ID, index=True)
    region_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    resource_name: Mapped[str] = mapped_column(sa.String(255))
    default_limit: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class Limit(Base):
    """A project's or a domain's override of a registered limit; its service, region and
    resource name are the registered limit's (Keystone's ``limit`` table)."""

    __tablename__ = "identity_limit"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    registered_limit_id: Mapped[str] = mapped_column(
        ID, sa.ForeignKey("identity_registered_limit.id"), index=True)
    project_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    domain_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    resource_limit: Mapped[int] = mapped_column(sa.Integer)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)


class EndpointGroup(Base):
    """OS-EP-FILTER: a named set of endpoints, those matching all of ``filters``
    (``service_id``, ``region_id``, ``interface``), evaluated whenever it is read."""

    __tablename__ = "identity_endpoint_group"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    filters: Mapped[dict] = mapped_column(JSONText, default=dict)


class ProjectEndpoint(Base):
    """OS-EP-FILTER: an endpoint associated with a project (its tokens' catalogs then
    list only the endpoints associated with it, directly or through endpoint groups)."""

    __tablename__ = "identity_project_endpoint"

    endpoint_id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class ProjectEndpointGroup(Base):
    """OS-EP-FILTER: an endpoint group associated with a project."""

    __tablename__ = "identity_project_endpoint_group"

    endpoint_group_id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class Policy(Base):
    """``/v3/policies``: a policy blob Keystone stores for services to fetch (it never
    enforces it); ``type`` is its MIME type, ``extra`` the other attributes given."""

    __tablename__ = "identity_policy"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(sa.String(255))
    blob: Mapped[str] = mapped_column(sa.Text)
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)


class PolicyAssociation(Base):
    """OS-ENDPOINT-POLICY: the policy blob that applies to an endpoint, to a service, or
    to a service in a region (and its child regions).  Each target has at most one
    policy (associating another replaces it, as in Keystone); the columns a target
    does not use hold ``""`` so the key stays effective on every backend."""

    __tablename__ = "identity_policy_association"

    endpoint_id: Mapped[str] = mapped_column(ID, primary_key=True, default="")
    service_id: Mapped[str] = mapped_column(ID, primary_key=True, default="")
    region_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True, default="")
    policy_id: Mapped[str] = mapped_column(ID, index=True)


class IdentityProvider(Base):
    """OS-FEDERATION: an identity provider whose assertions sign users in; its shadow
    users live in ``domain_id`` (a domain made for it unless one is named)."""

    __tablename__ = "identity_idp"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    authorization_ttl: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)


class IdpRemoteId(Base):
    """An identity provider's remote id (the entity id its assertions name): unique
    across identity providers."""

    __tablename__ = "identity_idp_remote_id"

    remote_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    idp_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_idp.id", ondelete="CASCADE"), index=True)


class FederationProtocol(Base):
    """A protocol of an identity provider (``saml2``, ``openid``, ``mapped``…) and the
    mapping its assertions go through."""

    __tablename__ = "identity_federation_protocol"

    idp_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_idp.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    mapping_id: Mapped[str] = mapped_column(ID)
    remote_id_attribute: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)


class Mapping(Base):
    """A mapping: rules turning an assertion's attributes into a user, groups and projects."""

    __tablename__ = "identity_mapping"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    rules: Mapped[list] = mapped_column(JSONText, default=list)
    schema_version: Mapped[str] = mapped_column(sa.String(5), default="1.0")


class FederatedUser(Base):
    """The link from an identity provider's user (``unique_id`` through one protocol)
    to the shadow user that stands for it."""

    __tablename__ = "identity_federated_user"
    __table_args__ = (sa.UniqueConstraint("idp_id", "protocol_id", "unique_id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    idp_id: Mapped[str] = mapped_column(ID, index=True)
    protocol_id: Mapped[str] = mapped_column(ID)
    unique_id: Mapped[str] = mapped_column(sa.String(255))
    display_name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)


class DomainConfigOption(Base):
    """One option of a domain's own configuration (Keystone's ``whitelisted_config`` and
    ``sensitive_config`` tables in one: ``sensitive`` options are never shown)."""

    __tablename__ = "identity_domain_config"

    domain_id: Mapped[str] = mapped_column(ID, primary_key=True)
    group: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    option: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONText, nullable=True)
    sensitive: Mapped[bool] = mapped_column(sa.Boolean, default=False)


class IdMapping(Base):
    """Keystone's ``id_mapping``: the public ID of a user or group that a directory (an
    LDAP domain) holds, and its ``local_id`` there.  The public ID is a SHA-256 of the
    three, so it is the same on every start and every node."""

    __tablename__ = "identity_id_mapping"
    __table_args__ = (sa.UniqueConstraint("domain_id", "local_id", "entity_type"),)

    public_id: Mapped[str] = mapped_column(ID, primary_key=True)
    domain_id: Mapped[str] = mapped_column(ID, index=True)
    local_id: Mapped[str] = mapped_column(sa.String(255))
    entity_type: Mapped[str] = mapped_column(sa.String(8))  # "user" | "group"


class OAuthConsumer(Base):
    """OS-OAUTH1: a consumer (an application) that may ask users for delegated access.
    The secret signs its requests (HMAC-SHA1), so it is kept as is, as in Keystone."""

    __tablename__ = "identity_oauth_consumer"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    secret: Mapped[str] = mapped_column(sa.String(64))
    extra: Mapped[dict] = mapped_column(JSONText, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, default=utcnow)


class OAuthRequestToken(Base):
    """OS-OAUTH1: a consumer's request for roles on a project, authorized by a user (who
    then gets its ``verifier``) and exchanged once for an access token."""

    __tablename__ = "identity_oauth_request_token"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    request_secret: Mapped[str] = mapped_column(sa.String(64))
    verifier: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    authorizing_user_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    requested_project_id: Mapped[str] = mapped_column(ID)
    role_ids: Mapped[list | None] = mapped_column(JSONText, nullable=True)
    consumer_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_oauth_consumer.id", ondelete="CASCADE"),
                                             index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class OAuthAccessToken(Base):
    """OS-OAUTH1: what a user delegated to a consumer -- roles on one project -- until it
    expires or is deleted (with its consumer, or by the user)."""

    __tablename__ = "identity_oauth_access_token"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    access_secret: Mapped[str] = mapped_column(sa.String(64))
    authorizing_user_id: Mapped[str] = mapped_column(ID, index=True)
    project_id: Mapped[str] = mapped_column(ID)
    role_ids: Mapped[list] = mapped_column(JSONText, default=list)
    consumer_id: Mapped[str] = mapped_column(ID, sa.ForeignKey("identity_oauth_consumer.id", ondelete="CASCADE"),
                                             index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime, nullable=True)


class SamlRequest(Base):
    """An AuthnRequest the SAML service provider sent and awaits the Response to: shared
    by every API process (the Response may reach another one than the request left
    from), each answered once, forgotten at ``expires_at``."""

    __tablename__ = "identity_saml_request"

    request_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    idp_id: Mapped[str] = mapped_column(sa.String(255))
    protocol_id: Mapped[str] = mapped_column(sa.String(255))
    entity_id: Mapped[str] = mapped_column(sa.String(1024))
    origin: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime, index=True)
