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
)
