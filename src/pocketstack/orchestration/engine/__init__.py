"""The orchestration engine: stacks driven to their template, resource by resource."""
