"""Default policy rules of the Orchestration API, documented: Heat's names
(``heat/policies/``) and personas (readers read, members change, the administrator
anything).  The target of every rule is the project in the URL."""

from pocketstack.common.policy import Rule

READER = "rule:project_reader_or_admin"
MEMBER = "rule:project_member_or_admin"
ANY = "@"

RULES = (
    Rule("stacks:index", READER, "List stacks."),
    Rule("stacks:detail", READER, "List stacks in detail."),
    Rule("stacks:create", MEMBER, "Create a stack."),
    Rule("stacks:preview", MEMBER, "Preview a stack."),
    Rule("stacks:lookup", READER, "Find a stack by name or id (a redirect to its URL)."),
    Rule("stacks:show", READER, "Show a stack."),
    Rule("stacks:update", MEMBER, "Update a stack (PUT: a whole new template)."),
    Rule("stacks:update_patch", MEMBER, "Update a stack (PATCH: changes to the existing one)."),
    Rule("stacks:delete", MEMBER, "Delete a stack."),
    Rule("stacks:abandon", MEMBER, "Abandon a stack: its record removed, its resources left as they are "
                                   "(when enabled: orchestration_enable_stack_abandon)."),
    Rule("stacks:export", MEMBER, "Export a stack's data (what abandon would answer), nothing removed."),
    Rule("stacks:template", READER, "Get a stack's template."),
    Rule("stacks:environment", READER, "Get a stack's environment."),
    Rule("stacks:files", READER, "Get a stack's files."),
    Rule("stacks:list_outputs", READER, "List a stack's outputs."),
    Rule("stacks:show_output", READER, "Show one output of a stack."),
    Rule("stacks:validate_template", MEMBER, "Validate a template."),
    Rule("stacks:list_resource_types", READER, "List the resource types."),
    Rule("stacks:resource_schema", READER, "Show a resource type's schema."),
    Rule("stacks:generate_template", READER, "Generate a template for a resource type."),
    Rule("stacks:list_template_versions", READER, "List the template versions."),
    Rule("stacks:list_template_functions", READER, "List the functions of a template version."),
    Rule("actions:action", MEMBER, "Perform an action on a stack (the route: each action enforces its own "
                                   "rule below)."),
    Rule("actions:suspend", MEMBER, "Suspend a stack."),
    Rule("actions:resume", MEMBER, "Resume a suspended stack."),
    Rule("actions:check", READER, "Check a stack's resources."),
    Rule("actions:cancel_update", MEMBER, "Cancel a stack's update in progress (rolled back)."),
    Rule("actions:cancel_without_rollback", MEMBER, "Cancel a stack's create or update in progress without "
                                                    "rollback."),
    Rule("resource:index", READER, "List a stack's resources."),
    Rule("resource:show", READER, "Show a resource of a stack."),
    Rule("resource:metadata", READER, "Show a resource's metadata."),
    Rule("resource:mark_unhealthy", MEMBER, "Mark a resource unhealthy (replaced at the next update) or healthy."),
    Rule("resource:signal", MEMBER, "Signal a resource (a wait condition handle's own token may signal that "
                                    "handle)."),
    Rule("events:index", READER, "List a stack's (or a resource's) events."),
    Rule("events:show", READER, "Show an event."),
    Rule("build_info:build_info", READER, "Show the build information."),
    Rule("software_configs:index", READER, "List software configs."),
    Rule("software_configs:create", MEMBER, "Create a software config."),
    Rule("software_configs:show", READER, "Show a software config."),
    Rule("software_configs:delete", MEMBER, "Delete a software config."),
    Rule("software_deployments:index", READER, "List software deployments."),
    Rule("software_deployments:create", MEMBER, "Create a software deployment."),
    Rule("software_deployments:show", READER, "Show a software deployment."),
    Rule("software_deployments:update", MEMBER, "Update a software deployment (an agent reporting progress)."),
    Rule("software_deployments:delete", MEMBER, "Delete a software deployment."),
    Rule("software_deployments:metadata", READER, "Show the configs deployed to a server."),
)
