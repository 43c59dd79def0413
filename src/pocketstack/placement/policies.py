"""Default RBAC rules for the Placement API: admin only, as in Placement itself (its
clients are operators and the other services, which call it in process)."""

ADMIN = "rule:admin_api"

DEFAULTS: dict[str, str] = {
    "placement:resource_providers": ADMIN,
    "placement:inventories": ADMIN,
    "placement:resource_classes": ADMIN,
    "placement:traits": ADMIN,
    "placement:aggregates": ADMIN,
    "placement:allocations": ADMIN,
    "placement:usages": ADMIN,
    "placement:allocation_candidates": ADMIN,
}
