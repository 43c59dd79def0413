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
    # -- application credentials and tokens -------------------------------------------
    Rule("identity:get_application_credential", OWNER_OR_ADMIN + " or rule:system_reader",
         "Show an application credential."),
    Rule("identity:list_application_credentials", OWNER_OR_ADMIN + " or rule:system_reader",
         "List a user's application credentials."),
    Rule("identity:create_application_credential", "user_id:%(target.user.id)s",
         "Create an application credential for oneself."),
    Rule("identity:delete_application_credential", OWNER_OR_ADMIN, "Delete an application credential."),
    Rule("identity:revoke_token", "rule:admin_api or user_id:%(target.token.user_id)s", "Revoke a token."),
    Rule("identity:validate_token", "rule:admin_api or rule:system_reader or user_id:%(target.token.user_id)s"
         " or role:service", "Validate or check a token."),
)
