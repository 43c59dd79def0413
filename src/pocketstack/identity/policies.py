"""Default RBAC rules for the Identity API, modelled on Keystone's personas, documented.

``admin`` manages identity; a system-scoped ``reader`` audits it; a domain-scoped
reader reads its own domain; everyone manages their own password, application
credentials and sees their own projects.  Override any rule in the policy file.  The
routes that declare each rule are its operations (``/openapi.json`` lists them).
"""

from pocketstack.common.policy import Rule

ADMIN = "rule:admin_api"
ADMIN_OR_SYSTEM_READER = "rule:admin_api or rule:system_reader"
DOMAIN_READER = "(role:reader and domain_id:%(target.domain_id)s)"
ADMIN_OR_DOMAIN_READER = ADMIN_OR_SYSTEM_READER + " or " + DOMAIN_READER
OWNER_OR_ADMIN = "rule:admin_api or user_id:%(target.user.id)s"
CRED_OWNER = "user_id:%(target.credential.user_id)s"
TRUSTOR = "user_id:%(target.trust.trustor_user_id)s"
TRUSTEE = "user_id:%(target.trust.trustee_user_id)s"
# keystone/common/policies/limit.py: a limit is read by admins and system readers, by a
# domain-scoped token of its domain (or of its project's domain), and by a token scoped
# to its project.
LIMIT_READER = (ADMIN_OR_SYSTEM_READER + " or domain_id:%(target.limit.domain.id)s"
                " or domain_id:%(target.limit.project.domain_id)s or project_id:%(target.limit.project_id)s")

