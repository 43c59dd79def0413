"""The Identity service's logic, one facade over its parts, and the public entry
other services call (:class:`~pocketstack.identity.contract.IdentityContract`).

Parts refer to each other through this facade (``identity.resource``,
``identity.revoke``…) so each stays a small module with one job.
"""

from __future__ import annotations

from pocketstack.common.config import Settings
from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.identity.access_rules import AccessRuleManager
from pocketstack.identity.app_creds import AppCredentialManager
from pocketstack.identity.assignment import AssignmentManager
from pocketstack.identity.auth import AuthSettings, TokenManager
from pocketstack.identity.catalog import CatalogManager
from pocketstack.identity.compliance import SecurityCompliance
from pocketstack.identity.credentials import CredentialManager
from pocketstack.identity.domain_config import DomainConfigManager
from pocketstack.identity.ec2tokens import Ec2TokenIssuer
from pocketstack.identity.endpoint_filter import EndpointFilterManager
from pocketstack.identity.endpoint_policy import EndpointPolicyManager
from pocketstack.identity.errors import ProjectNotFound
from pocketstack.identity.federation import FederationManager, TrustedAssertions
from pocketstack.identity.kerberos import KerberosFrontEnd
from pocketstack.identity.keys import TOKEN_KEY_DIRECTORIES, KeyRepository, token_key_repository
from pocketstack.identity.ldap_backend import LdapBackend
from pocketstack.identity.limits import LimitManager
from pocketstack.identity.oauth1 import OAuth1Manager
from pocketstack.identity.oidc import OidcFrontEnd
from pocketstack.identity.oidc_websso import OidcWebSso
from pocketstack.identity.policy_store import PolicyStore
from pocketstack.identity.receipts import ReceiptFormatter
from pocketstack.identity.resource import DEFAULT_DOMAIN_ID, ResourceManager
from pocketstack.identity.revoke import RevokeManager
from pocketstack.identity.saml import PendingRequests, SamlFrontEnd
from pocketstack.identity.tokens import Formatter, TokenFormatter
from pocketstack.identity.trusts import TrustManager
from pocketstack.identity.users import UserManager
from pocketstack.identity.websso import WebSso
from pocketstack.identity.websso_flow import PendingLogins, WebSsoFlow
from pocketstack.identity.x509 import Tokenless, split_issuers


class Identity:
    """Keystone: projects and domains, users and groups, roles and assignments, the
    catalog (with endpoint filtering), application credentials, trusts, credentials,
    domain-specific configuration (LDAP domains),
    unified limits, policy blobs (and endpoint policies), federation, Kerberos and Fernet or JWS tokens."""

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        # The keys of the token provider in use (``token_provider``): a Fernet or a JWS repository.
        self.keys = token_key_repository(settings.token_provider, settings.data_dir, settings.max_active_keys)
        self.compliance = SecurityCompliance.from_settings(settings)
        self.revoke = RevokeManager(db, max_token_age=settings.token_expiration + settings.token_allow_expired_window)
        self.resource = ResourceManager(db, self)
        self.domain_config = DomainConfigManager(db)
        self.ldap = LdapBackend(db, self)
        self.users = UserManager(db, self, settings.bcrypt_rounds)
        self.assignment = AssignmentManager(db, self)
        self.catalog = CatalogManager(db)
        self.endpoint_filter = EndpointFilterManager(db)
        self.app_creds = AppCredentialManager(db, self, settings.bcrypt_rounds)
        self.access_rules = AccessRuleManager(db)
        self.trusts = TrustManager(db, self)
        self.oauth1 = OAuth1Manager(db, self, settings.oauth1_request_token_duration,
                                    settings.oauth1_access_token_duration)
        self.credential_keys = KeyRepository(settings.data_dir / "credential-keys", settings.max_active_keys)
        self.credentials = CredentialManager(db, self.credential_keys)
        self.limits = LimitManager(db)
        self.policy_store = PolicyStore(db)
        self.endpoint_policy = EndpointPolicyManager(db)
        # Auth receipts are Fernet messages sealed with the Fernet token keys whatever the
        # token provider (Keystone's [fernet_receipts] key_repository is that directory).
        self.receipt_keys = self.keys if isinstance(self.keys, KeyRepository) else KeyRepository(
            settings.data_dir / TOKEN_KEY_DIRECTORIES["fernet"], settings.max_active_keys)
        self.federation = FederationManager(db, self, TrustedAssertions.from_settings(
            settings.federation_header_prefix, settings.federation_trusted_proxies))
        self.oidc = OidcFrontEnd.from_file(settings.federation_oidc_file)
        self.saml = SamlFrontEnd.from_settings(PendingRequests(db), settings.federation_saml_metadata,
                                               settings.federation_saml_entity_id)
        self.websso = WebSso.from_settings(settings.federation_trusted_dashboards,
                                           settings.federation_sso_callback_template)
        self.kerberos = KerberosFrontEnd.from_settings(settings)
        # WebSSO's round trips through identity providers: the front end of each protocol.
        self.websso_flow = WebSsoFlow([OidcWebSso(self.oidc)],
                                      PendingLogins(self.receipt_keys, settings.federation_websso_timeout), self.websso)
        self.tokens = TokenManager(db, self, self._token_formatter(), settings.token_expiration,
                                   settings.verified_secret_ttl, AuthSettings(
                                       methods=tuple(settings.auth_method_list),
                                       totp_previous_windows=settings.totp_included_previous_windows,
                                       receipt_expiration=settings.receipt_expiration),
                                   ReceiptFormatter(self.receipt_keys))
        self.ec2tokens = Ec2TokenIssuer(self)
        self.tokenless = Tokenless(self, split_issuers(settings.tokenless_trusted_issuers), settings.tokenless_protocol)

    def _token_formatter(self) -> Formatter:
        if isinstance(self.keys, KeyRepository):
            return TokenFormatter(self.keys)
        from pocketstack.identity.jws import JwsFormatter  # only JWS clouds load it
        return JwsFormatter(self.keys)

    def validate_token(self, token: str) -> RequestContext:
        """The caller's context for an ``X-Auth-Token``; 401 when it is not valid (the
        token validator of every service's ``build_app``)."""
        return self.tokens.context_for(token)

    def issue_token(self, user_name: str, project_name: str) -> str:
        """A token of the Default domain's ``user_name`` in its project ``project_name``,
        without their password: for this process's own actors, never for HTTP callers."""
        with self.db.session(readonly=True) as s:
            user = self.users.find_user_by_name(s, user_name, DEFAULT_DOMAIN_ID)
            project = self.resource.find_project_by_name(s, project_name, DEFAULT_DOMAIN_ID)
        return self.tokens.issue(user.id, project.id).token

    def project_exists(self, project_id: str) -> bool:
        try:
            self.resource.get_project(project_id)
        except ProjectNotFound:
            return False
        return True
