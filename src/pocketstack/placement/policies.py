"""Default RBAC rules for the Placement API, documented: admin only, as in Placement
itself (its clients are operators and the other services, which call it in process).
The routes that declare each rule are its operations (``/openapi.json`` lists them)."""

from pocketstack.common.policy import Rule

ADMIN = "rule:admin_api"

RULES = (
    Rule("placement:resource_providers", ADMIN, "List, create, show, update and delete resource providers."),
    Rule("placement:inventories", ADMIN, "Read and write the inventories of a resource provider."),
    Rule("placement:resource_classes", ADMIN, "List, show, create and delete (custom) resource classes."),
    Rule("placement:traits", ADMIN, "List, create and delete traits, and read and set a provider's traits."),
    Rule("placement:aggregates", ADMIN, "Read and set the aggregates a resource provider belongs to."),
    Rule("placement:allocations", ADMIN, "Read, write and delete the allocations of consumers and providers."),
    Rule("placement:usages", ADMIN, "Read the usages of a resource provider or of a project."),
    Rule("placement:allocation_candidates", ADMIN, "Ask where a request for resources would fit."),
)
