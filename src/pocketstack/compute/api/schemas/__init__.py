"""Request JSON Schemas of the Compute API, one module per resource family (as Nova's
``nova/api/openstack/compute/schemas``).  A schema that changes with the microversion is
declared on its route as ``body={"2.1": OLD, "2.19": NEW}``."""
