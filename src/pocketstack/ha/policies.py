"""Default RBAC rules of the instance-HA API, documented: admin only, as Masakari's
(``os_masakari_api:*``).  The failures of hosts and what was done about them are the
operator's; members see their servers' recovery in their own server's actions and faults."""

from pocketstack.common.policy import Rule

ADMIN = "rule:admin_api"

RULES = (
    Rule("os_masakari_api:notifications:index", ADMIN, "List the notifications of host failures and responses."),
    Rule("os_masakari_api:notifications:detail", ADMIN, "Show a notification and its recovery workflow."),
    Rule("os_masakari_api:notifications:create", ADMIN,
         "Report a failure (an external monitor's notification); a COMPUTE_HOST failure is fenced and recovered."),
    Rule("os_masakari_api:vmoves:index", ADMIN, "List the server moves of a notification's recovery."),
    Rule("os_masakari_api:vmoves:detail", ADMIN, "Show one server move of a notification's recovery."),
    Rule("os_masakari_api:segments:index", ADMIN, "List the failover segments."),
    Rule("os_masakari_api:segments:detail", ADMIN, "Show a failover segment."),
    Rule("os_masakari_api:segments:create", ADMIN, "Create a failover segment."),
    Rule("os_masakari_api:segments:update", ADMIN, "Change a failover segment (409 while one of its hosts recovers)."),
    Rule("os_masakari_api:segments:delete", ADMIN, "Delete a failover segment and its hosts."),
    Rule("os_masakari_api:os-hosts:index", ADMIN, "List the hosts of a failover segment."),
    Rule("os_masakari_api:os-hosts:detail", ADMIN, "Show a host of a failover segment."),
    Rule("os_masakari_api:os-hosts:create", ADMIN,
         "Add a compute host to a failover segment; a reserved one is kept from ordinary boots."),
    Rule("os_masakari_api:os-hosts:update", ADMIN, "Change a host of a failover segment (reserved, on maintenance)."),
    Rule("os_masakari_api:os-hosts:delete", ADMIN, "Remove a host from its failover segment."),
)
