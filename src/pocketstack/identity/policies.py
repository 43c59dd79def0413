"""Default RBAC rules for the Identity API, modelled on Keystone's personas.

``admin`` manages identity; a system-scoped ``reader`` audits it; a domain-scoped
reader reads its own domain; everyone manages their own password, application
credentials and sees their own projects.  Override any rule in the policy file.
"""

ADMIN_OR_SYSTEM_READER = "rule:admin_api or rule:system_reader"
ADMIN_OR_DOMAIN_READER = ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.domain_id)s)"
OWNER_OR_ADMIN = "rule:admin_api or user_id:%(target.user.id)s"

DEFAULTS: dict[str, str] = {
    "identity:get_domain": ADMIN_OR_SYSTEM_READER + " or domain_id:%(target.domain.id)s"
                           " or project_domain_id:%(target.domain.id)s",
    "identity:list_domains": ADMIN_OR_SYSTEM_READER,
    "identity:create_domain": "rule:admin_api",
    "identity:update_domain": "rule:admin_api",
    "identity:delete_domain": "rule:admin_api",
    "identity:get_project": ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.project.domain_id)s)"
                            " or project_id:%(target.project.id)s",
    "identity:list_projects": ADMIN_OR_DOMAIN_READER,
    "identity:list_user_projects": OWNER_OR_ADMIN + " or rule:system_reader",
    "identity:create_project": "rule:admin_api",
    "identity:update_project": "rule:admin_api",
    "identity:delete_project": "rule:admin_api",
    "identity:project_tags": "rule:admin_api or project_id:%(target.project.id)s",
    "identity:get_user": ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.user.domain_id)s)"
                         " or user_id:%(target.user.id)s",
    "identity:list_users": ADMIN_OR_DOMAIN_READER,
    "identity:create_user": "rule:admin_api",
    "identity:update_user": "rule:admin_api",
    "identity:delete_user": "rule:admin_api",
    "identity:get_group": ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.group.domain_id)s)",
    "identity:list_groups": ADMIN_OR_DOMAIN_READER,
    "identity:list_groups_for_user": OWNER_OR_ADMIN + " or rule:system_reader",
    "identity:list_users_in_group": ADMIN_OR_SYSTEM_READER,
    "identity:create_group": "rule:admin_api",
    "identity:update_group": "rule:admin_api",
    "identity:delete_group": "rule:admin_api",
    "identity:manage_group_membership": "rule:admin_api",
    "identity:check_user_in_group": ADMIN_OR_SYSTEM_READER,
    "identity:get_role": ADMIN_OR_SYSTEM_READER,
    # Keystone: admins, system readers and domain managers (a manager on a domain-scoped token).
    "identity:list_roles": ADMIN_OR_SYSTEM_READER + " or (role:manager and not domain_id:None)",
    "identity:create_role": "rule:admin_api",
    "identity:update_role": "rule:admin_api",
    "identity:delete_role": "rule:admin_api",
    "identity:implied_roles": ADMIN_OR_SYSTEM_READER,
    "identity:manage_implied_roles": "rule:admin_api",
    "identity:check_grant": ADMIN_OR_SYSTEM_READER,
    "identity:list_grants": ADMIN_OR_SYSTEM_READER,
    "identity:create_grant": "rule:admin_api",
    "identity:revoke_grant": "rule:admin_api",
    "identity:list_role_assignments": ADMIN_OR_SYSTEM_READER + " or (role:reader and domain_id:%(target.domain_id)s)",
    "identity:get_region": "",
    "identity:list_regions": "",
    "identity:manage_regions": "rule:admin_api",
    "identity:get_service": ADMIN_OR_SYSTEM_READER,
    "identity:list_services": ADMIN_OR_SYSTEM_READER,
    "identity:manage_services": "rule:admin_api",
    "identity:get_endpoint": ADMIN_OR_SYSTEM_READER,
    "identity:list_endpoints": ADMIN_OR_SYSTEM_READER,
    "identity:manage_endpoints": "rule:admin_api",
    "identity:get_application_credential": OWNER_OR_ADMIN + " or rule:system_reader",
    "identity:list_application_credentials": OWNER_OR_ADMIN + " or rule:system_reader",
    "identity:create_application_credential": "user_id:%(target.user.id)s",
    "identity:delete_application_credential": OWNER_OR_ADMIN,
    "identity:revoke_token": "rule:admin_api or user_id:%(target.token.user_id)s",
    "identity:validate_token": "rule:admin_api or rule:system_reader or user_id:%(target.token.user_id)s"
                               " or role:service",
}
