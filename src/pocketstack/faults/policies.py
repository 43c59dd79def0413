"""Default RBAC rule of the fault rules API: the cloud administrator only (a rule can
make any project's requests fail)."""

from pocketstack.common.policy import Rule

FAULTS = "pocketstack:faults"

RULES = (
    Rule(FAULTS, "rule:admin_api", "List, show, add and remove fault injection rules."),
)