RULES = (
    # -- domains and projects ---------------------------------------------------------
    Rule("identity:get_domain", ADMIN_OR_SYSTEM_READER + " or domain_id:%(target.domain.id)s"
         " or project_domain_id:%(target.domain.id)s", "Show a domain."),
    Rule("identity:list_domains", ADMIN_OR_SYSTEM_READER, "List domains."),
    Rule("identity:create_domain", ADMIN, "Create a domain."),
    Rule("identity:update_domain", ADMIN, "Update a domain."),
    Rule("identity:delete_domain", ADMIN, "Delete a (disabled) domain."),
    Rule("identity:get_project", ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.project.domain_id)s)"
         " or project_id:%(target.project.id)s", "Show a project, its parents and subtree, and read its tags."),
    Rule("identity:list_projects", ADMIN_OR_DOMAIN_READER, "List projects."),
    Rule("identity:list_user_projects", OWNER_OR_ADMIN + " or rule:system_reader",
         "List the projects a user has a role on."),
    Rule("identity:create_project", ADMIN, "Create a project."),
    Rule("identity:update_project", ADMIN, "Update a project and set, add or remove its tags."),
    Rule("identity:delete_project", ADMIN, "Delete a (leaf) project."),
    Rule("identity:project_tags", "rule:admin_api or project_id:%(target.project.id)s",
         "Manage the tags of one's own project (kept for policy files that name it)."),
    # -- users and groups -------------------------------------------------------------
    Rule("identity:get_user", ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.user.domain_id)s)"
         " or user_id:%(target.user.id)s", "Show a user."),
    Rule("identity:list_users", ADMIN_OR_DOMAIN_READER, "List users."),
    Rule("identity:create_user", ADMIN, "Create a user."),
    Rule("identity:update_user", ADMIN, "Update a user (an administrator setting the password too)."),
    Rule("identity:delete_user", ADMIN, "Delete a user."),
    Rule("identity:get_group", ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.group.domain_id)s)",
         "Show a group."),
    Rule("identity:list_groups", ADMIN_OR_DOMAIN_READER, "List groups."),
    Rule("identity:list_groups_for_user", OWNER_OR_ADMIN + " or rule:system_reader",
         "List the groups a user belongs to."),
    Rule("identity:list_users_in_group", ADMIN_OR_SYSTEM_READER, "List the members of a group."),
    Rule("identity:create_group", ADMIN, "Create a group."),
    Rule("identity:update_group", ADMIN, "Update a group."),
    Rule("identity:delete_group", ADMIN, "Delete a group."),
    Rule("identity:manage_group_membership", ADMIN, "Add a user to a group or remove them from it."),
    Rule("identity:check_user_in_group", ADMIN_OR_SYSTEM_READER, "Check whether a user belongs to a group."),
    # -- roles, implied roles, grants and assignments ---------------------------------
    Rule("identity:get_role", ADMIN_OR_SYSTEM_READER, "Show a role."),
    # Keystone: admins, system readers and domain managers (a manager on a domain-scoped token).
    Rule("identity:list_roles", ADMIN_OR_SYSTEM_READER + " or (role:manager and not domain_id:None)",
         "List roles."),
    Rule("identity:create_role", ADMIN, "Create a role."),
    Rule("identity:update_role", ADMIN, "Update a role."),
    Rule("identity:delete_role", ADMIN, "Delete a role (and every assignment of it)."),
    Rule("identity:implied_roles", ADMIN_OR_SYSTEM_READER, "List, show and check role inference rules."),
    Rule("identity:manage_implied_roles", ADMIN, "Create and delete role inference rules."),
    Rule("identity:check_grant", ADMIN_OR_SYSTEM_READER,
         "Check that an actor holds a role on a project, a domain or the system."),
    Rule("identity:list_grants", ADMIN_OR_SYSTEM_READER,
         "List the roles an actor holds on a project, a domain or the system."),
    Rule("identity:create_grant", ADMIN, "Grant a role to a user or group on a project, a domain or the system."),
    Rule("identity:revoke_grant", ADMIN, "Revoke a role from a user or group on a project, a domain or the system."),
    Rule("identity:list_role_assignments", ADMIN_OR_DOMAIN_READER, "List role assignments, direct or effective."),
    # -- catalog ----------------------------------------------------------------------
    Rule("identity:get_region", "", "Show a region (anyone with a token)."),
    Rule("identity:list_regions", "", "List regions (anyone with a token)."),
    Rule("identity:manage_regions", ADMIN, "Create, update and delete regions."),
    Rule("identity:get_service", ADMIN_OR_SYSTEM_READER, "Show a catalog service."),
    Rule("identity:list_services", ADMIN_OR_SYSTEM_READER, "List catalog services."),
    Rule("identity:manage_services", ADMIN, "Create, update and delete catalog services."),
    Rule("identity:get_endpoint", ADMIN_OR_SYSTEM_READER, "Show an endpoint."),
    Rule("identity:list_endpoints", ADMIN_OR_SYSTEM_READER, "List endpoints."),
    Rule("identity:manage_endpoints", ADMIN, "Create, update and delete endpoints."),
    # -- policy blobs (/v3/policies; Keystone's defaults) -------------------------------
    Rule("identity:get_policy", ADMIN_OR_SYSTEM_READER, "Show a policy blob."),
    Rule("identity:list_policies", ADMIN_OR_SYSTEM_READER, "List policy blobs."),
    Rule("identity:create_policy", ADMIN, "Create a policy blob."),
    Rule("identity:update_policy", ADMIN, "Update a policy blob."),
    Rule("identity:delete_policy", ADMIN, "Delete a policy blob."),
    # -- application credentials and tokens -------------------------------------------
    Rule("identity:get_application_credential", OWNER_OR_ADMIN + " or rule:system_reader",
         "Show an application credential."),
    Rule("identity:list_application_credentials", OWNER_OR_ADMIN + " or rule:system_reader",
         "List a user's application credentials."),
    Rule("identity:create_application_credential", "user_id:%(target.user.id)s",
         "Create an application credential for oneself."),
    Rule("identity:delete_application_credential", OWNER_OR_ADMIN, "Delete an application credential."),
    Rule("identity:get_access_rule", OWNER_OR_ADMIN + " or rule:system_reader",
         "Show an access rule of a user's application credentials."),
    Rule("identity:list_access_rules", OWNER_OR_ADMIN + " or rule:system_reader",
         "List the access rules of a user's application credentials."),
    Rule("identity:delete_access_rule", OWNER_OR_ADMIN, "Delete an access rule no application credential uses."),
    # -- domain-specific configuration (keystone/common/policies/domain_config.py) ---------
    Rule("identity:create_domain_config", ADMIN, "Create (or replace) a domain's own configuration."),
    Rule("identity:get_domain_config", ADMIN_OR_SYSTEM_READER,
         "Show a domain's configuration, one of its groups or options (never a sensitive one)."),
    Rule("identity:get_domain_config_default", ADMIN_OR_SYSTEM_READER,
         "Show the defaults of the options a domain may set."),
    Rule("identity:update_domain_config", ADMIN, "Update a domain's configuration, one of its groups or options."),
    Rule("identity:delete_domain_config", ADMIN, "Delete a domain's configuration, one of its groups or options."),
    Rule("identity:get_security_compliance_domain_config", "",
         "Read the password rules (regex and its description) of the default domain (anyone with a token)."),
    # -- trusts (Keystone's defaults: the trustor creates; trustor, trustee, admins and
    # system readers read; the trustor or an admin deletes) -----------------------------
    Rule("identity:create_trust", TRUSTOR, "Create a trust (as its trustor)."),
    Rule("identity:list_trusts", ADMIN_OR_SYSTEM_READER, "List every trust."),
    Rule("identity:list_trusts_for_trustor", ADMIN_OR_SYSTEM_READER + " or " + TRUSTOR,
         "List the trusts a user is the trustor of."),
    Rule("identity:list_trusts_for_trustee", ADMIN_OR_SYSTEM_READER + " or " + TRUSTEE,
         "List the trusts a user is the trustee of."),
    Rule("identity:get_trust", ADMIN_OR_SYSTEM_READER + " or " + TRUSTOR + " or " + TRUSTEE, "Show a trust."),
    Rule("identity:list_roles_for_trust", ADMIN_OR_SYSTEM_READER + " or " + TRUSTOR + " or " + TRUSTEE,
         "List the roles a trust delegates."),
    Rule("identity:get_role_for_trust", ADMIN_OR_SYSTEM_READER + " or " + TRUSTOR + " or " + TRUSTEE,
         "Check that a trust delegates a role."),
    Rule("identity:delete_trust", "rule:admin_api or " + TRUSTOR, "Delete a trust (and those redelegated from it)."),
    # -- credentials and EC2 credentials (Keystone's defaults) ---------------------------
    Rule("identity:get_credential", ADMIN_OR_SYSTEM_READER + " or " + CRED_OWNER, "Show a credential."),
    Rule("identity:list_credentials", ADMIN_OR_SYSTEM_READER + " or " + CRED_OWNER,
         "List credentials (each shown only to whom may show it)."),
    Rule("identity:create_credential", "rule:admin_api or " + CRED_OWNER, "Create a credential."),
    Rule("identity:update_credential", "rule:admin_api or " + CRED_OWNER, "Update a credential."),
    Rule("identity:delete_credential", "rule:admin_api or " + CRED_OWNER, "Delete a credential."),
    Rule("identity:ec2_get_credential", ADMIN_OR_SYSTEM_READER + " or " + CRED_OWNER, "Show an EC2 credential."),
    Rule("identity:ec2_list_credentials", ADMIN_OR_SYSTEM_READER + " or user_id:%(target.user.id)s",
         "List a user's EC2 credentials."),
    Rule("identity:ec2_create_credential", "rule:admin_api or (role:member and " + CRED_OWNER + ")",
         "Create an EC2 credential."),
    Rule("identity:ec2_delete_credential", "rule:admin_api or (role:member and " + CRED_OWNER + ")",
         "Delete an EC2 credential."),
    Rule("identity:ec2tokens_validate", "rule:admin_api or role:service",
         "Validate an AWS-signed request and issue a token for it (services and administrators)."),
    # -- unified limits (Keystone's defaults: anyone with a token reads registered
    # limits and the model; each caller lists the limits of its scope) ------------------
    Rule("identity:get_registered_limit", "", "Show a registered limit (anyone with a token)."),
    Rule("identity:list_registered_limits", "", "List registered limits (anyone with a token)."),
    Rule("identity:create_registered_limits", ADMIN, "Create registered limits."),
    Rule("identity:update_registered_limit", ADMIN, "Update a registered limit no limit refers to."),
    Rule("identity:delete_registered_limit", ADMIN, "Delete a registered limit no limit refers to."),
    Rule("identity:get_limit_model", "", "Show the limit enforcement model (anyone with a token)."),
    Rule("identity:get_limit", LIMIT_READER, "Show a project's or domain's limit."),
    Rule("identity:list_limits", "", "List limits: all of them for admins, services and system-scoped "
         "tokens, those of its domain (and its projects) for a domain-scoped token, those of its project for a "
         "project-scoped one."),
    Rule("identity:create_limits", ADMIN, "Create project and domain limits."),
    Rule("identity:update_limit", ADMIN, "Update a limit."),
    Rule("identity:delete_limit", ADMIN, "Delete a limit."),
    # -- endpoint policies (OS-ENDPOINT-POLICY; keystone/common/policies/policy_association.py)
    Rule("identity:create_policy_association_for_endpoint", ADMIN, "Associate a policy to a specific endpoint."),
    Rule("identity:check_policy_association_for_endpoint", ADMIN_OR_SYSTEM_READER,
         "Check policy association for endpoint."),
    Rule("identity:delete_policy_association_for_endpoint", ADMIN, "Delete policy association for endpoint."),
    Rule("identity:create_policy_association_for_service", ADMIN, "Associate a policy to a specific service."),
    Rule("identity:check_policy_association_for_service", ADMIN_OR_SYSTEM_READER,
         "Check policy association for service."),
    Rule("identity:delete_policy_association_for_service", ADMIN, "Delete policy association for service."),
    Rule("identity:create_policy_association_for_region_and_service", ADMIN,
         "Associate a policy to a specific region and service combination."),
    Rule("identity:check_policy_association_for_region_and_service", ADMIN_OR_SYSTEM_READER,
         "Check policy association for region and service."),
    Rule("identity:delete_policy_association_for_region_and_service", ADMIN,
         "Delete policy association for region and service."),
    Rule("identity:get_policy_for_endpoint", ADMIN_OR_SYSTEM_READER,
         "Get the policy that applies to an endpoint (its own, its service's in its region or a parent "
         "region, or its service's)."),
    Rule("identity:list_endpoints_for_policy", ADMIN_OR_SYSTEM_READER, "List the endpoints a policy applies to."),
    # -- endpoint filtering (OS-EP-FILTER; Keystone's defaults) ---------------------------
    Rule("identity:list_endpoint_groups", ADMIN_OR_SYSTEM_READER, "List endpoint groups."),
    Rule("identity:get_endpoint_group", ADMIN_OR_SYSTEM_READER, "Show an endpoint group."),
    Rule("identity:create_endpoint_group", ADMIN, "Create an endpoint group."),
    Rule("identity:update_endpoint_group", ADMIN, "Update an endpoint group."),
    Rule("identity:delete_endpoint_group", ADMIN, "Delete an endpoint group (and its project associations)."),
    Rule("identity:list_projects_associated_with_endpoint_group", ADMIN_OR_SYSTEM_READER,
         "List the projects an endpoint group is associated with."),
    Rule("identity:list_endpoints_associated_with_endpoint_group", ADMIN_OR_SYSTEM_READER,
         "List the endpoints an endpoint group's filters match."),
    Rule("identity:get_endpoint_group_in_project", ADMIN_OR_SYSTEM_READER,
         "Show an endpoint group's association with a project."),
    Rule("identity:list_endpoint_groups_for_project", ADMIN_OR_SYSTEM_READER,
         "List the endpoint groups associated with a project."),
    Rule("identity:add_endpoint_group_to_project", ADMIN, "Associate an endpoint group with a project."),
    Rule("identity:remove_endpoint_group_from_project", ADMIN,
         "Remove an endpoint group's association with a project."),
    Rule("identity:list_projects_for_endpoint", ADMIN_OR_SYSTEM_READER,
         "List the projects an endpoint is associated with."),
    Rule("identity:add_endpoint_to_project", ADMIN, "Associate an endpoint with a project."),
    Rule("identity:check_endpoint_in_project", ADMIN_OR_SYSTEM_READER,
         "Check that an endpoint is associated with a project."),
    Rule("identity:list_endpoints_for_project", ADMIN_OR_SYSTEM_READER,
         "List the endpoints associated with a project, directly or through endpoint groups."),
    Rule("identity:remove_endpoint_from_project", ADMIN, "Remove an endpoint's association with a project."),
    # -- federation (OS-FEDERATION; Keystone's defaults) -----------------------------------
    Rule("identity:list_identity_providers", ADMIN_OR_SYSTEM_READER, "List identity providers."),
    Rule("identity:get_identity_provider", ADMIN_OR_SYSTEM_READER, "Show an identity provider."),
    Rule("identity:create_identity_provider", ADMIN, "Create an identity provider."),
    Rule("identity:update_identity_provider", ADMIN, "Update an identity provider."),
    Rule("identity:delete_identity_provider", ADMIN,
         "Delete an identity provider (its protocols and the shadow users it made)."),
    Rule("identity:list_protocols", ADMIN_OR_SYSTEM_READER, "List an identity provider's protocols."),
    Rule("identity:get_protocol", ADMIN_OR_SYSTEM_READER, "Show an identity provider's protocol."),
    Rule("identity:create_protocol", ADMIN, "Create a protocol of an identity provider."),
    Rule("identity:update_protocol", ADMIN, "Update a protocol of an identity provider."),
    Rule("identity:delete_protocol", ADMIN, "Delete a protocol of an identity provider (and its shadow users)."),
    Rule("identity:list_service_providers", ADMIN_OR_SYSTEM_READER, "List service providers (Keystone to Keystone)."),
    Rule("identity:get_service_provider", ADMIN_OR_SYSTEM_READER, "Show a service provider."),
    Rule("identity:create_service_provider", ADMIN, "Create a service provider."),
    Rule("identity:update_service_provider", ADMIN, "Update a service provider."),
    Rule("identity:delete_service_provider", ADMIN, "Delete a service provider."),
    Rule("identity:list_mappings", ADMIN_OR_SYSTEM_READER, "List mappings."),
    Rule("identity:get_mapping", ADMIN_OR_SYSTEM_READER, "Show a mapping."),
    Rule("identity:create_mapping", ADMIN, "Create a mapping."),
    Rule("identity:update_mapping", ADMIN, "Update a mapping."),
    Rule("identity:delete_mapping", ADMIN, "Delete a mapping."),
    # -- OAuth 1.0a (OS-OAUTH1; keystone/common/policies/consumer.py, access_token.py):
    # consumers are the admin's (a system reader reads them); authorizing a request token
    # and reading access tokens take the admin role, as Keystone's defaults; a member
    # revokes their own access tokens (Keystone enforces its EC2 credential rule there) ---
    Rule("identity:list_consumers", ADMIN_OR_SYSTEM_READER, "List OAuth1 consumers."),
    Rule("identity:get_consumer", ADMIN_OR_SYSTEM_READER, "Show an OAuth1 consumer."),
    Rule("identity:create_consumer", ADMIN, "Create an OAuth1 consumer (its secret is shown once)."),
    Rule("identity:update_consumer", ADMIN, "Update an OAuth1 consumer (never its secret)."),
    Rule("identity:delete_consumer", ADMIN,
         "Delete an OAuth1 consumer, its request and access tokens (revoking their tokens)."),
    Rule("identity:authorize_request_token", ADMIN,
         "Authorize an OAuth1 request token for roles the caller holds on its project."),
    Rule("identity:list_access_tokens", ADMIN, "List a user's OAuth1 access tokens."),
    Rule("identity:get_access_token", ADMIN, "Show a user's OAuth1 access token."),
    Rule("identity:list_access_token_roles", ADMIN, "List the roles an OAuth1 access token delegates."),
    Rule("identity:get_access_token_role", ADMIN, "Show a role an OAuth1 access token delegates."),
    Rule("identity:delete_access_token", "rule:admin_api or (role:member and user_id:%(target.user.id)s)",
         "Delete (revoke) an OAuth1 access token and the tokens issued from it."),
    Rule("identity:revoke_token", "rule:admin_api or user_id:%(target.token.user_id)s", "Revoke a token."),
    Rule("identity:validate_token", "rule:admin_api or rule:system_reader or user_id:%(target.token.user_id)s"
         " or role:service", "Validate or check a token."),
)
