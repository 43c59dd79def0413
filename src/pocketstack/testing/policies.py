"""Default RBAC rules of the state API (reset and snapshots): the cloud administrator's
alone, as replacing a cloud's whole state affects every project."""

from pocketstack.common.policy import Rule

ADMIN = "rule:admin_api"

RULES = (
    Rule("pocketstack:reset", ADMIN, "Return the whole cloud to its bootstrapped state."),
    Rule("pocketstack:snapshots", ADMIN, "List, save, download, upload, delete and restore named snapshots "
                                         "of the whole cloud's state."),
)
